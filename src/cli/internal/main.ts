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
import * as Run from "./run.js"

/** The exit code for how the command line ended (`@effect/cli` prints its own validation errors). @internal */
export const exitCodeOf = (exit: Exit.Exit<unknown, unknown>, write: (text: string) => void): number =>
  Run.exitCodeOf(exit, write, ValidationError.isValidationError)

/** @internal */
export const main = (argv: ReadonlyArray<string>): void =>
  Run.runMain(Cli.run(argv).pipe(Effect.provide(NodeContext.layer)), ValidationError.isValidationError)
