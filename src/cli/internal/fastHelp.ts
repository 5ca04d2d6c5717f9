/**
 * The help fast path: `medusa [command...] --help` answered from `help.json`
 * (generated from the real `@effect/cli` help by `gen-help.ts`, and checked
 * against it by the tests) without loading Effect or `@effect/cli`, which
 * together take most of a second to import.
 *
 * Plain JavaScript-compatible TypeScript with no imports, so that the
 * `bin/medusa.js` launcher can share the same rule.
 *
 * @internal
 */

/** @internal */
export type HelpTexts = Readonly<Record<string, string>>

/**
 * The help key for `args` (process.argv without node and script) when they are
 * a known command path followed only by `--help` / `-h`; `undefined` otherwise.
 *
 * @internal
 */
export const helpKey = (args: ReadonlyArray<string>, texts: HelpTexts): string | undefined => {
  if (args.length === 0) return undefined
  const last = args[args.length - 1]
  if (last !== "--help" && last !== "-h") return undefined
  const key = args.slice(0, -1).join(" ")
  return Object.prototype.hasOwnProperty.call(texts, key) ? key : undefined
}
