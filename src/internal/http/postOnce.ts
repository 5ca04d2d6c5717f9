/**
 * The never-post-twice machinery shared by the Facebook, X and LinkedIn
 * publishers.
 *
 * A post is not idempotent, so every failed attempt is sorted into one of
 * three kinds before anything else happens:
 * - `retry`: the platform certainly created nothing (the connection was
 *   refused before a byte left, or the answer says so: `429`, a documented
 *   transient code). Retried after the wait the platform asked for.
 * - `fail`: a definitive answer (bad token, duplicate, invalid text).
 * - `unknown`: the request may have reached the platform (a dropped
 *   connection after sending, a timeout, a `5xx`). Never retried: the
 *   platform is searched for the post, and when nothing confirms it the
 *   task fails with `post_outcome_unknown`.
 *
 * This HTTP plumbing is written for the publishers only; the host adapters
 * have their own (see the report of issue 5 about folding them later).
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { PostContext, PostWait } from "../../Platform.js"
import { displayName, type PublisherId } from "../../PlatformId.js"
import { type PlatformError, PlatformUnavailable, PostOutcomeUnknown, QuotaExceeded } from "../../PublishError.js"
import * as Template from "../../Template.js"
import * as Metrics from "../telemetry/metrics.js"
import * as Spans from "../telemetry/spans.js"

// =============================================================================
// Attempt outcomes
// =============================================================================

/**
 * Why one post attempt did not produce a post.
 *
 * @internal
 */
export class AttemptFailed extends Data.TaggedError("AttemptFailed")<{
  readonly kind: "retry" | "fail" | "unknown"
  /** What the task fails with if this is the last word. */
  readonly error: PlatformError
  /** For `retry`: how long the platform asked to wait, in milliseconds. */
  readonly waitMillis?: number | undefined
}> {}

/** @internal */
export const fail = (error: PlatformError): AttemptFailed => new AttemptFailed({ kind: "fail", error })

/** @internal */
export const retry = (error: PlatformError, waitMillis?: number): AttemptFailed =>
  new AttemptFailed({ kind: "retry", error, waitMillis })

/** @internal */
export const unknown = (error: PlatformError): AttemptFailed => new AttemptFailed({ kind: "unknown", error })

// =============================================================================
// Transport errors
// =============================================================================

// Errors raised while connecting: the request cannot have left the machine.
const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"])

const causeCodes = (error: unknown): Array<string> => {
  const codes: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") codes.push(code)
    current = (current as { readonly cause?: unknown }).cause
  }
  return codes
}

/**
 * True when the error proves that no byte of the request reached the
 * platform (connection refused, name not resolved, network unreachable).
 *
 * @internal
 */
export const neverSent = (error: HttpClientError.RequestError): boolean =>
  error.reason === "InvalidUrl" || error.reason === "Encode" ||
  causeCodes(error.cause).some((code) => NEVER_SENT_CODES.has(code))

// The cause is kept as a plain, credential-free description: a raw
// `HttpClientError` holds the request, and its headers carry the token.
const transportDetail = (error: HttpClientError.HttpClientError): string => {
  const codes = causeCodes(error.cause)
  const inner = (error.cause as { readonly message?: unknown } | undefined)?.message
  return [codes[0], typeof inner === "string" ? inner : undefined].filter(Boolean).join(": ") || error.reason
}

/**
 * Sorts a transport error of a *post* request: refused connections are
 * retried, anything else may have reached the platform.
 *
 * @internal
 */
export const classifyPostTransport = (
  platform: PublisherId,
  error: HttpClientError.HttpClientError
): AttemptFailed => {
  const detail = transportDetail(error)
  if (error._tag === "RequestError" && neverSent(error)) {
    return error.reason === "Transport" ?
      retry(
        new PlatformUnavailable({
          platform,
          reason: "transport",
          description: `could not connect to ${displayName[platform]} (${detail}); nothing was sent`
        })
      ) :
      fail(new PlatformUnavailable({ platform, reason: "transport", description: detail }))
  }
  return unknown(
    new PlatformUnavailable({
      platform,
      reason: "transport",
      description: `the connection failed after the post request was sent (${detail})`
    })
  )
}

/**
 * Maps a transport error of a request that creates nothing (a search, a
 * credential check, a media segment).
 *
 * @internal
 */
export const transportError = (
  platform: PublisherId,
  error: HttpClientError.HttpClientError,
  what: string
): PlatformUnavailable =>
  new PlatformUnavailable({
    platform,
    reason: "transport",
    description: `${what} failed: ${transportDetail(error)}`
  })

/**
 * Reads a JSON body, `undefined` when it is empty or not JSON (error bodies
 * of proxies, the `201` without a body of LinkedIn).
 *
 * @internal
 */
export const jsonBody = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<unknown> =>
  response.text.pipe(
    Effect.map((text) => {
      if (text.length === 0) return undefined
      try {
        return JSON.parse(text) as unknown
      } catch {
        return undefined
      }
    }),
    Effect.orElseSucceed(() => undefined)
  )

/**
 * A platform's answer: status, headers and the JSON body (as `jsonBody`).
 *
 * @internal
 */
export interface Answer {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: unknown
}

/**
 * Reads a response into an `Answer`.
 *
 * @internal
 */
export const readAnswer = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<Answer> =>
  Effect.map(jsonBody(response), (body) => ({ status: response.status, headers: response.headers, body }))

// =============================================================================
// Rate-limit waits
// =============================================================================

/**
 * Milliseconds to wait from a `Retry-After` header (seconds or an HTTP date).
 *
 * @internal
 */
export { parseRetryAfter as retryAfterMillis } from "./retryAfter.js"

/**
 * A rate-limited answer that created nothing: retried after `waitMillis`
 * (or `fallbackMillis` when the platform gave no hint).
 *
 * @internal
 */
export const rateLimited = (options: {
  readonly platform: PublisherId
  readonly status?: number | undefined
  readonly code?: string | undefined
  readonly platformMessage?: string | undefined
  readonly waitMillis: number | undefined
  readonly fallbackMillis: number
  readonly now: number
  readonly description?: string | undefined
}): AttemptFailed => {
  const wait = Math.max(0, Math.ceil(options.waitMillis ?? options.fallbackMillis))
  return retry(
    new QuotaExceeded({
      platform: options.platform,
      reason: "rate_limited",
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(options.code !== undefined ? { code: options.code } : {}),
      ...(options.platformMessage !== undefined ? { platformMessage: options.platformMessage } : {}),
      description: options.description ??
        `rate limited; ${displayName[options.platform]} can be tried again in ${Math.ceil(wait / 1000)} s`,
      retryAfter: wait,
      resetsAt: options.now + wait
    }),
    wait
  )
}

// =============================================================================
// The post loop
// =============================================================================

/**
 * Settings of the post loop, shared by the three publishers' options.
 *
 * @internal
 */
export interface PostPolicy {
  /** Attempts in all, counting the first (default 4). */
  readonly maxAttempts: number
  /** A rate-limit wait longer than this fails the task instead (default 16 minutes: a 15-minute window and slack). */
  readonly maxWaitMillis: number
  /** One post request (send and answer) taking longer than this has an unknown outcome (default 60 s). */
  readonly timeoutMillis: number
}

/** @internal */
export const defaultPolicy: PostPolicy = {
  maxAttempts: 4,
  maxWaitMillis: 16 * 60_000,
  timeoutMillis: 60_000
}

/**
 * Backoff between retries the platform did not time (refused connections,
 * transient codes); a platform-given wait replaces it.
 */
const retryBackoff = Schedule.exponential("1 second", 2)

/**
 * Retries only `retry` failures, at most `maxAttempts - 1` times, each after
 * the wait the platform asked for (or the backoff), and never a wait longer
 * than `maxWaitMillis`.
 */
const postRetryPolicy = (platform: PublisherId, policy: PostPolicy, onWait: PostContext<unknown>["onWait"]) =>
  retryBackoff.pipe(
    Schedule.intersect(Schedule.recurs(Math.max(0, policy.maxAttempts - 1))),
    Schedule.intersect(Schedule.identity<AttemptFailed>()),
    Schedule.whileInput((e: AttemptFailed) =>
      e.kind === "retry" && (e.waitMillis === undefined || e.waitMillis <= policy.maxWaitMillis)
    ),
    Schedule.modifyDelayEffect(([[, retries], e], delay) => {
      const counted = noteRetry(platform, retries + 2, e)
      if (e.waitMillis === undefined) return Effect.as(counted, delay)
      const wait = Duration.millis(e.waitMillis)
      // A wait the platform asked for is worth telling the task about; a short backoff is not.
      const waited = Effect.zipRight(counted, noteWait(platform, e.waitMillis, waitReason(e.error)))
      return onWait === undefined ? Effect.as(waited, wait) : Effect.as(
        Effect.zipRight(
          waited,
          Effect.flatMap(
            Clock.currentTimeMillis,
            (now) => onWait({ reason: waitReason(e.error), until: now + e.waitMillis! })
          )
        ),
        wait
      )
    })
  )

/** Counts a retry, notes it on the current span (the publisher's post span) and in the log. */
const noteRetry = (platform: PublisherId, nextAttempt: number, e: AttemptFailed): Effect.Effect<void> => {
  Metrics.unsafeIncrement(Metrics.retries[platform].post)
  return Effect.zipRight(
    Spans.event("retry", {
      [Spans.Attr.attempt]: nextAttempt,
      "medusa.reason": e.error.reason,
      ...(e.error.status !== undefined ? { "http.response.status_code": e.error.status } : {})
    }),
    Effect.logInfo(
      `${displayName[platform]}: ${waitReason(e.error)}${
        e.error.status !== undefined ? ` (HTTP ${e.error.status})` : ""
      }, trying the post again (attempt ${nextAttempt})`
    )
  )
}

/** Counts a wait the platform asked for and notes it on the current span. */
const noteWait = (platform: PublisherId, millis: number, reason: string): Effect.Effect<void> => {
  Metrics.unsafeIncrement(Metrics.rateLimitWaits[platform])
  Metrics.unsafeIncrement(Metrics.rateLimitWaitSeconds[platform], millis / 1000)
  return Spans.event("rate_limit_wait", { "medusa.wait_ms": millis, "medusa.reason": reason })
}

/** `"rate limited"`, `"quota exceeded"`: the error's reason in words. @internal */
export const waitReason = (error: PlatformError): string => error.reason.replace(/_/g, " ")

/** Retries of the search after an unknown outcome: 0.5 s, then 1 s. */
const findRetryPolicy = Schedule.exponential("500 millis", 2).pipe(Schedule.intersect(Schedule.recurs(2)))

/**
 * Runs `attempt` (one post request) under the never-post-twice rules. When
 * the outcome is unknown, `find(sentAfter)` looks for the post, where
 * `sentAfter` is when this call started (before any request was sent; the
 * publisher applies `Platform.madeAfter` to it); a post it finds is the
 * result, otherwise the task fails with `PostOutcomeUnknown`, whose
 * description ends with `hint` (what the user should check).
 *
 * @internal
 */
export const postOnce = <A>(options: {
  readonly platform: PublisherId
  readonly policy: PostPolicy
  /**
   * Runs before each attempt, outside its timeout: a known rate-limit window
   * to hold the post for (announced through `onWait`, then slept), or a
   * failure when it is too long.
   */
  readonly gate?: Effect.Effect<PostWait | undefined, AttemptFailed> | undefined
  /** Told before a wait the platform asked for (the post context's `onWait`). */
  readonly onWait?: PostContext<unknown>["onWait"]
  /** One post request; `timeoutMillis` applies to it. */
  readonly attempt: Effect.Effect<A, AttemptFailed>
  /** Searches the platform for the post made after `sentAfter` (epoch ms); `None` when it is not there. */
  readonly find: (sentAfter: number) => Effect.Effect<Option.Option<A>, PlatformError>
  readonly hint: string
}): Effect.Effect<A, PlatformError> =>
  Effect.gen(function*() {
    const startedAt = yield* Clock.currentTimeMillis
    const gate = options.gate === undefined ?
      Effect.void :
      Effect.flatMap(options.gate, (hold) => hold === undefined ? Effect.void : holdPost(options, hold))
    let attempts = 0
    const timed = Effect.zipRight(
      gate,
      Effect.suspend(() => Spans.attempt(++attempts)(options.attempt)).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(options.policy.timeoutMillis),
          onTimeout: () =>
            unknown(
              new PlatformUnavailable({
                platform: options.platform,
                reason: "timeout",
                description: `no answer to the post request within ${Math.round(options.policy.timeoutMillis / 1000)} s`
              })
            )
        })
      )
    )
    return yield* timed.pipe(
      Effect.retry(postRetryPolicy(options.platform, options.policy, options.onWait)),
      Effect.catchAll((failure) =>
        failure.kind === "unknown" ?
          resolveUnknown(options, failure, startedAt) :
          Effect.fail(failure.error)
      )
    )
  })

/** Holds the post until `hold.until`, saying why in the log and to the task. */
const holdPost = (
  options: { readonly platform: PublisherId; readonly onWait?: PostContext<unknown>["onWait"] },
  hold: PostWait
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const wait = hold.until - (yield* Clock.currentTimeMillis)
    if (wait <= 0) return
    yield* Effect.logInfo(`${displayName[options.platform]}: ${hold.reason}, holding the post`).pipe(
      Effect.annotateLogs({ waitMillis: wait })
    )
    yield* noteWait(options.platform, wait, hold.reason)
    if (options.onWait !== undefined) yield* options.onWait(hold)
    yield* Effect.sleep(Duration.millis(wait))
  })

const resolveUnknown = <A>(
  options: {
    readonly platform: PublisherId
    readonly policy: PostPolicy
    readonly find: (sentAfter: number) => Effect.Effect<Option.Option<A>, PlatformError>
    readonly hint: string
  },
  failure: AttemptFailed,
  sentAfter: number
): Effect.Effect<A, PlatformError> => {
  const what = failure.error.description ?? failure.error.reason
  const unknownError = (searched: string) =>
    new PostOutcomeUnknown({
      platform: options.platform,
      reason: "post_outcome_unknown",
      ...(failure.error.status !== undefined ? { status: failure.error.status } : {}),
      platformMessage: `the post may or may not have been created (${what})`,
      description: `${searched} Medusa did not retry, so that nothing is posted twice. ${options.hint}`
    })
  return options.find(sentAfter).pipe(
    // A search has the post request's deadline, then counts as unreachable.
    Effect.timeoutFail({
      duration: Duration.millis(options.policy.timeoutMillis),
      onTimeout: () =>
        new PlatformUnavailable({
          platform: options.platform,
          reason: "timeout",
          description: `no answer to the search within ${Math.round(options.policy.timeoutMillis / 1000)} s`
        })
    }),
    // A search is a read: safe to repeat when the platform is briefly unreachable.
    Effect.retry({ schedule: findRetryPolicy, while: (error) => error._tag === "PlatformUnavailable" }),
    Effect.catchAll((error) =>
      Effect.fail(unknownError(`Looking for the post failed too (${error.description ?? error.reason}).`))
    ),
    Effect.tap((found) =>
      Metrics.increment(Metrics.postReconciliations[options.platform][Option.isSome(found) ? "found" : "not_found"])
    ),
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(unknownError(`No matching recent post was found on ${displayName[options.platform]}.`)),
      onSome: (post) =>
        Effect.logInfo(`${displayName[options.platform]}: the post landed although its answer was lost`).pipe(
          Effect.as(post)
        )
    }))
  )
}

// =============================================================================
// Finding posts by text
// =============================================================================

const URL_PATTERN = /https?:\/\/\S+/gi

/**
 * Text as platforms give it back: URLs may be shortened (X's t.co), spaces
 * collapsed, trailing spaces trimmed. Two texts that normalise alike are
 * the same post.
 *
 * @internal
 */
export const normalizeText = (text: string): string =>
  text.normalize("NFC").replace(URL_PATTERN, "<url>").replace(/\s+/g, " ").trim()

/** @internal */
export const sameText = (a: string, b: string): boolean => normalizeText(a) === normalizeText(b)

/**
 * Epoch milliseconds from an ISO date, UNIX seconds, epoch milliseconds or a
 * Graph date (`2026-11-21T10:00:00+0000`).
 *
 * @internal
 */
export const parseTime = (value: unknown): number | undefined => {
  if (typeof value === "number" && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value
  if (typeof value !== "string" || value === "") return undefined
  if (/^\d+$/.test(value)) return parseTime(Number(value))
  const graph = /^(.*[+-]\d\d)(\d\d)$/.exec(value)
  const parsed = Date.parse(graph ? `${graph[1]}:${graph[2]}` : value)
  return Number.isNaN(parsed) ? undefined : parsed
}

// =============================================================================
// Template placeholders for submit-time checks
// =============================================================================

const variablePattern = new RegExp(`\\{(${Template.variables.join("|")})\\}`, "g")

export const fillPlaceholders = (template: string): string =>
  template.replace(variablePattern, (_, name: Template.Variable) => Template.placeholders[name])
