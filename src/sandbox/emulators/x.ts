/**
 * X (Twitter) API v2 emulator: posts with OAuth 1.0a signatures verified,
 * weighted length checked with `twitter-text`, duplicate rejection,
 * `x-rate-limit-*` headers, and the chunked media upload (v2 and the older
 * `command=` form), streamed and hashed, never buffered whole.
 *
 * Routes (names for fault injection): `tweets` (POST), `users.me`,
 * `users.tweets`, `media.initialize`, `media.append`, `media.finalize`,
 * `media.status`, and `media.upload` (the older `POST /2/media/upload` with
 * `command=INIT|APPEND|FINALIZE`).
 *
 * @internal
 */
import twitterText from "twitter-text"
import * as OAuth1 from "../../platforms/x/internal/oauth1.js"
import type { Emulator, EmulatorEnv, ErrorOptions, RequestContext, StoredUpload } from "../internal/framework.js"
import { commitBytes, completeUpload } from "../internal/framework.js"

/** @internal */
export interface XRateLimit {
  readonly limit: number
  readonly windowSeconds: number
}

/**
 * Settings of the X emulator (`Sandbox.start({ x: {...} })`).
 *
 * @since 0.1.0
 * @category models
 */
export interface XEmulatorOptions {
  /** Per-route rate limits (defaults: `tweets` 100 per 15 min, the others generous). */
  readonly rateLimits?: Partial<Record<XRouteName, XRateLimit>> | undefined
  /**
   * How far `oauth_timestamp` may be from the clock, in seconds (default 900). It is checked against the
   * wall clock and the sandbox clock (tests move the latter); either passing is enough.
   */
  readonly timestampWindowSeconds?: number | undefined
  /** A post with the same text within this many ms is a duplicate (default 24 h). */
  readonly duplicateWindowMillis?: number | undefined
  /** STATUS polls after FINALIZE until processing has `succeeded` (default 2: `in_progress`, then `succeeded`). */
  readonly processingPolls?: number | undefined
  /** `check_after_secs` while processing (default 1). */
  readonly checkAfterSecs?: number | undefined
  /** Processing outcome of video media (default `succeeded`). */
  readonly processingOutcome?: "succeeded" | "failed" | undefined
  /** The authenticated user (default id from the access token's prefix, `Medusa Sandbox`, `medusa_sandbox`). */
  readonly user?: { readonly id?: string; readonly name?: string; readonly username?: string } | undefined
}

/** @internal */
export type XRouteName =
  | "tweets"
  | "users.me"
  | "users.tweets"
  | "media.initialize"
  | "media.append"
  | "media.finalize"
  | "media.status"
  | "media.upload"

const DEFAULT_LIMITS: Record<XRouteName, XRateLimit> = {
  tweets: { limit: 100, windowSeconds: 900 },
  "users.me": { limit: 75, windowSeconds: 900 },
  "users.tweets": { limit: 900, windowSeconds: 900 },
  "media.initialize": { limit: 10_000, windowSeconds: 900 },
  "media.append": { limit: 100_000, windowSeconds: 900 },
  "media.finalize": { limit: 10_000, windowSeconds: 900 },
  "media.status": { limit: 100_000, windowSeconds: 900 },
  "media.upload": { limit: 100_000, windowSeconds: 900 }
}

const MAX_TOTAL_BYTES = 17_179_869_184
const MAX_FIELD_BYTES = 64 * 1024
const MAX_BUFFERED_MEDIA = 16 * 1024 * 1024
const TWITTER_EPOCH = 1_288_834_974_657n
const INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}

// =============================================================================
// Streaming multipart/form-data
// =============================================================================

/** @internal */
export interface MultipartHandlers {
  readonly onPart: (name: string, headers: ReadonlyMap<string, string>) => void
  readonly onData: (chunk: Buffer) => void
  readonly onPartEnd: () => void
}

/**
 * A push parser for `multipart/form-data`: part bodies are passed on as they
 * arrive; only a delimiter-sized tail is ever held back.
 * @internal
 */
export class MultipartParser {
  private readonly delimiter: Buffer
  private pending: Buffer
  private state: "preamble" | "boundary" | "headers" | "body" | "done" = "preamble"

  constructor(boundary: string, private readonly handlers: MultipartHandlers) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`)
    // A leading CRLF lets the first boundary match the same delimiter as the others.
    this.pending = Buffer.from("\r\n")
  }

  get complete(): boolean {
    return this.state === "done"
  }

  write(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    for (;;) {
      switch (this.state) {
        case "preamble": {
          const i = this.pending.indexOf(this.delimiter)
          if (i < 0) {
            this.keepTail()
            return
          }
          this.pending = this.pending.subarray(i + this.delimiter.length)
          this.state = "boundary"
          break
        }
        case "boundary": {
          if (this.pending.length < 2) return
          if (this.pending[0] === 0x2d && this.pending[1] === 0x2d) {
            this.state = "done"
            this.pending = Buffer.alloc(0)
            return
          }
          const eol = this.pending.indexOf("\r\n")
          if (eol < 0) return
          this.pending = this.pending.subarray(eol + 2)
          this.state = "headers"
          break
        }
        case "headers": {
          const end = this.pending.indexOf("\r\n\r\n")
          const blankFirst = this.pending.subarray(0, 2).equals(Buffer.from("\r\n"))
          if (end < 0 && !blankFirst) {
            if (this.pending.length > MAX_FIELD_BYTES) throw new MultipartError("Multipart part headers are too long")
            return
          }
          const raw = blankFirst ? "" : this.pending.subarray(0, end).toString("utf8")
          this.pending = this.pending.subarray(blankFirst ? 2 : end + 4)
          const headers = new Map<string, string>()
          for (const line of raw.split("\r\n")) {
            const colon = line.indexOf(":")
            if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
          }
          const name = /\bname="([^"]*)"/i.exec(headers.get("content-disposition") ?? "")?.[1]
          if (name === undefined) throw new MultipartError("A multipart part has no Content-Disposition name")
          this.handlers.onPart(name, headers)
          this.state = "body"
          break
        }
        case "body": {
          const i = this.pending.indexOf(this.delimiter)
          if (i < 0) {
            const keep = this.delimiter.length - 1
            if (this.pending.length > keep) {
              this.handlers.onData(this.pending.subarray(0, this.pending.length - keep))
              this.pending = this.pending.subarray(this.pending.length - keep)
            }
            return
          }
          if (i > 0) this.handlers.onData(this.pending.subarray(0, i))
          this.handlers.onPartEnd()
          this.pending = this.pending.subarray(i + this.delimiter.length)
          this.state = "boundary"
          break
        }
        case "done":
          return
      }
    }
  }

  private keepTail() {
    const keep = this.delimiter.length - 1
    if (this.pending.length > keep) this.pending = this.pending.subarray(this.pending.length - keep)
  }
}

/** @internal */
export class MultipartError extends Error {}

/** The boundary of a `multipart/form-data` content type, if it is one. @internal */
export const multipartBoundary = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined || !/^multipart\/form-data/i.test(contentType)) return undefined
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m?.[1] ?? m?.[2]
}

// =============================================================================
// Emulator
// =============================================================================

interface Media {
  readonly id: string
  readonly mediaKey: string
  readonly mediaType: string
  readonly category: string | undefined
  readonly upload: StoredUpload
  readonly totalBytes: number
  readonly expiresAt: number
  nextSegment: number
  finalized: boolean
  state: "pending" | "in_progress" | "succeeded" | "failed" | undefined
  polls: number
}

interface Tweet {
  readonly id: string
  readonly text: string
  readonly authorId: string
  readonly createdAt: number
  readonly mediaIds: ReadonlyArray<string>
}

interface Bucket {
  readonly limit: number
  readonly windowMillis: number
  windowStart: number
  used: number
}

/** Bytes of one request, staged on a copy of the upload's hash so that a dropped request can be forgotten. */
interface Stage {
  readonly scratch: StoredUpload
  readonly commit: () => void
}

const stage = (upload: StoredUpload): Stage => {
  const scratch: StoredUpload = {
    ...upload,
    hash: upload.hash.copy(),
    bytes: 0,
    chunks: upload.chunks === undefined ? undefined : []
  }
  return {
    scratch,
    commit: () => {
      upload.hash = scratch.hash
      upload.bytes += scratch.bytes
      if (upload.chunks !== undefined && scratch.chunks !== undefined) upload.chunks.push(...scratch.chunks)
      upload.requests += 1
    }
  }
}

const readOptions = (env: EmulatorEnv): XEmulatorOptions => env.options.x ?? {}

/** @internal */
export const makeX = (env: EmulatorEnv): Emulator => {
  const options = readOptions(env)
  const creds = env.credentials.x
  const timestampWindow = (options.timestampWindowSeconds ?? 900) * 1000
  const duplicateWindow = options.duplicateWindowMillis ?? 86_400_000
  const processingPolls = Math.max(1, options.processingPolls ?? 2)
  const checkAfterSecs = options.checkAfterSecs ?? 1
  const user = {
    id: options.user?.id ?? (/^(\d+)-/.exec(creds.accessToken)?.[1] ?? "1000000001"),
    name: options.user?.name ?? "Medusa Sandbox",
    username: options.user?.username ?? "medusa_sandbox"
  }
  let tokensRevoked = false
  const nonces = new Map<string, number>()
  const media = new Map<string, Media>()
  const tweets: Array<Tweet> = []
  let sequence = 0n

  const snowflake = (at: number = env.clock.now()): string => {
    sequence += 1n
    const millis = BigInt(at) - TWITTER_EPOCH
    return ((millis << 22n) | (1n << 12n) | (sequence & 0xfffn)).toString()
  }

  // ---------------------------------------------------------------------------
  // Rate limits: fixed windows per route, by the sandbox clock.
  // ---------------------------------------------------------------------------
  const buckets = new Map<string, Bucket>()
  const bucket = (route: string): Bucket => {
    let b = buckets.get(route)
    const spec = options.rateLimits?.[route as XRouteName] ?? DEFAULT_LIMITS[route as XRouteName] ??
      { limit: 100_000, windowSeconds: 900 }
    const now = env.clock.now()
    if (b === undefined) {
      b = { limit: spec.limit, windowMillis: spec.windowSeconds * 1000, windowStart: now, used: 0 }
      buckets.set(route, b)
    } else if (now >= b.windowStart + b.windowMillis) {
      b.windowStart = now
      b.used = 0
    }
    return b
  }
  const rateHeaders = (route: string | undefined, retryAfterSeconds?: number): Record<string, string | number> => {
    if (route === undefined) return {}
    const b = bucket(route)
    if (retryAfterSeconds !== undefined) {
      return {
        "x-rate-limit-limit": b.limit,
        "x-rate-limit-remaining": 0,
        "x-rate-limit-reset": Math.ceil((env.clock.now() + retryAfterSeconds * 1000) / 1000)
      }
    }
    return {
      "x-rate-limit-limit": b.limit,
      "x-rate-limit-remaining": Math.max(0, b.limit - b.used),
      "x-rate-limit-reset": Math.ceil((b.windowStart + b.windowMillis) / 1000)
    }
  }

  // ---------------------------------------------------------------------------
  // Error bodies: RFC 7807 problems, and the classic `errors` array for 429.
  // ---------------------------------------------------------------------------
  const render = (status: number, opts: ErrorOptions) => {
    const retryAfter = opts.headers?.["retry-after"]
    const headers = rateHeaders(opts.route, retryAfter === undefined ? undefined : Number(retryAfter))
    const title = STATUS_TEXT[status] ?? "Error"
    const extra = opts.extra ?? {}
    let body: unknown
    switch (status) {
      case 400:
        body = {
          errors: [{ parameters: extra.parameters ?? {}, message: opts.message ?? "Invalid Request" }],
          title: "Invalid Request",
          detail: "One or more parameters to your request was invalid.",
          type: INVALID_REQUEST
        }
        break
      case 401:
        body = { title, type: "about:blank", status, detail: "Unauthorized", ...extra }
        break
      case 429:
        body = { errors: [{ code: 88, message: "Rate limit exceeded" }] }
        break
      default:
        body = { title, type: "about:blank", status, detail: opts.message ?? title, ...extra }
    }
    return { body, headers }
  }

  const reply = (ctx: RequestContext, status: number, body: unknown) => ctx.send(status, body, rateHeaders(ctx.route))
  const invalid = (ctx: RequestContext, message: string, parameters: Record<string, unknown> = {}) =>
    ctx.fail(400, { message, extra: { parameters } })

  // ---------------------------------------------------------------------------
  // OAuth 1.0a, with a timestamp window and nonce replay check.
  // ---------------------------------------------------------------------------
  const secretsFor = (key: string, token: string | undefined) =>
    !tokensRevoked && key === creds.apiKey && token === creds.accessToken
      ? { consumerSecret: creds.apiSecret, tokenSecret: creds.accessTokenSecret }
      : undefined

  const unauthorized = (ctx: RequestContext, reason: string) => ctx.fail(401, { extra: { sandbox_reason: reason } })

  const authenticate = (ctx: RequestContext, formParams?: URLSearchParams): boolean => {
    const authorization = ctx.req.headers.authorization
    const host = ctx.req.headers.host
    // Sign with the URL the client used: the emulator's own origin, or the Host it addressed.
    const candidates = [ctx.url.href]
    if (host !== undefined) {
      const viaHost = new URL(ctx.url.pathname + ctx.url.search, `http://${host}`).href
      if (viaHost !== ctx.url.href) candidates.push(viaHost)
    }
    let result: OAuth1.VerifyResult | undefined
    for (const url of candidates) {
      result = OAuth1.verify({ method: ctx.req.method ?? "GET", url, authorization, formParams, secretsFor })
      if (result.ok || result.reason !== "bad_signature") break
    }
    if (result === undefined || !result.ok) {
      unauthorized(ctx, result?.message ?? "No Authorization header")
      return false
    }
    const ts = result.timestamp * 1000
    const skew = Math.min(Math.abs(ts - Date.now()), Math.abs(ts - env.clock.now()))
    if (skew > timestampWindow) {
      unauthorized(
        ctx,
        `oauth_timestamp ${result.timestamp} is more than ${timestampWindow / 1000} s away from the clock; ` +
          "sign with the current Unix time in seconds"
      )
      return false
    }
    const key = `${result.consumerKey}\u0000${result.token ?? ""}\u0000${result.nonce}\u0000${result.timestamp}`
    const now = Date.now()
    if ((nonces.get(key) ?? 0) > now) {
      unauthorized(ctx, "oauth_nonce was already used with this timestamp (replayed request)")
      return false
    }
    nonces.set(key, now + 2 * timestampWindow)
    if (nonces.size > 10_000) {
      for (const [k, until] of nonces) if (until <= now) nonces.delete(k)
    }
    return true
  }

  /** Authenticates, then meters the route; `false` when an answer was already sent. */
  const admit = (ctx: RequestContext, formParams?: URLSearchParams): boolean => {
    if (!authenticate(ctx, formParams)) return false
    const b = bucket(ctx.route)
    if (b.used >= b.limit) {
      ctx.fail(429, {})
      return false
    }
    b.used += 1
    return true
  }

  // ---------------------------------------------------------------------------
  // Posts
  // ---------------------------------------------------------------------------
  const createTweet = async (ctx: RequestContext) => {
    if (!admit(ctx)) return
    if (!/application\/json/i.test(ctx.req.headers["content-type"] ?? "")) {
      return invalid(ctx, "Requests with bodies must have content-type of application/json.")
    }
    const body = await ctx.json()
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return invalid(ctx, "The request body must be a JSON object")
    }
    const { media: attachment, text } = body as { text?: unknown; media?: { media_ids?: unknown } }
    if (text !== undefined && typeof text !== "string") {
      return invalid(ctx, "$.text: string expected", { text: [String(text)] })
    }
    let mediaIds: Array<string> = []
    if (attachment !== undefined) {
      const ids = attachment?.media_ids
      if (!Array.isArray(ids) || ids.length < 1 || ids.length > 4 || ids.some((id) => typeof id !== "string")) {
        return invalid(ctx, "$.media.media_ids: between 1 and 4 media id strings are required")
      }
      mediaIds = ids as Array<string>
      const bad = mediaIds.filter((id) => {
        const m = media.get(id)
        return m === undefined || !m.finalized || m.state === "pending" || m.state === "in_progress" ||
          m.state === "failed" || m.expiresAt <= env.clock.now()
      })
      if (bad.length > 0) {
        return invalid(ctx, "Your media IDs are invalid.", { "media.media_ids": bad })
      }
    }
    const content = text ?? ""
    if (content === "" && mediaIds.length === 0) {
      return invalid(ctx, "Post text is required when no media is attached", { text: [] })
    }
    const parsed = twitterText.parseTweet(content)
    if (parsed.weightedLength > 280) {
      return invalid(
        ctx,
        `Your Tweet text is too long (weighted length ${parsed.weightedLength} > 280). For more information on ` +
          "how Twitter determines text length see https://github.com/twitter/twitter-text.",
        { text: [content] }
      )
    }
    const now = env.clock.now()
    if (content !== "" && tweets.some((t) => t.text === content && now - t.createdAt < duplicateWindow)) {
      return ctx.fail(403, { message: "You are not allowed to create a Tweet with duplicate content." })
    }
    const { id } = storeTweet(content, now, mediaIds)
    // X returns t.co-wrapped URLs in `text`; the sandbox echoes the text as posted.
    return reply(ctx, 201, { data: { id, text: content, edit_history_tweet_ids: [id] } })
  }

  /** `DELETE /2/tweets/:id`: `{ data: { deleted: true } }`; an unknown id is a 404 problem. */
  const deleteTweet = (ctx: RequestContext) => {
    if (!admit(ctx)) return
    const id = ctx.params.id!
    const i = tweets.findIndex((t) => t.id === id)
    if (i === -1) {
      return reply(ctx, 404, {
        title: "Not Found Error",
        detail: `Could not find tweet with id: [${id}].`,
        type: "https://api.twitter.com/2/problems/resource-not-found",
        status: 404
      })
    }
    tweets.splice(i, 1)
    env.state.removePost("x", id)
    return reply(ctx, 200, { data: { deleted: true } })
  }

  const storeTweet = (content: string, at: number, mediaIds: ReadonlyArray<string>) => {
    const id = snowflake(at)
    tweets.push({ id, text: content, authorId: user.id, createdAt: at, mediaIds })
    return env.state.addPost({
      platform: "x",
      id,
      text: content,
      link: twitterText.extractUrls(content)[0],
      url: `https://x.com/i/web/status/${id}`,
      createdAt: at,
      extra: mediaIds.length > 0 ? { mediaIds, mediaSha256: mediaIds.map((m) => media.get(m)!.upload.sha256) } : {}
    })
  }

  const usersMe = (ctx: RequestContext) => {
    if (!admit(ctx)) return
    return reply(ctx, 200, { data: user })
  }

  const usersTweets = (ctx: RequestContext) => {
    if (!admit(ctx)) return
    const id = ctx.params.id!
    if (id !== user.id) {
      return reply(ctx, 200, {
        errors: [{
          value: id,
          detail: `Could not find user with id: [${id}].`,
          title: "Not Found Error",
          resource_type: "user",
          parameter: "id",
          resource_id: id,
          type: "https://api.twitter.com/2/problems/resource-not-found"
        }]
      })
    }
    const q = ctx.url.searchParams
    const max = Number(q.get("max_results") ?? 10)
    if (!Number.isInteger(max) || max < 5 || max > 100) {
      return invalid(
        ctx,
        `The \`max_results\` query parameter value [${q.get("max_results")}] is not between 5 and 100`
      )
    }
    const sinceId = q.get("since_id")
    const fields = (q.get("tweet.fields") ?? "").split(",")
    const list = tweets
      .filter((t) => t.authorId === id && (sinceId === null || BigInt(t.id) > BigInt(sinceId)))
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
      .slice(0, max)
      .map((t) => ({
        id: t.id,
        text: t.text,
        edit_history_tweet_ids: [t.id],
        // X dates posts to the second: `2026-11-21T20:38:11.000Z`.
        ...(fields.includes("created_at") ?
          { created_at: new Date(Math.floor(t.createdAt / 1000) * 1000).toISOString() } :
          {}),
        ...(fields.includes("author_id") ? { author_id: t.authorId } : {})
      }))
    return reply(ctx, 200, {
      ...(list.length > 0 ? { data: list } : {}),
      meta: list.length > 0
        ? { result_count: list.length, newest_id: list[0]!.id, oldest_id: list[list.length - 1]!.id }
        : { result_count: 0 }
    })
  }

  // ---------------------------------------------------------------------------
  // Media upload
  // ---------------------------------------------------------------------------
  const initMedia = (ctx: RequestContext, fields: Record<string, unknown>) => {
    const mediaType = fields.media_type
    const total = Number(fields.total_bytes)
    const category = typeof fields.media_category === "string" ? fields.media_category : undefined
    if (typeof mediaType !== "string" || !/^[\w.+-]+\/[\w.+-]+$/.test(mediaType)) {
      return invalid(ctx, "media_type is required, a MIME type such as video/mp4", { media_type: [mediaType] })
    }
    if (!Number.isInteger(total) || total <= 0 || total > MAX_TOTAL_BYTES) {
      return invalid(ctx, `total_bytes must be an integer between 1 and ${MAX_TOTAL_BYTES}`, {
        total_bytes: [fields.total_bytes]
      })
    }
    const id = snowflake()
    const prefix = mediaType.startsWith("video/") ? 7 : mediaType === "image/gif" ? 16 : 3
    const upload = env.state.newUpload("x", `x-media-${id}`, total, { mediaType, category }, env.clock.now())
    upload.videoId = id
    const expiresAfter = 86_400
    media.set(id, {
      id,
      mediaKey: `${prefix}_${id}`,
      mediaType,
      category,
      upload,
      totalBytes: total,
      expiresAt: env.clock.now() + expiresAfter * 1000,
      nextSegment: 0,
      finalized: false,
      state: undefined,
      polls: 0
    })
    return reply(ctx, 200, { data: { id, media_key: `${prefix}_${id}`, expires_after_secs: expiresAfter } })
  }

  const lookup = (ctx: RequestContext, id: string | undefined): Media | undefined => {
    const m = id === undefined ? undefined : media.get(id)
    if (m === undefined) {
      invalid(ctx, `media_id ${id ?? "(missing)"} is not an initialized upload; call INIT first`, {
        media_id: [id]
      })
      return undefined
    }
    if (m.expiresAt <= env.clock.now()) {
      invalid(ctx, `media_id ${id} has expired; start a new upload`, { media_id: [id] })
      return undefined
    }
    return m
  }

  /**
   * Finishes an APPEND once the whole request arrived: commits the staged
   * bytes when the segment is the next one, ignores a re-sent earlier segment.
   */
  const settleAppend = (ctx: RequestContext, m: Media, segment: string | undefined, staged: Stage | undefined) => {
    const index = Number(segment)
    if (segment === undefined || !Number.isInteger(index) || index < 0 || index > 999) {
      return invalid(ctx, "segment_index is required, an integer between 0 and 999", { segment_index: [segment] })
    }
    if (staged === undefined) return invalid(ctx, "The media field is required for APPEND", { media: [] })
    if (m.finalized) return invalid(ctx, `media_id ${m.id} is already finalized`, { media_id: [m.id] })
    if (index > m.nextSegment) {
      // Segments are hashed as a stream, so the sandbox asks for them in order (X itself reorders them).
      return invalid(ctx, `segment_index ${index} arrived before segment ${m.nextSegment}; append segments in order`, {
        segment_index: [segment]
      })
    }
    if (index === m.nextSegment) {
      if (m.upload.bytes + staged.scratch.bytes > m.totalBytes) {
        return invalid(ctx, `Segments exceed the total_bytes ${m.totalBytes} given at INIT`, { media_id: [m.id] })
      }
      staged.commit()
      m.nextSegment += 1
    }
    return reply(ctx, 200, { data: { expires_at: Math.floor(m.expiresAt / 1000) } })
  }

  /** Streams a multipart APPEND; `media` is staged as it arrives, or buffered if the upload is not known yet. */
  const streamMultipart = async (
    ctx: RequestContext,
    boundary: string,
    known: Media | undefined
  ): Promise<
    { dropped: true } | {
      dropped: false
      fields: Map<string, string>
      staged: Stage | undefined
      buffered: Array<Buffer> | undefined
    }
  > => {
    const fields = new Map<string, string>()
    let current: { name: string; chunks: Array<Buffer>; size: number } | undefined
    let staged: Stage | undefined
    let buffered: Array<Buffer> | undefined
    let bufferedSize = 0
    let inMedia = false
    let error: Error | undefined
    const parser = new MultipartParser(boundary, {
      onPart: (name) => {
        inMedia = name === "media"
        if (inMedia) {
          const target = known ?? media.get(fields.get("media_id") ?? "")
          if (target !== undefined) staged = stage(target.upload)
          else buffered = []
        } else current = { name, chunks: [], size: 0 }
      },
      onData: (chunk) => {
        if (inMedia) {
          if (staged !== undefined) return commitBytes(staged.scratch, chunk)
          bufferedSize += chunk.length
          if (bufferedSize > MAX_BUFFERED_MEDIA) throw new MultipartError("Send media_id before media in APPEND")
          buffered!.push(Buffer.from(chunk))
        } else if (current !== undefined) {
          current.size += chunk.length
          if (current.size > MAX_FIELD_BYTES) throw new MultipartError(`Field ${current.name} is too long`)
          current.chunks.push(Buffer.from(chunk))
        }
      },
      onPartEnd: () => {
        if (!inMedia && current !== undefined) fields.set(current.name, Buffer.concat(current.chunks).toString("utf8"))
        current = undefined
        inMedia = false
      }
    })
    const { dropped } = await ctx.consume((chunk) => {
      if (error !== undefined) return
      try {
        parser.write(chunk)
      } catch (e) {
        error = e as Error
      }
    })
    if (dropped) return { dropped: true }
    if (error !== undefined) throw new MultipartError(error.message)
    if (!parser.complete) throw new MultipartError("The multipart body ended before its closing boundary")
    return { dropped: false, fields, staged, buffered }
  }

  const append = async (ctx: RequestContext) => {
    if (!admit(ctx)) return
    const m = lookup(ctx, ctx.params.id)
    if (m === undefined) return
    const type = ctx.req.headers["content-type"]
    const boundary = multipartBoundary(type)
    if (boundary !== undefined) {
      const result = await streamMultipart(ctx, boundary, m)
      if (result.dropped) return
      return settleAppend(ctx, m, result.fields.get("segment_index"), result.staged)
    }
    if (/application\/json/i.test(type ?? "")) {
      const body = (await ctx.json()) as { media?: unknown; segment_index?: unknown } | undefined
      if (typeof body?.media !== "string") return invalid(ctx, "media (base64) is required", { media: [] })
      const staged = stage(m.upload)
      commitBytes(staged.scratch, Buffer.from(body.media, "base64"))
      return settleAppend(ctx, m, body.segment_index === undefined ? undefined : String(body.segment_index), staged)
    }
    return invalid(ctx, "APPEND takes multipart/form-data (media, segment_index) or JSON with base64 media")
  }

  const finalize = (ctx: RequestContext, m: Media) => {
    if (!m.finalized) {
      if (m.upload.bytes !== m.totalBytes) {
        return invalid(
          ctx,
          `Segments do not add up to provided total file size (${m.upload.bytes} of ${m.totalBytes} bytes).`,
          { media_id: [m.id] }
        )
      }
      completeUpload(m.upload)
      m.finalized = true
      m.state = isProcessed(m) ? "pending" : "succeeded"
    }
    return reply(ctx, 200, { data: mediaInfo(m, false) })
  }

  const mediaInfo = (m: Media, poll: boolean) => {
    if (poll && (m.state === "pending" || m.state === "in_progress")) {
      m.polls += 1
      m.state = m.polls >= processingPolls ? (options.processingOutcome ?? "succeeded") : "in_progress"
    }
    // Media that needs no processing (images) carries no processing_info, as on X.
    const info = m.state === undefined || (m.state === "succeeded" && !isProcessed(m))
      ? undefined
      : {
        state: m.state,
        ...(m.state === "pending" || m.state === "in_progress" ? { check_after_secs: checkAfterSecs } : {}),
        progress_percent: m.state === "pending" ? 0 : Math.min(100, Math.round((100 * m.polls) / processingPolls)),
        ...(m.state === "failed"
          ? { error: { code: 1, name: "InvalidMedia", message: "Unsupported video format (sandbox)" } }
          : {})
      }
    return {
      id: m.id,
      media_key: m.mediaKey,
      size: m.totalBytes,
      expires_after_secs: Math.max(0, Math.floor((m.expiresAt - env.clock.now()) / 1000)),
      ...(info === undefined ? {} : { processing_info: info })
    }
  }
  const isProcessed = (m: Media) =>
    m.mediaType.startsWith("video/") || m.mediaType === "image/gif" || /video|gif/.test(m.category ?? "")

  const initialize = async (ctx: RequestContext) => {
    const type = ctx.req.headers["content-type"] ?? ""
    if (/application\/x-www-form-urlencoded/i.test(type)) {
      const form = await ctx.form()
      if (!admit(ctx, form)) return
      return initMedia(ctx, Object.fromEntries(form))
    }
    if (!admit(ctx)) return
    const body = await ctx.json()
    if (body === null || typeof body !== "object") return invalid(ctx, "The request body must be a JSON object")
    return initMedia(ctx, body as Record<string, unknown>)
  }

  const finalizeRoute = (ctx: RequestContext) => {
    if (!admit(ctx)) return
    const m = lookup(ctx, ctx.params.id)
    if (m !== undefined) return finalize(ctx, m)
  }

  const status = (ctx: RequestContext) => {
    if (!admit(ctx)) return
    const q = ctx.url.searchParams
    if ((q.get("command") ?? "STATUS").toUpperCase() !== "STATUS") {
      return invalid(ctx, "GET /2/media/upload takes command=STATUS", { command: [q.get("command")] })
    }
    const m = lookup(ctx, q.get("media_id") ?? undefined)
    if (m === undefined) return
    if (!m.finalized) return invalid(ctx, `media_id ${m.id} is not finalized yet`, { media_id: [m.id] })
    return reply(ctx, 200, { data: mediaInfo(m, true) })
  }

  /** The older `POST /2/media/upload` with `command=INIT|APPEND|FINALIZE` in the query, a form or multipart. */
  const legacy = async (ctx: RequestContext) => {
    const type = ctx.req.headers["content-type"]
    const boundary = multipartBoundary(type)
    let fields: Map<string, string>
    let staged: Stage | undefined
    let buffered: Array<Buffer> | undefined
    if (boundary !== undefined) {
      if (!admit(ctx)) return
      const queryId = ctx.url.searchParams.get("media_id")
      const result = await streamMultipart(ctx, boundary, queryId === null ? undefined : media.get(queryId))
      if (result.dropped) return
      fields = new Map([...ctx.url.searchParams, ...result.fields])
      staged = result.staged
      buffered = result.buffered
    } else if (/application\/x-www-form-urlencoded/i.test(type ?? "")) {
      const form = await ctx.form()
      if (!admit(ctx, form)) return
      fields = new Map([...ctx.url.searchParams, ...form])
    } else {
      if (!admit(ctx)) return
      fields = new Map(ctx.url.searchParams)
    }
    const command = (fields.get("command") ?? "").toUpperCase()
    switch (command) {
      case "INIT":
        return initMedia(ctx, Object.fromEntries(fields))
      case "APPEND": {
        const m = lookup(ctx, fields.get("media_id"))
        if (m === undefined) return
        if (staged === undefined && (buffered !== undefined || fields.has("media_data"))) {
          staged = stage(m.upload)
          const bytes = buffered !== undefined
            ? Buffer.concat(buffered)
            : Buffer.from(fields.get("media_data")!, "base64")
          commitBytes(staged.scratch, bytes)
        }
        return settleAppend(ctx, m, fields.get("segment_index"), staged)
      }
      case "FINALIZE": {
        const m = lookup(ctx, fields.get("media_id"))
        if (m !== undefined) return finalize(ctx, m)
        return
      }
      default:
        return invalid(ctx, `command must be INIT, APPEND or FINALIZE (got ${command || "none"})`, {
          command: [fields.get("command")]
        })
    }
  }

  const guarded = (handler: (ctx: RequestContext) => void | Promise<void>) => async (ctx: RequestContext) => {
    try {
      await handler(ctx)
    } catch (error) {
      if (error instanceof MultipartError) return invalid(ctx, `Malformed multipart body: ${error.message}`)
      throw error
    }
  }

  return {
    platform: "x",
    routes: [
      { name: "tweets", method: "POST", path: "/2/tweets", handler: createTweet },
      { name: "tweets.delete", method: "DELETE", path: /^\/2\/tweets\/(?<id>\d+)$/, handler: deleteTweet },
      { name: "users.me", method: "GET", path: "/2/users/me", handler: usersMe },
      { name: "users.tweets", method: "GET", path: /^\/2\/users\/(?<id>\d+)\/tweets$/, handler: usersTweets },
      { name: "media.initialize", method: "POST", path: "/2/media/upload/initialize", handler: initialize },
      {
        name: "media.append",
        method: "POST",
        path: /^\/2\/media\/upload\/(?<id>\d+)\/append$/,
        handler: guarded(append)
      },
      {
        name: "media.finalize",
        method: "POST",
        path: /^\/2\/media\/upload\/(?<id>\d+)\/finalize$/,
        handler: finalizeRoute
      },
      { name: "media.status", method: "GET", path: "/2/media/upload", handler: status },
      { name: "media.upload", method: "POST", path: "/2/media/upload", handler: guarded(legacy) }
    ],
    errorResponse: render,
    seedPost: ({ at, text }) => storeTweet(text, at, []),
    expireTokens: () => {
      tokensRevoked = true
    },
    exhaustQuota: () => {
      for (const route of Object.keys(DEFAULT_LIMITS)) {
        const b = bucket(route)
        b.used = b.limit
      }
    },
    snapshot: () => ({
      user,
      tokensRevoked,
      rateLimits: Object.fromEntries(
        [...buckets].map(([route, b]) => [route, {
          limit: b.limit,
          remaining: Math.max(0, b.limit - b.used),
          reset: Math.ceil((b.windowStart + b.windowMillis) / 1000)
        }])
      ),
      media: [...media.values()].map((m) => ({
        id: m.id,
        mediaKey: m.mediaKey,
        mediaType: m.mediaType,
        totalBytes: m.totalBytes,
        bytes: m.upload.bytes,
        segments: m.nextSegment,
        finalized: m.finalized,
        state: m.state,
        sha256: m.finalized ? m.upload.sha256 : undefined
      })),
      tweets: tweets.map((t) => ({ id: t.id, text: t.text, mediaIds: t.mediaIds }))
    })
  }
}
