/**
 * A seam for crash tests: wraps the store the workflow's activities use, so a
 * test worker can stop dead (`SIGKILL`) at an exact point of a step. The
 * default changes nothing.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type { SqlStore } from "../store/sql.js"

/** @internal */
export interface Hooks {
  readonly wrapStore: (store: SqlStore) => SqlStore
}

/** @internal */
export class DurableHooks extends Context.Reference<DurableHooks>()("@medusa/internal/DurableHooks", {
  defaultValue: (): Hooks => ({ wrapStore: (store) => store })
}) {}
