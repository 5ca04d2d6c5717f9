/**
 * The read commands' fast path: `medusa tasks`, `medusa status <task-id>` and
 * `medusa config validate` in their common forms run their command (the same
 * functions of `commands.ts` that `@effect/cli` calls) without building the
 * `@effect/cli` app, which with its help renderer and printer is most of a
 * read command's start-up.
 *
 * The parser accepts only what the full command line parses the same way:
 * the command's own flags, each at most once, with valid values. Anything
 * else (another flag, `--help`, `--watch`, `--sandbox`, a bad value, a
 * missing or extra argument) is left to the full command line, which also
 * says what is wrong. `MEDUSA_NO_FAST_READ=1` turns the fast path off
 * (test/cli/fast-read.test.ts runs each form both ways and compares).
 *
 * @internal
 */
import * as Option from "effect/Option"
import type { ConfigValidateOptions, StatusOptions, TasksOptions } from "../Cli.js"
import * as Commands from "./commands.js"
import { choices, defaults } from "./flagCheck.js"
import { runMain } from "./run.js"

/** A read command the fast path runs, with its options as `@effect/cli` would parse them. @internal */
export type ReadCommand =
  | { readonly command: "tasks"; readonly options: TasksOptions }
  | { readonly command: "status"; readonly options: StatusOptions }
  | { readonly command: "config validate"; readonly options: ConfigValidateOptions }

interface Flag {
  readonly name: string
  readonly alias?: string
  /** Takes no value. */
  readonly boolean?: true
  /** Whether a value is one the full command line accepts as is. */
  readonly valid?: (value: string) => boolean
}

const config: Flag = { name: "config", alias: "-c" }
const store: Flag = { name: "store" }
const json: Flag = { name: "json", boolean: true }

const grammar: Readonly<
  Record<ReadCommand["command"], { readonly words: number; readonly flags: ReadonlyArray<Flag>; readonly args: number }>
> = {
  tasks: {
    words: 1,
    args: 0,
    flags: [config, store, json, {
      name: "status",
      valid: (v) => (choices.status as ReadonlyArray<string>).includes(v)
    }, { name: "limit", alias: "-n", valid: (v) => /^[1-9][0-9]{0,8}$/.test(v) }]
  },
  status: { words: 1, args: 1, flags: [config, store, json] },
  "config validate": { words: 2, args: 0, flags: [config, store] }
}

/**
 * The read command `args` (process.argv without node and script) name, when
 * the fast path can run it; `undefined` otherwise.
 *
 * @internal
 */
export const readCommand = (args: ReadonlyArray<string>): ReadCommand | undefined => {
  const command = args[0] === "config" && args[1] === "validate" ?
    "config validate" :
    args[0] === "tasks" || args[0] === "status" ?
    args[0] :
    undefined
  if (command === undefined) return undefined
  const { args: wanted, flags, words } = grammar[command]
  const values = new Map<string, string | true>()
  const positional: Array<string> = []
  for (let i = words; i < args.length; i++) {
    const arg = args[i]!
    if (!arg.startsWith("-")) {
      if (arg === "") return undefined
      positional.push(arg)
      continue
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1
    const name = eq === -1 ? arg : arg.slice(0, eq)
    const flag = flags.find((f) => `--${f.name}` === name || f.alias === name)
    if (flag === undefined || values.has(flag.name)) return undefined
    if (flag.boolean) {
      if (eq !== -1) return undefined
      values.set(flag.name, true)
      continue
    }
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1)
    if (value === undefined || value === "" || value.startsWith("-")) return undefined
    if (flag.valid !== undefined && !flag.valid(value)) return undefined
    values.set(flag.name, value)
  }
  if (positional.length !== wanted) return undefined
  const text = (name: string) => {
    const v = values.get(name)
    return typeof v === "string" ? Option.some(v) : Option.none()
  }
  const common = { config: text("config"), store: text("store"), sandbox: false }
  switch (command) {
    case "tasks":
      return {
        command,
        options: {
          ...common,
          status: text("status") as TasksOptions["status"],
          scheduled: false,
          limit: Number(values.get("limit") ?? defaults.limit),
          json: values.has("json")
        }
      }
    case "status":
      return {
        command,
        options: {
          ...common,
          taskId: Option.some(positional[0]!),
          batch: Option.none(),
          watch: false,
          json: values.has("json")
        }
      }
    case "config validate":
      return { command, options: common }
  }
}

/** Runs a read command as the process's main program. @internal */
export const run = (read: ReadCommand): void =>
  runMain(
    read.command === "tasks" ?
      Commands.tasks(read.options) :
      read.command === "status" ?
      Commands.status(read.options) :
      Commands.configValidate(read.options)
  )
