/**
 * Checks the values of the command line's enumerated, numeric and file flags
 * before `@effect/cli` parses them, so that a bad value is refused with a
 * message that names the flag (`--privacy must be one of public, unlisted,
 * private; got "secret"`); `@effect/cli`'s own messages name only the value.
 * The flags' choices are declared here once and used by `Cli.ts` too; the
 * platform modules' flags come in as `platformFlags` (`platformFlags.ts`).
 *
 * @internal
 */
import * as fs from "node:fs"

/** @internal */
export const choices = {
  policy: ["fail-fast", "best-effort", "all-or-nothing"],
  status: ["pending", "in_progress", "completed", "failed", "cancelled"]
} as const

/** Defaults of flags that have one (also read by the read commands' fast path). @internal */
export const defaults = { limit: 20 } as const

/** Whole-number flags and their smallest value. */
const integers: Readonly<Record<string, number>> = { limit: 1, port: 1, latency: 0 }

/** Flags naming a file that must exist. */
const files: ReadonlyArray<string> = ["request"]

/** Flags that take no value (everything else does). */
const booleans = new Set([
  "sandbox",
  "detach",
  "json",
  "watch",
  "no-browser",
  "help",
  "wizard",
  "version",
  "dry-run",
  "online",
  "scheduled",
  "videos"
])

/** Short aliases that take a value. */
const shortWithValue = new Set(["-c"])

/** Commands whose first positional argument is a file that must exist. */
const fileArgument: Readonly<Record<string, string>> = {
  publish: "<file> (the video to publish)",
  batch: "<manifest> (the batch manifest)"
}

const quote = (s: string): string => JSON.stringify(s)

/**
 * The first bad flag value in `args` (process.argv without node and
 * script), or `undefined`.
 *
 * @internal
 */
export const checkFlags = (
  args: ReadonlyArray<string>,
  platformFlags: {
    /** The platform modules' choice flags and their values. */
    readonly choices: Readonly<Record<string, ReadonlyArray<string>>>
    /** The platform modules' flags that take no value. */
    readonly booleans: ReadonlyArray<string>
  }
): string | undefined => {
  const command = args.find((a) => !a.startsWith("-"))
  let positional = 0
  let seenCommand = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") break
    if (/^-[^-]/.test(arg)) {
      if (shortWithValue.has(arg)) i++
      continue
    }
    if (!arg.startsWith("--")) {
      if (!seenCommand && arg === command) {
        seenCommand = true
        continue
      }
      // The first positional argument after the command.
      const what = command !== undefined ? fileArgument[command] : undefined
      if (what !== undefined && positional++ === 0 && !fs.existsSync(arg)) {
        return `${what}: no such file: ${quote(arg)}`
      }
      continue
    }
    const eq = arg.indexOf("=")
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    if (booleans.has(name) || platformFlags.booleans.includes(name)) continue
    const value = eq !== -1 ? arg.slice(eq + 1) : args[i + 1]
    if (eq === -1) i++
    if (value === undefined) continue // @effect/cli says the value is missing.
    const allowed = (choices as Record<string, ReadonlyArray<string>>)[name] ?? platformFlags.choices[name]
    if (allowed !== undefined && !allowed.includes(value)) {
      return `--${name} must be one of ${allowed.join(", ")}; got ${quote(value)}`
    }
    // `medusa serve --port 0` picks a free port.
    const min = name === "port" && command === "serve" ? 0 : integers[name]
    if (min !== undefined && !(/^-?\d+$/.test(value) && Number(value) >= min)) {
      return `--${name} must be a whole number of at least ${min}; got ${quote(value)}`
    }
    if (files.includes(name) && !fs.existsSync(value)) return `--${name}: no such file: ${quote(value)}`
  }
  return undefined
}
