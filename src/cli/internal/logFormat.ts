/**
 * `--log-format text|json`, a flag every command takes (and the config's
 * `telemetry.log_format`): taken out of the arguments before `@effect/cli`
 * parses them. The CLI's logger writes JSON lines once `useJson` has run;
 * the JSON logger is loaded only then.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Logger from "effect/Logger"

/** @internal */
export const formats = ["text", "json"] as const

/** @internal */
export const state: {
  /** What `--log-format` said, if given (it wins over the config). */
  flag: "text" | "json" | undefined
  /** The JSON logger, once JSON was chosen. */
  json: Logger.Logger<unknown, void> | undefined
} = { flag: undefined, json: undefined }

/**
 * `args` (process.argv without node and script) without `--log-format
 * <value>` / `--log-format=<value>`, and the value; or the problem with it.
 *
 * @internal
 */
export const strip = (args: ReadonlyArray<string>): {
  readonly args: ReadonlyArray<string>
  readonly format: "text" | "json" | undefined
  readonly problem: string | undefined
} => {
  const out: Array<string> = []
  let format: "text" | "json" | undefined
  let problem: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") {
      out.push(...args.slice(i))
      break
    }
    let value: string | undefined
    if (arg === "--log-format") value = args[++i] ?? ""
    else if (arg.startsWith("--log-format=")) value = arg.slice("--log-format=".length)
    else {
      out.push(arg)
      continue
    }
    if (value === "text" || value === "json") format = value
    else problem ??= `--log-format must be one of ${formats.join(", ")}; got ${JSON.stringify(value)}`
  }
  return { args: out, format, problem }
}

/**
 * Switches the CLI's log lines to JSON. `fromFlag` false: the config asks,
 * and a `--log-format` flag has the last word.
 *
 * @internal
 */
export const useJson = (fromFlag: boolean): Effect.Effect<void> =>
  !fromFlag && state.flag !== undefined || state.json !== undefined ?
    Effect.void :
    Effect.map(Effect.promise(() => import("../../internal/telemetry/jsonLogger.js")), (JsonLogger) => {
      state.json = JsonLogger.make()
    })
