/**
 * The `Medusa` service over the workflow engine: the same contract as the
 * in-memory engine (`Medusa.make`), but a task is started by executing its
 * workflow, and cancelled by recording `cancelled` in the store, which the
 * running activities watch (from any process).
 *
 * @internal
 */
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Options, Service, TaskError } from "../../Medusa.js"
import { defaults } from "../../Medusa.js"
import type { PlatformId } from "../../PlatformId.js"
import { all as allPlatforms } from "../../PlatformId.js"
import type { InvalidRequest } from "../../PublishError.js"
import { InvalidTransition, StoreError, TaskCancelled, TaskNotFound } from "../../PublishError.js"
import type { PublishRequestInput } from "../../PublishRequest.js"
import type { Task } from "../../Task.js"
import { isFinal } from "../../Task.js"
import * as TaskId from "../../TaskId.js"
import type { ListOptions } from "../../TaskStore.js"
import * as Engine from "../engine.js"
import type { SqlStore } from "../sql/store.js"
import { PublishTask } from "./workflow.js"

/** @internal */
export interface DurableServiceOptions extends Options {
  /** Refuse submit and cancel: this process only reads. */
  readonly readOnly?: boolean | undefined
  /** Do not run tasks here (a cluster client): only submit them. */
  readonly clientOnly?: boolean | undefined
  /** How often due and orphaned tasks are looked for (default 500 ms). */
  readonly schedulerInterval?: Duration.DurationInput | undefined
}

const perPlatform = (options: Options, maxTasks: number): Record<PlatformId, number> => {
  const out = {} as Record<PlatformId, number>
  const given = options.perPlatformConcurrency
  for (const id of allPlatforms) out[id] = typeof given === "number" ? given : given?.[id] ?? maxTasks
  return out
}

const parseId = (id: string): Effect.Effect<TaskId.TaskId, TaskNotFound> =>
  TaskId.is(id) ? Effect.succeed(id) : Effect.fail(new TaskNotFound({ taskId: id }))

const outcome = (task: Task): Effect.Effect<Task, TaskError> => {
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

const readOnlyError = (what: string) =>
  new StoreError({
    reason: "locked",
    description: `${what} needs the process that owns the task store; this one opened it read-only. ` +
      "Run the command there, or stop that process first."
  })

/** @internal */
export const engineFor = (
  store: SqlStore,
  options: Options
): Effect.Effect<Engine.Engine> =>
  Effect.flatMap(Engine.resolvePlatforms, (platforms) => {
    const maxTasks = Math.max(1, options.maxConcurrentTasks ?? defaults.maxConcurrentTasks)
    return Engine.makeEngine(store, platforms, perPlatform(options, maxTasks))
  })

/** @internal */
export const make = (
  store: SqlStore,
  options: DurableServiceOptions
): Effect.Effect<Service, never, WorkflowEngine | Scope.Scope> =>
  Effect.gen(function*() {
    const platforms = yield* Engine.resolvePlatforms
    const runsTasks = options.readOnly !== true && options.clientOnly !== true
    // Ids this process already handed to the engine (execute is idempotent;
    // this only saves the round trips).
    const started = new Set<string>()

    const context = yield* Effect.context<WorkflowEngine>()
    const execute = (id: TaskId.TaskId): Effect.Effect<void> =>
      PublishTask.execute({ taskId: id }, { discard: true }).pipe(
        Effect.tap(() => Effect.sync(() => started.add(id))),
        Effect.asVoid,
        Effect.provide(context)
      )

    // The persisted timer: pending tasks whose `runAt` has come, and tasks a
    // crash left between insert and execute, are executed here. The engine
    // itself resumes workflows that had started.
    const scheduleDue = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const tasks = yield* store.unfinished
      for (const task of tasks) {
        if (started.has(task.id)) continue
        if (task.state === "pending" && task.runAt !== undefined && task.runAt > now) continue
        yield* execute(task.id)
      }
    })
    if (runsTasks) {
      yield* scheduleDue.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("Medusa could not look for due tasks", cause)),
        Effect.repeat(Schedule.spaced(Duration.decode(options.schedulerInterval ?? "500 millis"))),
        Effect.forkScoped
      )
      const retention = Duration.decode(options.retention ?? defaults.retention)
      if (Duration.isFinite(retention)) {
        const prune = Effect.flatMap(Clock.currentTimeMillis, (now) => store.prune(now - Duration.toMillis(retention)))
          .pipe(
            Effect.catchAll((error) => Effect.logWarning(`Medusa could not prune finished tasks: ${error.message}`))
          )
        yield* Effect.forkScoped(
          Effect.repeat(prune, Schedule.spaced(Duration.decode(options.pruneInterval ?? defaults.pruneInterval)))
        )
      }
    }

    const submit = Effect.fn("Medusa.submit")(function*(input: PublishRequestInput) {
      if (options.readOnly === true) return yield* readOnlyError("Submitting a task")
      const { media, request } = yield* Engine.validateRequest(input, platforms)
      const id = yield* TaskId.make
      const now = yield* Clock.currentTimeMillis
      const task = Engine.makeTask(id, request, media, now)
      yield* store.insert(task)
      // A scheduled task waits in the table; the scheduler executes it when due.
      if (task.runAt === undefined) yield* execute(id)
      return id
    })

    const status = (id: string) => Effect.flatMap(parseId(id), (taskId) => store.get(taskId))

    const watch = (id: string): Stream.Stream<Task, TaskNotFound | StoreError> =>
      Stream.unwrap(Effect.map(parseId(id), (taskId) => store.watch(taskId)))

    const awaitFinal = Effect.fn("Medusa.await")(function*(id: string) {
      const taskId = yield* parseId(id)
      const current = yield* store.get(taskId)
      if (isFinal(current.state)) return yield* outcome(current)
      const last = yield* Stream.runLast(store.watch(taskId))
      if (Option.isNone(last) || !isFinal(last.value.state)) return yield* new TaskNotFound({ taskId })
      return yield* outcome(last.value)
    })

    const publish = (input: PublishRequestInput): Effect.Effect<Task, InvalidRequest | TaskError | StoreError> =>
      Effect.flatMap(submit(input), (id) => Effect.catchTag(awaitFinal(id), "TaskNotFound", (e) => Effect.die(e)))

    const cancel = Effect.fn("Medusa.cancel")(function*(id: string) {
      if (options.readOnly === true) return yield* readOnlyError("Cancelling a task")
      const taskId = yield* parseId(id)
      const task = yield* store.get(taskId)
      if (isFinal(task.state)) {
        return yield* new InvalidTransition({ taskId, from: task.state, to: "cancelled" })
      }
      // The running activities watch the task and stop when it is cancelled,
      // in whichever process they run.
      const now = yield* Clock.currentTimeMillis
      return yield* store.update(taskId, (t) => Engine.transition(t, "cancelled", now, { message: "Cancelled" }))
    })

    const list = (listOptions?: ListOptions) => store.list(listOptions)

    return {
      submit,
      publish,
      status,
      await: awaitFinal,
      watch,
      changes: store.changes,
      cancel,
      list
    }
  })
