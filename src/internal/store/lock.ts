/**
 * One owner per SQLite database: an exclusive SQLite lock on `<file>.lock`,
 * held for the life of the scope. The kernel releases it when the process
 * dies, even by `kill -9`, so a crash never leaves a stale lock behind.
 *
 * Two runners on one file would run the same activities at once (the
 * cluster's SQLite storage has no ownership of its own), hence the guard.
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { mkdirSync } from "node:fs"
import * as path from "node:path"
import { StoreError } from "../../PublishError.js"
import { isNativeLoadError, nativeLoadHint } from "./sqliteNative.js"

/** @internal */
export const lockFileOf = (filename: string): string => `${filename}.lock`

/** @internal */
export const acquire = (filename: string): Effect.Effect<void, StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const lockFile = lockFileOf(filename)
    yield* Effect.sync(() => mkdirSync(path.dirname(path.resolve(lockFile)), { recursive: true }))
    const sql = yield* SqliteClient.make({ filename: lockFile, disableWAL: true }).pipe(
      Effect.provide(Reactivity.layer)
    )
    yield* sql.unsafe("PRAGMA busy_timeout = 0")
    yield* sql.unsafe("PRAGMA locking_mode = EXCLUSIVE")
    yield* sql.unsafe("BEGIN EXCLUSIVE")
    yield* sql.unsafe("CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, since INTEGER NOT NULL)")
    yield* sql.unsafe("DELETE FROM owner")
    yield* sql.unsafe("INSERT INTO owner (pid, since) VALUES (?, ?)", [process.pid, Date.now()])
    // In exclusive locking mode the lock outlives the transaction.
    yield* sql.unsafe("COMMIT")
  }).pipe(
    Effect.catchAllCause((cause) => {
      const failure = Cause.squash(cause)
      // Only SQLite's "busy" means another owner; anything else (no such folder, no permission) is named as is.
      return Effect.fail(
        chainOf(failure).some((e) => e.code === "SQLITE_BUSY") ?
          new StoreError({
            reason: "locked",
            description: `another Medusa process is running tasks from ${filename} (it holds ${
              lockFileOf(filename)
            }). Stop it first, or open the store read-only to inspect tasks (\`medusa status\`/\`tasks\`).`,
            cause
          }) :
          isNativeLoadError(failure) ?
          new StoreError({
            reason: "unavailable",
            description: `cannot open the lock file ${lockFileOf(filename)}: ${nativeLoadHint()}.`,
            cause
          }) :
          new StoreError({
            reason: "unavailable",
            description: `cannot create or open the lock file ${lockFileOf(filename)}: ${
              chainOf(failure).at(-1)?.message ?? String(failure)
            }. Check that its folder can be created and written.`,
            cause
          })
      )
    })
  )

/** An error and its causes, outermost first. */
const chainOf = (u: unknown): ReadonlyArray<{ readonly code?: unknown; readonly message?: string }> => {
  const chain: Array<{ readonly code?: unknown; readonly message?: string }> = []
  for (let e: any = u; e !== null && typeof e === "object" && chain.length < 8; e = e.cause) chain.push(e)
  return chain
}

/**
 * Takes the lock when it is free: `true` and held for the life of the scope;
 * `false` when another process holds it (nothing is left open then).
 *
 * @internal
 */
export const tryAcquire = (filename: string): Effect.Effect<boolean, StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const child = yield* Scope.fork(scope, ExecutionStrategy.sequential)
    const result = yield* Effect.exit(Scope.extend(acquire(filename), child))
    if (Exit.isSuccess(result)) return true
    yield* Scope.close(child, Exit.void)
    const locked = Exit.match(result, {
      onFailure: (cause) => Cause.failureOption(cause).pipe((o) => o._tag === "Some" && o.value.reason === "locked"),
      onSuccess: () => false
    })
    if (locked) return false
    return yield* Effect.as(result, false)
  })
