/**
 * The spans Medusa adds to Effect's tracer, their attribute names, and span
 * events. Whatever tracer is installed receives them: Effect's built-in one
 * (nothing leaves the process) unless `Telemetry.layer` installs the OTLP
 * exporter.
 *
 * Tree of a task: `Medusa.task` → `Medusa.upload` / `Medusa.post` (one per
 * platform) → the adapter's own spans (`YouTube.upload`, `Facebook.post`, …)
 * → `http.client <METHOD>` per request (the platform `HttpClient`'s spans).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { PlatformId } from "../../PlatformId.js"
import type { TaskId } from "../../TaskId.js"

/** @internal */
export const Attr = {
  taskId: "medusa.task_id",
  platforms: "medusa.platforms",
  platform: "medusa.platform",
  account: "medusa.account",
  bytes: "medusa.bytes",
  attempt: "medusa.attempt",
  outcome: "medusa.outcome",
  state: "medusa.state"
} as const

/** @internal */
export const SpanName = {
  task: "Medusa.task",
  upload: "Medusa.upload",
  post: "Medusa.post"
} as const

/** The log annotations every log line of a task carries (`--log-format json` writes them). @internal */
export const LogKey = { taskId: "task_id", platform: "platform" } as const

/**
 * Runs a task's orchestration in its `Medusa.task` span, and annotates its
 * log lines with the task id. The spans inside are found by their trace; the
 * id is not repeated on each (every attribute is bytes in every export).
 *
 * @internal
 */
export const task = (id: TaskId) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.annotateLogs(LogKey.taskId, id),
    // No stack trace: it is an Error built per span, and these spans' names say where they are.
    Effect.withSpan(SpanName.task, { attributes: { [Attr.taskId]: id }, captureStackTrace: false })
  )

/**
 * Runs one platform's upload or post in its span; its outcome (`ok`,
 * `failed`, `skipped`, …) becomes `medusa.outcome`. Log lines inside are
 * annotated with the platform.
 *
 * @internal
 */
export const step = (
  name: typeof SpanName.upload | typeof SpanName.post,
  platform: PlatformId,
  account: string | undefined
) =>
<A extends string, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.tap((outcome) => Effect.annotateCurrentSpan(Attr.outcome, outcome)),
    Effect.annotateLogs(LogKey.platform, platform),
    Effect.withSpan(name, {
      attributes: account === undefined ?
        { [Attr.platform]: platform } :
        { [Attr.platform]: platform, [Attr.account]: account },
      captureStackTrace: false
    })
  )

/**
 * Adds an event to the current span (none when there is no span).
 *
 * @internal
 */
export const event = (name: string, attributes: Record<string, unknown>): Effect.Effect<void> =>
  Effect.flatMap(Effect.option(Effect.currentSpan), (span) =>
    Option.isNone(span) ?
      Effect.void :
      Effect.flatMap(Clock.currentTimeNanos, (now) => Effect.sync(() => span.value.event(name, now, attributes))))

/**
 * Runs one attempt of a request with `medusa.attempt` on the spans inside it
 * (the HTTP client's request spans).
 *
 * @internal
 */
export const attempt = (n: number) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.annotateSpans(effect, Attr.attempt, n)
