/**
 * The Threads publisher: posts the filled text (its first link becomes the
 * preview) through Meta's two-step Threads API: a `TEXT` container
 * (`POST /{user-id}/threads`), its status polled until `FINISHED`
 * (`GET /{container-id}?fields=status,error_message`), then
 * `POST /{user-id}/threads_publish` with the container as `creation_id`.
 *
 * ```ts
 * const ThreadsLive = Threads.layer({
 *   accessToken: Redacted.make(token), userId: "17841400000000001"
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * Never twice: only the publish request can make a post. Its container is
 * created once per post and held until published; a publish that certainly
 * made nothing (a `429`, a refused connection) is retried with that same
 * container, never a new one. A publish whose outcome is unknown is not
 * sent again: the user's threads are searched for the text, and the
 * container's status read (`PUBLISHED` says the post exists).
 *
 * @since 0.1.0
 */
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
import * as PostOnce from "../../internal/http/postOnce.js"
import {
  type FindContext,
  madeAfter,
  type MediaFile,
  type PostContext,
  PublishedPost,
  type Publisher,
  ThreadsPublisher
} from "../../Platform.js"
import {
  AuthExpired,
  Issue,
  type PlatformError,
  PlatformRejected,
  PlatformUnavailable,
  PostOutcomeUnknown
} from "../../PublishError.js"
import type { ThreadsMetadata } from "../../PublishRequest.js"
import { parseGraphError } from "../facebook/internal/graph.js"

// =============================================================================
// Options
// =============================================================================

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl: string = "https://graph.threads.net"

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultApiVersion: string = "v1.0"

/**
 * Longest post text, in characters (Unicode code points), as Meta documents.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxTextLength: number = 500

/**
 * The settle time of Threads posts (`Publisher.settleMillis`): 5 minutes
 * after a post's intent, a post its request made is taken to show in the
 * user's threads (`GET /{user-id}/threads`). Meta documents no listing
 * delay, so the figure is conservative: the publish request's deadline (60 s
 * by default) and minutes of listing delay.
 *
 * @since 0.1.0
 * @category constants
 */
export const settleTime: Duration.Duration = Duration.minutes(5)

/**
 * `settleTime` in milliseconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSettleMillis: number = Duration.toMillis(settleTime)

/**
 * How a container's status is polled: read at once (a `TEXT` container is
 * usually `FINISHED` when created), then once a minute, for at most 5
 * minutes, as Meta recommends for containers still `IN_PROGRESS`.
 *
 * @since 0.1.0
 * @category schedules
 */
export const containerPollPolicy: Schedule.Schedule<[number, number]> = Schedule.spaced("1 minute").pipe(
  Schedule.intersect(Schedule.recurs(5))
)

/**
 * Retries of the container's creation when Threads could not be asked or
 * answered `5xx`: 1 s, 2 s, 4 s. A container made by a lost answer is never
 * published and expires after 24 hours, so creating one again is harmless.
 *
 * @since 0.1.0
 * @category schedules
 */
export const containerCreatePolicy: Schedule.Schedule<[Duration.Duration, number]> = Schedule.exponential(
  "1 second",
  2
).pipe(Schedule.intersect(Schedule.recurs(3)))

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly accessToken: Redacted.Redacted<string>
  /** The Threads user id posts are made for (`GET /me` tells it). */
  readonly userId: string
  /** Replaces `https://graph.threads.net` (the sandbox, a proxy). */
  readonly baseUrl?: string | undefined
  /** API version path segment, default `v1.0`. */
  readonly apiVersion?: string | undefined
  /** Attempts of one publish in all, when Threads says nothing was published (default 4). */
  readonly maxAttempts?: number | undefined
  /** A rate-limit wait longer than this fails the task with `rate_limited` instead (default 16 minutes). */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
  /**
   * A publish request unanswered for this long has an unknown outcome; the container is created again,
   * a status read or a search fails (default 60 seconds).
   */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** See `Publisher.settleMillis` (default `settleTime`, 5 minutes). */
  readonly settleTime?: Duration.DurationInput | undefined
}

// =============================================================================
// Internals
// =============================================================================

type Answer = PostOnce.Answer

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(input ?? fallback))

const asRecord = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>) : undefined

/** Characters as Meta counts them for the 500 limit: code points. */
const length = (text: string): number => [...text].length

const RATE_LIMIT_CODES = new Set([4, 17, 32, 613])

/** Wait for a rate limit without a `Retry-After`: Graph limits are counted over an hour, checked again after 5 min. */
const rateLimitFallbackMillis = 5 * 60_000

/** A container's status, as `GET /{container-id}?fields=status,error_message` reports it. */
interface ContainerStatus {
  readonly status: string
  readonly errorMessage?: string | undefined
}

// =============================================================================
// Constructor
// =============================================================================

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Publisher<ThreadsMetadata>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = `${(options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")}/${options.apiVersion ?? defaultApiVersion}`
    const http = yield* HttpClient.HttpClient
    const policy: PostOnce.PostPolicy = {
      maxAttempts: options.maxAttempts ?? PostOnce.defaultPolicy.maxAttempts,
      maxWaitMillis: millis(options.maxRateLimitWait, Duration.millis(PostOnce.defaultPolicy.maxWaitMillis)),
      timeoutMillis: millis(options.requestTimeout, Duration.millis(PostOnce.defaultPolicy.timeoutMillis))
    }
    const user = encodeURIComponent(options.userId)

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

    /** Sorts a Threads error answer (Graph's `{ error: { code, … } }`) into Medusa's errors. */
    const classify = (answer: Answer, now: number, what: string): PostOnce.AttemptFailed => {
      const graph = parseGraphError(answer.body)
      const code = graph?.code
      const common = {
        platform: "threads" as const,
        status: answer.status,
        ...(code !== undefined ? { code: String(code) } : {}),
        ...(graph?.message !== undefined ? { platformMessage: graph.message } : {})
      }
      if (code === 190 || code === 102 || answer.status === 401) {
        const expired = graph?.subcode === 463 || graph?.subcode === 460 || /expired/i.test(graph?.message ?? "")
        return PostOnce.fail(
          new AuthExpired({
            ...common,
            reason: expired ? "auth_expired" : "auth_invalid",
            description: expired ?
              "the Threads access token has expired (long-lived tokens last 60 days unless refreshed); refresh it " +
              "(GET /refresh_access_token) or authorize the app again, and update threads.access_token" :
              "Threads rejected the access token; authorize the app again and update threads.access_token"
          })
        )
      }
      if (code === 10 || (code !== undefined && code >= 200 && code < 300) || answer.status === 403) {
        return PostOnce.fail(
          new AuthExpired({
            ...common,
            reason: "permission_missing",
            description: `Threads refused ${what}: the token needs threads_basic and threads_content_publish for ` +
              `user ${options.userId}; authorize the app with them and update threads.access_token`
          })
        )
      }
      if (answer.status === 429 || (code !== undefined && RATE_LIMIT_CODES.has(code))) {
        const hinted = PostOnce.retryAfterMillis(answer.headers["retry-after"], now)
        return PostOnce.rateLimited({
          platform: "threads",
          status: answer.status,
          code: code === undefined ? undefined : String(code),
          platformMessage: graph?.message,
          waitMillis: hinted,
          fallbackMillis: rateLimitFallbackMillis,
          now
        })
      }
      if (answer.status >= 500 || code === 1 || code === 2) {
        return PostOnce.unknown(
          new PlatformUnavailable({
            ...common,
            reason: "server_error",
            description: `Threads answered ${answer.status}`
          })
        )
      }
      return PostOnce.fail(
        new PlatformRejected({
          ...common,
          reason: answer.status === 404 ? "not_found" : "invalid_metadata",
          description: `Threads rejected ${what}`
        })
      )
    }

    const validate = (metadata: ThreadsMetadata, _media: MediaFile) =>
      Effect.sync(() => {
        const issues: Array<Issue> = []
        const text = PostOnce.fillPlaceholders(metadata.text)
        if (text.trim() === "") {
          issues.push(new Issue({ path: ["text"], message: "the Threads text is empty; write the post text" }))
        }
        const n = length(text)
        if (n > maxTextLength) {
          issues.push(
            new Issue({
              path: ["text"],
              message: `the Threads text is ${n} characters once filled; Threads allows ${maxTextLength}: remove ${
                n - maxTextLength
              }`
            })
          )
        }
        return issues as ReadonlyArray<Issue>
      })

    /**
     * The request deadline for the requests `postOnce` does not bound (the container, its status, the
     * search, the delete): a request handled but never answered must not hold the task forever.
     */
    const unanswered = (what: string) =>
      new PlatformUnavailable({
        platform: "threads",
        reason: "timeout",
        description: `${what}: no answer within ${Math.round(policy.timeoutMillis / 1000)} s`
      })
    const deadline = Duration.millis(policy.timeoutMillis)

    /** A read (search, status): its failures create nothing, so they map to plain errors. */
    const read = (request: HttpClientRequest.HttpClientRequest, what: string) =>
      Effect.gen(function*() {
        const answer = yield* send(request).pipe(
          Effect.mapError((e) => PostOnce.transportError("threads", e, what)),
          Effect.timeoutFail({ duration: deadline, onTimeout: () => unanswered(what) })
        )
        if (answer.status >= 400) {
          return yield* Effect.fail(classify(answer, yield* Clock.currentTimeMillis, what).error)
        }
        return asRecord(answer.body) ?? {}
      })

    /** Looks for a thread with the same text, created after `sentAfter`, among the user's recent threads. */
    const search = (text: string, sentAfter: number) =>
      Effect.gen(function*() {
        const body = yield* read(
          HttpClientRequest.get(`/${user}/threads`).pipe(
            HttpClientRequest.setUrlParams({ fields: "id,text,timestamp,permalink", limit: "25" })
          ),
          "searching the user's threads"
        )
        const data = Array.isArray(body.data) ? body.data : []
        const found = data.map(asRecord).find((t) =>
          typeof t?.id === "string" && typeof t.text === "string" && PostOnce.sameText(t.text, text) &&
          madeAfter(PostOnce.parseTime(t.timestamp), sentAfter)
        )
        return found === undefined ?
          Option.none() :
          Option.some(
            new PublishedPost({
              publisher: "threads",
              postId: found.id as string,
              ...(typeof found.permalink === "string" ? { url: found.permalink } : {})
            })
          )
      })

    const containerStatus = (id: string) =>
      Effect.map(
        read(
          HttpClientRequest.get(`/${encodeURIComponent(id)}`).pipe(
            HttpClientRequest.setUrlParams({ fields: "status,error_message" })
          ),
          "reading the container's status"
        ),
        (body): ContainerStatus => ({
          status: typeof body.status === "string" ? body.status : "UNKNOWN",
          errorMessage: typeof body.error_message === "string" ? body.error_message : undefined
        })
      )

    /** Creates the `TEXT` container; nothing is posted by it, so failures that may have created one are retried. */
    const createContainer = (text: string) =>
      Effect.gen(function*() {
        const answer = yield* send(
          HttpClientRequest.post(`/${user}/threads`).pipe(
            HttpClientRequest.bodyUrlParams({ media_type: "TEXT", text })
          )
        ).pipe(
          Effect.mapError((e) => PostOnce.classifyPostTransport("threads", e)),
          // A container made by an unanswered request is never published: creating one again is harmless.
          Effect.timeoutFail({
            duration: deadline,
            onTimeout: () => PostOnce.unknown(unanswered("creating the post's container"))
          })
        )
        if (answer.status >= 200 && answer.status < 300) {
          const id = asRecord(answer.body)?.id
          if (typeof id === "string" && id !== "") return id
          return yield* Effect.fail(
            PostOnce.unknown(
              new PlatformUnavailable({
                platform: "threads",
                reason: "server_error",
                status: answer.status,
                description: "Threads created a container but its answer carried no id"
              })
            )
          )
        }
        return yield* Effect.fail(classify(answer, yield* Clock.currentTimeMillis, "the post's container"))
      }).pipe(
        Effect.retry({ schedule: containerCreatePolicy, while: (e) => e.kind !== "fail" }),
        Effect.mapError((e) => e.error)
      )

    /** Polls the container until it leaves `IN_PROGRESS` (`containerPollPolicy`); only `FINISHED` may be published. */
    const awaitContainer = (id: string): Effect.Effect<void, PlatformError> =>
      Effect.gen(function*() {
        const last = yield* containerStatus(id).pipe(
          // A read: safe to repeat when Threads is briefly unavailable (same schedule as the container's creation).
          Effect.retry({ schedule: containerCreatePolicy, while: (e) => e._tag === "PlatformUnavailable" }),
          Effect.repeat(
            containerPollPolicy.pipe(
              Schedule.whileInput((s: ContainerStatus) => s.status === "IN_PROGRESS"),
              Schedule.passthrough
            )
          )
        )
        switch (last.status) {
          case "FINISHED":
            return
          case "IN_PROGRESS":
            return yield* new PlatformUnavailable({
              platform: "threads",
              reason: "timeout",
              description: `the Threads container ${id} was still IN_PROGRESS after 5 minutes; nothing was published`
            })
          case "ERROR":
            return yield* new PlatformRejected({
              platform: "threads",
              reason: "invalid_metadata",
              ...(last.errorMessage !== undefined ? { platformMessage: last.errorMessage } : {}),
              description: "Threads could not process the post's container; nothing was published"
            })
          case "EXPIRED":
          default:
            return yield* new PlatformRejected({
              platform: "threads",
              reason: "rejected",
              description: `the Threads container ${id} is ${last.status}, not FINISHED; nothing was published`
            })
        }
      })

    const publishOnce = (containerId: string) =>
      Effect.gen(function*() {
        const answer = yield* send(
          HttpClientRequest.post(`/${user}/threads_publish`).pipe(
            HttpClientRequest.bodyUrlParams({ creation_id: containerId })
          )
        ).pipe(Effect.mapError((e) => PostOnce.classifyPostTransport("threads", e)))
        const now = yield* Clock.currentTimeMillis
        if (answer.status >= 200 && answer.status < 300) {
          const id = asRecord(answer.body)?.id
          if (typeof id === "string" && id !== "") return new PublishedPost({ publisher: "threads", postId: id })
          return yield* Effect.fail(
            PostOnce.unknown(
              new PlatformUnavailable({
                platform: "threads",
                reason: "server_error",
                status: answer.status,
                description: "Threads accepted the publish but its answer carried no id"
              })
            )
          )
        }
        return yield* Effect.fail(classify(answer, now, "the post"))
      })

    /** The thread's permalink, best effort: a post without one is still made. */
    const withPermalink = (post: PublishedPost) =>
      read(
        HttpClientRequest.get(`/${encodeURIComponent(post.postId)}`).pipe(
          HttpClientRequest.setUrlParams({ fields: "permalink" })
        ),
        "reading the thread's permalink"
      ).pipe(
        Effect.map((body) =>
          typeof body.permalink === "string" ? new PublishedPost({ ...post, url: body.permalink }) : post
        ),
        Effect.orElseSucceed(() => post)
      )

    /**
     * The container an earlier send of this post saved, when it may still be
     * published: `FINISHED` or `IN_PROGRESS`. One already `PUBLISHED` made the
     * post, which is never published again: the outcome stays unknown (the
     * engine searched the user's threads before this send and did not find
     * it). `ERROR`, `EXPIRED` or an unknown id were never published: a new
     * container is made (`undefined`).
     */
    const reuseStaged = (id: string, text: string) =>
      Effect.gen(function*() {
        const status = yield* containerStatus(id).pipe(
          Effect.map(Option.some),
          Effect.catchTag("PlatformRejected", () => Effect.succeed(Option.none<ContainerStatus>()))
        )
        if (Option.isNone(status)) return undefined
        switch (status.value.status) {
          case "FINISHED":
          case "IN_PROGRESS":
            return id
          case "PUBLISHED": {
            const found = yield* search(text, 0)
            return yield* new PostOutcomeUnknown({
              platform: "threads",
              reason: "post_outcome_unknown",
              description: `the container ${id} an earlier run prepared is PUBLISHED: the post was made${
                Option.isSome(found) ? ` (it may be ${found.value.postId})` : ", but Threads does not list it yet"
              }; Medusa does not publish it again. Check the recent threads of user ${options.userId}.`
            })
          }
          default:
            return undefined
        }
      })

    const post = Effect.fn("Threads.post")(function*(context: PostContext<ThreadsMetadata>) {
      const text = context.metadata.text
      const n = length(text)
      if (n > maxTextLength || text.trim() === "") {
        return yield* Effect.fail(
          new PlatformRejected({
            platform: "threads",
            reason: "invalid_metadata",
            description: n > maxTextLength ?
              `metadata.threads.text is ${n} characters once filled; Threads allows ${maxTextLength}` :
              "metadata.threads.text is empty once filled; write the post text"
          })
        )
      }
      // The container is this post's own: created once, saved with the post's intent before it is
      // published, published at most once. A later send (after a crash) takes the saved one up again.
      const reused = context.staged === undefined ? undefined : yield* reuseStaged(context.staged, text)
      const containerId = reused ?? (yield* createContainer(text))
      if (reused === undefined && context.onStaged !== undefined) yield* context.onStaged(containerId)
      yield* awaitContainer(containerId)
      const published = yield* PostOnce.postOnce({
        platform: "threads",
        policy,
        onWait: context.onWait,
        attempt: publishOnce(containerId),
        find: (sentAfter) =>
          Effect.gen(function*() {
            const found = yield* search(text, sentAfter)
            if (Option.isSome(found)) return found
            // Meta documents a PUBLISHED container status: the post exists although the listing lacks it
            // yet. Any other status is not taken as proof that nothing was published (a publish still
            // being handled may not show in it yet), so the outcome stays unknown either way.
            const status = yield* containerStatus(containerId)
            if (status.status === "PUBLISHED") {
              // Not PlatformUnavailable: searching again at once would not list it sooner.
              return yield* new PostOutcomeUnknown({
                platform: "threads",
                reason: "post_outcome_unknown",
                description: `the container ${containerId} is PUBLISHED (the post was made) but Threads does not ` +
                  "list the post yet"
              })
            }
            return Option.none()
          }),
        hint: `Check the recent threads of user ${options.userId} on https://www.threads.net for this text before ` +
          "running the task again."
      })
      return yield* withPermalink(published)
    })

    const find = Effect.fn("Threads.find")(function*(context: FindContext<ThreadsMetadata>) {
      return yield* search(context.metadata.text, context.intentAt)
    })

    // Deleting a thread (`DELETE /{threads-media-id}`, permission threads_delete) is not in the fact sheet
    // Medusa was built from; Meta's changelog lists it. An unknown id is taken as already deleted.
    const retract = Effect.fn("Threads.retract")(function*(published: PublishedPost) {
      const answer = yield* send(HttpClientRequest.del(`/${encodeURIComponent(published.postId)}`)).pipe(
        Effect.mapError((e) => PostOnce.transportError("threads", e, "deleting the post")),
        Effect.timeoutFail({ duration: deadline, onTimeout: () => unanswered("deleting the post") })
      )
      const graph = parseGraphError(answer.body)
      if (answer.status === 404 || graph?.subcode === 33) return "gone" as const
      if (answer.status >= 400) {
        return yield* Effect.fail(classify(answer, yield* Clock.currentTimeMillis, "deleting the post").error)
      }
      return "deleted" as const
    })

    return ThreadsPublisher.of({
      id: "threads",
      account: options.userId,
      validate,
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
export const layer = (options: Options): Layer.Layer<ThreadsPublisher, never, HttpClient.HttpClient> =>
  Layer.effect(ThreadsPublisher, make(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<ThreadsPublisher, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(ThreadsPublisher, Effect.flatMap(Config.unwrap(options), make))

// =============================================================================
// Credential check
// =============================================================================

/**
 * What `medusa auth check` reports about the Threads token.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly platform: "threads"
  /** The token works and belongs to the configured user. */
  readonly ok: boolean
  /** Threads accepted the token. */
  readonly valid: boolean
  readonly userId: string
  /** The handle `GET /me` answered. */
  readonly username?: string | undefined
  /** Human-readable problems, each with what to do. Never contains the token. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Checks the token with `GET /me?fields=id,username`, and that it is the
 * configured user's. An invalid token is a report; the effect fails only
 * when Threads cannot be asked.
 *
 * @since 0.1.0
 * @category credentials
 */
export const checkCredentials = (
  options: Options
): Effect.Effect<CredentialReport, PlatformUnavailable, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = `${(options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")}/${options.apiVersion ?? defaultApiVersion}`
    const http = yield* HttpClient.HttpClient
    const { body, status } = yield* http.execute(
      HttpClientRequest.get(`${base}/me`).pipe(
        HttpClientRequest.setUrlParams({ fields: "id,username" }),
        HttpClientRequest.bearerToken(options.accessToken),
        HttpClientRequest.acceptJson
      )
    ).pipe(
      Effect.flatMap(PostOnce.readAnswer),
      Effect.scoped,
      Effect.mapError((e) => PostOnce.transportError("threads", e, "reading /me"))
    )
    const report = (valid: boolean, problems: ReadonlyArray<string>, username?: string): CredentialReport => ({
      platform: "threads",
      ok: problems.length === 0,
      valid,
      userId: options.userId,
      ...(username !== undefined ? { username } : {}),
      problems
    })
    if (status === 401 || parseGraphError(body)?.code === 190) {
      return report(false, [
        "Threads rejected the access token (expired or revoked; long-lived tokens last 60 days): refresh it or " +
        "authorize the app again, and update threads.access_token"
      ])
    }
    if (status >= 400) return report(true, [`Threads answered ${status} to GET /me`])
    const me = asRecord(body) ?? {}
    const username = typeof me.username === "string" ? me.username : undefined
    if (me.id !== options.userId) {
      return report(true, [
        `the token belongs to Threads user ${String(me.id)}${username === undefined ? "" : ` (@${username})`}, ` +
        `not threads.user_id ${options.userId}: set threads.user_id to ${String(me.id)}`
      ], username)
    }
    return report(true, [], username)
  })
