/**
 * Runs a command's program and turns its outcome into an exit code: 0
 * success, 1 the task failed, 2 bad input or config (the typed error's
 * message, never a stack trace), 130 interrupted. Shared by the full command
 * line (`main.ts`) and the read commands' fast path (`fastRead.ts`).
 *
 * @internal
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { ExitCode } from "./exit.js"
import * as LogFormat from "./logFormat.js"

/** Text of an unexpected failure: its message only, never its stack. @internal */
export const describeUnknown = (error: unknown): string =>
  error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error)

/**
 * The exit code for how the program ended, after printing what the user
 * needs. `printed` recognises failures already shown (bad input that
 * `@effect/cli` reported itself): they exit 2 without another message.
 *
 * @internal
 */
export const exitCodeOf = (
  exit: Exit.Exit<unknown, unknown>,
  write: (text: string) => void,
  printed: (error: unknown) => boolean = () => false
): number => {
  if (Exit.isSuccess(exit)) return ExitCode.success
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (printed(error)) return ExitCode.badInput
    if (typeof error === "object" && error !== null && "_tag" in error && error._tag === "CliExit") {
      const e = error as unknown as { readonly code: number; readonly text?: string | undefined }
      if (e.text) write(e.text.endsWith("\n") ? e.text : `${e.text}\n`)
      return e.code
    }
    write(`medusa: ${describeUnknown(error)}\n`)
    return ExitCode.taskFailed
  }
  if (Cause.isInterruptedOnly(exit.cause)) return ExitCode.interrupted
  const defect = Cause.squash(exit.cause)
  write(`medusa: unexpected error: ${describeUnknown(defect)}\n`)
  return ExitCode.taskFailed
}

/**
 * How long Ctrl+C waits for a clean shutdown. Nothing is lost by cutting it
 * short: the durable store records every step as it happens (the engine
 * resumes after `kill -9` just the same), and an in-memory task is cancelled
 * by then. A second Ctrl+C exits at once.
 */
const shutdownGraceMillis = 2_000

let stopping = false

const onSignal = () => {
  stopping = true
  setTimeout(() => process.exit(ExitCode.interrupted), shutdownGraceMillis).unref()
  process.once("SIGINT", () => process.exit(ExitCode.interrupted))
}

/**
 * Library warnings and errors as plain `medusa: warning: …` lines on stderr
 * (not logfmt); below warnings, nothing. With `--log-format json`, JSON lines.
 *
 * @internal
 */
export const cliLogger: Logger.Logger<unknown, void> = Logger.make((options) => {
  const { logLevel, message } = options
  // `--log-format json`: every entry from Info up, as a JSON line.
  if (LogFormat.state.json !== undefined) return LogFormat.state.json.log(options)
  // After Ctrl+C, what the engine says while shutting down is noise.
  if (stopping || !LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) return
  const text = (Array.isArray(message) ? message : [message]).map((m) => (typeof m === "string" ? m : String(m)))
    .join(" ")
  process.stderr.write(`medusa: ${logLevel._tag === "Warning" ? "warning" : "error"}: ${text}\n`)
})

/**
 * Runs `program` as the process's main fiber with the CLI's logger and
 * signal handling, then exits with its code.
 *
 * @internal
 */
export const runMain = (
  program: Effect.Effect<void, unknown>,
  printed?: (error: unknown) => boolean
): void => {
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  program.pipe(
    Effect.provide(Logger.replace(Logger.defaultLogger, cliLogger)),
    NodeRuntime.runMain({
      disableErrorReporting: true,
      disablePrettyLogger: true,
      teardown: (exit: Exit.Exit<unknown, unknown>) => {
        const code = exitCodeOf(exit, (text) => process.stderr.write(text), printed)
        // Exit now: open keep-alive sockets or a lingering sandbox must not hold the process.
        process.exit(code)
      }
    })
  )
}
