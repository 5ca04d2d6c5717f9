/**
 * YouTube Data API v3 emulator: Google's OAuth token and authorization
 * endpoints, the resumable upload protocol for `videos.insert`, `videos.list`,
 * `thumbnails.set`, `playlistItems.insert` and `.list`, `captions.insert` and
 * `.list`, YouTube's metadata checks and
 * quota (the "Video Uploads" bucket and the 10,000-unit pool, reset at
 * midnight Pacific time by the sandbox clock), and Google's error bodies.
 *
 * @internal
 */
import { createHash } from "node:crypto"
import {
  bearer,
  type Emulator,
  type EmulatorEnv,
  EmulatorFailure,
  type ErrorOptions,
  finishUpload,
  makeCommitter,
  makeLocks,
  prng,
  randomId,
  type RequestContext,
  type Route,
  type StoredUpload
} from "../internal/framework.js"

/** Google's resumable protocol wants every non-final chunk to be a multiple of 256 KiB. */
const CHUNK_GRANULARITY = 256 * 1024
const HOUR = 3_600_000
const DAY = 24 * HOUR

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  412: "FAILED_PRECONDITION",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  501: "NOT_IMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED"
}

const DEFAULT_REASON: Record<number, string> = {
  400: "badRequest",
  401: "authError",
  403: "forbidden",
  404: "notFound",
  409: "conflict",
  413: "uploadTooLarge",
  429: "rateLimitExceeded",
  500: "backendError",
  502: "backendError",
  503: "backendError",
  504: "backendError"
}

const REASON_DOMAIN: Record<string, string> = {
  quotaExceeded: "youtube.quota",
  uploadLimitExceeded: "youtube.video",
  invalidTitle: "youtube.video",
  invalidDescription: "youtube.video",
  invalidTags: "youtube.video",
  invalidCategoryId: "youtube.video",
  invalidPublishAt: "youtube.video",
  invalidVideoMetadata: "youtube.video",
  videoNotFound: "youtube.video",
  invalidImage: "youtube.thumbnail",
  mediaBodyRequired: "youtube.thumbnail",
  playlistNotFound: "youtube.playlistItem",
  contentRequired: "youtube.caption",
  nameTooLong: "youtube.caption",
  invalidMetadata: "youtube.caption",
  playlistIdRequired: "youtube.playlistItem",
  invalidResourceType: "youtube.playlistItem"
}

const OAUTH_DEFAULT_ERROR: Record<number, string> = {
  400: "invalid_request",
  401: "invalid_client",
  403: "access_denied",
  429: "rate_limit_exceeded",
  500: "server_error",
  503: "temporarily_unavailable"
}

/** Categories YouTube lets a video be assigned to (region US). */
const ASSIGNABLE_CATEGORIES = new Set([
  "1",
  "2",
  "10",
  "15",
  "17",
  "19",
  "20",
  "22",
  "23",
  "24",
  "25",
  "26",
  "27",
  "28",
  "29"
])

const VIDEO_PARTS = new Set([
  "id",
  "snippet",
  "status",
  "processingDetails",
  "contentDetails",
  "fileDetails",
  "liveStreamingDetails",
  "localizations",
  "player",
  "recordingDetails",
  "statistics",
  "suggestions",
  "topicDetails"
])

const pacificDay = new Intl.DateTimeFormat("en-CA", {
  timeZone: "America/Los_Angeles",
  year: "numeric",
  month: "2-digit",
  day: "2-digit"
})

/** The quota day (midnight-to-midnight America/Los_Angeles) an instant falls in. @internal */
export const quotaDay = (epochMillis: number): string => pacificDay.format(new Date(epochMillis))

/**
 * Length of a tag list as YouTube counts it: commas between tags count, and a
 * tag containing a space counts as if it were quoted. @internal
 */
export const tagsLength = (tags: ReadonlyArray<string>): number =>
  tags.reduce((sum, tag) => sum + [...tag].length + (tag.includes(" ") ? 2 : 0), 0) + Math.max(0, tags.length - 1)

/**
 * Splits a streamed `multipart/related` body (resource JSON, then media) as
 * `googleapis` writes it: the first part is gathered (at most 1 MiB) and
 * returned once complete; the media part's bytes go to `onMedia` as they come,
 * minus a tail that could be the closing delimiter. @internal
 */
export const makeMultipartSplitter = (boundary: string, onMedia: (chunk: Buffer) => void) => {
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  const keep = delimiter.length + 4
  let head: Buffer = Buffer.alloc(0)
  let tail: Buffer = Buffer.alloc(0)
  let inMedia = false
  const self = {
    error: undefined as string | undefined,
    /** Returns the parsed resource once, when the first part is complete. */
    push: (chunk: Buffer): unknown => {
      if (self.error !== undefined) return undefined
      if (inMedia) return media(chunk)
      head = Buffer.concat([head, chunk])
      // Prefix with CRLF so the first delimiter looks like the others.
      const text = Buffer.concat([Buffer.from("\r\n"), head])
      const first = text.indexOf(delimiter)
      const firstHeadersEnd = first === -1 ? -1 : text.indexOf("\r\n\r\n", first)
      const second = firstHeadersEnd === -1 ? -1 : text.indexOf(delimiter, firstHeadersEnd + 4)
      const secondHeadersEnd = second === -1 ? -1 : text.indexOf("\r\n\r\n", second + delimiter.length)
      if (secondHeadersEnd === -1) {
        if (head.length > 1024 * 1024) self.error = "The multipart body's first part (the resource) exceeds 1 MiB"
        return undefined
      }
      let resource: unknown
      try {
        resource = JSON.parse(text.subarray(firstHeadersEnd + 4, second).toString("utf8"))
      } catch {
        self.error = "The multipart body's first part is not valid JSON"
        return undefined
      }
      inMedia = true
      const rest = text.subarray(secondHeadersEnd + 4)
      head = Buffer.alloc(0)
      media(rest)
      return resource ?? {}
    },
    end: () => {
      if (self.error !== undefined) return
      if (!inMedia) {
        self.error = "The multipart body ended before its media part"
        return
      }
      const at = tail.lastIndexOf(delimiter)
      if (at === -1) {
        self.error = `The multipart body does not end with the closing delimiter --${boundary}--`
        return
      }
      if (at > 0) onMedia(tail.subarray(0, at))
      tail = Buffer.alloc(0)
    }
  }
  const media = (chunk: Buffer): undefined => {
    tail = tail.length === 0 ? chunk : Buffer.concat([tail, chunk])
    if (tail.length > keep) {
      onMedia(tail.subarray(0, tail.length - keep))
      tail = Buffer.from(tail.subarray(tail.length - keep))
    }
    return undefined
  }
  return self
}

interface Session {
  readonly id: string
  readonly upload: StoredUpload
  total: number | undefined
  readonly contentType: string
  readonly parts: ReadonlyArray<string>
  readonly input: VideoInput
  readonly createdAt: number
  final?: { readonly status: number; readonly body: unknown }
  finishing?: Promise<{ readonly status: number; readonly body: unknown }>
}

interface VideoInput {
  readonly title: string
  readonly description: string
  readonly tags: ReadonlyArray<string> | undefined
  readonly categoryId: string
  readonly privacyStatus: string
  readonly publishAt: string | undefined
  readonly selfDeclaredMadeForKids: boolean | undefined
  readonly containsSyntheticMedia: boolean | undefined
  readonly defaultLanguage: string | undefined
}

interface Video {
  readonly id: string
  readonly sessionId: string
  readonly input: VideoInput
  readonly publishedAt: string
  readonly completedAt: number
  readonly bytes: number
  readonly sha256: string
  polls: number
  thumbnail?: Thumbnail
}

interface Thumbnail {
  readonly videoId: string
  readonly mimeType: string
  readonly bytes: number
  readonly sha256: string
  readonly setAt: number
}

interface PlaylistItem {
  readonly id: string
  readonly playlistId: string
  readonly videoId: string
  readonly position: number
  readonly publishedAt: string
}

interface Caption {
  readonly id: string
  readonly videoId: string
  readonly language: string
  readonly name: string
  readonly isDraft: boolean
  readonly format: "srt" | "vtt"
  readonly bytes: number
  readonly sha256: string
  readonly insertedAt: number
}

interface AuthCode {
  readonly clientId: string
  readonly redirectUri: string
  readonly scope: string
  readonly challenge: string | undefined
  readonly challengeMethod: string
  readonly expiresAt: number
}

const fail = (status: number, code: string, message: string): never => {
  throw new EmulatorFailure(status, { code, message })
}

const base64url = (buffer: Buffer) =>
  buffer.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

const isLoopbackRedirect = (uri: string): boolean => {
  try {
    const url = new URL(uri)
    return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)
  } catch {
    return false
  }
}

/** @internal */
export const makeYouTube = (env: EmulatorEnv): Emulator => {
  const { clock, credentials, state } = env
  const options = env.options.youtube ?? {}
  const creds = credentials.youtube
  const random = prng((env.options.seed ?? 1) * 7919 + 1)
  const sessionLifetime = options.sessionLifetimeMillis ?? DAY
  const processingPolls = options.processingPolls ?? 1
  const processingMillis = options.processingMillis ?? 5 * 60_000
  const uploadsPerDay = options.uploadsPerDay ?? 100
  const unitsPerDay = options.unitsPerDay ?? 10_000
  const thumbnailMaxBytes = options.thumbnailMaxBytes ?? 2 * 1024 * 1024
  const channelId = "UCsandbox" + randomId(random, 15)
  const channelTitle = options.channelTitle ?? "Sandbox Channel"

  // --- credentials ---------------------------------------------------------
  const accessTokens = new Map<string, number>([[creds.accessToken, clock.now() + HOUR]])
  // Each refresh token keeps the scopes it was granted; a refresh answers them (as Google does).
  const refreshTokens = new Map<string, string>([[
    creds.refreshToken,
    (options.scopes ?? [
      "https://www.googleapis.com/auth/youtube.upload",
      "https://www.googleapis.com/auth/youtube"
    ]).join(" ")
  ]])
  const codes = new Map<string, AuthCode>()
  let tokensIssued = 0
  let refreshes = 0

  // --- quota (per Pacific day) ----------------------------------------------
  let day = quotaDay(clock.now())
  let unitsUsed = 0
  let uploadsUsed = 0
  let channelUploads = 0
  const roll = () => {
    const today = quotaDay(clock.now())
    if (today !== day) {
      day = today
      unitsUsed = 0
      uploadsUsed = 0
      channelUploads = 0
    }
  }

  // --- resources -------------------------------------------------------------
  const sessions = new Map<string, Session>()
  const withLock = makeLocks()
  const videos = new Map<string, Video>()
  const playlistItems: Array<PlaylistItem> = []
  const captions: Array<Caption> = []
  const etag = () => randomId(random, 27)

  const errorBody = (status: number, options: ErrorOptions) => {
    if (options.route === "token" || options.route === "auth") {
      const error = options.code && options.code !== "rate_limited"
        ? options.code
        : OAUTH_DEFAULT_ERROR[status] ?? "server_error"
      return { body: { error, error_description: options.message ?? "Sandbox fault" } }
    }
    const reason = options.code === undefined || options.code === "rate_limited"
      ? DEFAULT_REASON[status] ?? "backendError"
      : options.code
    const message = options.message ?? `Sandbox fault: ${reason}`
    const headers: Record<string, string> = status === 401
      ? { "www-authenticate": "Bearer realm=\"https://accounts.google.com/\"" }
      : {}
    return {
      body: {
        error: {
          code: status,
          message,
          errors: [{ message, domain: REASON_DOMAIN[reason] ?? "global", reason }],
          status: GOOGLE_STATUS[status] ?? "UNKNOWN"
        }
      },
      headers
    }
  }

  /** Bearer check, Google style. */
  const authorize = (ctx: RequestContext): void => {
    const token = bearer(ctx.req)
    const expiresAt = token === undefined ? undefined : accessTokens.get(token)
    if (expiresAt === undefined || expiresAt <= clock.now()) {
      throw new EmulatorFailure(401, {
        code: "authError",
        message: token === undefined
          ? "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential."
          : "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
      })
    }
  }

  /** Meters a call against the 10,000-unit pool. */
  const charge = (cost: number): void => {
    roll()
    if (unitsUsed + cost > unitsPerDay) {
      unitsUsed = Math.max(unitsUsed, unitsPerDay)
      fail(
        403,
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>."
      )
    }
    unitsUsed += cost
  }

  const requireParts = (ctx: RequestContext): Array<string> => {
    // Google accepts repeated parameters (`part=a&part=b`, as googleapis sends arrays) as well as commas.
    const part = ctx.url.searchParams.getAll("part").join(",")
    if (!part) fail(400, "required", "Required parameter: part")
    const parts = part.split(",").map((p) => p.trim()).filter((p) => p.length > 0)
    for (const p of parts) {
      if (!VIDEO_PARTS.has(p)) fail(400, "unknownPart", `Unknown part '${p}' in the part parameter`)
    }
    return parts
  }

  // --- metadata checks ---------------------------------------------------------
  const validateVideo = (body: unknown): VideoInput => {
    const resource = (typeof body === "object" && body !== null ? body : {}) as Record<string, any>
    const snippet = (resource.snippet ?? {}) as Record<string, unknown>
    const status = (resource.status ?? {}) as Record<string, unknown>
    const title = snippet.title
    if (typeof title !== "string" || title.trim().length === 0) {
      fail(400, "invalidTitle", "The request metadata specifies an invalid or empty video title (snippet.title).")
    }
    const t = title as string
    if ([...t].length > 100) {
      fail(400, "invalidTitle", `The video title (snippet.title) is ${[...t].length} characters; the limit is 100.`)
    }
    if (/[<>]/.test(t)) fail(400, "invalidTitle", "The video title (snippet.title) must not contain '<' or '>'.")
    const description = snippet.description ?? ""
    if (typeof description !== "string") {
      fail(400, "invalidDescription", "The video description (snippet.description) must be a string.")
    }
    const d = description as string
    if (Buffer.byteLength(d, "utf8") > 5000) {
      fail(
        400,
        "invalidDescription",
        `The video description (snippet.description) is ${Buffer.byteLength(d, "utf8")} bytes; the limit is 5000.`
      )
    }
    if (/[<>]/.test(d)) {
      fail(400, "invalidDescription", "The video description (snippet.description) must not contain '<' or '>'.")
    }
    let tags: Array<string> | undefined
    if (snippet.tags !== undefined) {
      if (!Array.isArray(snippet.tags) || snippet.tags.some((x) => typeof x !== "string")) {
        fail(400, "invalidTags", "The video keywords (snippet.tags) must be an array of strings.")
      }
      tags = snippet.tags as Array<string>
      const length = tagsLength(tags)
      if (length > 500) {
        fail(
          400,
          "invalidTags",
          `The video keywords (snippet.tags) count ${length} characters as YouTube counts them; the limit is 500.`
        )
      }
      if (tags.some((tag) => /[<>]/.test(tag))) {
        fail(400, "invalidTags", "The video keywords (snippet.tags) must not contain '<' or '>'.")
      }
    }
    const categoryId = snippet.categoryId === undefined ? "22" : String(snippet.categoryId)
    if (!ASSIGNABLE_CATEGORIES.has(categoryId)) {
      fail(400, "invalidCategoryId", `The snippet.categoryId '${categoryId}' is not a valid, assignable category.`)
    }
    const privacyStatus = status.privacyStatus === undefined ? "public" : status.privacyStatus
    if (privacyStatus !== "private" && privacyStatus !== "public" && privacyStatus !== "unlisted") {
      fail(
        400,
        "invalidValue",
        `Invalid value '${String(privacyStatus)}' for status.privacyStatus: use private, public or unlisted.`
      )
    }
    let publishAt: string | undefined
    if (status.publishAt !== undefined && status.publishAt !== null) {
      const at = typeof status.publishAt === "string" ? Date.parse(status.publishAt) : NaN
      if (Number.isNaN(at)) {
        fail(400, "invalidPublishAt", `status.publishAt '${String(status.publishAt)}' is not an ISO 8601 date-time.`)
      }
      if (privacyStatus !== "private") {
        fail(400, "invalidPublishAt", "status.publishAt can only be set when status.privacyStatus is 'private'.")
      }
      if (at <= clock.now()) {
        fail(400, "invalidPublishAt", `status.publishAt '${status.publishAt}' is not in the future.`)
      }
      publishAt = new Date(at).toISOString()
    }
    return {
      title: t,
      description: d,
      tags,
      categoryId,
      privacyStatus: privacyStatus as string,
      publishAt,
      selfDeclaredMadeForKids: typeof status.selfDeclaredMadeForKids === "boolean"
        ? status.selfDeclaredMadeForKids
        : undefined,
      containsSyntheticMedia: typeof status.containsSyntheticMedia === "boolean"
        ? status.containsSyntheticMedia
        : undefined,
      defaultLanguage: typeof snippet.defaultLanguage === "string" ? snippet.defaultLanguage : undefined
    }
  }

  // --- resources as YouTube renders them ----------------------------------------
  const thumbnailSet = (videoId: string) => ({
    default: { url: `https://i.ytimg.com/vi/${videoId}/default.jpg`, width: 120, height: 90 },
    medium: { url: `https://i.ytimg.com/vi/${videoId}/mqdefault.jpg`, width: 320, height: 180 },
    high: { url: `https://i.ytimg.com/vi/${videoId}/hqdefault.jpg`, width: 480, height: 360 }
  })

  const processing = (video: Video) => {
    const done = video.polls > processingPolls || clock.now() - video.completedAt >= processingMillis
    if (!done) {
      return {
        status: "processing" as const,
        details: {
          processingStatus: "processing",
          processingProgress: { partsTotal: 1000, partsProcessed: 500, timeLeftMs: 10_000 }
        }
      }
    }
    if (options.processingOutcome === "failed") {
      return {
        status: "failed" as const,
        details: { processingStatus: "failed", processingFailureReason: "transcodeFailed" }
      }
    }
    return { status: "succeeded" as const, details: { processingStatus: "succeeded" } }
  }

  const renderVideo = (video: Video, parts: ReadonlyArray<string>) => {
    const { input } = video
    const out: Record<string, unknown> = { kind: "youtube#video", etag: etag(), id: video.id }
    const proc = processing(video)
    if (parts.includes("snippet")) {
      out.snippet = {
        publishedAt: video.publishedAt,
        channelId,
        title: input.title,
        description: input.description,
        thumbnails: thumbnailSet(video.id),
        channelTitle: "Medusa Sandbox",
        ...(input.tags ? { tags: input.tags } : {}),
        categoryId: input.categoryId,
        liveBroadcastContent: "none",
        ...(input.defaultLanguage ? { defaultLanguage: input.defaultLanguage } : {}),
        localized: { title: input.title, description: input.description }
      }
    }
    if (parts.includes("status")) {
      out.status = {
        uploadStatus: proc.status === "succeeded" ? "processed" : proc.status === "failed" ? "failed" : "uploaded",
        ...(proc.status === "failed" ? { failureReason: "codec" } : {}),
        privacyStatus: input.privacyStatus,
        ...(input.publishAt ? { publishAt: input.publishAt } : {}),
        license: "youtube",
        embeddable: true,
        publicStatsViewable: true,
        madeForKids: input.selfDeclaredMadeForKids ?? false,
        ...(input.selfDeclaredMadeForKids !== undefined
          ? { selfDeclaredMadeForKids: input.selfDeclaredMadeForKids }
          : {}),
        ...(input.containsSyntheticMedia !== undefined ? { containsSyntheticMedia: input.containsSyntheticMedia } : {})
      }
    }
    if (parts.includes("processingDetails")) out.processingDetails = proc.details
    if (parts.includes("fileDetails")) out.fileDetails = { fileSize: String(video.bytes) }
    return out
  }

  // --- OAuth ----------------------------------------------------------------------
  const issueAccessToken = () => {
    tokensIssued += 1
    const token = `ya29.sandbox-${randomId(random, 40)}`
    accessTokens.set(token, clock.now() + HOUR)
    return token
  }

  const oauthFail = (status: number, error: string, description: string): never => {
    throw new EmulatorFailure(status, { code: error, message: description })
  }

  const token = async (ctx: RequestContext) => {
    const form = await ctx.form()
    let clientId = form.get("client_id") ?? undefined
    let clientSecret = form.get("client_secret") ?? undefined
    const basic = /^basic\s+(.+)$/i.exec(ctx.req.headers.authorization ?? "")
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":")
      clientId = decodeURIComponent(id ?? "")
      clientSecret = decodeURIComponent(secret ?? "")
    }
    if (clientId !== creds.clientId || clientSecret !== creds.clientSecret) {
      oauthFail(401, "invalid_client", "The OAuth client was not found.")
    }
    const grantType = form.get("grant_type")
    if (grantType === "refresh_token") {
      const refreshToken = form.get("refresh_token")
      if (!refreshToken) oauthFail(400, "invalid_request", "Missing required parameter: refresh_token")
      if (!refreshTokens.has(refreshToken!)) oauthFail(400, "invalid_grant", "Token has been expired or revoked.")
      refreshes += 1
      return ctx.send(200, {
        access_token: issueAccessToken(),
        expires_in: 3599,
        scope: refreshTokens.get(refreshToken!)!,
        token_type: "Bearer"
      })
    }
    if (grantType === "authorization_code") {
      const code = form.get("code")
      if (!code) oauthFail(400, "invalid_request", "Missing required parameter: code")
      const grant = codes.get(code!)
      codes.delete(code!)
      if (!grant || grant.expiresAt <= clock.now() || grant.clientId !== clientId) {
        oauthFail(400, "invalid_grant", "Malformed auth code.")
      }
      if (form.get("redirect_uri") !== grant!.redirectUri) oauthFail(400, "redirect_uri_mismatch", "Bad Request")
      if (grant!.challenge !== undefined) {
        const verifier = form.get("code_verifier")
        if (!verifier) oauthFail(400, "invalid_grant", "Missing code verifier.")
        const computed = grant!.challengeMethod === "S256"
          ? base64url(createHash("sha256").update(verifier!).digest())
          : verifier
        if (computed !== grant!.challenge) oauthFail(400, "invalid_grant", "Invalid code verifier.")
      }
      const refreshToken = `1//sandbox-${randomId(random, 40)}`
      refreshTokens.set(refreshToken, grant!.scope)
      return ctx.send(200, {
        access_token: issueAccessToken(),
        expires_in: 3599,
        refresh_token: refreshToken,
        scope: grant!.scope,
        token_type: "Bearer"
      })
    }
    oauthFail(
      400,
      "unsupported_grant_type",
      `Invalid grant_type: ${grantType ?? "(missing)"}; use refresh_token or authorization_code`
    )
  }

  const authorizeEndpoint = (ctx: RequestContext) => {
    const q = ctx.url.searchParams
    if (q.get("client_id") !== creds.clientId) oauthFail(401, "invalid_client", "The OAuth client was not found.")
    const redirectUri = q.get("redirect_uri") ?? ""
    if (!isLoopbackRedirect(redirectUri)) {
      oauthFail(
        400,
        "redirect_uri_mismatch",
        `redirect_uri '${redirectUri}' is not a loopback http URI (http://127.0.0.1:<port>/…) registered for this desktop client`
      )
    }
    const target = new URL(redirectUri)
    const redirect = (params: Record<string, string>) => {
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v)
      const stateParam = q.get("state")
      if (stateParam !== null) target.searchParams.set("state", stateParam)
      ctx.send(302, undefined, { location: target.toString() })
    }
    if (q.get("response_type") !== "code") return redirect({ error: "unsupported_response_type" })
    const scope = q.get("scope")
    if (!scope) return redirect({ error: "invalid_request", error_description: "Missing required parameter: scope" })
    const challenge = q.get("code_challenge") ?? undefined
    const method = q.get("code_challenge_method") ?? (challenge ? "plain" : "none")
    if (challenge !== undefined && method !== "S256" && method !== "plain") {
      return redirect({ error: "invalid_request", error_description: "Invalid code_challenge_method" })
    }
    const code = `4/0sandbox-${randomId(random, 40)}`
    codes.set(code, {
      clientId: creds.clientId,
      redirectUri,
      scope,
      challenge,
      challengeMethod: method,
      expiresAt: clock.now() + 10 * 60_000
    })
    redirect({ code, scope })
  }

  // --- resumable upload ----------------------------------------------------------
  /** Every videos.insert call counts against the "Video Uploads" bucket, even one that fails validation. */
  const chargeUpload = () => {
    roll()
    if (uploadsUsed >= uploadsPerDay) {
      fail(
        429,
        "rateLimitExceeded",
        "Quota exceeded for quota metric 'Video Uploads' and limit 'Video Uploads per day' of service 'youtube.googleapis.com' for consumer 'project_number:000000000000'."
      )
    }
    uploadsUsed += 1
  }

  const checkChannelLimit = () => {
    if (options.channelUploadLimit !== undefined && channelUploads >= options.channelUploadLimit) {
      fail(400, "uploadLimitExceeded", "The user has exceeded the number of videos they may upload.")
    }
    channelUploads += 1
  }

  const readVideoResource = async (ctx: RequestContext): Promise<unknown> => {
    try {
      return await ctx.json()
    } catch (error) {
      if (error instanceof SyntaxError) {
        return fail(400, "parseError", `Parse Error: the video resource is not valid JSON`)
      }
      throw error
    }
  }

  const initiate = async (ctx: RequestContext) => {
    authorize(ctx)
    const uploadType = ctx.url.searchParams.get("uploadType")
    if (uploadType === "multipart" || uploadType === "media") return simpleInsert(ctx, uploadType)
    const body = await readVideoResource(ctx)
    chargeUpload()
    if (uploadType !== "resumable") {
      fail(
        400,
        "badRequest",
        `uploadType '${uploadType ?? "(missing)"}' is not supported: use resumable, multipart or media`
      )
    }
    const parts = requireParts(ctx)
    const lengthHeader = ctx.req.headers["x-upload-content-length"]
    let total: number | undefined
    if (lengthHeader !== undefined) {
      total = Number(lengthHeader)
      if (!Number.isSafeInteger(total) || total < 0) {
        fail(400, "badRequest", `X-Upload-Content-Length '${String(lengthHeader)}' is not a non-negative integer`)
      }
    }
    const contentType = String(ctx.req.headers["x-upload-content-type"] ?? "application/octet-stream")
    if (!/^video\/[\w.+-]+$/i.test(contentType) && contentType.toLowerCase() !== "application/octet-stream") {
      fail(
        400,
        "badContent",
        `X-Upload-Content-Type '${contentType}' is not supported: use video/* or application/octet-stream`
      )
    }
    const input = validateVideo(body)
    checkChannelLimit()
    const id = `sbx${randomId(random, 24)}`
    const upload = state.newUpload("youtube", id, total, { ...(body as object), parts }, clock.now())
    state.hashExternally(upload)
    sessions.set(id, { id, upload, total, contentType, parts, input, createdAt: clock.now() })
    const location = `${ctx.baseUrl}/upload/youtube/v3/videos?uploadType=resumable&upload_id=${id}&part=${
      encodeURIComponent(parts.join(","))
    }`
    ctx.send(200, undefined, { location, "x-guploader-uploadid": id })
  }

  const rangeHeader = (session: Session): Record<string, string> =>
    session.upload.bytes > 0 ? { range: `bytes=0-${session.upload.bytes - 1}` } : {}

  const discard = async (ctx: RequestContext) => {
    const { dropped } = await ctx.consume(() => {})
    return dropped
  }

  const createVideo = async (upload: StoredUpload, input: VideoInput, sessionId: string): Promise<Video> => {
    await finishUpload(upload)
    const videoId = randomId(random, 11)
    upload.videoId = videoId
    const video: Video = {
      id: videoId,
      sessionId,
      input,
      publishedAt: new Date(clock.now()).toISOString(),
      completedAt: clock.now(),
      bytes: upload.bytes,
      sha256: upload.sha256,
      polls: 0
    }
    videos.set(videoId, video)
    return video
  }

  const finish = async (ctx: RequestContext, session: Session) => {
    // One completion per session, however many requests (a probe racing the last PUT) ask for it.
    session.finishing ??= createVideo(session.upload, session.input, session.id).then((video) => {
      session.final = { status: 201, body: renderVideo(video, session.parts) }
      return session.final
    })
    const final = await session.finishing
    ctx.send(final.status, final.body)
  }

  /**
   * The non-resumable forms of videos.insert, which `@googleapis/youtube` uses:
   * `uploadType=multipart` (`multipart/related`: the JSON resource, then the
   * media) and `uploadType=media` (bytes only). The media part is streamed,
   * hashed and counted like a resumable upload.
   */
  const simpleInsert = async (ctx: RequestContext, uploadType: "multipart" | "media") => {
    chargeUpload()
    const parts = requireParts(ctx)
    const contentType = String(ctx.req.headers["content-type"] ?? "")
    const id = `sbx${randomId(random, 24)}`
    const upload = state.newUpload("youtube", id, undefined, { parts, uploadType }, clock.now())
    const committer = makeCommitter(upload, ctx.holdBack)
    let failure: EmulatorFailure | undefined
    let input: VideoInput | undefined
    const accept = (resource: unknown) => {
      try {
        input = validateVideo(resource)
        checkChannelLimit()
        upload.metadata = { ...(resource as object), parts }
      } catch (error) {
        if (!(error instanceof EmulatorFailure)) throw error
        failure = error
      }
    }
    let push: (chunk: Buffer) => void
    let end: () => void
    if (uploadType === "media") {
      // No resource: YouTube's title requirement is read conservatively, so this fails with invalidTitle.
      accept({})
      push = (c) => failure === undefined && committer.push(c)
      end = () => committer.end()
    } else {
      const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
      if (!/^multipart\/related/i.test(contentType) || !boundary) {
        await ctx.consume(() => {})
        return fail(400, "badContent", `uploadType=multipart needs Content-Type multipart/related with a boundary`)
      }
      const splitter = makeMultipartSplitter(boundary, (c) => failure === undefined && committer.push(c))
      push = (c) => {
        const resource = splitter.push(c)
        if (resource !== undefined) accept(resource)
        if (splitter.error !== undefined && failure === undefined) {
          failure = new EmulatorFailure(400, { code: "badContent", message: splitter.error })
        }
      }
      end = () => {
        splitter.end()
        committer.end()
        if (splitter.error !== undefined && failure === undefined) {
          failure = new EmulatorFailure(400, { code: "badContent", message: splitter.error })
        }
      }
    }
    upload.requests += 1
    const { dropped } = await ctx.consume(push)
    end()
    if (dropped) return
    if (failure !== undefined || input === undefined) {
      state.uploads.delete(id)
      throw failure ?? new EmulatorFailure(400, { code: "badContent", message: "The multipart body has no media part" })
    }
    upload.totalBytes = upload.bytes
    const video = await createVideo(upload, input, id)
    ctx.send(200, renderVideo(video, parts))
  }

  const put = async (ctx: RequestContext) => {
    const id = ctx.url.searchParams.get("upload_id") ?? ""
    const session = sessions.get(id)
    if (!session || clock.now() - session.createdAt > sessionLifetime) {
      if (session) {
        sessions.delete(id)
        session.upload.external?.dispose()
        // What the expired session held is lost: the client must send it again.
        state.counters.youtube.discardedBytes += session.upload.bytes
        session.upload.discarded = true
      }
      await discard(ctx)
      return fail(404, "notFound", `Upload session '${id}' is unknown or has expired: start a new session.`)
    }
    // The session URI is the credential; a bearer token, when sent, must still be valid.
    if (ctx.req.headers.authorization !== undefined) authorize(ctx)
    if (session.final) {
      if (await discard(ctx)) return
      return ctx.send(session.final.status, session.final.body)
    }
    const { upload } = session
    const rangeText = ctx.req.headers["content-range"]
    const lengthText = ctx.req.headers["content-length"]
    const contentLength = lengthText === undefined ? undefined : Number(lengthText)

    let first = 0
    let declaredLength: number | undefined = contentLength
    let isFinal: boolean
    if (rangeText === undefined) {
      // Single request carrying the whole file.
      if (session.total === undefined && contentLength !== undefined) session.total = contentLength
      if (upload.bytes > 0) {
        // Not contiguous with what is stored: nothing of it is kept.
        if (await discard(ctx)) return
        return ctx.send(308, undefined, rangeHeader(session))
      }
      isFinal = true
    } else {
      const probe = /^bytes\s+\*\/(\d+|\*)$/i.exec(rangeText)
      const chunk = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(rangeText)
      if (probe) {
        if (await discard(ctx)) return
        if (probe[1] !== "*" && session.total === undefined) session.total = Number(probe[1])
        if (session.total !== undefined && upload.bytes === session.total) return finish(ctx, session)
        return ctx.send(308, undefined, rangeHeader(session))
      }
      if (!chunk) {
        await discard(ctx)
        return fail(
          400,
          "badRequest",
          `Content-Range '${rangeText}' is malformed: use 'bytes FIRST-LAST/TOTAL' or 'bytes */TOTAL'`
        )
      }
      first = Number(chunk[1])
      const last = Number(chunk[2])
      if (chunk[3] !== "*") {
        const total = Number(chunk[3])
        if (session.total !== undefined && total !== session.total) {
          await discard(ctx)
          return fail(
            400,
            "badRequest",
            `Content-Range total ${total} does not match the X-Upload-Content-Length ${session.total} of this session`
          )
        }
        session.total = total
      }
      if (last < first || (session.total !== undefined && last >= session.total)) {
        await discard(ctx)
        return fail(400, "badRequest", `Content-Range '${rangeText}' is outside the file`)
      }
      declaredLength = last - first + 1
      if (contentLength !== undefined && contentLength !== declaredLength) {
        await discard(ctx)
        return fail(
          400,
          "badRequest",
          `Content-Length ${contentLength} does not match Content-Range '${rangeText}' (${declaredLength} bytes)`
        )
      }
      if (session.total !== undefined && upload.bytes === session.total) {
        // Everything landed already (the last answer was lost): answer as completion does.
        if (await discard(ctx)) return
        return finish(ctx, session)
      }
      if (first !== upload.bytes) {
        // Overlap or gap: Google stores none of this chunk; the 308 tells the client where to resume.
        if (await discard(ctx)) return
        return ctx.send(308, undefined, rangeHeader(session))
      }
      isFinal = session.total !== undefined && last === session.total - 1
    }
    // Non-final chunks are stored in whole 256 KiB units (conservative reading of Google's rule,
    // as Google Cloud Storage does): the 308's Range tells the client what landed.
    const limit = isFinal || declaredLength === undefined
      ? declaredLength ?? Infinity
      : declaredLength - (declaredLength % CHUNK_GRANULARITY)
    const committer = makeCommitter(upload, ctx.holdBack, limit, state.counters.youtube)
    upload.requests += 1
    const { dropped } = await ctx.consume(committer.push)
    committer.end()
    if (dropped) return
    if (session.total === undefined && rangeText === undefined) session.total = upload.bytes
    if (session.total !== undefined) upload.totalBytes = session.total
    if (session.total !== undefined && upload.bytes === session.total) return finish(ctx, session)
    ctx.send(308, undefined, rangeHeader(session))
  }

  // --- other API calls ------------------------------------------------------------
  const videosList = (ctx: RequestContext) => {
    authorize(ctx)
    charge(1)
    const parts = requireParts(ctx)
    const ids = ctx.url.searchParams.getAll("id").join(",").split(",").map((s) => s.trim()).filter((s) => s.length > 0)
    if (ids.length === 0) fail(400, "missingRequiredParameter", "No filter selected: pass id=<video id>[,<id>…]")
    const items = ids.flatMap((id) => {
      const video = videos.get(id)
      if (!video) return []
      video.polls += 1
      return [renderVideo(video, parts)]
    })
    ctx.send(200, {
      kind: "youtube#videoListResponse",
      etag: etag(),
      items,
      pageInfo: { totalResults: items.length, resultsPerPage: items.length }
    })
  }

  /** `videos.delete?id=ID` (50 units): 204; an unknown video is `404 videoNotFound`. */
  const videosDelete = (ctx: RequestContext) => {
    authorize(ctx)
    charge(50)
    const id = ctx.url.searchParams.get("id") ?? ""
    if (!videos.has(id)) fail(404, "videoNotFound", `The video identified by the id parameter ${id} cannot be found.`)
    videos.delete(id)
    ctx.send(204)
  }

  /** `channels.list?mine=true`: the token's own channel (1 unit), as `medusa auth check` reads it. */
  const channelsList = (ctx: RequestContext) => {
    authorize(ctx)
    charge(1)
    const parts = requireParts(ctx)
    if (ctx.url.searchParams.get("mine") !== "true") {
      fail(400, "missingRequiredParameter", "No filter selected: the sandbox answers channels.list with mine=true")
    }
    const item: Record<string, unknown> = { kind: "youtube#channel", etag: etag(), id: channelId }
    if (parts.includes("snippet")) {
      item.snippet = { title: channelTitle, description: "", publishedAt: "2020-01-01T00:00:00Z" }
    }
    ctx.send(200, {
      kind: "youtube#channelListResponse",
      etag: etag(),
      items: [item],
      pageInfo: { totalResults: 1, resultsPerPage: 1 }
    })
  }

  const parseMultipart = (body: Buffer, contentType: string): { type: string; data: Buffer } | undefined => {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
    if (!boundary) return undefined
    const delimiter = Buffer.from(`--${boundary}`)
    const parts: Array<Buffer> = []
    let at = body.indexOf(delimiter)
    while (at !== -1) {
      const next = body.indexOf(delimiter, at + delimiter.length)
      if (next === -1) break
      parts.push(body.subarray(at + delimiter.length, next))
      at = next
    }
    const media = parts[parts.length - 1]
    if (!media) return undefined
    const headerEnd = media.indexOf("\r\n\r\n")
    if (headerEnd === -1) return undefined
    const headers = media.subarray(0, headerEnd).toString("utf8")
    let data = media.subarray(headerEnd + 4)
    if (data.subarray(data.length - 2).toString() === "\r\n") data = data.subarray(0, data.length - 2)
    const type = /content-type:\s*([^\r\n;]+)/i.exec(headers)?.[1]?.trim() ?? "application/octet-stream"
    return { type, data }
  }

  const thumbnailsSet = async (ctx: RequestContext) => {
    authorize(ctx)
    charge(50)
    const videoId = ctx.url.searchParams.get("videoId")
    if (!videoId) {
      await ctx.consume(() => {})
      return fail(400, "required", "Required parameter: videoId")
    }
    const chunks: Array<Buffer> = []
    let size = 0
    const { dropped } = await ctx.consume((c) => {
      size += c.length
      if (size <= thumbnailMaxBytes + 65_536) chunks.push(c)
    })
    if (dropped) return
    const video = videos.get(videoId)
    if (!video) {
      return fail(404, "videoNotFound", `The video '${videoId}' for which you are setting a thumbnail cannot be found.`)
    }
    let contentType = String(ctx.req.headers["content-type"] ?? "application/octet-stream").split(";")[0]!.trim()
    let data: Buffer = Buffer.concat(chunks)
    if (contentType.toLowerCase() === "multipart/related") {
      const media = parseMultipart(data, String(ctx.req.headers["content-type"]))
      if (!media) return fail(400, "badContent", "The multipart/related body has no media part")
      contentType = media.type
      data = media.data
      size = data.length
    }
    if (size === 0) return fail(400, "mediaBodyRequired", "The request does not include the image content.")
    if (!["image/jpeg", "image/png", "application/octet-stream"].includes(contentType.toLowerCase())) {
      return fail(
        400,
        "invalidImage",
        `The image MIME type '${contentType}' is not accepted: use image/jpeg or image/png.`
      )
    }
    if (size > thumbnailMaxBytes) {
      return fail(400, "invalidImage", `The image is ${size} bytes; the limit is ${thumbnailMaxBytes} bytes.`)
    }
    const isJpeg = data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff
    const isPng = data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    if (!isJpeg && !isPng) {
      return fail(400, "invalidImage", "The provided image content is invalid: not a JPEG or PNG image.")
    }
    video.thumbnail = {
      videoId,
      mimeType: isJpeg ? "image/jpeg" : "image/png",
      bytes: size,
      sha256: createHash("sha256").update(data).digest("hex"),
      setAt: clock.now()
    }
    ctx.send(200, { kind: "youtube#thumbnailSetResponse", etag: etag(), items: [thumbnailSet(videoId)] })
  }

  const playlistItemsInsert = async (ctx: RequestContext) => {
    authorize(ctx)
    const body = (await ctx.json()) as Record<string, any> | undefined
    const part = ctx.url.searchParams.getAll("part").join(",")
    if (!part || !part.split(",").map((p) => p.trim()).includes("snippet")) {
      charge(1)
      return fail(400, "required", "Required parameter: part (must include snippet)")
    }
    charge(50)
    const snippet = body?.snippet as Record<string, any> | undefined
    const playlistId = snippet?.playlistId
    if (typeof playlistId !== "string" || playlistId.length === 0) {
      return fail(400, "playlistIdRequired", "The playlist item (snippet.playlistId) must specify a playlist id.")
    }
    if (options.playlists !== undefined && !options.playlists.includes(playlistId)) {
      return fail(404, "playlistNotFound", `The playlist '${playlistId}' cannot be found.`)
    }
    const resourceId = snippet?.resourceId as Record<string, unknown> | undefined
    if (resourceId?.kind !== "youtube#video") {
      return fail(
        400,
        "invalidResourceType",
        `snippet.resourceId.kind '${String(resourceId?.kind)}' is not supported: use youtube#video`
      )
    }
    const videoId = String(resourceId.videoId ?? "")
    const video = videos.get(videoId)
    if (!video) return fail(404, "videoNotFound", `The video '${videoId}' cannot be found.`)
    const position = playlistItems.filter((p) => p.playlistId === playlistId).length
    const item: PlaylistItem = {
      id: randomId(random, 48),
      playlistId,
      videoId,
      position,
      publishedAt: new Date(clock.now()).toISOString()
    }
    playlistItems.push(item)
    ctx.send(200, playlistItemResource(item))
  }

  const playlistItemResource = (item: PlaylistItem) => {
    const video = videos.get(item.videoId)
    return {
      kind: "youtube#playlistItem",
      etag: etag(),
      id: item.id,
      snippet: {
        publishedAt: item.publishedAt,
        channelId,
        title: video?.input.title,
        description: video?.input.description,
        thumbnails: thumbnailSet(item.videoId),
        channelTitle: "Medusa Sandbox",
        playlistId: item.playlistId,
        position: item.position,
        resourceId: { kind: "youtube#video", videoId: item.videoId },
        videoOwnerChannelTitle: "Medusa Sandbox",
        videoOwnerChannelId: channelId
      }
    }
  }

  // playlistItems.list, filtered by playlistId and optionally videoId (what a
  // client asks before inserting, so that a re-run adds a video once). Not in
  // the fact sheet: its documented shape (cost 1, `items` with `snippet`) is
  // served; paging is not (a playlist here never holds more than a page).
  const playlistItemsList = (ctx: RequestContext) => {
    authorize(ctx)
    const q = ctx.url.searchParams
    const part = q.getAll("part").join(",")
    charge(1)
    if (!part) return fail(400, "required", "Required parameter: part")
    const playlistId = q.get("playlistId")
    if (playlistId === null || playlistId.length === 0) {
      return fail(400, "playlistIdRequired", "Required parameter: playlistId")
    }
    if (options.playlists !== undefined && !options.playlists.includes(playlistId)) {
      return fail(404, "playlistNotFound", `The playlist '${playlistId}' cannot be found.`)
    }
    const videoId = q.get("videoId")
    const items = playlistItems.filter((p) =>
      p.playlistId === playlistId && (videoId === null || p.videoId === videoId)
    )
    ctx.send(200, {
      kind: "youtube#playlistItemListResponse",
      etag: etag(),
      pageInfo: { totalResults: items.length, resultsPerPage: 50 },
      items: items.slice(0, 50).map(playlistItemResource)
    })
  }

  // --- captions ------------------------------------------------------------------
  // captions.insert (400 units) takes the `caption` resource and the track's
  // file as `multipart/related` (`uploadType=multipart`, as googleapis sends
  // it); captions.list (50 units) lists a video's tracks. YouTube's reference
  // names no refusal of a second track with the same language and name, so the
  // sandbox stores it (and counts it): a client must not insert twice.
  const captionsInsert = async (ctx: RequestContext) => {
    authorize(ctx)
    const uploadType = ctx.url.searchParams.get("uploadType")
    const contentType = String(ctx.req.headers["content-type"] ?? "")
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
    const body = await ctx.readBody()
    charge(400)
    const part = ctx.url.searchParams.getAll("part").join(",")
    if (!part.split(",").map((p) => p.trim()).includes("snippet")) {
      return fail(400, "required", "Required parameter: part (must be snippet)")
    }
    if (uploadType !== "multipart" || !/^multipart\/related/i.test(contentType) || !boundary) {
      return fail(
        400,
        "badContent",
        "captions.insert needs uploadType=multipart with a multipart/related body (the caption resource, then the file)"
      )
    }
    const media: Array<Buffer> = []
    const splitter = makeMultipartSplitter(boundary, (c) => media.push(c))
    const resource = splitter.push(body)
    splitter.end()
    if (splitter.error !== undefined) return fail(400, "badContent", splitter.error)
    const snippet = ((resource ?? {}) as Record<string, any>).snippet as Record<string, unknown> | undefined
    const videoId = typeof snippet?.videoId === "string" ? snippet.videoId : ""
    const language = typeof snippet?.language === "string" ? snippet.language : ""
    const name = typeof snippet?.name === "string" ? snippet.name : ""
    if (videoId.length === 0 || language.length === 0) {
      return fail(400, "invalidMetadata", "The caption resource needs snippet.videoId and snippet.language.")
    }
    if ([...name].length > 150) {
      return fail(
        400,
        "nameTooLong",
        `The caption track name (snippet.name) is ${[...name].length} characters; the limit is 150.`
      )
    }
    if (!videos.has(videoId)) {
      return fail(404, "videoNotFound", `The video identified by snippet.videoId ${videoId} cannot be found.`)
    }
    const data = Buffer.concat(media)
    const text = data.toString("utf8").replace(/^\uFEFF/, "")
    const format = text.startsWith("WEBVTT")
      ? "vtt"
      : /^\d+\r?\n\d{2}:\d{2}:\d{2},\d{3} --> /.test(text)
      ? "srt"
      : undefined
    if (data.length === 0 || format === undefined) {
      return fail(400, "contentRequired", "The caption track does not contain SRT or WebVTT content.")
    }
    const caption: Caption = {
      id: randomId(random, 44),
      videoId,
      language,
      name,
      isDraft: snippet?.isDraft === true,
      format,
      bytes: data.length,
      sha256: createHash("sha256").update(data).digest("hex"),
      insertedAt: clock.now()
    }
    captions.push(caption)
    ctx.send(200, captionResource(caption))
  }

  const captionResource = (caption: Caption) => ({
    kind: "youtube#caption",
    etag: etag(),
    id: caption.id,
    snippet: {
      videoId: caption.videoId,
      lastUpdated: new Date(caption.insertedAt).toISOString(),
      trackKind: "standard",
      language: caption.language,
      name: caption.name,
      audioTrackType: "unknown",
      isCC: false,
      isLarge: false,
      isEasyReader: false,
      isDraft: caption.isDraft,
      isAutoSynced: false,
      status: "serving"
    }
  })

  const captionsList = (ctx: RequestContext) => {
    authorize(ctx)
    charge(50)
    const part = ctx.url.searchParams.getAll("part").join(",")
    if (!part) return fail(400, "required", "Required parameter: part")
    const videoId = ctx.url.searchParams.get("videoId") ?? ""
    if (videoId.length === 0) return fail(400, "missingRequiredParameter", "Required parameter: videoId")
    if (!videos.has(videoId)) {
      return fail(404, "videoNotFound", `The video identified by the videoId parameter ${videoId} cannot be found.`)
    }
    const items = captions.filter((c) => c.videoId === videoId).map(captionResource)
    ctx.send(200, { kind: "youtube#captionListResponse", etag: etag(), items })
  }

  const routes: Array<Route> = [
    { name: "token", method: "POST", path: "/token", handler: token },
    { name: "auth", method: "GET", path: "/o/oauth2/v2/auth", handler: authorizeEndpoint },
    { name: "upload.initiate", method: "POST", path: "/upload/youtube/v3/videos", handler: initiate },
    {
      name: "upload",
      method: "PUT",
      path: "/upload/youtube/v3/videos",
      handler: (ctx) => withLock(ctx.url.searchParams.get("upload_id") ?? "", () => put(ctx))
    },
    { name: "videos.list", method: "GET", path: "/youtube/v3/videos", handler: videosList },
    { name: "videos.delete", method: "DELETE", path: "/youtube/v3/videos", handler: videosDelete },
    { name: "channels.list", method: "GET", path: "/youtube/v3/channels", handler: channelsList },
    {
      name: "thumbnails.set",
      method: "POST",
      path: "/upload/youtube/v3/thumbnails/set",
      handler: thumbnailsSet
    },
    {
      name: "playlistItems.insert",
      method: "POST",
      path: "/youtube/v3/playlistItems",
      handler: playlistItemsInsert
    },
    { name: "playlistItems.list", method: "GET", path: "/youtube/v3/playlistItems", handler: playlistItemsList },
    { name: "captions.insert", method: "POST", path: "/upload/youtube/v3/captions", handler: captionsInsert },
    { name: "captions.list", method: "GET", path: "/youtube/v3/captions", handler: captionsList }
  ]

  return {
    platform: "youtube",
    routes,
    errorResponse: errorBody,
    expireTokens: () => {
      accessTokens.clear()
    },
    exhaustQuota: () => {
      roll()
      unitsUsed = unitsPerDay
      uploadsUsed = uploadsPerDay
    },
    snapshot: () => {
      roll()
      return {
        channelId,
        quota: {
          day,
          unitsUsed,
          unitsLeft: Math.max(0, unitsPerDay - unitsUsed),
          uploadsUsed,
          uploadsLeft: Math.max(0, uploadsPerDay - uploadsUsed)
        },
        tokens: { issued: tokensIssued, refreshes, live: accessTokens.size },
        sessions: [...sessions.values()].map((s) => ({
          id: s.id,
          total: s.total,
          bytes: s.upload.bytes,
          complete: s.final !== undefined,
          createdAt: s.createdAt
        })),
        uploads: [...videos.values()].map((v) => ({
          videoId: v.id,
          sessionId: v.sessionId,
          bytes: v.bytes,
          sha256: v.sha256,
          metadata: v.input,
          processing: processing(v).status,
          thumbnail: v.thumbnail
        })),
        thumbnails: [...videos.values()].flatMap((v) => (v.thumbnail ? [v.thumbnail] : [])),
        playlistItems,
        /** Every caption track inserted, duplicates included: one per caption means none was inserted twice. */
        captions
      }
    }
  }
}
