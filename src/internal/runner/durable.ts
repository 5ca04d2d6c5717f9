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
import * as Either from "effect/Either"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Options, RetractOptions, Service, TaskError } from "../../Medusa.js"
import type { InvalidRequest } from "../../PublishError.js"
import { InvalidTransition, isPlatformError, StoreError } from "../../PublishError.js"
import type { PublishRequestInput } from "../../PublishRequest.js"
import type { Task } from "../../Task.js"
import { isFinal, Task as TaskClass } from "../../Task.js"
import * as TaskId from "../../TaskId.js"
import type { ListOptions } from "../../TaskStore.js"
import type { SqlStore } from "../store/sql.js"
import * as Engine from "../task/engine.js"
import * as Orchestrate from "../task/orchestrate.js"
import * as Retract from "../task/retract.js"
import * as Requests from "./requests.js"
import * as Shared from "./shared.js"
import { PublishTask } from "./workflow.js"

/** What a client knows of the runners on its database. @internal */
export interface RunnerSightings {
  readonly alive: number
  /** The last heartbeat of any runner still registered (epoch ms). */
  readonly lastSeenAt: number | undefined
}

/** The message of a pending task while no runner is alive to take it. @internal */
export const noRunnerMessage = (sightings: RunnerSightings): string =>
  `waiting for a runner: none is alive (${
    sightings.lastSeenAt === undefined ?
      "none registered on this database" :
      `last seen ${new Date(sightings.lastSeenAt).toISOString()}`
  }); any medusa process on this store whose medusa.runner.role is not "client" runs it`

/** How often a client looks for a live runner while its task is pending. */
const runnerCheckInterval = Duration.seconds(1)

/** @internal */
export interface DurableServiceOptions extends Options {
  /** Refuse submit and cancel: this process only reads. */
  readonly readOnly?: boolean | undefined
  /** Do not run tasks here (a cluster client): only submit them. */
  readonly clientOnly?: boolean | undefined
  /** How often due and orphaned tasks are looked for (default 500 ms). */
  readonly schedulerInterval?: Duration.DurationInput | undefined
  /**
   * The SQLite file of an embedded store: its owner carries out the cancel
   * requests other processes leave beside it, and a read-only process
   * cancels through them.
   */
  readonly embeddedFile?: string | undefined
  /**
   * A client's view of the runners: while a task it submitted is pending
   * and none is alive, the task's message says so.
   */
  readonly runnersAlive?: Effect.Effect<RunnerSightings, unknown> | undefined
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
    const maxTasks = Shared.maxTasksOf(options)
    return Engine.makeEngine(store, platforms, Shared.perPlatform(options, maxTasks))
  })

/** @internal */
export const make = (
  store: SqlStore,
  options: DurableServiceOptions
): Effect.Effect<Service, never, WorkflowEngine | Scope.Scope> =>
  Effect.gen(function*() {
    const platforms = yield* Engine.resolvePlatforms
    const engine = yield* engineFor(store, options)
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

    // The persisted timer: a scheduled task's workflow is executed once it is
    // due (by the orchestration's rule, `remainingWait`), so that no workflow
    // sleeps for hours in the engine (a workflow in flight holds up the
    // engine's shutdown). Tasks a crash left between insert and execute are
    // executed here too. The engine itself resumes workflows that had started.
    const scheduleDue = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const tasks = yield* store.unfinished
      for (const task of tasks) {
        if (started.has(task.id) || Orchestrate.remainingWait(task, now) > 0) continue
        yield* execute(task.id)
      }
    })
    if (runsTasks) {
      yield* scheduleDue.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("Medusa could not look for due tasks", cause)),
        Effect.repeat(Schedule.spaced(Duration.decode(options.schedulerInterval ?? "500 millis"))),
        Effect.forkScoped
      )
      yield* Shared.pruneFinished(store, options)
    }

    // A client cannot run its task: while it is pending and no runner is
    // alive, the task's message says so (and `status` shows it).
    const scope = yield* Effect.scope
    const runnersAlive = options.runnersAlive
    const reportWhileNoRunner = (id: TaskId.TaskId): Effect.Effect<void> => {
      if (runnersAlive === undefined) return Effect.void
      const note = (message: string | undefined) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          store.update(id, (t) =>
            t.state !== "pending" || t.message === message ?
              Either.left(new InvalidTransition({ taskId: id, from: t.state, to: t.state })) :
              Either.right(new TaskClass({ ...t, message, updatedAt: now }, true))))
      const once = Effect.gen(function*() {
        const task = yield* store.get(id)
        if (task.state !== "pending") {
          return false
        }
        if (task.runAt !== undefined && task.runAt > (yield* Clock.currentTimeMillis)) {
          return true
        }
        const sightings = yield* runnersAlive
        if (sightings.alive === 0) {
          yield* note(noRunnerMessage(sightings))
        } else if (task.message?.startsWith("waiting for a runner") === true) {
          yield* note(undefined)
        }
        return true
      }).pipe(Effect.catchAll(() =>
        Effect.succeed(true)
      ))
      return once.pipe(
        Effect.repeat({ schedule: Schedule.spaced(runnerCheckInterval), while: (goOn) => goOn }),
        Effect.asVoid,
        Effect.forkIn(scope),
        Effect.asVoid
      )
    }

    const submitTask = (task: Task) =>
      Effect.gen(function*() {
        yield* store.insert(task)
        // A scheduled task waits in the table; the scheduler executes it when due.
        if (Orchestrate.remainingWait(task, yield* Clock.currentTimeMillis) === 0) yield* execute(task.id)
        if (options.clientOnly === true) yield* reportWhileNoRunner(task.id)
      })

    const submit = Effect.fn("Medusa.submit")(function*(input: PublishRequestInput) {
      if (options.readOnly === true) return yield* readOnlyError("Submitting a task")
      const { media, request } = yield* Engine.validateRequest(input, platforms)
      const id = yield* TaskId.make
      const now = yield* Clock.currentTimeMillis
      const task = yield* Shared.plannedTask(platforms, store.list, Engine.makeTask(id, request, media, now), now)
      yield* submitTask(task)
      return id
    })

    const { awaitFinal, status, watch } = Shared.readers(store)

    const publish = (input: PublishRequestInput): Effect.Effect<Task, InvalidRequest | TaskError | StoreError> =>
      Effect.flatMap(submit(input), (id) => Effect.catchTag(awaitFinal(id), "TaskNotFound", (e) => Effect.die(e)))

    const cancel = Effect.fn("Medusa.cancel")(function*(id: string) {
      if (options.readOnly === true) {
        if (options.embeddedFile === undefined) return yield* readOnlyError("Cancelling a task")
        return yield* Requests.cancelFromOutside(options.embeddedFile, store, yield* Shared.parseId(id))
      }
      const taskId = yield* Shared.parseId(id)
      const task = yield* store.get(taskId)
      if (isFinal(task.state)) {
        return yield* new InvalidTransition({ taskId, from: task.state, to: "cancelled" })
      }
      // The running activities watch the task and stop when it is cancelled,
      // in whichever process they run.
      const now = yield* Clock.currentTimeMillis
      return yield* store.update(taskId, (t) => Engine.transition(t, "cancelled", now, { message: "Cancelled" }))
    })

    // A task another process submitted through the requests folder: stored
    // once (a request read twice finds it stored), then run like our own.
    const adopt = (task: Task) =>
      Effect.gen(function*() {
        const stored = yield* store.get(task.id).pipe(
          Effect.as(true),
          Effect.catchTag("TaskNotFound", () => Effect.succeed(false))
        )
        if (!stored) yield* store.insert(task)
        if (!started.has(task.id) && Orchestrate.remainingWait(task, yield* Clock.currentTimeMillis) === 0) {
          yield* execute(task.id)
        }
      })

    const retract = (id: string, retractOptions?: RetractOptions) =>
      options.readOnly !== true ?
        Effect.flatMap(Shared.parseId(id), (taskId) => Retract.retract(engine, taskId, retractOptions ?? {})) :
        options.embeddedFile !== undefined ?
        // A retract's request is the task id and platforms, checked here and there: no InvalidRequest comes back.
        Requests.callFromOutside(options.embeddedFile, Requests.retractCall(id, retractOptions ?? {})).pipe(
          Effect.catchTag("InvalidRequest", (e) => Effect.die(e))
        ) :
        Effect.fail(readOnlyError("Retracting a task"))
    const reschedule = (id: string, runAt: string) =>
      options.readOnly !== true ?
        Shared.reschedule(store)(id, runAt) :
        options.embeddedFile !== undefined ?
        // A reschedule asks no platform: a platform error cannot come back.
        Requests.callFromOutside(options.embeddedFile, { _tag: "reschedule", id, runAt }).pipe(
          Effect.catchIf(isPlatformError, (e) => Effect.die(e))
        ) :
        Effect.fail(readOnlyError("Rescheduling a task"))

    if (runsTasks && options.embeddedFile !== undefined) {
      yield* Requests.serve(options.embeddedFile, {
        cancel,
        submit: adopt,
        call: (call) =>
          call._tag === "reschedule" ?
            reschedule(call.id, call.runAt) :
            retract(call.id, { platforms: call.platforms, videos: call.videos }),
        enableWebhook: (url) =>
          store.outbox !== undefined ?
            store.outbox.enable(url) :
            Effect.fail(
              new StoreError({ reason: "unavailable", description: "this task store keeps no webhook outbox" })
            )
      })
    }

    const list = (listOptions?: ListOptions) => store.list(listOptions)

    return {
      submit,
      publish,
      status,
      await: awaitFinal,
      watch,
      changes: store.changes,
      cancel,
      list,
      validate: Shared.validate(platforms, store.list),
      retract,
      publishBatch: (manifest, batchOptions) =>
        options.readOnly === true && batchOptions?.dryRun !== true ?
          Effect.fail(readOnlyError("Submitting a batch")) :
          Shared.publishBatch(platforms, store.list, submitTask)(manifest, batchOptions),
      reschedule
    }
  })
