/**
 * Task identifiers: `medusa_task_` followed by a UUID v4.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const pattern = /^medusa_task_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/**
 * @since 0.1.0
 * @category schemas
 */
export const TaskId: Schema.brand<Schema.filter<typeof Schema.String>, "TaskId"> = Schema.String.pipe(
  Schema.filter((s) => pattern.test(s), {
    message: (issue) => `Expected a task id like medusa_task_<uuid v4>, got ${JSON.stringify(issue.actual)}`
  }),
  Schema.brand("TaskId")
)

/**
 * @since 0.1.0
 * @category models
 */
export type TaskId = typeof TaskId.Type

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<TaskId> = Effect.sync(() =>
  // The global Web Crypto: importing node:crypto would load all of it for every module that names a task id.
  TaskId.make(`medusa_task_${globalThis.crypto.randomUUID()}`)
)

/**
 * @since 0.1.0
 * @category parsing
 */
export const parse: (input: unknown) => Effect.Effect<TaskId, import("effect/ParseResult").ParseError> = Schema
  .decodeUnknown(TaskId)

/**
 * @since 0.1.0
 * @category guards
 */
export const is: (u: unknown) => u is TaskId = Schema.is(TaskId)
