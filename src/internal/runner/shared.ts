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
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import type { Options, TaskError } from "../../Medusa.js"
import type { Batch, BatchManifest, Validation } from "../../Planning.js"
import type { PlatformId } from "../../PlatformId.js"
import { all as allPlatforms } from "../../PlatformId.js"
import type { StoreError } from "../../PublishError.js"
import {
  BatchRowIssues,
  InvalidBatch,
  InvalidRequest,
  InvalidTransition,
  Issue,
  TaskNotReady
} from "../../PublishError.js"
import { TaskCancelled, TaskNotFound } from "../../PublishError.js"
import type { PublishRequestInput } from "../../PublishRequest.js"
import { PublishRequest } from "../../PublishRequest.js"
import type { Task } from "../../Task.js"
import { HistoryEntry, isFinal } from "../../Task.js"
import * as TaskId from "../../TaskId.js"
import type { Service as StoreService } from "../../TaskStore.js"
import { mergeRow } from "../planning/manifest.js"
import * as QuotaPlan from "../planning/quota.js"
import { pastGraceMillis } from "../request/validation.js"
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

/**
 * A dry run: every check `submit` makes (the request, the media file, the
 * templates, each platform's rules, the quota plan), nothing stored or sent.
 *
 * @internal
 */
export const validate = (
  platforms: Engine.ResolvedPlatforms,
  list: StoreService["list"],
  cache?: Engine.MediaCache
) =>
(input: PublishRequestInput): Effect.Effect<Validation, InvalidRequest | StoreError> =>
  Effect.gen(function*() {
    const { media, request } = yield* Engine.validateRequest(input, platforms, cache)
    const now = yield* Clock.currentTimeMillis
    const task = Engine.makeTask(yield* Engine.makeTaskId, request, media, now)
    const planned = yield* QuotaPlan.plan(platforms, list, [task], now)
    return { request, media, runAt: planned.tasks[0]!.runAt, quota: planned.checks[0] ?? [] }
  })

/**
 * A new task as its runner stores it: the quota plan may move its start
 * after a reset. Its time (`created_at`, its pending entry) is when the plan
 * is done, the moment it is stored: a plan that waited (a busy file system,
 * a remote store) is not counted as the task's age.
 *
 * @internal
 */
export const plannedTask = (
  platforms: Engine.ResolvedPlatforms,
  list: StoreService["list"],
  task: Task,
  now: number
): Effect.Effect<Task, StoreError> =>
  Effect.flatMap(QuotaPlan.plan(platforms, list, [task], now), (planned) =>
    Engine.withNow((stored) => {
      const made = planned.tasks[0]!
      return Effect.succeed(
        stored <= made.createdAt ? made : Engine.rebuild(made, {
          createdAt: stored,
          updatedAt: stored,
          history: [Engine.unsafeMake(HistoryEntry, { state: "pending", at: stored })]
        })
      )
    }))

/**
 * Moves a scheduled task (pending, with a `runAt`) to another time; the wait
 * before start (`Orchestrate.untilDue`) follows the change wherever the task
 * waits.
 *
 * @internal
 */
export const reschedule = (store: StoreService) =>
  Effect.fn("Medusa.reschedule")(function*(id: string, runAt: string) {
    const taskId = yield* parseId(id)
    const at = Date.parse(runAt)
    const now = yield* Clock.currentTimeMillis
    if (Number.isNaN(at)) {
      return yield* new InvalidRequest({
        issues: [
          new Issue({
            path: ["runAt"],
            message: `${JSON.stringify(runAt)} is not a date; use ISO 8601, e.g. 2030-01-31T09:00:00Z`
          })
        ]
      })
    }
    if (at < now - pastGraceMillis) {
      return yield* new InvalidRequest({
        issues: [
          new Issue({
            path: ["runAt"],
            message: `${runAt} is in the past (it is now ${new Date(now).toISOString()}); give a future time`
          })
        ]
      })
    }
    let refused: TaskNotReady | undefined
    const task = yield* store.update(taskId, (t) => {
      if (t.state !== "pending" || t.runAt === undefined) {
        refused = new TaskNotReady({
          taskId,
          operation: "reschedule",
          description: t.state !== "pending" ?
            `it is ${t.state}; only a task still waiting for its time can be moved` :
            "it is not scheduled (it starts as soon as a slot is free); cancel it and publish again with a time"
        })
        return Either.left(new InvalidTransition({ taskId, from: t.state, to: t.state }))
      }
      const iso = new Date(at).toISOString()
      return Either.right(
        Engine.rebuild(t, {
          runAt: at,
          request: Engine.unsafeMake(PublishRequest, { ...t.request, runAt: iso }),
          message: undefined,
          waits: undefined,
          updatedAt: now
        })
      )
    }).pipe(
      Effect.catchTag(
        "InvalidTransition",
        (e): Effect.Effect<never, TaskNotReady | InvalidTransition> =>
          refused !== undefined ? Effect.fail(refused) : Effect.fail(e)
      ),
      // Only the refusal above is an InvalidTransition here.
      Effect.catchTag("InvalidTransition", (e) => Effect.die(e))
    )
    return task
  })

/**
 * Submits a batch: every row merged over the defaults and validated first
 * (all rows' problems in one `InvalidBatch`, nothing submitted), then the
 * quota plan over the whole batch, then each task stored and started with
 * `submitTask` (the runner's own way), all carrying one batch id.
 *
 * @internal
 */
export const publishBatch = (
  platforms: Engine.ResolvedPlatforms,
  list: StoreService["list"],
  submitTask: (task: Task) => Effect.Effect<void, StoreError>,
  cache?: Engine.MediaCache
) =>
  Effect.fn("Medusa.publishBatch")(function*(
    manifest: BatchManifest,
    options: {
      readonly file?: string | undefined
      readonly lines?: ReadonlyArray<number> | undefined
      readonly dryRun?: boolean | undefined
    } = {}
  ) {
    const videos = Array.isArray(manifest.videos) ? manifest.videos : []
    const lineOf = (i: number) => options.lines?.[i]
    if (videos.length === 0) {
      return yield* new InvalidBatch({
        ...(options.file !== undefined ? { file: options.file } : {}),
        total: 0,
        rows: [
          new BatchRowIssues({
            row: 0,
            issues: [new Issue({ path: ["videos"], message: "is empty; list one row per video" })]
          })
        ]
      })
    }
    const results = yield* Effect.forEach(
      videos,
      (row) => Effect.either(Engine.validateRequest(mergeRow(manifest.defaults, row), platforms, cache)),
      { concurrency: 4 }
    )
    const problems: Array<BatchRowIssues> = []
    results.forEach((result, i) => {
      if (Either.isLeft(result)) {
        const line = lineOf(i)
        problems.push(
          new BatchRowIssues({ row: i + 1, ...(line !== undefined ? { line } : {}), issues: result.left.issues })
        )
      }
    })
    if (problems.length > 0) {
      return yield* new InvalidBatch({
        ...(options.file !== undefined ? { file: options.file } : {}),
        total: videos.length,
        rows: problems
      })
    }
    const batchId = `medusa_batch_${randomUUID()}`
    const now = yield* Clock.currentTimeMillis
    const made: Array<Task> = []
    for (const result of results) {
      if (Either.isLeft(result)) continue
      const id = yield* Engine.makeTaskId
      made.push(Engine.rebuild(Engine.makeTask(id, result.right.request, result.right.media, now), { batchId }))
    }
    const planned = yield* QuotaPlan.plan(platforms, list, made, now)
    if (options.dryRun !== true) { for (const task of planned.tasks) yield* submitTask(task) }
    return { batchId, tasks: planned.tasks } satisfies Batch
  })
