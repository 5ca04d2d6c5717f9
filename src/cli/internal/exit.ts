/**
 * How a command ends when it does not succeed: an exit code and the message
 * for stderr. Library errors become one of these at the command's edge, so
 * the entry point never prints a stack trace.
 *
 * @internal
 */
import * as Data from "effect/Data"

/** @internal */
export const ExitCode = {
  success: 0,
  /** The task failed (or was cancelled). */
  taskFailed: 1,
  /** Bad arguments, request or config. */
  badInput: 2,
  /** SIGINT / SIGTERM. */
  interrupted: 130
} as const

/** @internal */
export class CliExit extends Data.TaggedError("CliExit")<{
  readonly code: number
  /** Printed to stderr, when present. */
  readonly text?: string | undefined
}> {
  override get message(): string {
    return this.text ?? `exit ${this.code}`
  }
}

/** @internal */
export const badInput = (text: string): CliExit => new CliExit({ code: ExitCode.badInput, text })
