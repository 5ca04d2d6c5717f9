/**
 * `--log-format json`: one JSON object per line, with the level, the
 * message, the task and platform the fiber works for (its log annotations),
 * and the current trace and span ids (so that a log line leads to its trace). Messages and causes
 * are scrubbed like span attributes (no URL query, no cause chain).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import * as Scrub from "./scrub.js"
import { LogKey } from "./spans.js"

const messageText = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((m) => (typeof m === "string" ? m : Inspectable.toStringUnknown(m, 0))).join(" ")
}

/** @internal */
export interface LogRecord {
  readonly time: string
  readonly level: string
  readonly message: string
  readonly task_id?: string
  readonly platform?: string
  readonly trace_id?: string
  readonly span_id?: string
  readonly fiber: string
  readonly cause?: string
  readonly [annotation: string]: unknown
}

/**
 * The record of one log call.
 *
 * @internal
 */
export const record = (options: Logger.Logger.Options<unknown>): LogRecord => {
  const out: Record<string, unknown> = {
    time: options.date.toISOString(),
    level: options.logLevel.label,
    message: Scrub.text(messageText(options.message))
  }
  const taskId = HashMap.get(options.annotations, LogKey.taskId)
  if (Option.isSome(taskId)) out.task_id = taskId.value
  const platform = HashMap.get(options.annotations, LogKey.platform)
  if (Option.isSome(platform)) out.platform = platform.value
  const span = Context.getOption(FiberRefs.getOrDefault(options.context, FiberRef.currentContext), Tracer.ParentSpan)
  if (Option.isSome(span)) {
    out.trace_id = span.value.traceId
    out.span_id = span.value.spanId
  }
  out.fiber = FiberId.threadName(options.fiberId)
  if (!Cause.isEmpty(options.cause)) out.cause = Scrub.text(Cause.pretty(Scrub.cause(options.cause)))
  for (const [key, value] of options.annotations) {
    if (!(key in out)) out[key] = typeof value === "string" ? Scrub.text(value) : value
  }
  return out as LogRecord
}

/**
 * A logger writing one JSON line per entry through `write` (default: stderr),
 * for entries at `minimum` or above.
 *
 * @internal
 */
export const make = (
  write: (line: string) => void = (line) => void process.stderr.write(line),
  minimum: LogLevel.LogLevel = LogLevel.Info
): Logger.Logger<unknown, void> =>
  Logger.make((options) => {
    if (!LogLevel.greaterThanEqual(options.logLevel, minimum)) return
    write(JSON.stringify(record(options)) + "\n")
  })
