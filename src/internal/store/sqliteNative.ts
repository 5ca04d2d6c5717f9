/**
 * better-sqlite3 is a native module: npm builds it at install (its install
 * script), for the Node that ran the install. When that build is missing
 * (scripts skipped or not approved) or was made for another Node, opening a
 * database fails deep inside `bindings`; this names the fix instead.
 *
 * @internal
 */
import * as path from "node:path"
import { StoreError } from "../../PublishError.js"

const chainOf = (u: unknown): ReadonlyArray<{ readonly code?: unknown; readonly message?: unknown }> => {
  const chain: Array<{ readonly code?: unknown; readonly message?: unknown }> = []
  for (let e: any = u; e !== null && typeof e === "object" && chain.length < 8; e = e.cause) chain.push(e)
  return chain
}

/** Whether `cause` is better-sqlite3's native module failing to load. @internal */
export const isNativeLoadError = (cause: unknown): boolean =>
  chainOf(cause).some((e) =>
    e.code === "ERR_DLOPEN_FAILED" ||
    (typeof e.message === "string" &&
      /Could not locate the bindings file|better_sqlite3\.node|NODE_MODULE_VERSION/.test(e.message))
  )

/** What to do about it. @internal */
export const nativeLoadHint = (): string =>
  `better-sqlite3's native module is not built for this Node (${process.version}). In your project, run ` +
  "`npm rebuild better-sqlite3` (npm 11 and later: approve its install script once with " +
  "`npm approve-scripts better-sqlite3`, so that installs keep building it)"

/**
 * The store error for a SQLite file that cannot be opened, naming the file
 * and the fix.
 *
 * @internal
 */
export const cannotOpenSqlite = (filename: string, cause: unknown): StoreError => {
  const file = path.resolve(filename)
  return new StoreError({
    reason: "unavailable",
    description: isNativeLoadError(cause) ?
      `Cannot open the SQLite database ${file}: ${nativeLoadHint()}.` :
      `Cannot open the SQLite database ${file}: ${
        cause instanceof Error ? cause.message : String(cause)
      }. Check that the directory exists and is writable, or pass another path.`,
    cause
  })
}
