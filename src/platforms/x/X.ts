/**
 * The X publisher: posts the filled text with `POST /2/tweets`, signed with
 * OAuth 1.0a (user context), optionally with the video uploaded natively
 * through the v2 chunked media upload.
 *
 * ```ts
 * const XLive = X.layer({
 *   apiKey, apiSecret, accessToken, accessTokenSecret // Redacted, from config
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { createHash } from "node:crypto"
import twitterText from "twitter-text"
import * as PostOnce from "../../internal/http/postOnce.js"
import * as Ledger from "../../internal/quota/ledger.js"
import * as PostLimit from "../../internal/quota/posts.js"
import {
  type FindContext,
  madeAfter,
  type MediaFile,
  type PostContext,
  PublishedPost,
  type Publisher,
  XPublisher
} from "../../Platform.js"
import {
  AuthExpired,
  Issue,
  type PlatformError,
  PlatformRejected,
  PlatformUnavailable,
  QuotaExceeded
} from "../../PublishError.js"
import type { XMetadata } from "../../PublishRequest.js"
import * as XMedia from "./internal/media.js"
import * as OAuth1 from "./internal/oauth1.js"

// =============================================================================
// Options
// =============================================================================

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl: string = "https://api.x.com"

/**
 * The settle time of X posts (`Publisher.settleMillis`): 5 minutes
 * after a post's intent, a post its request made is taken to show in
 * `GET /2/users/{id}/tweets`. X documents no delay before a new post is in the user's timeline (users report the v2 timeline some 10 s behind), so the figure is conservative: the post
 * request's own deadline (60 s by default) and minutes of listing delay.
 * After it, a search that finds nothing means the request made no post, and
 * the engine posts. Platforms that list a post at once (the sandbox) can
 * set a shorter one (`settleTime`, config `settle_time`).
 *
 * @since 0.1.0
 * @category constants
 */
export const settleTime: Duration.Duration = Duration.minutes(5)

/**
 * Weighted characters a post may have (URLs count 23, emoji and CJK 2).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxWeightedLength: number = 280

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The app's consumer key. */
  readonly apiKey: Redacted.Redacted<string>
  readonly apiSecret: Redacted.Redacted<string>
  /** The user's OAuth 1.0a access token (the app needs Read and Write permission). */
  readonly accessToken: Redacted.Redacted<string>
  readonly accessTokenSecret: Redacted.Redacted<string>
  /** Replaces `https://api.x.com` (the sandbox, a proxy). */
  readonly baseUrl?: string | undefined
  /** Attempts of one post in all, when X says nothing was created (default 4). */
  readonly maxAttempts?: number | undefined
  /** A rate-limit wait longer than this fails the task with `rate_limited` instead (default 16 minutes). */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
  /** A post request unanswered for this long has an unknown outcome (default 60 seconds). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /**
   * How long after a post's intent its post is certain to show in the
   * platform's listing (default `settleTime`, 5 minutes); see `Publisher.settleMillis`.
   */
  readonly settleTime?: Duration.DurationInput | undefined
  /** Longest wait for X to process an attached video (default 10 minutes). */
  readonly processingTimeout?: Duration.DurationInput | undefined
  /** Upper bound of one wait between media STATUS polls (default 30 seconds). */
  readonly maxPollInterval?: Duration.DurationInput | undefined
  /**
   * Posts the app may make a month, as the quota plan counts them: the
   * monthly cap of the app's API tier. Absent: no cap is planned (it depends
   * on the tier, which Medusa cannot read).
   */
  readonly monthlyPostCap?: number | undefined
  /** Day of the month (1–31, UTC) the cap's window resets; default 1. A shorter month resets on its last day. */
  readonly capResetDay?: number | undefined
  /**
   * The ledger of accepted posts the plan reads (shared by every process
   * naming it); absent: kept in this process's memory. The config's default
   * is `.medusa/x-posts.json` beside the config file.
   */
  readonly ledgerFile?: string | undefined
}

// =============================================================================
// Internals
// =============================================================================

type Answer = PostOnce.Answer

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(input ?? fallback))

const asRecord = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>) : undefined

/** X's problem body: `detail`/`title`, or the older `errors[{code, message}]`. */
const problemOf = (body: unknown): { readonly message: string | undefined; readonly code: string | undefined } => {
  const b = asRecord(body)
  const first = Array.isArray(b?.errors) ? asRecord(b.errors[0]) : undefined
  const message = [b?.detail, b?.title, first?.message, first?.detail].find((m): m is string => typeof m === "string")
  const code = first?.code !== undefined ? String(first.code) : typeof b?.type === "string" ? b.type : undefined
  return { message, code }
}

/**
 * How long to wait from X's rate-limit headers: the latest reset among the
 * exhausted windows (15-minute and 24-hour ones), else `Retry-After`.
 */
const rateLimitWait = (headers: Headers.Headers, now: number): number | undefined => {
  const windows: ReadonlyArray<readonly [string, string]> = [
    ["x-rate-limit-remaining", "x-rate-limit-reset"],
    ["x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"],
    ["x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"]
  ]
  const waits: Array<number> = []
  for (const [remaining, reset] of windows) {
    const at = Number(headers[reset])
    if (headers[reset] === undefined || !Number.isFinite(at)) continue
    const left = headers[remaining] === undefined ? 0 : Number(headers[remaining])
    if (left <= 0) waits.push(at * 1000 - now)
  }
  if (waits.length > 0) return Math.max(1000, ...waits)
  return PostOnce.retryAfterMillis(headers["retry-after"], now)
}

const DUPLICATE = /duplicate/i

/** Maps a failed X answer to a post-attempt verdict. */
const classifyFailure = (answer: Answer, now: number, what: string): PostOnce.AttemptFailed => {
  const { code, message } = problemOf(answer.body)
  const common = {
    platform: "x" as const,
    status: answer.status,
    ...(code !== undefined ? { code } : {}),
    ...(message !== undefined ? { platformMessage: message } : {})
  }
  if (answer.status === 429) {
    const wait = rateLimitWait(answer.headers, now)
    if (/usage ?cap/i.test(`${code ?? ""} ${message ?? ""}`)) {
      return PostOnce.fail(
        new QuotaExceeded({
          ...common,
          reason: "quota_exceeded",
          description: "the X app's usage cap (monthly or daily post allowance) is used up; " +
            "raise the plan or wait for the period to reset",
          ...(wait !== undefined ? { retryAfter: wait, resetsAt: now + wait } : {})
        })
      )
    }
    return PostOnce.rateLimited({
      platform: "x",
      status: answer.status,
      code,
      platformMessage: message,
      waitMillis: wait,
      fallbackMillis: 60_000,
      now
    })
  }
  if (answer.status === 401) {
    return PostOnce.fail(
      new AuthExpired({
        ...common,
        reason: "auth_invalid",
        description: "X rejected the OAuth 1.0a credentials; check twitter.api_key/api_secret and regenerate " +
          "the access token and secret in the developer portal"
      })
    )
  }
  if (answer.status === 403 && DUPLICATE.test(message ?? "")) {
    return PostOnce.fail(
      new PlatformRejected({
        ...common,
        reason: "duplicate_post",
        description: "X refuses a post with the same text as a recent one; change metadata.x.text"
      })
    )
  }
  if (answer.status === 403) {
    return PostOnce.fail(
      new AuthExpired({
        ...common,
        reason: "permission_missing",
        description: `X refused ${what}: the app needs "Read and Write" permission (and media.write for video); ` +
          "change it in the developer portal, then regenerate the access token"
      })
    )
  }
  if (answer.status === 400 || answer.status === 422) {
    return PostOnce.fail(
      new PlatformRejected({ ...common, reason: "invalid_metadata", description: `X rejected ${what}` })
    )
  }
  if (answer.status >= 500) {
    // An error page after the post reached X proves nothing about whether it was created.
    return PostOnce.unknown(
      new PlatformUnavailable({ ...common, reason: "server_error", description: `X answered ${answer.status}` })
    )
  }
  return PostOnce.fail(
    new PlatformRejected({ ...common, reason: "rejected", description: `X answered ${answer.status}` })
  )
}

/** The error a non-2xx answer to a request that creates nothing means. */
const failureOf = (answer: Answer, now: number, what: string): PlatformError => classifyFailure(answer, now, what).error

const tweetUrl = (id: string): string => `https://x.com/i/web/status/${id}`

const toPost = (id: string): PublishedPost => new PublishedPost({ publisher: "x", postId: id, url: tweetUrl(id) })

/**
 * The weighted length of a post text as X counts it (twitter-text).
 *
 * @since 0.1.0
 * @category utils
 */
export const weightedLength = (text: string): number => twitterText.parseTweet(text).weightedLength

// =============================================================================
// Constructor
// =============================================================================

/** The OAuth 1.0a `Authorization` header for one request with the configured keys. */
const signFor = (options: Options, method: "GET" | "POST" | "DELETE", url: string, now: number): string =>
  OAuth1.sign({
    method,
    url,
    consumerKey: options.apiKey,
    consumerSecret: options.apiSecret,
    token: options.accessToken,
    tokenSecret: options.accessTokenSecret,
    timestamp: Math.floor(now / 1000)
  })

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Publisher<XMetadata>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")
    const http = yield* HttpClient.HttpClient
    const policy: PostOnce.PostPolicy = {
      maxAttempts: options.maxAttempts ?? PostOnce.defaultPolicy.maxAttempts,
      maxWaitMillis: millis(options.maxRateLimitWait, Duration.millis(PostOnce.defaultPolicy.maxWaitMillis)),
      timeoutMillis: millis(options.requestTimeout, Duration.millis(PostOnce.defaultPolicy.timeoutMillis))
    }
    // One cap per app (its tier): the ledger key is a digest of the consumer key, never the key itself.
    const postLimit = options.monthlyPostCap === undefined ? undefined : yield* PostLimit.make({
      file: options.ledgerFile,
      key: `app ${createHash("sha256").update(Redacted.value(options.apiKey)).digest("hex").slice(0, 16)}`,
      limit: options.monthlyPostCap,
      window: Ledger.monthlyUtc(options.capResetDay ?? 1),
      waitReason: "X monthly post cap",
      what: "X post ledger"
    })
    /** Epoch ms until which `POST /2/tweets` is known to be exhausted (from the last answer's headers). */
    const tweetsResetAt = yield* Ref.make(0)
    const userId = yield* Ref.make(Option.none<string>())

    const send = (
      method: "GET" | "POST" | "DELETE",
      path: string,
      request: { readonly query?: Record<string, string> | undefined; readonly body?: HttpBody.HttpBody | undefined }
    ): Effect.Effect<Answer, HttpClientError.HttpClientError> =>
      Effect.gen(function*() {
        const query = request.query === undefined ? "" : `?${new URLSearchParams(request.query).toString()}`
        const url = `${base}${path}${query}`
        const authorization = signFor(options, method, url, yield* Clock.currentTimeMillis)
        const req = (method === "GET" ?
          HttpClientRequest.get(url) :
          method === "DELETE" ?
          HttpClientRequest.del(url) :
          HttpClientRequest.post(url)).pipe(
            HttpClientRequest.setHeader("authorization", authorization),
            HttpClientRequest.acceptJson,
            request.body === undefined ? (r) => r : HttpClientRequest.setBody(request.body)
          )
        const response = yield* http.execute(req)
        const body = yield* PostOnce.jsonBody(response)
        return { status: response.status, headers: response.headers, body }
      }).pipe(Effect.scoped)

    const validate = (metadata: XMetadata, media: MediaFile) =>
      Effect.sync(() => {
        const issues: Array<Issue> = []
        const text = PostOnce.fillPlaceholders(metadata.text)
        if (text.trim() === "" && metadata.attachVideo !== true) {
          issues.push(new Issue({ path: ["text"], message: "the X text is empty; write the post text" }))
        }
        const length = weightedLength(text)
        if (length > maxWeightedLength) {
          issues.push(
            new Issue({
              path: ["text"],
              message: `the X text is ${length} weighted characters once filled (every URL counts 23, emoji and ` +
                `CJK characters 2); X allows ${maxWeightedLength}: remove ${length - maxWeightedLength}`
            })
          )
        }
        if (metadata.attachVideo === true) {
          if (media.size > XMedia.MAX_VIDEO_BYTES) {
            issues.push(
              new Issue({
                path: ["attachVideo"],
                message: `${media.name} is ${media.size} bytes; X takes videos up to ${XMedia.MAX_VIDEO_BYTES} ` +
                  `bytes (512 MB): set attachVideo to false to post the link only`
              })
            )
          }
          if (!XMedia.VIDEO_TYPES.has(media.mimeType)) {
            issues.push(
              new Issue({
                path: ["attachVideo"],
                message: `${media.name} is ${media.mimeType}; X takes MP4 or MOV video: convert it, or set ` +
                  `attachVideo to false`
              })
            )
          }
        }
        return issues as ReadonlyArray<Issue>
      })

    const me = Effect.gen(function*() {
      const cached = yield* Ref.get(userId)
      if (Option.isSome(cached)) return cached.value
      const answer = yield* send("GET", "/2/users/me", {}).pipe(
        Effect.mapError((e) => PostOnce.transportError("x", e, "reading the X user (/2/users/me)"))
      )
      if (answer.status >= 400) {
        return yield* Effect.fail(failureOf(answer, yield* Clock.currentTimeMillis, "reading /2/users/me"))
      }
      const id = asRecord(asRecord(answer.body)?.data)?.id
      if (typeof id !== "string") {
        return yield* Effect.fail(
          new PlatformUnavailable({
            platform: "x",
            reason: "server_error",
            status: answer.status,
            description: "X's /2/users/me answer carried no user id"
          })
        )
      }
      yield* Ref.set(userId, Option.some(id))
      return id
    })

    /** Looks for a post with the same text, created after `sentAfter`, among the user's recent posts. */
    const search = (text: string, sentAfter: number) =>
      Effect.gen(function*() {
        const id = yield* me
        const answer = yield* send("GET", `/2/users/${encodeURIComponent(id)}/tweets`, {
          query: { max_results: "20", "tweet.fields": "created_at" }
        }).pipe(Effect.mapError((e) => PostOnce.transportError("x", e, "searching the user's recent posts")))
        if (answer.status >= 400) {
          return yield* Effect.fail(failureOf(answer, yield* Clock.currentTimeMillis, "reading recent posts"))
        }
        const data = asRecord(answer.body)?.data
        const found = (Array.isArray(data) ? data : []).map(asRecord).find((t) =>
          typeof t?.id === "string" && typeof t.text === "string" && PostOnce.sameText(t.text, text) &&
          madeAfter(PostOnce.parseTime(t.created_at), sentAfter)
        )
        return found === undefined ? Option.none() : Option.some(toPost(found.id as string))
      })

    /** The hold until the window resets, when the last answer said it is used up (`postOnce` holds it). */
    const awaitWindow = Effect.gen(function*() {
      const resetAt = yield* Ref.get(tweetsResetAt)
      const now = yield* Clock.currentTimeMillis
      if (resetAt <= now) return undefined
      const wait = resetAt - now
      if (wait > policy.maxWaitMillis) {
        return yield* Effect.fail(
          PostOnce.rateLimited({
            platform: "x",
            waitMillis: wait,
            fallbackMillis: wait,
            now,
            description: `the X post window is used up until ${new Date(resetAt).toISOString()}`
          })
        )
      }
      return { reason: "post window used up", until: resetAt }
    })

    const readWindow = (headers: Headers.Headers) =>
      Effect.gen(function*() {
        const remaining = headers["x-rate-limit-remaining"]
        const reset = Number(headers["x-rate-limit-reset"])
        if (remaining !== undefined && Number(remaining) <= 0 && Number.isFinite(reset)) {
          yield* Ref.set(tweetsResetAt, reset * 1000)
        }
      })

    const attempt = (text: string, mediaId: string | undefined) =>
      Effect.gen(function*() {
        const answer = yield* send("POST", "/2/tweets", {
          body: HttpBody.unsafeJson(mediaId === undefined ? { text } : { text, media: { media_ids: [mediaId] } })
        }).pipe(Effect.mapError((e) => PostOnce.classifyPostTransport("x", e)))
        yield* readWindow(answer.headers)
        const now = yield* Clock.currentTimeMillis
        if (answer.status >= 200 && answer.status < 300) {
          const id = asRecord(asRecord(answer.body)?.data)?.id
          if (typeof id === "string" && id !== "") return toPost(id)
          return yield* Effect.fail(
            PostOnce.unknown(
              new PlatformUnavailable({
                platform: "x",
                reason: "server_error",
                status: answer.status,
                description: "X accepted the post but its answer carried no post id"
              })
            )
          )
        }
        return yield* Effect.fail(classifyFailure(answer, now, "the post"))
      })

    const post = Effect.fn("X.post")(function*(context: PostContext<XMetadata>) {
      const text = context.metadata.text
      const length = weightedLength(text)
      if (length > maxWeightedLength) {
        // Checked at submit with placeholders; the real links may still differ.
        return yield* Effect.fail(
          new PlatformRejected({
            platform: "x",
            reason: "invalid_metadata",
            description: `metadata.x.text is ${length} weighted characters once filled; X allows ${maxWeightedLength}`
          })
        )
      }
      const mediaId = context.metadata.attachVideo === true ?
        yield* XMedia.uploadVideo({
          send,
          failure: (answer, what) => failureOf(answer, Date.now(), what),
          processingTimeoutMillis: millis(options.processingTimeout, "10 minutes"),
          maxPollIntervalMillis: millis(options.maxPollInterval, "30 seconds")
        }, context.media) :
        undefined
      return yield* PostOnce.postOnce({
        platform: "x",
        policy,
        gate: awaitWindow,
        onWait: context.onWait,
        attempt: attempt(text, mediaId),
        find: (sentAfter) => search(text, sentAfter),
        hint: "Check the account's posts on https://x.com for this text before running the task again."
      }).pipe(
        // The ledger counts what X made (a 429 fails before this).
        Effect.tap(() => postLimit?.count ?? Effect.void)
      )
    })

    const find = Effect.fn("X.find")(function*(context: FindContext<XMetadata>) {
      return yield* search(context.metadata.text, context.intentAt)
    })

    const retract = Effect.fn("X.retract")(function*(published: PublishedPost) {
      const answer = yield* send("DELETE", `/2/tweets/${encodeURIComponent(published.postId)}`, {}).pipe(
        Effect.mapError((e) => PostOnce.transportError("x", e, "deleting the post"))
      )
      if (answer.status === 404) return "gone" as const
      if (answer.status >= 400) {
        return yield* Effect.fail(failureOf(answer, yield* Clock.currentTimeMillis, "deleting the post"))
      }
      return "deleted" as const
    })

    return XPublisher.of({
      id: "x",
      validate,
      ...(postLimit !== undefined
        ? { allowances: Effect.map(postLimit.allowances, (allowances) => () => allowances) }
        : {}),
      post,
      find,
      canFind: true,
      settleMillis: millis(options.settleTime, settleTime),
      retract
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<XPublisher, never, HttpClient.HttpClient> =>
  Layer.effect(XPublisher, make(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<XPublisher, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(XPublisher, Effect.flatMap(Config.unwrap(options), make))

// =============================================================================
// Credential check
// =============================================================================

/**
 * What `medusa auth check` reports about the X credentials.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly platform: "x"
  /** The credentials work. */
  readonly ok: boolean
  /** X accepted the signature (keys and tokens belong together and are not revoked). */
  readonly valid: boolean
  readonly userId: string | undefined
  readonly username: string | undefined
  /** Human-readable problems, each with what to do. Never contains a credential. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Checks the OAuth 1.0a credentials with a signed `GET /2/users/me`: are
 * they accepted, and for which account. Rejected credentials are a report
 * with `valid: false`; the effect fails only when X cannot be asked.
 *
 * @since 0.1.0
 * @category credentials
 */
export const checkCredentials = (
  options: Options
): Effect.Effect<CredentialReport, PlatformError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")
    const http = yield* HttpClient.HttpClient
    const url = `${base}/2/users/me`
    const now = yield* Clock.currentTimeMillis
    const authorization = signFor(options, "GET", url, now)
    const answer = yield* http.execute(
      HttpClientRequest.get(url).pipe(
        HttpClientRequest.setHeader("authorization", authorization),
        HttpClientRequest.acceptJson
      )
    ).pipe(
      Effect.flatMap((response) =>
        Effect.map(PostOnce.jsonBody(response), (body): Answer => ({
          status: response.status,
          headers: response.headers,
          body
        }))
      ),
      Effect.scoped,
      Effect.mapError((e) => PostOnce.transportError("x", e, "reading /2/users/me"))
    )
    if (answer.status === 401) {
      return {
        platform: "x",
        ok: false,
        valid: false,
        userId: undefined,
        username: undefined,
        problems: [
          "X rejected the OAuth 1.0a credentials: check twitter.api_key and twitter.api_secret, and regenerate " +
          "the access token and secret in the developer portal"
        ]
      } satisfies CredentialReport
    }
    if (answer.status >= 400) return yield* Effect.fail(failureOf(answer, now, "reading /2/users/me"))
    const data = asRecord(asRecord(answer.body)?.data)
    return {
      platform: "x",
      ok: true,
      valid: true,
      userId: typeof data?.id === "string" ? data.id : undefined,
      username: typeof data?.username === "string" ? data.username : undefined,
      problems: []
    } satisfies CredentialReport
  })
