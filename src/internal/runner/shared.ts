/**
 * What every `Medusa` service implementation shares (the in-memory engine in
 * `Medusa.ts` and the durable one in `internal/runner/durable.ts`): option
 * defaults, per-platform bounds, id parsing, how a finished task becomes
 * `publish`'s result, and the retention loop.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Options, TaskError } from "../../Medusa.js"
import type { PlatformId } from "../../PlatformId.js"
import { all as allPlatforms } from "../../PlatformId.js"
import type { StoreError } from "../../PublishError.js"
import { TaskCancelled, TaskNotFound } from "../../PublishError.js"
import type { Task } from "../../Task.js"
import { isFinal } from "../../Task.js"
import * as TaskId from "../../TaskId.js"
import type { Service as StoreService } from "../../TaskStore.js"
import * as Engine from "../task/engine.js"

/** @internal */
export const defaults: {
  readonly maxConcurrentTasks: number
  readonly retention: Duration.Duration
  readonly pruneInterval: Duration.Duration
} = {
  maxConcurrentTasks: 4,
  retention: Duration.hours(24),
  pruneInterval: Duration.minutes(1)
}

/** @internal */
export const maxTasksOf = (options: Options): number =>
  Math.max(1, options.maxConcurrentTasks ?? defaults.maxConcurrentTasks)

/** Operations at once per platform: one number for all, or per platform; default `maxTasks`. @internal */
export const perPlatform = (options: Options, maxTasks: number): Record<PlatformId, number> => {
  const out = {} as Record<PlatformId, number>
  const given = options.perPlatformConcurrency
  for (const id of allPlatforms) out[id] = typeof given === "number" ? given : given?.[id] ?? maxTasks
  return out
}

/** An id that is not a task id can name no task. @internal */
export const parseId = (id: string): Effect.Effect<TaskId.TaskId, TaskNotFound> =>
  TaskId.is(id) ? Effect.succeed(id) : Effect.fail(new TaskNotFound({ taskId: id }))

/** The outcome of a finished task as `publish` / `await` report it: the task, or its typed error. @internal */
export const outcome = (task: Task): Effect.Effect<Task, TaskError> => {
  switch (task.state) {
    case "completed":
      return Effect.succeed(task)
    case "cancelled":
      return Effect.fail(new TaskCancelled({ taskId: task.id }))
    default: {
      const failure = task.failures[0]
      const error = failure === undefined ? undefined : Engine.errorOf(failure)
      return error !== undefined ?
        Effect.fail(error) :
        Effect.dieMessage(failure?.message ?? `Task ${task.id} ended ${task.state} without a recorded failure`)
    }
  }
}

/** Prunes finished tasks older than the retention, every `pruneInterval`, for the life of the scope. @internal */
export const pruneFinished = (store: StoreService, options: Options): Effect.Effect<void, never, Scope.Scope> => {
  const retention = Duration.decode(options.retention ?? defaults.retention)
  if (!Duration.isFinite(retention)) return Effect.void
  const prune = Effect.flatMap(Clock.currentTimeMillis, (now) => store.prune(now - Duration.toMillis(retention))).pipe(
    Effect.catchAll((error) => Effect.logWarning(`Medusa could not prune finished tasks: ${error.message}`))
  )
  return Effect.asVoid(Effect.forkScoped(
    Effect.repeat(prune, Schedule.spaced(Duration.decode(options.pruneInterval ?? defaults.pruneInterval)))
  ))
}

/** The read side of the service, the same over every store: `status`, `watch` and `await`. @internal */
export const readers = (store: StoreService): {
  readonly status: (id: string) => Effect.Effect<Task, TaskNotFound | StoreError>
  readonly watch: (id: string) => Stream.Stream<Task, TaskNotFound | StoreError>
  readonly awaitFinal: (id: string) => Effect.Effect<Task, TaskError | TaskNotFound | StoreError>
} => ({
  status: (id) => Effect.flatMap(parseId(id), (taskId) => store.get(taskId)),
  watch: (id) => Stream.unwrap(Effect.map(parseId(id), (taskId) => store.watch(taskId))),
  awaitFinal: Effect.fn("Medusa.await")(function*(id: string) {
    const taskId = yield* parseId(id)
    const current = yield* store.get(taskId)
    if (isFinal(current.state)) return yield* outcome(current)
    const last = yield* Stream.runLast(store.watch(taskId))
    // A watch that ended without a final state means the task was pruned or deleted.
    if (Option.isNone(last) || !isFinal(last.value.state)) return yield* new TaskNotFound({ taskId })
    return yield* outcome(last.value)
  })
})
