/**
 * The spans Medusa adds to Effect's tracer, their attribute names, and span
 * events. Whatever tracer is installed receives them: Effect's built-in one
 * (nothing leaves the process) unless `Telemetry.layer` installs the OTLP
 * exporter.
 *
 * Tree of a task: `Medusa.task` → the adapters' spans, one per upload and
 * post (`YouTube.upload`, `Facebook.post`, …) → `http.client <METHOD>` per
 * request (the platform `HttpClient`'s spans).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { Target } from "../../PlatformId.js"
import { platformOf } from "../../PlatformId.js"
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
  task: "Medusa.task"
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
 * Runs one platform's upload or post. It opens no span of its own: the
 * adapter's span (`YouTube.upload`, `Facebook.post`, …) is the step's span,
 * and gets `medusa.platform` and `medusa.account` (as do the HTTP request
 * spans under it); the step's outcome (`ok`, `failed`, `skipped`, …) goes on
 * the task's span as `medusa.outcome.<platform>`. A span per step on top of
 * the adapter's would double the spans of a task for the same work. Log
 * lines inside are annotated with the platform.
 *
 * @internal
 */
export const step = (
  target: Target,
  account: string | undefined
) => {
  // `medusa.outcome.facebook:brand` for a named account; `medusa.platform` stays the platform.
  const outcomeKey = `${Attr.outcome}.${target}`
  const platform = platformOf(target)
  return <A extends string, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    effect.pipe(
      Effect.onExit((exit) =>
        Effect.annotateCurrentSpan(
          outcomeKey,
          Exit.isSuccess(exit) ? exit.value : Exit.isInterrupted(exit) ? "aborted" : "failed"
        )
      ),
      account === undefined ?
        Effect.annotateSpans(Attr.platform, platform) :
        Effect.annotateSpans({ [Attr.platform]: platform, [Attr.account]: account }),
      Effect.annotateLogs(LogKey.platform, platform)
    )
}

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
