/**
 * The webhook dispatcher: fans the store's outbox out to the endpoints,
 * attempts due deliveries over HTTP, and records each outcome in the store
 * before anything else happens to it, so a restart carries on where the last
 * process stopped.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { ConfigError, Issue, StoreError } from "../../PublishError.js"
import { isFinal } from "../../Task.js"
import { TaskStore } from "../../TaskStore.js"
import type { Endpoint, Options } from "../../Webhooks.js"
import { parseRetryAfter } from "../http/retryAfter.js"
import type { Delivery, Outbox } from "./outbox.js"
import { keyOf, sign } from "./signing.js"

// The public module documents them; the dispatcher works on the same shapes.
/** @internal */
export type { Endpoint, Options } from "../../Webhooks.js"

/**
 * The Standard Webhooks example schedule after the first attempt (5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), each delay jittered by ±20 %.
 *
 * @internal
 */
export const retrySchedule: Schedule.Schedule<Duration.Duration> = Schedule.fromDelays(
  "5 seconds",
  "5 minutes",
  "30 minutes",
  "2 hours",
  "5 hours",
  "10 hours",
  "14 hours",
  "20 hours",
  "24 hours"
).pipe(Schedule.jittered)

/**
 * The delay before attempt `attempts + 1` after `attempts` failed ones, as
 * `schedule` gives it; `None` once the schedule is exhausted.
 *
 * @internal
 */
export const delayAfter = (
  schedule: Schedule.Schedule<unknown, unknown>,
  attempts: number
): Effect.Effect<Option.Option<number>> =>
  Effect.map(
    Schedule.run(Schedule.delays(schedule), 0, Array.from({ length: attempts + 1 }, () => undefined)),
    (delays) =>
      // `run` also returns the output of the step that ended the schedule.
      delays.length > attempts ?
        Option.some(Duration.toMillis(Chunk.unsafeGet(delays, attempts - 1))) :
        Option.none()
  )

/** @internal */
export const deliveriesTotal = Metric.counter("medusa_webhook_deliveries_total", {
  description: "Webhook delivery attempts, by result (success, failure, disabled).",
  incremental: true
})

const countAttempt = (result: "success" | "failure" | "disabled") =>
  Metric.increment(Metric.tagged(deliveriesTotal, "result", result))

/** An endpoint's URL for logs: origin and path (a query may carry a token). */
const shown = (url: string): string => {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return "<invalid url>"
  }
}

/** Checks endpoints and their secrets once, at start. @internal */
export const checkEndpoints = (endpoints: ReadonlyArray<Endpoint>): Effect.Effect<Map<string, Buffer>, ConfigError> =>
  Effect.suspend(() => {
    const keys = new Map<string, Buffer>()
    const issues: Array<Issue> = []
    endpoints.forEach((endpoint, i) => {
      try {
        const u = new URL(endpoint.url)
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("not http(s)")
      } catch {
        issues.push(new Issue({ path: ["server", "webhooks", i, "url"], message: "must be an http(s) URL" }))
      }
      const key = keyOf(endpoint.secret)
      if (typeof key === "string") issues.push(new Issue({ path: ["server", "webhooks", i, "secret"], message: key }))
      else keys.set(endpoint.url, key)
    })
    return issues.length > 0 ?
      Effect.fail(new ConfigError({ file: "webhooks", issues })) :
      Effect.succeed(keys)
  })

/** @internal */
export const run = (
  options: Options
): Effect.Effect<void, ConfigError | StoreError, TaskStore | HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const store = yield* TaskStore
    const outbox: Outbox | undefined = store.outbox
    if (outbox === undefined) {
      return yield* new StoreError({
        reason: "unavailable",
        description: "This task store keeps no webhook outbox; use the memory, SQLite or PostgreSQL store."
      })
    }
    const keys = yield* checkEndpoints(options.endpoints)
    const endpoints = new Map(options.endpoints.map((e) => [e.url, e]))
    const schedule = options.schedule ?? retrySchedule
    const pollInterval = Duration.decode(options.pollInterval ?? "1 second")
    const timeout = Duration.decode(options.timeout ?? "15 seconds")
    const lease = Duration.toMillis(timeout) + 30_000
    const concurrency = options.concurrency ?? 8
    const maxEventAge = Duration.toMillis(options.maxEventAge ?? "24 hours")
    const maxRetryAfter = Duration.toMillis(options.maxRetryAfter ?? "24 hours")
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))

    const attempt = (delivery: Delivery) =>
      Effect.gen(function*() {
        const endpoint = endpoints.get(delivery.url)
        const now = yield* Clock.currentTimeMillis
        const attempts = delivery.attempts + 1
        if (endpoint === undefined) {
          // The endpoint left the config while this delivery waited.
          return yield* outbox.record(delivery.id, {
            state: "failed",
            attempts: delivery.attempts,
            lastStatus: delivery.lastStatus,
            lastError: "endpoint no longer configured",
            nextAt: undefined,
            now
          })
        }
        const timestamp = Math.floor(now / 1000)
        const request = HttpClientRequest.post(delivery.url).pipe(
          HttpClientRequest.setHeaders({
            "webhook-id": delivery.eventId,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": sign(keys.get(delivery.url)!, delivery.eventId, timestamp, delivery.body),
            "user-agent": "medusa-webhooks"
          }),
          HttpClientRequest.bodyText(delivery.body, "application/json")
        )
        const response = yield* client.execute(request).pipe(
          Effect.tap((res) => Effect.ignore(res.text)),
          Effect.timeout(timeout),
          Effect.either
        )
        const done = yield* Clock.currentTimeMillis
        let status: number | undefined
        let error: string | undefined
        let retryAfter: number | undefined
        if (response._tag === "Right") {
          status = response.right.status
          if (status >= 200 && status < 300) {
            yield* countAttempt("success")
            return yield* outbox.record(delivery.id, {
              state: "delivered",
              attempts,
              lastStatus: status,
              lastError: undefined,
              nextAt: undefined,
              now: done
            })
          }
          if (status === 410) {
            yield* countAttempt("disabled")
            yield* outbox.record(delivery.id, {
              state: "disabled",
              attempts,
              lastStatus: status,
              lastError: "410 Gone: endpoint disabled",
              nextAt: undefined,
              now: done
            })
            yield* outbox.disable(delivery.url, done, "answered 410 Gone")
            return yield* Effect.logWarning(
              `Medusa: webhook endpoint ${shown(delivery.url)} answered 410 Gone; it is disabled`
            )
          }
          error = `HTTP ${status}`
          if (status === 429 || status === 502 || status === 503 || status === 504) {
            retryAfter = parseRetryAfter(response.right.headers["retry-after"], done)
          }
        } else {
          const e = response.left
          error = e._tag === "TimeoutException" ?
            `no response within ${Duration.format(timeout)}` :
            `request failed (${e.reason})`
        }
        yield* countAttempt("failure")
        const delay = retryAfter !== undefined ?
          Option.some(Math.min(retryAfter, maxRetryAfter)) :
          yield* delayAfter(schedule, attempts)
        yield* outbox.record(delivery.id, {
          state: Option.isSome(delay) ? "pending" : "failed",
          attempts,
          lastStatus: status,
          lastError: error,
          nextAt: Option.isSome(delay) ? done + delay.value : undefined,
          now: done
        })
        yield* Effect.logDebug(
          `Medusa: webhook ${delivery.type} to ${shown(delivery.url)}: attempt ${attempts} failed (${error})`
        )
      }).pipe(
        // Stopped mid-attempt (a shutdown): hand the delivery back at once
        // rather than leave it leased; the receiver dedupes on `webhook-id`.
        Effect.onInterrupt(() =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            outbox.record(delivery.id, {
              state: "pending",
              attempts: delivery.attempts,
              lastStatus: delivery.lastStatus,
              lastError: delivery.lastError,
              nextAt: now,
              now
            })).pipe(Effect.ignore)
        )
      )

    const subscriptions = options.endpoints.map((e) => ({ url: e.url, events: e.events }))
    const tick = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      yield* outbox.fanOut(subscriptions, now, maxEventAge)
      while (true) {
        const due = yield* outbox.claim(yield* Clock.currentTimeMillis, lease, concurrency * 4)
        if (due.length === 0) return
        yield* Effect.forEach(due, attempt, { concurrency, discard: true })
      }
    }).pipe(
      // A process that only views a store another one owns cannot dispatch: the owner does.
      Effect.catchIf(
        (e) => e.reason === "locked",
        (e) => Effect.logDebug(`Medusa: webhooks wait for the store's owner (${e.description})`)
      ),
      Effect.catchAllCause((cause) => Effect.logWarning("Medusa: webhook dispatch failed; retrying", cause))
    )

    // A change wakes the loop at once; the poll catches due retries and what
    // other processes recorded.
    const wake = yield* Queue.sliding<void>(1)
    // Only changes that record events wake it: state changes, and uploads or
    // posts that finished (counted per running task), not progress updates.
    const seen = new Map<string, number>()
    yield* store.changes.pipe(
      Stream.runForEach((change) => {
        const task = change.task
        const done = task.videos.length + task.posts.length
        const before = seen.get(task.id)
        if (isFinal(task.state)) seen.delete(task.id)
        else seen.set(task.id, done)
        return change.previous !== task.state || done !== (before ?? 0) ?
          Queue.offer(wake, undefined) :
          Effect.void
      }),
      Effect.catchAllCause(() => Effect.void),
      Effect.forkScoped
    )
    yield* tick.pipe(
      Effect.zipRight(Effect.race(Queue.take(wake), Effect.sleep(pollInterval))),
      Effect.forever,
      Effect.forkScoped
    )
  })
