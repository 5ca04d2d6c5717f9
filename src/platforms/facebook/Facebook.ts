/**
 * The Facebook Page publisher: posts the filled message (and an optional
 * link) to a Page's feed through the Graph API, immediately or scheduled.
 *
 * ```ts
 * const FacebookLive = Facebook.layer({ pageId: "1000000000001", accessToken: Redacted.make(token) }).pipe(
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
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
import * as PostOnce from "../../internal/http/postOnce.js"
import * as Resumable from "../../internal/http/resumable.js"
import {
  FacebookPublisher,
  type FindContext,
  madeAfter,
  type MediaFile,
  type MediaUpload,
  type PostContext,
  PublishedPost,
  type Publisher
} from "../../Platform.js"
import { Issue, type PlatformError, PlatformRejected } from "../../PublishError.js"
import type { FacebookMetadata } from "../../PublishRequest.js"
import {
  classifyGraphFailure,
  graphError,
  parseGraphError,
  parseUsage,
  type Usage,
  usageExceeded
} from "./internal/graph.js"
import * as Video from "./internal/video.js"

// =============================================================================
// Options
// =============================================================================

/**
 * The Graph API version used when none is configured (current in the fact
 * sheet: v26.0, released 2026-07-29).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultGraphVersion: string = "v26.0"

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl: string = "https://graph.facebook.com"

/**
 * The settle time of Facebook posts (`Publisher.settleMillis`): 5 minutes
 * after a post's intent, a post its request made is taken to show in
 * Graph's `GET /{page-id}/feed` (and `scheduled_posts`). Facebook documents no delay before a new Page post is listed, so the figure is conservative: the post
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
 * Longest Page post message Facebook accepts, in characters.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxMessageLength: number = 63_206

/**
 * The permissions a Page token needs to post.
 *
 * @since 0.1.0
 * @category constants
 */
export const requiredScopes: ReadonlyArray<string> = ["pages_manage_posts", "pages_read_engagement"]

/**
 * Scheduling window Medusa accepts. Meta's reference text says up to 75
 * days, older guides and most integrations 30 days: the conservative 30
 * days is used.
 *
 * @since 0.1.0
 * @category constants
 */
export const scheduleWindow: { readonly min: Duration.Duration; readonly max: Duration.Duration } = {
  min: Duration.minutes(10),
  max: Duration.days(30)
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly pageId: string
  /** A Page access token (not a user token). */
  readonly accessToken: Redacted.Redacted<string>
  /** Replaces `https://graph.facebook.com` (the sandbox, a proxy). */
  readonly baseUrl?: string | undefined
  /** Default `v26.0`. */
  readonly graphVersion?: string | undefined
  /** Attempts of one post in all, when the platform says nothing was created (default 4). */
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
  /** Wait when a rate limit or high usage gives no time to regain access (default 5 minutes). */
  readonly rateLimitFallbackWait?: Duration.DurationInput | undefined
  /** New posts wait while the last usage reading is above this percentage (default 90). */
  readonly usageThreshold?: number | undefined
  /** Deadlines and bounds of a native video's upload (`video: true`); the hosts' defaults. */
  readonly videoUpload?: Resumable.VideoUploadOptions | undefined
}

// =============================================================================
// Internals
// =============================================================================

type Answer = PostOnce.Answer

interface Client {
  readonly options: Options
  readonly base: string
  /** Sends a request to `${base}/${version}${path}` with the token as a header, reading the usage headers. */
  readonly send: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<Answer, HttpClientError.HttpClientError>
  /** The last usage reading and when it was read (epoch ms). */
  readonly usage: Ref.Ref<Option.Option<{ readonly usage: Usage; readonly at: number }>>
}

const makeClient = (options: Options): Effect.Effect<Client, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = `${(options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")}/${
      options.graphVersion ?? defaultGraphVersion
    }`
    // No span for `debug_token`: it carries the token in its query string, and
    // span attributes record the full URL. (Exported spans are scrubbed of
    // queries anyway; spans that stay in the process are not.)
    const http = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerDisabledWhen((request) => request.urlParams.some(([key]) => key === "input_token"))
    )
    const usage = yield* Ref.make(Option.none<{ readonly usage: Usage; readonly at: number }>())
    const send = (request: HttpClientRequest.HttpClientRequest) =>
      http.execute(
        request.pipe(
          HttpClientRequest.prependUrl(base),
          HttpClientRequest.bearerToken(options.accessToken),
          HttpClientRequest.acceptJson
        )
      ).pipe(
        Effect.flatMap(PostOnce.readAnswer),
        Effect.tap((answer) => {
          const reading = parseUsage(answer.headers)
          return reading === undefined ?
            Effect.void :
            Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.set(usage, Option.some({ usage: reading, at })))
        }),
        Effect.scoped
      )
    return { options, base, send, usage }
  })

const postUrl = (id: string): string => {
  const [page, post] = id.split("_")
  return post !== undefined && page !== undefined ?
    `https://www.facebook.com/${page}/posts/${post}` :
    `https://www.facebook.com/${id}`
}

const toPost = (id: string): PublishedPost => new PublishedPost({ publisher: "facebook", postId: id, url: postUrl(id) })

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(input ?? fallback))

/**
 * `scheduledPublishTime` as epoch milliseconds: UNIX seconds, or ISO 8601
 * with a time zone.
 */
const parseScheduled = (value: string | number): number | string => {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value <= 0) return `${value} is not a UNIX time in seconds`
    if (value > 1e11) return `${value} looks like milliseconds; give UNIX seconds (${Math.floor(value / 1000)})`
    return value * 1000
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(value.trim())) {
    return `"${value}" is not an ISO 8601 date-time with a time zone (e.g. "2026-12-01T18:00:00Z") or UNIX seconds`
  }
  const parsed = Date.parse(value.trim().replace(/([+-]\d\d)(\d\d)$/, "$1:$2"))
  return Number.isNaN(parsed) ? `"${value}" is not a valid date` : parsed
}

const scheduleProblem = (value: string | number, now: number): string | undefined => {
  const at = parseScheduled(value)
  if (typeof at === "string") return at
  const min = now + Duration.toMillis(scheduleWindow.min)
  const max = now + Duration.toMillis(scheduleWindow.max)
  if (at < min) {
    return `${new Date(at).toISOString()} is less than 10 minutes ahead; Facebook schedules posts 10 minutes ` +
      `to 30 days ahead (earliest now: ${new Date(min).toISOString()})`
  }
  if (at > max) {
    return `${new Date(at).toISOString()} is more than 30 days ahead; Facebook schedules posts 10 minutes ` +
      `to 30 days ahead (latest now: ${new Date(max).toISOString()})`
  }
  return undefined
}

interface FeedPost {
  readonly id: string
  readonly message: string | undefined
  readonly createdAt: number | undefined
}

const feedPosts = (body: unknown): ReadonlyArray<FeedPost> => {
  const data = typeof body === "object" && body !== null ? (body as { readonly data?: unknown }).data : undefined
  if (!Array.isArray(data)) return []
  return data.flatMap((entry): Array<FeedPost> => {
    if (typeof entry !== "object" || entry === null) return []
    const e = entry as Record<string, unknown>
    if (typeof e.id !== "string") return []
    return [{
      id: e.id,
      message: typeof e.message === "string" ? e.message : undefined,
      // Graph dates every post, scheduled ones included, by `created_time` (to the second).
      createdAt: PostOnce.parseTime(e.created_time)
    }]
  })
}

// =============================================================================
// Constructor
// =============================================================================

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Publisher<FacebookMetadata>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* makeClient(options)
    const policy: PostOnce.PostPolicy = {
      maxAttempts: options.maxAttempts ?? PostOnce.defaultPolicy.maxAttempts,
      maxWaitMillis: millis(options.maxRateLimitWait, Duration.millis(PostOnce.defaultPolicy.maxWaitMillis)),
      timeoutMillis: millis(options.requestTimeout, Duration.millis(PostOnce.defaultPolicy.timeoutMillis))
    }
    const fallbackWaitMillis = millis(options.rateLimitFallbackWait, "5 minutes")
    const threshold = options.usageThreshold ?? 90

    const validate = (metadata: FacebookMetadata, media: MediaFile) =>
      Effect.gen(function*() {
        const issues: Array<Issue> = []
        if (metadata.video === true) {
          issues.push(...Video.validateFile(media))
          if (metadata.link !== undefined) {
            issues.push(
              new Issue({
                path: ["link"],
                message: "a native video post carries no link attachment; put the link in the message " +
                  "or remove video: true"
              })
            )
          }
          if (metadata.scheduledPublishTime !== undefined) {
            issues.push(
              new Issue({
                path: ["scheduledPublishTime"],
                message: "Medusa does not schedule native video posts; remove scheduledPublishTime or video: true"
              })
            )
          }
        }
        if (metadata.message.trim() === "" && (metadata.link ?? "").trim() === "") {
          issues.push(
            new Issue({
              path: ["message"],
              message: "the Facebook message is empty and there is no link; write the post text"
            })
          )
        }
        if (metadata.message.length > maxMessageLength) {
          issues.push(
            new Issue({
              path: ["message"],
              message:
                `the Facebook message is ${metadata.message.length} characters; Facebook allows ${maxMessageLength}`
            })
          )
        }
        if (metadata.link !== undefined) {
          const link = PostOnce.fillPlaceholders(metadata.link)
          if (!/^https?:\/\/\S+$/.test(link.trim())) {
            issues.push(
              new Issue({
                path: ["link"],
                message: `"${metadata.link}" is not an http(s) URL; use a URL or a template such as "{youtube_url}"`
              })
            )
          }
        }
        if (metadata.scheduledPublishTime !== undefined) {
          const problem = scheduleProblem(metadata.scheduledPublishTime, yield* Clock.currentTimeMillis)
          if (problem !== undefined) issues.push(new Issue({ path: ["scheduledPublishTime"], message: problem }))
        }
        return issues as ReadonlyArray<Issue>
      })

    /**
     * How long to hold a new post while the last usage reading is above the
     * threshold: until the time to regain access the reading gave, else the
     * fallback wait, counted from the reading (a rate-limit wait may already
     * have covered it). `postOnce` holds it.
     */
    const awaitUsage = Effect.gen(function*() {
      const last = yield* Ref.get(client.usage)
      if (Option.isNone(last) || last.value.usage.percent <= threshold) return undefined
      const now = yield* Clock.currentTimeMillis
      const wait = last.value.at + (last.value.usage.regainMillis ?? fallbackWaitMillis) - now
      if (wait <= 0) return undefined
      if (wait > policy.maxWaitMillis) {
        return yield* Effect.fail(PostOnce.fail(usageExceeded(last.value.usage, wait, now)))
      }
      return { reason: `Graph API usage at ${last.value.usage.percent}%`, until: now + wait }
    })

    /**
     * Looks for a post with the same message, created after `sentAfter`,
     * among the Page's recent (and, when asked, scheduled) posts.
     */
    const search = (message: string, sentAfter: number, scheduled: boolean) =>
      Effect.gen(function*() {
        for (const edge of scheduled ? ["scheduled_posts", "feed"] : ["feed"]) {
          const answer = yield* client.send(
            HttpClientRequest.get(`/${options.pageId}/${edge}`).pipe(
              HttpClientRequest.setUrlParams({ fields: "id,message,created_time", limit: "50" })
            )
          ).pipe(Effect.mapError((e) => PostOnce.transportError("facebook", e, `searching the Page's ${edge}`)))
          if (answer.status >= 400) {
            return yield* Effect.fail(
              graphError({
                ...answer,
                permission: "pages_read_engagement",
                now: yield* Clock.currentTimeMillis,
                fallbackWaitMillis
              })
            )
          }
          const found = feedPosts(answer.body).find((p) =>
            p.message !== undefined && PostOnce.sameText(p.message, message) && madeAfter(p.createdAt, sentAfter)
          )
          if (found !== undefined) return Option.some(toPost(found.id))
        }
        return Option.none<PublishedPost>()
      })

    const attempt = (metadata: FacebookMetadata) =>
      Effect.gen(function*() {
        const params: Record<string, string> = { message: metadata.message }
        if (metadata.link !== undefined && metadata.link.trim() !== "") params.link = metadata.link.trim()
        if (metadata.scheduledPublishTime !== undefined) {
          // Checked again here: the uploads may have eaten into the window since submit.
          const problem = scheduleProblem(metadata.scheduledPublishTime, yield* Clock.currentTimeMillis)
          if (problem !== undefined) {
            return yield* Effect.fail(
              PostOnce.fail(
                new PlatformRejected({
                  platform: "facebook",
                  reason: "invalid_metadata",
                  description: `metadata.facebook.scheduledPublishTime: ${problem}`
                })
              )
            )
          }
          params.published = "false"
          params.scheduled_publish_time = String(
            Math.floor((parseScheduled(metadata.scheduledPublishTime) as number) / 1000)
          )
        }
        const answer = yield* client.send(
          HttpClientRequest.post(`/${options.pageId}/feed`).pipe(HttpClientRequest.bodyUrlParams(params))
        ).pipe(Effect.mapError((e) => PostOnce.classifyPostTransport("facebook", e)))
        const now = yield* Clock.currentTimeMillis
        const id = typeof answer.body === "object" && answer.body !== null ?
          (answer.body as { readonly id?: unknown }).id :
          undefined
        if (answer.status >= 200 && answer.status < 300 && parseGraphError(answer.body) === undefined) {
          if (typeof id === "string" && id !== "") return toPost(id)
          return yield* Effect.fail(
            PostOnce.unknown(
              new PlatformRejected({
                platform: "facebook",
                reason: "rejected",
                status: answer.status,
                description: "Facebook accepted the post but its answer carried no post id"
              })
            )
          )
        }
        return yield* Effect.fail(
          classifyGraphFailure({ ...answer, permission: "pages_manage_posts", now, fallbackWaitMillis })
        )
      })

    // Native video: the file through Graph's chunked upload, then `finish` publishes it.
    const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
    const provideFs = <A, E>(effect: Effect.Effect<A, E, FileSystem.FileSystem>): Effect.Effect<A, E> =>
      Option.isSome(fs) ?
        Effect.provideService(effect, FileSystem.FileSystem, fs.value) :
        Effect.provide(effect, NodeFileSystem.layer)
    const videoClient: Video.VideoClient = {
      pageId: options.pageId,
      send: client.send,
      fallbackWaitMillis
    }
    const videoRetry = Resumable.makeUploadRetryPolicy(options.videoUpload?.retry)
    const noUpload: MediaUpload = {
      saved: Effect.succeedNone,
      onSession: () => Effect.void,
      onProgress: () => Effect.void
    }

    const postVideo = (context: PostContext<FacebookMetadata>) =>
      Effect.gen(function*() {
        const upload = context.upload ?? noUpload
        const uploaded = yield* provideFs(Video.upload(videoClient, {
          media: context.media,
          upload,
          onWait: context.onWait,
          retryPolicy: videoRetry,
          limits: options.videoUpload,
          progressIntervalMillis: options.videoUpload?.progressIntervalMillis
        }))
        const description = context.metadata.message
        return yield* PostOnce.postOnce({
          platform: "facebook",
          policy,
          gate: awaitUsage,
          onWait: context.onWait,
          attempt: Effect.map(
            Video.finish(videoClient, uploaded, description, (e) => PostOnce.classifyPostTransport("facebook", e)),
            (id) => toVideoPost(id)
          ),
          find: () =>
            Effect.map(
              Video.published(videoClient, uploaded.videoId, (text) => PostOnce.sameText(text, description)),
              (done) => done ? Option.some(toVideoPost(uploaded.videoId)) : Option.none()
            ),
          hint: `Check the Page's videos (https://www.facebook.com/${options.pageId}/videos) for video ` +
            `${uploaded.videoId} before running the task again.`
        })
      })

    const toVideoPost = (videoId: string): PublishedPost =>
      new PublishedPost({ publisher: "facebook", postId: videoId, url: Video.videoUrl(options.pageId, videoId) })

    const post = Effect.fn("Facebook.post")(function*(context: PostContext<FacebookMetadata>) {
      if (context.metadata.video === true) return yield* postVideo(context)
      return yield* PostOnce.postOnce({
        platform: "facebook",
        policy,
        gate: awaitUsage,
        onWait: context.onWait,
        attempt: attempt(context.metadata),
        find: (sentAfter) =>
          search(context.metadata.message, sentAfter, context.metadata.scheduledPublishTime !== undefined),
        hint: `Check the Page's posts${
          context.metadata.scheduledPublishTime === undefined ? "" : " and its scheduled posts"
        } (https://www.facebook.com/${options.pageId}) for this message before running the task again.`
      })
    })

    const find = Effect.fn("Facebook.find")(function*(context: FindContext<FacebookMetadata>) {
      if (context.metadata.video === true) {
        // The video post is the session's video, published with this description.
        const session = yield* Video.savedSession(context.upload)
        if (Option.isNone(session)) return Option.none<PublishedPost>()
        const videoId = session.value.videoId!
        const done = yield* Video.published(
          videoClient,
          videoId,
          (text) => PostOnce.sameText(text, context.metadata.message)
        )
        return done ? Option.some(toVideoPost(videoId)) : Option.none<PublishedPost>()
      }
      return yield* search(
        context.metadata.message,
        context.intentAt,
        context.metadata.scheduledPublishTime !== undefined
      )
    })

    const retract = Effect.fn("Facebook.retract")(function*(published: PublishedPost) {
      const answer = yield* client.send(HttpClientRequest.del(`/${encodeURIComponent(published.postId)}`)).pipe(
        Effect.mapError((e) => PostOnce.transportError("facebook", e, "deleting the post"))
      )
      const error = parseGraphError(answer.body)
      // Graph's "object does not exist": deleted already.
      if (error?.code === 100 && error.subcode === 33) return "gone" as const
      if (answer.status >= 400 || error !== undefined) {
        const now = yield* Clock.currentTimeMillis
        return yield* Effect.fail(
          classifyGraphFailure({ ...answer, permission: "pages_manage_posts", now, fallbackWaitMillis }).error
        )
      }
      return "deleted" as const
    })

    return FacebookPublisher.of({
      id: "facebook",
      account: options.pageId,
      validate,
      post,
      find,
      canFind: true,
      retract,
      settleMillis: millis(options.settleTime, settleTime),
      // The unfinished video of a task that failed or was cancelled mid-upload goes, as an expired session's does.
      abandonUpload: (session) =>
        session.host === "facebook" ? Video.abandon(videoClient, session.videoId) : Effect.succeed(undefined)
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<FacebookPublisher, never, HttpClient.HttpClient> =>
  Layer.effect(FacebookPublisher, make(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<FacebookPublisher, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(FacebookPublisher, Effect.flatMap(Config.unwrap(options), make))

// =============================================================================
// Credential check
// =============================================================================

/**
 * What `medusa auth check` reports about the Page token.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly platform: "facebook"
  /** The token works and belongs to the configured Page with the needed scopes. */
  readonly ok: boolean
  /** Facebook considers the token valid. */
  readonly valid: boolean
  /** `PAGE`, `USER`, … as `debug_token` says. */
  readonly tokenType: string | undefined
  readonly pageId: string | undefined
  readonly pageName: string | undefined
  readonly scopes: ReadonlyArray<string>
  readonly missingScopes: ReadonlyArray<string>
  /** Epoch milliseconds; `undefined` when the token does not expire. */
  readonly expiresAt: number | undefined
  /** Human-readable problems, each with what to do. Never contains the token. */
  readonly problems: ReadonlyArray<string>
}

const objectAt = (u: unknown, key: string): Record<string, unknown> | undefined => {
  const v = typeof u === "object" && u !== null ? (u as Record<string, unknown>)[key] : undefined
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined
}

/**
 * Checks the Page token: is it valid, for which Page, with
 * `pages_manage_posts` and `pages_read_engagement`, and when it expires.
 * An invalid or expired token is a report with `valid: false`, not a
 * failure; the effect fails only when Facebook cannot be asked.
 *
 * @since 0.1.0
 * @category credentials
 */
export const checkCredentials = (
  options: Options
): Effect.Effect<CredentialReport, PlatformError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* makeClient(options)
    const now = yield* Clock.currentTimeMillis
    const problems: Array<string> = []
    const get = (path: string, params: Record<string, string>, what: string) =>
      client.send(HttpClientRequest.get(path).pipe(HttpClientRequest.setUrlParams(params))).pipe(
        Effect.mapError((e) => PostOnce.transportError("facebook", e, what))
      )

    const debug = yield* get("/debug_token", { input_token: Redacted.value(options.accessToken) }, "debug_token")
    const data = objectAt(debug.body, "data")
    const debugError = parseGraphError(debug.body)
    if (debugError?.code === 190 || data?.is_valid === false) {
      const message = (objectAt(data, "error")?.message as string | undefined) ?? debugError?.message
      return {
        platform: "facebook",
        ok: false,
        valid: false,
        tokenType: typeof data?.type === "string" ? data.type : undefined,
        pageId: undefined,
        pageName: undefined,
        scopes: [],
        missingScopes: [...requiredScopes],
        expiresAt: undefined,
        problems: [
          `The Page access token is not valid${message ? ` (${message})` : ""}: get a new Page token and ` +
          `update facebook.access_token`
        ]
      } satisfies CredentialReport
    }
    if (debug.status >= 400) {
      return yield* Effect.fail(
        graphError({ ...debug, permission: "pages_read_engagement", now, fallbackWaitMillis: 0 })
      )
    }

    let scopes = Array.isArray(data?.scopes) ? data.scopes.filter((s): s is string => typeof s === "string") : []
    if (scopes.length === 0) {
      const permissions = yield* get("/me/permissions", {}, "reading /me/permissions")
      const list = (permissions.body as { readonly data?: unknown } | undefined)?.data
      if (permissions.status < 400 && Array.isArray(list)) {
        scopes = list.flatMap((p: unknown) => {
          const e = p as Record<string, unknown> | null
          return e && typeof e.permission === "string" && (e.status === undefined || e.status === "granted") ?
            [e.permission] :
            []
        })
      }
    }
    const missingScopes = requiredScopes.filter((s) => !scopes.includes(s))
    for (const s of missingScopes) {
      problems.push(`The token lacks ${s}: grant it to the app and issue a new Page token`)
    }

    const expiresRaw = typeof data?.expires_at === "number" ? data.expires_at : undefined
    const expiresAt = expiresRaw === undefined || expiresRaw === 0 ? undefined : expiresRaw * 1000
    if (expiresAt !== undefined && expiresAt <= now) {
      problems.push(`The token expired at ${new Date(expiresAt).toISOString()}: get a new Page token`)
    }

    const tokenType = typeof data?.type === "string" ? data.type : undefined
    if (tokenType !== undefined && tokenType !== "PAGE") {
      problems.push(`This is a ${tokenType} token, not a Page token: use the Page's token from /me/accounts`)
    }

    const me = yield* get("/me", { fields: "id,name" }, "reading /me")
    const meError = parseGraphError(me.body)
    const pageId = typeof (me.body as { id?: unknown })?.id === "string" ?
      (me.body as { id: string }).id :
      typeof data?.profile_id === "string" ?
      data.profile_id :
      undefined
    const pageName = typeof (me.body as { name?: unknown })?.name === "string" ?
      (me.body as { name: string }).name :
      undefined
    if (meError !== undefined) problems.push(`Reading the Page failed: ${meError.message ?? `code ${meError.code}`}`)
    if (pageId !== undefined && pageId !== options.pageId) {
      problems.push(`The token is for Page ${pageId}, but facebook.page_id is ${options.pageId}: fix one of them`)
    }
    return {
      platform: "facebook",
      ok: problems.length === 0,
      valid: true,
      tokenType,
      pageId,
      pageName,
      scopes,
      missingScopes,
      expiresAt,
      problems
    } satisfies CredentialReport
  })
