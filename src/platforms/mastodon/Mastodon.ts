/**
 * The Mastodon publisher: posts the filled status (`POST /api/v1/statuses`)
 * on the configured instance, optionally with the video attached (uploaded
 * through `POST /api/v2/media`, then polled until the instance has processed
 * it).
 *
 * ```ts
 * const MastodonLive = Mastodon.layer({
 *   accessToken: Redacted.make(token), instanceUrl: "https://mastodon.social"
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * Never twice: every status request of a task carries the same
 * `Idempotency-Key` (derived from the task id, which the store holds before
 * the first attempt), and Mastodon answers a request whose key it has seen
 * with the first status instead of posting again. Mastodon keeps a key for
 * an hour (its `PostStatusService` stores the status id under the account
 * and the key with a 3,600 s expiry, after creating the status, under a lock
 * per key, so a concurrent retry waits for the first); beyond that, and for
 * an answer lost in between, the usual rule
 * holds: an unknown outcome is never re-sent at once, the account's
 * statuses are searched for the text.
 *
 * @since 0.1.0
 */
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
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { randomBytes } from "node:crypto"
import { readFile } from "node:fs/promises"
import * as PostOnce from "../../internal/http/postOnce.js"
import {
  type FindContext,
  madeAfter,
  MastodonPublisher,
  type MediaFile,
  type PostContext,
  PublishedPost,
  type Publisher
} from "../../Platform.js"
import { AuthExpired, Issue, type PlatformError, PlatformRejected, PlatformUnavailable } from "../../PublishError.js"
import type { MastodonMetadata } from "../../PublishRequest.js"
import type { TaskId } from "../../TaskId.js"
import { countCharacters, htmlToText } from "./internal/text.js"

// =============================================================================
// Options
// =============================================================================

/**
 * The status length limit when the instance does not say (Mastodon's default).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxCharacters: number = 500

/**
 * The settle time of Mastodon statuses (`Publisher.settleMillis`): 3 minutes.
 * A status is in the account's statuses as soon as its request is handled
 * (Mastodon writes it before answering); the figure covers the status
 * request's deadline (60 s by default) and two minutes of slack for a busy
 * instance.
 *
 * @since 0.1.0
 * @category constants
 */
export const settleTime: Duration.Duration = Duration.minutes(3)

/**
 * How an uploaded video is polled until processed (`GET /api/v1/media/:id`
 * answers `206` meanwhile): after 250 ms, doubling to at most 10 s between
 * reads, at most 60 reads (about 9 minutes). A short clip is often ready
 * within a second, so the first reads come soon; a long one settles into a
 * read every 10 s.
 *
 * @since 0.1.0
 * @category schedules
 */
export const mediaPollPolicy: Schedule.Schedule<unknown> = Schedule.exponential("250 millis", 2).pipe(
  Schedule.union(Schedule.spaced("10 seconds")),
  Schedule.intersect(Schedule.recurs(60))
)

/**
 * Retries of the video's upload and of its processing reads when the instance
 * could not be reached or answered `5xx` (or nothing): 1 s, 2 s, 4 s. Neither
 * posts anything; an attachment made by a lost answer stays unattached (the
 * instance removes those).
 *
 * @since 0.1.0
 * @category schedules
 */
export const mediaRetryPolicy: Schedule.Schedule<[Duration.Duration, number]> = Schedule.exponential(
  "1 second",
  2
).pipe(Schedule.intersect(Schedule.recurs(3)))

/**
 * The `Idempotency-Key` of a task's status: the same for every attempt and
 * every run of the task, so that Mastodon folds them into one status.
 *
 * @since 0.1.0
 * @category constructors
 */
export const idempotencyKey = (taskId: TaskId): string => `medusa:${taskId}:mastodon`

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly accessToken: Redacted.Redacted<string>
  /** The instance, e.g. `https://mastodon.social`. */
  readonly instanceUrl: string
  /**
   * The status length limit; by default read from the instance
   * (`GET /api/v2/instance`, `configuration.statuses.max_characters`), 500
   * when the instance does not say.
   */
  readonly maxCharacters?: number | undefined
  /** Attempts of one status in all, when the instance says nothing was created (default 4). */
  readonly maxAttempts?: number | undefined
  /** A rate-limit wait longer than this fails the task with `rate_limited` instead (default 16 minutes). */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
  /**
   * A status request unanswered for this long has an unknown outcome; every other request fails after it
   * (the video's upload after it plus the file's time at 100 kB/s). Default 60 seconds.
   */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** See `Publisher.settleMillis` (default `settleTime`, 3 minutes). */
  readonly settleTime?: Duration.DurationInput | undefined
}

// =============================================================================
// Internals
// =============================================================================

type Answer = PostOnce.Answer

interface Limits {
  readonly maxCharacters: number
  readonly perUrl: number
  /** Largest video the instance takes, when it says. */
  readonly videoSizeLimit?: number | undefined
}

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(input ?? fallback))

const asRecord = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>) : undefined

const errorText = (body: unknown): string | undefined => {
  const error = asRecord(body)?.error
  return typeof error === "string" ? error : undefined
}

const positive = (u: unknown): number | undefined =>
  typeof u === "number" && Number.isInteger(u) && u > 0 ? u : undefined

/** Unattached media not yet processed: Mastodon's 422 says to try again in a moment. */
const PROCESSING = /not finished processing/i

// =============================================================================
// Constructor
// =============================================================================

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Publisher<MastodonMetadata>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = options.instanceUrl.replace(/\/+$/, "")
    const http = yield* HttpClient.HttpClient
    const policy: PostOnce.PostPolicy = {
      maxAttempts: options.maxAttempts ?? PostOnce.defaultPolicy.maxAttempts,
      maxWaitMillis: millis(options.maxRateLimitWait, Duration.millis(PostOnce.defaultPolicy.maxWaitMillis)),
      timeoutMillis: millis(options.requestTimeout, Duration.millis(PostOnce.defaultPolicy.timeoutMillis))
    }

    const send = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<Answer, HttpClientError.HttpClientError> =>
      http.execute(
        request.pipe(
          HttpClientRequest.prependUrl(base),
          HttpClientRequest.bearerToken(options.accessToken),
          HttpClientRequest.acceptJson
        )
      ).pipe(
        Effect.flatMap(PostOnce.readAnswer),
        Effect.scoped
      )

    const classify = (answer: Answer, now: number, what: string): PostOnce.AttemptFailed => {
      const message = errorText(answer.body)
      const common = {
        platform: "mastodon" as const,
        status: answer.status,
        ...(message !== undefined ? { platformMessage: message } : {})
      }
      switch (answer.status) {
        case 401: {
          const revoked = /revoked|expired/i.test(message ?? "")
          return PostOnce.fail(
            new AuthExpired({
              ...common,
              reason: revoked ? "auth_expired" : "auth_invalid",
              description: `${base} rejected the access token${revoked ? " (revoked)" : ""}; create a new one ` +
                "(Preferences → Development, scopes read and write) and update mastodon.access_token"
            })
          )
        }
        case 403:
          return PostOnce.fail(
            new AuthExpired({
              ...common,
              reason: "permission_missing",
              description: `${base} refused ${what}: the token needs the write:statuses and write:media scopes ` +
                "(and read:statuses to confirm a post); create one with them and update mastodon.access_token"
            })
          )
        case 429: {
          const hinted = PostOnce.retryAfterMillis(answer.headers["retry-after"], now)
          const reset = PostOnce.parseTime(answer.headers["x-ratelimit-reset"])
          const wait = hinted ?? (reset === undefined ? undefined : Math.max(0, reset - now))
          return PostOnce.rateLimited({
            platform: "mastodon",
            status: 429,
            platformMessage: message,
            waitMillis: wait,
            fallbackMillis: 5 * 60_000,
            now
          })
        }
        case 404:
          return PostOnce.fail(
            new PlatformRejected({
              ...common,
              reason: "not_found",
              description: `${base} has no ${what} route; check mastodon.instance_url`
            })
          )
      }
      if (answer.status === 422 && PROCESSING.test(message ?? "")) {
        // A 422 creates nothing: the status waits for the media a little longer.
        return PostOnce.retry(
          new PlatformUnavailable({
            ...common,
            reason: "server_error",
            description: "the instance is still processing the video"
          }),
          5_000
        )
      }
      if (answer.status >= 500) {
        return PostOnce.unknown(
          new PlatformUnavailable({
            ...common,
            reason: "server_error",
            description: `${base} answered ${answer.status}`
          })
        )
      }
      return PostOnce.fail(
        new PlatformRejected({
          ...common,
          reason: "invalid_metadata",
          description: `${base} rejected ${what}`
        })
      )
    }

    /**
     * A request that creates no status: its failures map to plain errors. It has the request deadline
     * (`timeoutMillis`, by default the post request's): a request handled but never answered must not
     * hold the task forever.
     */
    const call = (request: HttpClientRequest.HttpClientRequest, what: string, timeoutMillis = policy.timeoutMillis) =>
      Effect.gen(function*() {
        const answer = yield* send(request).pipe(
          Effect.mapError((e) => PostOnce.transportError("mastodon", e, what)),
          Effect.timeoutFail({
            duration: Duration.millis(timeoutMillis),
            onTimeout: () =>
              new PlatformUnavailable({
                platform: "mastodon",
                reason: "timeout",
                description: `${what}: no answer within ${Math.round(timeoutMillis / 1000)} s`
              })
          })
        )
        if (answer.status >= 400) {
          return yield* Effect.fail(classify(answer, yield* Clock.currentTimeMillis, what).error)
        }
        return answer
      })

    const fetchLimits: Effect.Effect<Limits> = call(HttpClientRequest.get("/api/v2/instance"), "reading the instance")
      .pipe(
        Effect.map((answer): Limits => {
          const configuration = asRecord(asRecord(answer.body)?.configuration)
          const statuses = asRecord(configuration?.statuses)
          const media = asRecord(configuration?.media_attachments)
          return {
            maxCharacters: options.maxCharacters ?? positive(statuses?.max_characters) ?? defaultMaxCharacters,
            perUrl: positive(statuses?.characters_reserved_per_url) ?? 23,
            videoSizeLimit: positive(media?.video_size_limit)
          }
        }),
        Effect.tapError((e) =>
          Effect.logWarning(
            `Mastodon: could not read the instance's limits (${e.description ?? e.reason}); assuming ${
              options.maxCharacters ?? defaultMaxCharacters
            } characters`
          )
        ),
        Effect.orElseSucceed((): Limits => ({
          maxCharacters: options.maxCharacters ?? defaultMaxCharacters,
          perUrl: 23
        }))
      )
    // Read once an hour at most: an instance's limit rarely changes.
    const limits = yield* Effect.cachedWithTTL(fetchLimits, Duration.hours(1))

    // Asked at each search, which is rare: a transient failure is not remembered.
    const accountId = Effect.flatMap(
      call(HttpClientRequest.get("/api/v1/accounts/verify_credentials"), "reading the account"),
      (answer) => {
        const id = asRecord(answer.body)?.id
        return typeof id === "string" ?
          Effect.succeed(id) :
          Effect.fail(
            new PlatformUnavailable({
              platform: "mastodon",
              reason: "server_error",
              description: "verify_credentials answered no account id"
            })
          )
      }
    )

    /** What is counted against the limit: the status and its content warning. */
    const issuesOf = (metadata: MastodonMetadata, media: MediaFile, limit: Limits): Array<Issue> => {
      const issues: Array<Issue> = []
      const status = metadata.status
      if (status.trim() === "" && metadata.attachVideo !== true) {
        issues.push(new Issue({ path: ["status"], message: "the Mastodon status is empty; write the status text" }))
      }
      const n = countCharacters(status, limit.perUrl) + countCharacters(metadata.spoilerText ?? "", limit.perUrl)
      if (n > limit.maxCharacters) {
        issues.push(
          new Issue({
            path: ["status"],
            message: `the Mastodon status is ${n} characters once filled (every URL counts ${limit.perUrl}` +
              `${
                metadata.spoilerText === undefined ? "" : ", the content warning counts too"
              }); ${base} allows ${limit.maxCharacters}: remove ${n - limit.maxCharacters}`
          })
        )
      }
      if (metadata.language !== undefined && !/^[a-z]{2,3}$/.test(metadata.language)) {
        issues.push(
          new Issue({
            path: ["language"],
            message: `"${metadata.language}" is not an ISO 639 language code; use e.g. "en"`
          })
        )
      }
      if (
        metadata.attachVideo === true && limit.videoSizeLimit !== undefined && media.size > limit.videoSizeLimit
      ) {
        issues.push(
          new Issue({
            path: ["attachVideo"],
            message: `${media.name} is ${media.size} bytes; ${base} takes videos up to ${limit.videoSizeLimit} ` +
              "bytes: attach a smaller file or post the link only"
          })
        )
      }
      return issues
    }

    const validate = (metadata: MastodonMetadata, media: MediaFile) =>
      Effect.map(limits, (limit): ReadonlyArray<Issue> => {
        const filled = {
          ...metadata,
          status: PostOnce.fillPlaceholders(metadata.status),
          ...(metadata.spoilerText === undefined
            ? {}
            : { spoilerText: PostOnce.fillPlaceholders(metadata.spoilerText) })
        } as MastodonMetadata
        return issuesOf(filled, media, limit)
      })

    /** Looks for a status with the same text, created after `sentAfter`, among the account's recent statuses. */
    const search = (text: string, sentAfter: number) =>
      Effect.gen(function*() {
        const id = yield* accountId
        const answer = yield* call(
          HttpClientRequest.get(`/api/v1/accounts/${encodeURIComponent(id)}/statuses`).pipe(
            HttpClientRequest.setUrlParams({ limit: "40", exclude_reblogs: "true" })
          ),
          "searching the account's statuses"
        )
        const list = Array.isArray(answer.body) ? answer.body : []
        const found = list.map(asRecord).find((s) =>
          typeof s?.id === "string" && typeof s.content === "string" &&
          PostOnce.sameText(htmlToText(s.content), text) && madeAfter(PostOnce.parseTime(s.created_at), sentAfter)
        )
        return found === undefined ? Option.none() : Option.some(toPost(found))
      })

    const toPost = (status: Record<string, unknown>): PublishedPost =>
      new PublishedPost({
        publisher: "mastodon",
        postId: status.id as string,
        ...(typeof status.url === "string" ? { url: status.url } : {})
      })

    /** Uploads the video and waits until the instance has processed it; returns its media id. */
    const uploadVideo = (media: MediaFile): Effect.Effect<string, PlatformError> =>
      Effect.gen(function*() {
        const bytes = yield* Effect.tryPromise(() => readFile(media.path)).pipe(
          Effect.mapError((cause) =>
            new PlatformRejected({
              platform: "mastodon",
              reason: "invalid_metadata",
              description: `could not read ${media.path} for the Mastodon upload: ${String(cause.error)}`
            })
          )
        )
        const answer = yield* call(
          HttpClientRequest.post("/api/v2/media").pipe(HttpClientRequest.setBody(multipart(bytes, media))),
          "uploading the video",
          // The deadline plus the time the file takes at 100 kB/s: a slow link is not cut, a dead one is.
          policy.timeoutMillis + media.size / 100
        ).pipe(Effect.retry({ schedule: mediaRetryPolicy, while: (e) => e._tag === "PlatformUnavailable" }))
        const first = asRecord(answer.body)
        const id = first?.id
        if (typeof id !== "string") {
          return yield* new PlatformUnavailable({
            platform: "mastodon",
            reason: "server_error",
            description: "the media upload answered no id"
          })
        }
        if (answer.status === 200 && typeof first?.url === "string") return id
        // 202: processing. GET answers 206 until the attachment has a url.
        const processed = yield* call(
          HttpClientRequest.get(`/api/v1/media/${encodeURIComponent(id)}`),
          "reading the video's processing state"
        ).pipe(
          Effect.retry({ schedule: mediaRetryPolicy, while: (e) => e._tag === "PlatformUnavailable" }),
          Effect.map((a) => a.status === 200 && typeof asRecord(a.body)?.url === "string"),
          Effect.repeat(
            mediaPollPolicy.pipe(Schedule.whileInput((done: boolean) => !done), Schedule.passthrough)
          )
        )
        if (!processed) {
          return yield* new PlatformUnavailable({
            platform: "mastodon",
            reason: "timeout",
            description: `${base} did not finish processing the video ${id}; nothing was posted`
          })
        }
        return id
      })

    const attempt = (context: PostContext<MastodonMetadata>, mediaIds: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const m = context.metadata
        const answer = yield* send(
          HttpClientRequest.post("/api/v1/statuses").pipe(
            HttpClientRequest.setHeader("Idempotency-Key", idempotencyKey(context.taskId)),
            HttpClientRequest.bodyUnsafeJson({
              status: m.status,
              visibility: m.visibility ?? "public",
              ...(m.spoilerText === undefined ? {} : { spoiler_text: m.spoilerText }),
              ...(m.language === undefined ? {} : { language: m.language }),
              ...(mediaIds.length === 0 ? {} : { media_ids: mediaIds })
            })
          )
        ).pipe(Effect.mapError((e) => PostOnce.classifyPostTransport("mastodon", e)))
        const now = yield* Clock.currentTimeMillis
        if (answer.status >= 200 && answer.status < 300) {
          const status = asRecord(answer.body)
          if (typeof status?.id === "string") return toPost(status)
          return yield* Effect.fail(
            PostOnce.unknown(
              new PlatformUnavailable({
                platform: "mastodon",
                reason: "server_error",
                status: answer.status,
                description: "the instance accepted the status but its answer carried no id"
              })
            )
          )
        }
        return yield* Effect.fail(classify(answer, now, "the status"))
      })

    const post = Effect.fn("Mastodon.post")(function*(context: PostContext<MastodonMetadata>) {
      const issues = issuesOf(context.metadata, context.media, yield* limits)
      if (issues.length > 0) {
        return yield* new PlatformRejected({
          platform: "mastodon",
          reason: "invalid_metadata",
          description: issues.map((i) => `metadata.mastodon.${i.path.join(".")}: ${i.message}`).join("; ")
        })
      }
      const mediaIds = context.metadata.attachVideo === true ? [yield* uploadVideo(context.media)] : []
      return yield* PostOnce.postOnce({
        platform: "mastodon",
        policy,
        onWait: context.onWait,
        attempt: attempt(context, mediaIds),
        find: (sentAfter) => search(context.metadata.status, sentAfter),
        hint: `Check the profile's recent statuses on ${base} for this text before running the task again.`
      })
    })

    const find = Effect.fn("Mastodon.find")(function*(context: FindContext<MastodonMetadata>) {
      return yield* search(context.metadata.status, context.intentAt)
    })

    const retract = Effect.fn("Mastodon.retract")(function*(published: PublishedPost) {
      const answer = yield* send(HttpClientRequest.del(`/api/v1/statuses/${encodeURIComponent(published.postId)}`))
        .pipe(
          Effect.mapError((e) => PostOnce.transportError("mastodon", e, "deleting the status")),
          Effect.timeoutFail({
            duration: Duration.millis(policy.timeoutMillis),
            onTimeout: () =>
              new PlatformUnavailable({
                platform: "mastodon",
                reason: "timeout",
                description: `deleting the status: no answer within ${Math.round(policy.timeoutMillis / 1000)} s`
              })
          })
        )
      if (answer.status === 404) return "gone" as const
      if (answer.status >= 400) {
        return yield* Effect.fail(classify(answer, yield* Clock.currentTimeMillis, "deleting the status").error)
      }
      return "deleted" as const
    })

    return MastodonPublisher.of({
      id: "mastodon",
      account: base,
      validate,
      post,
      find,
      canFind: true,
      settleMillis: millis(options.settleTime, settleTime),
      retract
    })
  })

/**
 * The upload body, `multipart/form-data` framed by hand: undici's fetch
 * rejects Node's global `FormData`/`Blob` bodies.
 */
const multipart = (bytes: Uint8Array, media: MediaFile): HttpBody.HttpBody => {
  const boundary = `medusa-${randomBytes(12).toString("hex")}`
  const safeName = media.name.replace(/["\r\n]/g, "_")
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"\r\n` +
      `Content-Type: ${media.mimeType}\r\n\r\n`
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return HttpBody.uint8Array(Buffer.concat([head, bytes, tail]), `multipart/form-data; boundary=${boundary}`)
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<MastodonPublisher, never, HttpClient.HttpClient> =>
  Layer.effect(MastodonPublisher, make(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<MastodonPublisher, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(MastodonPublisher, Effect.flatMap(Config.unwrap(options), make))

// =============================================================================
// Credential check
// =============================================================================

/**
 * What `medusa auth check` reports about the Mastodon token.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly platform: "mastodon"
  /** The token works on the instance. */
  readonly ok: boolean
  /** The instance accepted the token. */
  readonly valid: boolean
  readonly instanceUrl: string
  /** `@username` of the token's account. */
  readonly account?: string | undefined
  /** Human-readable problems, each with what to do. Never contains the token. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Checks the token with `GET /api/v1/accounts/verify_credentials`. An
 * invalid token is a report; the effect fails only when the instance cannot
 * be asked.
 *
 * @since 0.1.0
 * @category credentials
 */
export const checkCredentials = (
  options: Options
): Effect.Effect<CredentialReport, PlatformUnavailable, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = options.instanceUrl.replace(/\/+$/, "")
    const http = yield* HttpClient.HttpClient
    const { body, status } = yield* http.execute(
      HttpClientRequest.get(`${base}/api/v1/accounts/verify_credentials`).pipe(
        HttpClientRequest.bearerToken(options.accessToken),
        HttpClientRequest.acceptJson
      )
    ).pipe(
      Effect.flatMap(PostOnce.readAnswer),
      Effect.scoped,
      Effect.mapError((e) => PostOnce.transportError("mastodon", e, "reading verify_credentials"))
    )
    const report = (valid: boolean, problems: ReadonlyArray<string>, account?: string): CredentialReport => ({
      platform: "mastodon",
      ok: problems.length === 0,
      valid,
      instanceUrl: base,
      ...(account !== undefined ? { account } : {}),
      problems
    })
    if (status === 401) {
      return report(false, [
        `${base} rejected the access token (${errorText(body) ?? "invalid"}): create a new one (Preferences → ` +
        "Development) and update mastodon.access_token"
      ])
    }
    if (status === 403) {
      return report(true, [`the token may not read its account on ${base}: give it the read:accounts scope`])
    }
    if (status >= 400) return report(true, [`${base} answered ${status} to verify_credentials`])
    const username = asRecord(body)?.username
    return report(true, [], typeof username === "string" ? `@${username}` : undefined)
  })
