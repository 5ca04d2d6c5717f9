/**
 * The sandbox in the foreground, shared by the standalone runner
 * (`npm run sandbox`, `src/sandbox/bin.ts`) and `medusa sandbox`: start every
 * emulator on loopback, write a ready config (credential files beside it),
 * print the base URLs, then wait; the sandbox closes with the scope.
 *
 * ```ts
 * await Effect.runPromise(Effect.scoped(Runner.runForeground({
 *   configOut: "/tmp/sb/medusa.config.json",
 *   until: Runner.untilSignal
 * })))
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as path from "node:path"
import type { PlatformId } from "../PlatformId.js"
import * as Sandbox from "./Sandbox.js"

/**
 * The sandbox could not start (a fixed port in use, …) or its config could
 * not be written.
 *
 * @since 0.1.0
 * @category errors
 */
export class RunnerError extends Schema.TaggedError<RunnerError>("@medusa/sandbox/RunnerError")("RunnerError", {
  reason: Schema.Literal("start_failed", "config_not_written"),
  description: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return this.description
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ForegroundOptions {
  /** Where to write the config; its directory receives the YouTube credential files too. */
  readonly configOut: string
  /** First of nine fixed ports (youtube n … linkedin n+4, control n+5, threads n+6, mastodon n+7, bluesky n+8). */
  readonly port?: number | undefined
  /** Everything else the sandbox takes (latency, seed, keepBytes, …); `ports` is set from `port`. */
  readonly sandbox?: Sandbox.SandboxOptions | undefined
  /** How a platform is named in the banner (default its id). */
  readonly label?: ((platform: PlatformId) => string) | undefined
  /** Lines printed after the config's path, before "Press Ctrl+C to stop." */
  readonly hints?: ((configFile: string) => ReadonlyArray<string>) | undefined
  /** Where the banner goes (default stdout). */
  readonly write?: ((text: string) => void) | undefined
}

/**
 * The fixed ports from a first port.
 *
 * @since 0.1.0
 * @category constructors
 */
export const portsFrom = (first: number): Record<PlatformId | "control", number> => ({
  youtube: first,
  vimeo: first + 1,
  facebook: first + 2,
  x: first + 3,
  linkedin: first + 4,
  control: first + 5,
  threads: first + 6,
  mastodon: first + 7,
  bluesky: first + 8
})

/**
 * The banner: one line per emulator, the state and control URLs, the config.
 *
 * @since 0.1.0
 * @category rendering
 */
export const banner = (
  sandbox: Pick<Sandbox.Sandbox, "urls" | "stateUrl" | "controlUrl">,
  configFile: string,
  options: Pick<ForegroundOptions, "label" | "hints"> = {}
): string => {
  const label = options.label ?? ((id: PlatformId) => id)
  const lines = ["Medusa sandbox running:"]
  for (const [id, url] of Object.entries(sandbox.urls)) lines.push(`  ${label(id as PlatformId).padEnd(9)} ${url}`)
  lines.push(`  state     ${sandbox.stateUrl}`)
  lines.push(`  control   ${sandbox.controlUrl}/_sandbox/`)
  lines.push(`config: ${configFile}`)
  lines.push(...(options.hints?.(configFile) ?? []))
  lines.push("Press Ctrl+C to stop.")
  return lines.join("\n") + "\n"
}

/**
 * Starts the sandbox for the life of the scope, writes the config, prints the
 * banner, then runs `until` (default: forever, for callers whose runtime turns
 * Ctrl+C into an interruption). The sandbox's servers close when the scope
 * does.
 *
 * @since 0.1.0
 * @category running
 */
export const runForeground = <A = never, E = never>(
  options: ForegroundOptions & { readonly until?: Effect.Effect<A, E> | undefined }
): Effect.Effect<A, RunnerError | E, Scope.Scope> =>
  Effect.gen(function*() {
    const sandbox = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          Sandbox.start({
            ...options.sandbox,
            ...(options.port !== undefined ? { ports: portsFrom(options.port) } : {})
          }),
        catch: (cause) =>
          new RunnerError({
            reason: "start_failed",
            description: `Cannot start the sandbox: ${cause instanceof Error ? cause.message : String(cause)}`,
            cause
          })
      }),
      (sandbox) => Effect.promise(() => sandbox.close())
    )
    const target = path.resolve(options.configOut)
    const configFile = yield* Effect.tryPromise({
      try: () => sandbox.writeConfig(path.dirname(target), { fileName: path.basename(target) }),
      catch: (cause) =>
        new RunnerError({
          reason: "config_not_written",
          description: `Cannot write the sandbox config ${target}: ${
            cause instanceof Error ? cause.message : String(cause)
          }; choose a writable path`,
          cause
        })
    })
    const write = options.write ?? ((text: string) => process.stdout.write(text))
    write(banner(sandbox, configFile, options))
    return yield* (options.until ?? (Effect.never as Effect.Effect<A, E>))
  })

/**
 * Waits for SIGINT or SIGTERM and succeeds with its name (the listeners are
 * removed afterwards, or when interrupted).
 *
 * @since 0.1.0
 * @category running
 */
export const untilSignal: Effect.Effect<"SIGINT" | "SIGTERM"> = Effect.async((resume) => {
  const on = (signal: "SIGINT" | "SIGTERM") => () => {
    remove()
    resume(Effect.succeed(signal))
  }
  const onInt = on("SIGINT")
  const onTerm = on("SIGTERM")
  const remove = () => {
    process.off("SIGINT", onInt)
    process.off("SIGTERM", onTerm)
  }
  process.on("SIGINT", onInt)
  process.on("SIGTERM", onTerm)
  return Effect.sync(remove)
})
