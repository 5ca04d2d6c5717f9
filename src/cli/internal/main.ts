/**
 * Runs the full command line (`@effect/cli`): every command, with the
 * platform's services (file system, terminal) provided.
 *
 * @internal
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Cli from "../Cli.js"
import { badInput } from "./exit.js"
import * as LogFormat from "./logFormat.js"
import * as Run from "./run.js"

/** The exit code for how the command line ended (`@effect/cli` prints its own validation errors). @internal */
export const exitCodeOf = (exit: Exit.Exit<unknown, unknown>, write: (text: string) => void): number =>
  Run.exitCodeOf(exit, write, ValidationError.isValidationError)

/** @internal */
export const main = (argv: ReadonlyArray<string>): void => {
  const logFormat = LogFormat.strip(argv.slice(2))
  LogFormat.state.flag = logFormat.format
  const program = logFormat.problem !== undefined ?
    Effect.fail(badInput(logFormat.problem)) :
    Effect.zipRight(
      logFormat.format === "json" ? LogFormat.useJson(true) : Effect.void,
      Cli.run([...argv.slice(0, 2), ...logFormat.args])
    )
  Run.runMain(program.pipe(Effect.provide(NodeContext.layer)), ValidationError.isValidationError)
}
