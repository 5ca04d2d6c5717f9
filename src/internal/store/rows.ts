/**
 * How a task is kept in a SQL row (the whole encoded `Task` as JSON in
 * `body`), and what a failed read or write of one becomes. Shared by the SQL
 * store and the read-only SQLite reader.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { StoreError } from "../../PublishError.js"
import { Task } from "../../Task.js"

const TaskJson = Schema.parseJson(Task)

/** @internal */
export const encodeTask: (task: Task) => Effect.Effect<string, ParseResult.ParseError> = Schema.encode(TaskJson)

/** @internal */
export const decodeTask: (body: unknown) => Effect.Effect<Task, ParseResult.ParseError> = Schema.decodeUnknown(
  TaskJson
)

/** @internal */
export const num = (u: unknown): number => typeof u === "number" ? u : Number(u)

/**
 * The store error for a failed statement (`unavailable`) or a row that does
 * not decode (`corrupt`).
 *
 * @internal
 */
export const unavailable =
  (what: string) => (cause: ParseResult.ParseError | { readonly message: unknown }): StoreError =>
    "_tag" in cause && cause._tag === "ParseError" ?
      new StoreError({
        reason: "corrupt",
        description: `${what}: a stored row does not decode as a Medusa record (${cause.message}). ` +
          `Was the database written by a newer Medusa version?`,
        cause
      }) :
      new StoreError({
        reason: "unavailable",
        description: `${what} failed: ${String(cause.message)}`,
        cause
      })
