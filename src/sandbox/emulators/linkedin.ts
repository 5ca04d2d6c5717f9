/**
 * LinkedIn Posts API emulator (REST, versioned): `POST /rest/posts` with the
 * version and Rest.li protocol headers required, the author checked against
 * the token's member, "little text" commentary, duplicate and daily limits,
 * and LinkedIn's error bodies.
 *
 * Routes (names for fault injection): `posts` (POST), `posts.find` (GET), `posts.get` (GET
 * `/rest/posts/{urn}`), `posts.delete` (DELETE),
 * and the Videos API: `videos.initialize` (POST `/rest/videos?action=initializeUpload`), `videos.part`
 * (PUT of one part to its upload URL, answering an `ETag`), `videos.finalize`
 * (`?action=finalizeUpload` with the ETags in part order), `videos.get`. A post's
 * `content.media.id` must name a finalized video.
 *
 * @internal
 */
import { createHash } from "node:crypto"
import type { Emulator, EmulatorEnv, ErrorOptions, RequestContext } from "../internal/framework.js"
import { bearer, commitBytes, completeUpload, type StoredUpload } from "../internal/framework.js"

/**
 * Settings of the LinkedIn emulator (`Sandbox.start({ linkedin: {...} })`).
 *
 * @since 0.1.0
 * @category models
 */
export interface LinkedInEmulatorOptions {
  /** Posts per member per UTC day before `429` (default 150, a third-party figure: LinkedIn publishes none). */
  readonly dailyPostLimit?: number | undefined
  /** A post with the same text by the same author within this many ms is a duplicate (default 24 h). */
  readonly duplicateWindowMillis?: number | undefined
  /** Longest commentary, in characters of the text as sent (default 3000). */
  readonly maxCommentary?: number | undefined
  /** Bytes of each upload part (default 4 MiB = 4,194,304, as LinkedIn's instructions give). */
  readonly videoPartBytes?: number | undefined
}

/** @internal */
export const DEFAULT_MIN_VERSION = "202511"

/** Characters LinkedIn's "little text" format reserves; they must arrive backslash-escaped. @internal */
export const RESERVED = new Set(["\\", "|", "{", "}", "@", "[", "]", "(", ")", "<", ">", "#", "*", "_", "~"])

/**
 * Turns little-text commentary into the text a reader sees: `\x` escapes
 * removed, `@[Name](urn:li:…)` mentions become `Name`, `{hashtag|\#|tag}`
 * becomes `#tag`. An unescaped reserved character is an error, since LinkedIn
 * then cuts or garbles the post.
 * @internal
 */
export const unescapeLittleText = (
  commentary: string
): { readonly ok: true; readonly text: string } | {
  readonly ok: false
  readonly index: number
  readonly char: string
} => {
  let out = ""
  let i = 0
  while (i < commentary.length) {
    const c = commentary[i]!
    if (c === "\\") {
      const next = commentary[i + 1]
      if (next !== undefined && RESERVED.has(next)) {
        out += next
        i += 2
        continue
      }
      return { ok: false, index: i, char: c }
    }
    if (c === "@") {
      const mention = /^@\[([^\]]*)\]\((urn:li:[^)]+)\)/.exec(commentary.slice(i))
      if (mention) {
        out += mention[1]!
        i += mention[0].length
        continue
      }
    }
    if (c === "{") {
      const hashtag = /^\{hashtag\|\\#\|([^}]*)\}/.exec(commentary.slice(i))
      if (hashtag) {
        out += `#${hashtag[1]!}`
        i += hashtag[0].length
        continue
      }
    }
    if (RESERVED.has(c)) return { ok: false, index: i, char: c }
    out += c
    i += 1
  }
  return { ok: true, text: out }
}

interface LiPost {
  readonly id: string
  readonly author: string
  readonly commentary: string
  readonly text: string
  readonly body: Record<string, unknown>
  readonly createdAt: number
}

const readOptions = (env: EmulatorEnv): LinkedInEmulatorOptions => env.options.linkedin ?? {}

const yyyymm = (millis: number): string => {
  const d = new Date(millis)
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}`
}

/** @internal */
export const makeLinkedIn = (env: EmulatorEnv): Emulator => {
  const options = readOptions(env)
  const creds = env.credentials.linkedin
  const minVersion = env.options.linkedinMinVersion ?? DEFAULT_MIN_VERSION
  const dailyLimit = options.dailyPostLimit ?? 150
  const duplicateWindow = options.duplicateWindowMillis ?? 86_400_000
  const maxCommentary = options.maxCommentary ?? 3000
  const posts: Array<LiPost> = []
  let counter = 0
  let tokenExpired = false
  const daily = new Map<string, { day: string; count: number }>()

  const render = (status: number, opts: ErrorOptions) => {
    const serviceErrorCode = opts.code !== undefined && /^\d+$/.test(opts.code) ? Number(opts.code) : undefined
    const fallback: Record<number, string> = {
      400: "Bad request",
      401: "Invalid access token",
      403: "Not enough permissions to access this resource",
      404: "Not Found",
      422: "Unprocessable entity",
      429: "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
      500: "Internal Server Error",
      503: "Service Unavailable"
    }
    return {
      body: {
        message: opts.message ?? fallback[status] ?? "Error",
        ...(serviceErrorCode === undefined ? {} : { serviceErrorCode }),
        ...opts.extra,
        status
      }
    }
  }

  const fail = (ctx: RequestContext, status: number, message: string, serviceErrorCode?: number, extra?: object) =>
    ctx.fail(status, {
      message,
      ...(serviceErrorCode === undefined ? {} : { code: String(serviceErrorCode) }),
      ...(extra === undefined ? {} : { extra: extra as Record<string, unknown> })
    })

  /** Token, version and protocol checks shared by both routes; `false` when an error was sent. */
  const guard = (ctx: RequestContext): boolean => {
    const token = bearer(ctx.req)
    if (token === undefined) {
      // serviceErrorCode 65604 is unverified; 401 for a missing token is documented.
      fail(ctx, 401, "Empty oauth2_access_token", 65604)
      return false
    }
    if (token !== creds.accessToken) {
      fail(ctx, 401, "Invalid access token", 65600)
      return false
    }
    if (tokenExpired) {
      fail(ctx, 401, "The token used in the request has expired", 65601)
      return false
    }
    const version = ctx.req.headers["linkedin-version"]
    if (version === undefined || version === "") {
      fail(
        ctx,
        400,
        "A version must be present. Please specify a version by adding the LinkedIn-Version header (YYYYMM).",
        undefined,
        { code: "VERSION_MISSING" }
      )
      return false
    }
    const v = String(version)
    if (!/^\d{6}(\.\d{2})?$/.test(v)) {
      fail(ctx, 400, `LinkedIn-Version '${v}' is not of the form YYYYMM (e.g. ${minVersion})`, undefined, {
        code: "INVALID_VERSION"
      })
      return false
    }
    const month = v.slice(0, 6)
    // Future versions do not exist yet; "now" is the later of the two clocks so a test that sets the sandbox
    // clock in the past does not turn every current version into a future one.
    const current = [yyyymm(env.clock.now()), yyyymm(Date.now())].sort()[1]!
    if (month < minVersion || month > current) {
      fail(ctx, 426, `Requested version ${v} is not active`, undefined, { code: "NONEXISTENT_VERSION" })
      return false
    }
    if (ctx.req.headers["x-restli-protocol-version"] !== "2.0.0") {
      fail(ctx, 400, "The X-Restli-Protocol-Version header must be 2.0.0 for the versioned REST API")
      return false
    }
    return true
  }

  const required = (ctx: RequestContext, field: string) => {
    fail(ctx, 422, `ERROR :: /${field} :: field is required but not found and has no default value`)
  }

  /** `DELETE /rest/posts/{encoded urn}`: 204; an unknown post is a 404. */
  const remove = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const id = decodeURIComponent(ctx.params.urn!)
    const i = posts.findIndex((p) => p.id === id)
    if (i === -1) return fail(ctx, 404, `Post ${id} does not exist`)
    posts.splice(i, 1)
    env.state.removePost("linkedin", id)
    return ctx.send(204)
  }

  const create = async (ctx: RequestContext) => {
    if (!guard(ctx)) return
    if (!/application\/json/i.test(ctx.req.headers["content-type"] ?? "")) {
      return fail(ctx, 400, "Content-Type must be application/json")
    }
    const body = await ctx.json()
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return fail(ctx, 400, "The request body must be a JSON object")
    }
    const post = body as Record<string, unknown>
    for (const field of ["author", "visibility", "distribution", "lifecycleState"]) {
      if (post[field] === undefined) return required(ctx, field)
    }
    if (post.author !== creds.authorUrn) {
      return fail(
        ctx,
        403,
        `Not enough permissions to access: partnerApiPostsExternal.CREATE.${minVersion}01 ` +
          `(author ${String(post.author)} is not the token's member ${creds.authorUrn})`,
        100
      )
    }
    if (!["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"].includes(String(post.visibility))) {
      return fail(ctx, 422, `ERROR :: /visibility :: ${String(post.visibility)} is not a valid Visibility`)
    }
    const distribution = post.distribution as { feedDistribution?: unknown } | null
    if (distribution === null || typeof distribution !== "object") {
      return fail(ctx, 422, "ERROR :: /distribution :: must be an object")
    }
    if (!["MAIN_FEED", "NONE"].includes(String(distribution.feedDistribution))) {
      return distribution.feedDistribution === undefined
        ? required(ctx, "distribution/feedDistribution")
        : fail(
          ctx,
          422,
          `ERROR :: /distribution/feedDistribution :: ${String(distribution.feedDistribution)} is invalid`
        )
    }
    if (!["PUBLISHED", "DRAFT"].includes(String(post.lifecycleState))) {
      return fail(ctx, 422, `ERROR :: /lifecycleState :: ${String(post.lifecycleState)} is not a valid state`)
    }
    const commentary = post.commentary ?? ""
    if (typeof commentary !== "string") return fail(ctx, 422, "ERROR :: /commentary :: must be a string")
    // Counted on the text as sent (escapes included): the stricter reading, since LinkedIn's counting is unverified.
    if (commentary.length > maxCommentary) {
      return fail(
        ctx,
        422,
        `ERROR :: /commentary :: length ${commentary.length} exceeds the maximum of ${maxCommentary} characters`
      )
    }
    const parsed = unescapeLittleText(commentary)
    if (!parsed.ok) {
      return fail(
        ctx,
        422,
        `ERROR :: /commentary :: reserved character '${parsed.char}' at index ${parsed.index} must be escaped ` +
          "with a backslash (little text format)"
      )
    }
    const content = post.content as { article?: { source?: unknown }; media?: { id?: unknown } } | undefined
    let link: string | undefined
    if (content !== undefined) {
      if (content === null || typeof content !== "object") {
        return fail(ctx, 422, "ERROR :: /content :: must be an object")
      }
      if (content.article !== undefined) {
        const source = content.article?.source
        let valid = false
        try {
          valid = typeof source === "string" && /^https?:$/.test(new URL(source).protocol)
        } catch {
          valid = false
        }
        if (!valid) return fail(ctx, 422, `ERROR :: /content/article/source :: ${String(source)} is not a valid URL`)
        link = source as string
      }
      if (content.media !== undefined && !/^urn:li:(video|image|document):/.test(String(content.media?.id))) {
        return fail(ctx, 422, `ERROR :: /content/media/id :: ${String(content.media?.id)} is not a media URN`)
      }
      const media = String(content.media?.id)
      if (
        content.media !== undefined && media.startsWith("urn:li:video:") && videos.get(media)?.status !== "AVAILABLE"
      ) {
        return fail(ctx, 422, `ERROR :: /content/media/id :: video ${media} is not finalized`)
      }
    }
    if (parsed.text === "" && content === undefined) {
      return fail(ctx, 422, "ERROR :: /commentary :: a post needs commentary or content")
    }
    const now = env.clock.now()
    const duplicate = posts.find((p) =>
      p.author === post.author && p.text === parsed.text && parsed.text !== "" && now - p.createdAt < duplicateWindow
    )
    if (duplicate) {
      return ctx.send(422, { message: `Content is a duplicate of ${duplicate.id}`, status: 422 })
    }
    const day = new Date(now).toISOString().slice(0, 10)
    const used = daily.get(creds.authorUrn)
    const count = used?.day === day ? used.count : 0
    if (count >= dailyLimit) {
      return fail(ctx, 429, "Resource level throttle MEMBER DAY limit for calls to this resource is reached.")
    }
    daily.set(creds.authorUrn, { day, count: count + 1 })
    const { id } = store({ commentary, text: parsed.text, body: post, createdAt: now }, link)
    return ctx.send(201, undefined, {
      "x-restli-id": id,
      "x-linkedin-id": id,
      location: `/rest/posts/${encodeURIComponent(id)}`
    })
  }

  const store = (post: Omit<LiPost, "id" | "author">, link: string | undefined) => {
    counter += 1
    const id = `urn:li:share:${(7_400_000_000_000_000_000n + BigInt(counter)).toString()}`
    posts.push({ id, author: creds.authorUrn, ...post })
    return env.state.addPost({
      platform: "linkedin",
      id,
      text: post.text,
      link,
      url: `https://www.linkedin.com/feed/update/${id}/`,
      createdAt: post.createdAt,
      extra: {
        commentary: post.commentary,
        lifecycleState: post.body.lifecycleState,
        visibility: post.body.visibility,
        articleTitle: (post.body.content as { article?: { title?: unknown } } | undefined)?.article?.title,
        video: (post.body.content as { media?: { id?: unknown } } | undefined)?.media?.id
      }
    })
  }

  const seedPost = (
    { at, link, text }: { readonly text: string; readonly at: number; readonly link?: string | undefined }
  ) => {
    const commentary = [...text].map((c) => RESERVED.has(c) ? `\\${c}` : c).join("")
    const body: Record<string, unknown> = {
      author: creds.authorUrn,
      commentary,
      visibility: "PUBLIC",
      distribution: { feedDistribution: "MAIN_FEED", targetEntities: [], thirdPartyDistributionChannels: [] },
      lifecycleState: "PUBLISHED",
      isReshareDisabledByAuthor: false,
      ...(link === undefined ? {} : { content: { article: { source: link } } })
    }
    return store({ commentary, text, body, createdAt: at }, link)
  }

  const find = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const q = ctx.url.searchParams
    if (q.get("q") !== "author") return fail(ctx, 400, "Finder 'q' must be 'author' (q=author&author=<urn>)")
    const author = q.get("author")
    if (author === null || author === "") return fail(ctx, 400, "Query parameter 'author' is required")
    if (author !== creds.authorUrn) {
      return fail(ctx, 403, `Not enough permissions to access posts of ${author}`, 100)
    }
    const start = Math.max(0, Number(q.get("start") ?? 0) || 0)
    const count = Math.min(100, Math.max(1, Number(q.get("count") ?? 10) || 10))
    const mine = posts.filter((p) => p.author === author).sort((a, b) =>
      b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)
    )
    return ctx.send(200, {
      elements: mine.slice(start, start + count).map(view),
      paging: { start, count, total: mine.length, links: [] }
    })
  }

  /** A post as the finder and `GET /rest/posts/{urn}` answer it: the body as sent, with its id and times. */
  const view = (p: LiPost) => ({
    ...p.body,
    id: p.id,
    author: p.author,
    commentary: p.commentary,
    createdAt: p.createdAt,
    publishedAt: p.createdAt,
    lastModifiedAt: p.createdAt
  })

  /** `GET /rest/posts/{encoded urn}`: one post; an unknown one is a 404. */
  const get = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const id = decodeURIComponent(ctx.params.urn!)
    const found = posts.find((p) => p.id === id)
    if (found === undefined) return fail(ctx, 404, `Post ${id} does not exist`)
    return ctx.send(200, view(found))
  }

  // ---------------------------------------------------------------------------
  // Videos API: initializeUpload, a PUT per part (ETag), finalizeUpload
  // ---------------------------------------------------------------------------

  interface LiVideo {
    readonly urn: string
    readonly owner: string
    readonly size: number
    readonly token: string
    readonly upload: StoredUpload
    readonly parts: Array<{ readonly first: number; readonly last: number; etag: string | undefined }>
    status: "WAITING_UPLOAD" | "AVAILABLE"
    /** A request named it after its creation (the client learned its URN). */
    announced: boolean
  }
  const videos = new Map<string, LiVideo>()
  const partBytes = Math.max(1, options.videoPartBytes ?? 4 * 1024 * 1024)
  let videoCounter = 0
  /** LinkedIn's video limits (Videos API notes): 75 KB to 500 MB. */
  const minVideo = 75 * 1024
  const maxVideo = 500 * 1024 * 1024

  const initialize = async (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const action = ctx.url.searchParams.get("action")
    if (action === "finalizeUpload") return finalize(ctx)
    if (action !== "initializeUpload") return fail(ctx, 400, `Unknown action ${String(action)}`)
    const body = await ctx.json() as { initializeUploadRequest?: Record<string, unknown> } | undefined
    const request = body?.initializeUploadRequest
    if (request === undefined) return fail(ctx, 422, "ERROR :: /initializeUploadRequest :: field is required")
    if (request.owner !== creds.authorUrn) {
      return fail(ctx, 403, `Not enough permissions: the token's member cannot upload as ${String(request.owner)}`)
    }
    const size = Number(request.fileSizeBytes)
    if (!Number.isInteger(size) || size < minVideo || size > maxVideo) {
      return fail(ctx, 422, `ERROR :: /initializeUploadRequest/fileSizeBytes :: ${size} is outside 75 KB to 500 MB`)
    }
    videoCounter += 1
    const urn = `urn:li:video:C5${(400_000_000_000n + BigInt(videoCounter)).toString()}`
    const upload = env.state.newUpload("linkedin", urn, size, { owner: request.owner }, env.clock.now())
    upload.videoId = urn
    const parts: LiVideo["parts"] = []
    for (let first = 0; first < size; first += partBytes) {
      parts.push({ first, last: Math.min(size, first + partBytes) - 1, etag: undefined })
    }
    const video: LiVideo = {
      urn,
      owner: String(request.owner),
      size,
      token: parts.length > 1 ? `token-${videoCounter}` : "",
      upload,
      parts,
      status: "WAITING_UPLOAD",
      announced: false
    }
    videos.set(urn, video)
    return ctx.send(200, {
      value: {
        video: urn,
        uploadToken: video.token,
        uploadUrlsExpireAt: env.clock.now() + 30 * 86_400_000,
        uploadInstructions: parts.map((p, i) => ({
          uploadUrl: `${ctx.baseUrl}/upload/videos/${encodeURIComponent(urn)}/parts/${i}?signature=sandbox`,
          firstByte: p.first,
          lastByte: p.last
        }))
      }
    })
  }

  /** A part: pre-signed (no token), exactly its byte range; kept whole or not at all. Parts arrive in order. */
  const putPart = async (ctx: RequestContext) => {
    const video = videos.get(decodeURIComponent(ctx.params.urn!))
    const index = Number(ctx.params.part)
    const part = video?.parts[index]
    if (video !== undefined) video.announced = true
    if (video === undefined || part === undefined) return fail(ctx, 404, "No such upload URL")
    const data = await ctx.readBody()
    if (data.length !== part.last - part.first + 1) {
      env.state.counters.linkedin.discardedBytes += data.length
      return fail(
        ctx,
        400,
        `The part is ${part.last - part.first + 1} bytes (${part.first}-${part.last}), got ${data.length}`
      )
    }
    const etag = `"${createHash("md5").update(data).digest("hex")}"`
    if (part.etag === undefined) {
      if (index > 0 && video.parts[index - 1]!.etag === undefined) {
        env.state.counters.linkedin.discardedBytes += data.length
        return fail(ctx, 400, `Part ${index} arrived before part ${index - 1}`)
      }
      commitBytes(video.upload, data)
      video.upload.requests += 1
      part.etag = etag
    } else {
      // The same part again (its answer was lost): nothing new is stored.
      env.state.counters.linkedin.discardedBytes += data.length
    }
    return ctx.send(200, undefined, { etag: part.etag })
  }

  const finalize = async (ctx: RequestContext) => {
    const body = await ctx.json() as { finalizeUploadRequest?: Record<string, unknown> } | undefined
    const request = body?.finalizeUploadRequest
    const video = videos.get(String(request?.video))
    if (video === undefined) return fail(ctx, 404, `No video ${String(request?.video)}`)
    video.announced = true
    const ids = request?.uploadedPartIds
    const expected = video.parts.map((p) => p.etag)
    if (!Array.isArray(ids) || ids.length !== expected.length || ids.some((id, i) => id !== expected[i])) {
      return fail(ctx, 400, "ERROR :: /finalizeUploadRequest/uploadedPartIds :: do not match the uploaded parts")
    }
    if ((request?.uploadToken ?? "") !== video.token) {
      return fail(ctx, 400, "ERROR :: /finalizeUploadRequest/uploadToken :: does not match")
    }
    if (video.status !== "AVAILABLE") {
      completeUpload(video.upload)
      video.status = "AVAILABLE"
    }
    return ctx.send(200, {})
  }

  const getVideo = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const video = videos.get(decodeURIComponent(ctx.params.urn!))
    if (video !== undefined) video.announced = true
    if (video === undefined) return fail(ctx, 404, "Not Found")
    return ctx.send(200, { id: video.urn, owner: video.owner, status: video.status })
  }

  return {
    platform: "linkedin",
    orphans: () => [...videos.values()].filter((v) => v.status !== "AVAILABLE" && v.announced).map((v) => v.urn),
    unannounced: () => [...videos.values()].filter((v) => v.status !== "AVAILABLE" && !v.announced).map((v) => v.urn),
    routes: [
      { name: "videos.initialize", method: "POST", path: "/rest/videos", handler: initialize },
      {
        name: "videos.part",
        method: "PUT",
        path: /^\/upload\/videos\/(?<urn>[^/]+)\/parts\/(?<part>\d+)$/,
        handler: putPart
      },
      { name: "videos.get", method: "GET", path: /^\/rest\/videos\/(?<urn>[^/]+)$/, handler: getVideo },
      { name: "posts", method: "POST", path: "/rest/posts", handler: create },
      { name: "posts.find", method: "GET", path: "/rest/posts", handler: find },
      { name: "posts.get", method: "GET", path: /^\/rest\/posts\/(?<urn>[^/]+)$/, handler: get },
      { name: "posts.delete", method: "DELETE", path: /^\/rest\/posts\/(?<urn>[^/]+)$/, handler: remove }
    ],
    errorResponse: render,
    seedPost,
    expireTokens: () => {
      tokenExpired = true
    },
    exhaustQuota: () => {
      daily.set(creds.authorUrn, { day: new Date(env.clock.now()).toISOString().slice(0, 10), count: dailyLimit })
    },
    snapshot: () => ({
      minVersion,
      authorUrn: creds.authorUrn,
      tokenExpired,
      dailyPostLimit: dailyLimit,
      postsToday: Object.fromEntries([...daily].map(([urn, d]) => [urn, d])),
      posts: posts.map((p) => ({ id: p.id, text: p.text, commentary: p.commentary }))
    })
  }
}
