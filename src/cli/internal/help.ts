/**
 * Renders `medusa [command...] --help` in-process, exactly as `@effect/cli`
 * prints it, for `help.json` (the fast path) and for the test that keeps the
 * two in step.
 *
 * @internal
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Cli from "../Cli.js"

/** Trailing blanks (the COMMANDS list pads every usage to the longest) are dropped. @internal */
export const normalize = (text: string): string => text.split("\n").map((l) => l.trimEnd()).join("\n")

/** @internal */
export const renderHelp = (path: ReadonlyArray<string>): Effect.Effect<string> =>
  Effect.gen(function*() {
    const chunks: Array<string> = []
    const capture = new Proxy({} as Console.Console, {
      get: (_, key) =>
        key === Console.TypeId ?
          Console.TypeId :
          key === "log" ?
          (...args: ReadonlyArray<unknown>) => Effect.sync(() => chunks.push(args.map(String).join(" ") + "\n")) :
          key === "unsafe" ?
          globalThis.console :
          () => Effect.void
    })
    yield* Cli.run(["node", "medusa", ...path, "--help"]).pipe(
      Effect.withConsole(capture),
      Effect.provide(NodeContext.layer),
      Effect.orDie
    )
    return normalize(chunks.join(""))
  })

/** Every command path's help, keyed by the path joined with spaces (`""` for the root). @internal */
export const renderAll: Effect.Effect<Record<string, string>> = Effect.gen(function*() {
  const texts: Record<string, string> = {}
  for (const path of Cli.commandPaths) texts[path.join(" ")] = yield* renderHelp(path)
  return texts
})
