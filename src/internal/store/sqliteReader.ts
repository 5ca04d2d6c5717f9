/**
 * A read-only view of a Medusa SQLite file through better-sqlite3 alone: what
 * `medusa tasks` and `medusa status` read, without `@effect/sql` (its client,
 * statement compiler and migrator), the workflow engine or the cluster. The
 * rows decode through the same `Task` schema as the SQL store's, and the
 * queries are the SQL store's `get`, `history` and `list` (test/durable/sqliteReader.test.ts
 * compares the answers of both on one file).
 *
 * @internal
 */
import type BetterSqlite3 from "better-sqlite3"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { createRequire } from "node:module"
import type { StoreError } from "../../PublishError.js"
import { TaskNotFound } from "../../PublishError.js"
import type { Task, TaskState } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import type { HistoryEntry } from "../../TaskStatus.js"
import type { ListOptions } from "../../TaskStore.js"
import { decodeTask, num, unavailable } from "./rows.js"
import { cannotOpenSqlite } from "./sqliteNative.js"

/** The reading half of a `TaskStore`. @internal */
export interface TaskReader {
  readonly get: (id: TaskId) => Effect.Effect<Task, TaskNotFound | StoreError>
  readonly history: (id: TaskId) => Effect.Effect<ReadonlyArray<HistoryEntry>, StoreError>
  readonly list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<Task>, StoreError>
}

/** A store nothing was ever written to (a memory store in a new process, a file that does not exist). @internal */
export const empty: TaskReader = {
  get: (id) => Effect.fail(new TaskNotFound({ taskId: id })),
  history: () => Effect.succeed([]),
  list: () => Effect.succeed([])
}

// Through require(): better-sqlite3 is CommonJS, and importing it as an ES module first scans its source for exports.
const Database = createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3

interface Row {
  readonly id?: string
  readonly body: string
}

interface HistoryRow {
  readonly seq: number
  readonly state: string
  readonly at: number
  readonly message: string | null
}

/**
 * Opens `filename` (which must exist) read-only for the life of the scope.
 *
 * @internal
 */
export const open = (filename: string): Effect.Effect<TaskReader, StoreError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.try({
        try: () => new Database(filename, { readonly: true, fileMustExist: true }),
        catch: (cause) => cannotOpenSqlite(filename, cause)
      }),
      (db) => Effect.sync(() => db.close())
    ),
    (db): TaskReader => {
      const query = <R = Row>(what: string, sql: string, params: ReadonlyArray<unknown>) =>
        Effect.try({
          try: () => db.prepare(sql).all(...params) as ReadonlyArray<R>,
          catch: (cause) => unavailable(what)(cause as Error)
        })
      return {
        get: (id) =>
          Effect.flatMap(
            query(`Reading task ${id}`, "SELECT body, rev FROM medusa_tasks WHERE id = ?", [id]),
            (rows): Effect.Effect<Task, TaskNotFound | StoreError> =>
              rows.length === 0 ?
                Effect.fail(new TaskNotFound({ taskId: id })) :
                Effect.mapError(decodeTask(rows[0]!.body), unavailable(`Reading task ${id}`))
          ),
        history: (id) =>
          Effect.map(
            query<HistoryRow>(
              `Reading the history of ${id}`,
              "SELECT seq, state, at, message FROM medusa_task_history WHERE task_id = ? ORDER BY seq ASC",
              [id]
            ),
            (rows) =>
              rows.map((row): HistoryEntry => ({
                seq: num(row.seq),
                state: row.state as TaskState,
                at: num(row.at),
                ...(row.message === null ? {} : { message: row.message })
              }))
          ),
        list: (options = {}) => {
          const limit = options.limit ?? 2_147_483_647
          const offset = options.offset ?? 0
          const rows = options.status === undefined ?
            query(
              "Listing tasks",
              "SELECT id, rev, body FROM medusa_tasks ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
              [limit, offset]
            ) :
            query(
              "Listing tasks",
              "SELECT id, rev, body FROM medusa_tasks WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
              [options.status, limit, offset]
            )
          return Effect.flatMap(rows, (rows) =>
            Effect.forEach(rows, (row) => Effect.mapError(decodeTask(row.body), unavailable("Listing tasks"))))
        }
      }
    }
  )
