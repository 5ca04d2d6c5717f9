/**
 * Which Node versions Medusa runs on, and what to tell a user on another one.
 * No imports: the build also compiles it to CommonJS for the `require()`
 * entry points (`dist/require/`), which check the version before they load
 * the ES modules, on a Node that may not load them through `require()`.
 *
 * @internal
 */

/** The oldest Node Medusa runs on. @internal */
export const minimum = "20.19"

const parse = (version: string): readonly [number, number] => {
  const [major = 0, minor = 0] = version.split(".").map(Number)
  return [major, minor]
}

/**
 * What is wrong with running Medusa on Node `version` (loaded through
 * `import` or `require()`), or `undefined` when nothing is. `requireModule`
 * is `process.features.require_module` where Node has it.
 *
 * @internal
 */
export const unsupported = (
  version: string,
  how: "import" | "require",
  requireModule?: boolean | undefined
): string | undefined => {
  const [major, minor] = parse(version)
  if (major < 20 || (major === 20 && minor < 19)) {
    return `Medusa needs Node ${minimum} or later (22 and 24 are tested too); this is Node ${version}. ` +
      "Install a current Node (https://nodejs.org) and run again."
  }
  const loadsEsmThroughRequire = requireModule ?? (major === 20 || (major === 22 && minor >= 12) || major >= 23)
  if (how === "require" && !loadsEsmThroughRequire) {
    return `Medusa is ES modules, and Node ${version} cannot load them through require() (Node 20.19 and later ` +
      "on the 20 line, 22.12 and later on the 22 line can). Use import (await import(\"medusa/promise\") from " +
      "CommonJS), or install Node 22.12 or later."
  }
  return undefined
}

/**
 * Throws an error saying what to do when this Node cannot run Medusa.
 *
 * @internal
 */
export const check = (how: "import" | "require"): void => {
  const features = process.features as { readonly require_module?: boolean }
  const problem = unsupported(process.versions.node, how, features.require_module)
  if (problem !== undefined) throw new Error(problem)
}
