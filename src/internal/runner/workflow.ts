/**
 * The durable task: an `@effect/workflow` workflow whose activities are the
 * engine's steps.
 *
 * Activities, in order:
 * - `begin`: pending → in_progress; returns the plan (hosts, publishers,
 *   policy, which hosts each publisher's templates need), so the body decides
 *   from recorded values only.
 * - per host, `session:<host>`: creates the upload session and persists its
 *   URI before any byte is sent (the host's `onSession` hook is held until the
 *   session is saved, then the upload is stopped); then `upload:<host>`:
 *   the engine's `uploadStep`, which resumes the saved session from the
 *   offset the server reports.
 * - `posting`, then per publisher `post:<publisher>`: the engine's
 *   `postStep` (intent → post → done; on resume an intent without done is
 *   looked up with `find`, else `post_outcome_unknown`; never a blind repost).
 * - `finish`: the final state.
 *
 * Platform errors never fail an activity: they are recorded on the task and
 * the activity returns `failed`, because a workflow failure is permanent and
 * a Medusa task already has its own failure model. A defect in a step is
 * recorded as an internal failure for the same reason. Store errors are
 * retried (`storeRetryPolicy`) and then fail the activity.
 *
 * @internal
 */
import * as Activity from "@effect/workflow/Activity"
import * as Workflow from "@effect/workflow/Workflow"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { HostId, hosts as allHosts, PlatformId, PublisherId } from "../../PlatformId.js"
import type { PlatformError } from "../../PublishError.js"
import { isPlatformError, StoreError } from "../../PublishError.js"
import type { Task } from "../../Task.js"
import { isFinal, Task as TaskClass } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import * as Template from "../../Template.js"
import type { SqlStore } from "../store/sql.js"
import * as Engine from "../task/engine.js"

// =============================================================================
// Workflow
// =============================================================================

/** @internal */
export const PublishTask = Workflow.make({
  name: "medusa/PublishTask",
  payload: { taskId: Schema.String },
  success: Schema.Void,
  error: StoreError,
  idempotencyKey: ({ taskId }) => taskId
})

/** @internal */
export interface Steps {
  readonly engine: Engine.Engine
  readonly store: SqlStore
}

/** @internal */
export class DurableSteps extends Context.Tag("@medusa/internal/DurableSteps")<DurableSteps, Steps>() {}

const Plan = Schema.Struct({
  run: Schema.Boolean,
  hosts: Schema.Array(HostId),
  publishers: Schema.Array(PublisherId),
  failFast: Schema.Boolean,
  /** Hosts each publisher's templates need. */
  needs: Schema.Array(Schema.Tuple(PublisherId, Schema.Array(HostId)))
})

const Outcome = Schema.Literal("ok", "session", "failed", "aborted", "cancelled", "skipped")
type Outcome = typeof Outcome.Type

/** Store hiccups (a busy database, a dropped connection) are retried before an activity fails. */
const storeRetryPolicy = Schedule.exponential("100 millis", 2).pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.intersect(Schedule.recurs(8))
)

const retryStore = <A, R>(effect: Effect.Effect<A, StoreError, R>): Effect.Effect<A, StoreError, R> =>
  Effect.retry(effect, { schedule: storeRetryPolicy, while: (e) => e.reason === "unavailable" })

const getTask = (steps: Steps, id: TaskId): Effect.Effect<Task, StoreError> =>
  steps.store.get(id).pipe(
    Effect.catchTag("TaskNotFound", () =>
      Effect.fail(
        new StoreError({
          reason: "conflict",
          description: `task ${id} disappeared from the store while it was running`
        })
      ))
  )

/**
 * Resolves when the task reaches a state that should stop the step: it was
 * cancelled (from any process), or `alsoWhen` holds.
 */
const stopSignal = (
  steps: Steps,
  id: TaskId,
  alsoWhen: (task: Task) => boolean
): Effect.Effect<"cancelled" | "aborted", StoreError> =>
  steps.store.watch(id).pipe(
    Stream.filter((t) => t.state === "cancelled" || isFinal(t.state) || alsoWhen(t)),
    Stream.runHead,
    Effect.flatMap(Option.match({
      // The watch ended without a match: the task went away; treat as cancelled.
      onNone: () => Effect.succeed("cancelled" as const),
      onSome: (t) => Effect.succeed(t.state === "in_progress" ? "aborted" as const : "cancelled" as const)
    })),
    Effect.catchTag("TaskNotFound", () => Effect.succeed("cancelled" as const))
  )

/** Records a platform failure once per platform (a re-run activity may meet it again). */
const recordFailure = (steps: Steps, id: TaskId, error: PlatformError) =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (now) =>
      Engine.modify(steps.engine, id, (t) =>
        t.failures.some((f) => f.platform === error.platform) ?
          t :
          new TaskClass({ ...t, failures: [...t.failures, Engine.failureOf(error)], updatedAt: now }, true))
  )

/**
 * Runs a step: platform errors are recorded and become `failed`; a defect is
 * recorded as an internal failure and becomes `failed`; it stops with
 * `cancelled`/`aborted` when `stopSignal` fires first.
 */
const guarded = <R>(
  steps: Steps,
  id: TaskId,
  step: Effect.Effect<Outcome, PlatformError | StoreError, R>,
  abortWhen: (task: Task) => boolean
): Effect.Effect<Outcome, StoreError, R> =>
  Effect.raceFirst(
    step.pipe(
      Effect.catchIf(isPlatformError, (error) => Effect.as(recordFailure(steps, id, error), "failed" as const))
    ),
    stopSignal(steps, id, abortWhen)
  ).pipe(
    Effect.catchAllDefect((defect) =>
      Engine.failWithDefect(steps.engine, id, defect instanceof Error ? defect.message : String(defect)).pipe(
        Effect.as("failed" as const)
      )
    ),
    retryStore
  )

const activity = <R>(name: string, execute: Effect.Effect<Outcome, StoreError, R>) =>
  Activity.make({ name, success: Outcome, error: StoreError, execute })

// --- steps ---------------------------------------------------------------------

const begin = (steps: Steps, id: TaskId): Effect.Effect<typeof Plan.Type, StoreError> =>
  retryStore(Effect.gen(function*() {
    const task = yield* getTask(steps, id)
    const request = task.request
    const plan = {
      hosts: Engine.hostsOf(request),
      publishers: Engine.publishersOf(request),
      failFast: request.policy === "fail-fast",
      needs: Engine.publishersOf(request).map((p) =>
        [p, Template.hostsNeeded(p, request.metadata)] as readonly [PublisherId, ReadonlyArray<HostId>]
      )
    }
    if (isFinal(task.state)) return { ...plan, run: false }
    if (task.state === "pending") {
      const hosts = plan.hosts
      const message = hosts.length > 0 ? Engine.uploadMessage(hosts, []) : Engine.postMessage(plan.publishers)
      const started = yield* Engine.transitionTo(steps.engine, id, "in_progress", { message }).pipe(
        Effect.map(() => true),
        Effect.catchTags({ TaskNotFound: () => Effect.succeed(false), InvalidTransition: () => Effect.succeed(false) })
      )
      if (!started) return { ...plan, run: false }
    }
    return { ...plan, run: true }
  }))

/**
 * Creates the host's upload session without sending bytes: the host's
 * `onSession` call saves the session, then never returns, and the race ends
 * the upload there. A host that finishes without ever reporting a session
 * (nothing resumable) simply completes here: `ok`.
 */
const createSession = (steps: Steps, id: TaskId, host: HostId, failFast: boolean) =>
  guarded(
    steps,
    id,
    Effect.gen(function*() {
      const task = yield* getTask(steps, id)
      if (task.videos.some((v) => v.host === host)) return "ok" as const
      const saved = yield* steps.store.loadUploadSession(id, host)
      if (Option.isSome(saved)) return "session" as const
      const created = yield* Deferred.make<void>()
      const store = steps.store
      const holding: Engine.Engine = {
        ...steps.engine,
        store: {
          ...store,
          saveUploadSession: (taskId, session) =>
            store.saveUploadSession(taskId, session).pipe(
              Effect.zipRight(Deferred.succeed(created, undefined)),
              Effect.zipRight(Effect.never)
            )
        }
      }
      return yield* Effect.raceFirst(
        Effect.as(
          Engine.withPlatformPermit(steps.engine, host, Engine.uploadStep(holding, id, host)),
          "ok" as const
        ),
        Effect.as(Deferred.await(created), "session" as const)
      )
    }),
    (t) => failFast && t.failures.length > 0
  )

const upload = (steps: Steps, id: TaskId, host: HostId, failFast: boolean) =>
  guarded(
    steps,
    id,
    Effect.as(Engine.withPlatformPermit(steps.engine, host, Engine.uploadStep(steps.engine, id, host)), "ok" as const),
    (t) => failFast && t.failures.some((f) => f.platform !== host)
  )

const posting = (steps: Steps, id: TaskId, publishers: ReadonlyArray<PublisherId>) =>
  retryStore(
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Engine.modify(steps.engine, id, (t) =>
        t.state !== "in_progress" ?
          t :
          new TaskClass({ ...t, message: Engine.postMessage(publishers), updatedAt: now }, true))).pipe(
        Effect.as("ok" as const)
      )
  )

const post = (steps: Steps, id: TaskId, publisher: PublisherId, failFast: boolean) =>
  guarded(
    steps,
    id,
    Effect.gen(function*() {
      const task = yield* getTask(steps, id)
      if (task.posts.some((p) => p.publisher === publisher)) return "ok" as const
      // Nothing starts once a failure is known (fail-fast).
      if (failFast && task.failures.length > 0) return "skipped" as const
      const videos = allHosts.flatMap((h) => task.videos.filter((v) => v.host === h))
      return yield* Effect.as(
        Engine.withPlatformPermit(steps.engine, publisher, Engine.postStep(steps.engine, id, publisher, videos)),
        "ok" as const
      )
    }),
    () => false
  )

const finish = (steps: Steps, id: TaskId, skipped: ReadonlyArray<PlatformId>) =>
  retryStore(Effect.gen(function*() {
    const current = yield* getTask(steps, id)
    if (isFinal(current.state)) return "ok" as const
    const ordered = [...new Set(skipped)]
    const result = yield* Effect.either(
      current.failures.length > 0 ?
        Engine.transitionTo(steps.engine, id, "failed", { skipped: ordered, message: current.failures[0]!.message }) :
        Engine.transitionTo(steps.engine, id, "completed", { skipped: ordered })
    )
    if (Either.isLeft(result) && result.left._tag === "StoreError") return yield* result.left
    return "ok" as const
  }))

// =============================================================================
// Body
// =============================================================================

/**
 * The workflow body: deterministic, it only branches on activity results.
 *
 * @internal
 */
export const body = (taskId: string) =>
  Effect.gen(function*() {
    const steps = yield* DurableSteps
    const id = taskId as TaskId
    const plan = yield* Activity.make({ name: "begin", success: Plan, error: StoreError, execute: begin(steps, id) })
    if (!plan.run) return

    const uploads = yield* Effect.forEach(plan.hosts, (host) =>
      Effect.gen(function*() {
        const first = yield* activity(`session:${host}`, createSession(steps, id, host, plan.failFast))
        if (first !== "session") return [host, first] as const
        return [host, yield* activity(`upload:${host}`, upload(steps, id, host, plan.failFast))] as const
      }), { concurrency: "unbounded" })
    if (uploads.some(([, o]) => o === "cancelled")) return

    const failedHosts = new Set(uploads.filter(([, o]) => o !== "ok").map(([h]) => h))
    const skipped: Array<PlatformId> = []
    const toPost: Array<PublisherId> = []
    if (plan.failFast && failedHosts.size > 0) {
      skipped.push(...plan.publishers)
    } else {
      for (const [publisher, needs] of plan.needs) {
        if (needs.some((h) => failedHosts.has(h))) skipped.push(publisher)
        else toPost.push(publisher)
      }
    }
    if (toPost.length > 0) {
      yield* activity("posting", posting(steps, id, toPost))
      const posts = yield* Effect.forEach(
        toPost,
        (publisher) =>
          Effect.map(
            activity(`post:${publisher}`, post(steps, id, publisher, plan.failFast)),
            (o) => [publisher, o] as const
          ),
        { concurrency: "unbounded" }
      )
      if (posts.some(([, o]) => o === "cancelled")) return
      skipped.push(...posts.filter(([, o]) => o === "skipped").map(([p]) => p))
    }
    const order = PlatformId.literals
    yield* activity("finish", finish(steps, id, order.filter((p) => skipped.includes(p))))
  })

/**
 * Registers the workflow's handler with the engine.
 *
 * @internal
 */
export const layer: Layer.Layer<never, never, WorkflowEngine | DurableSteps> = PublishTask.toLayer(
  (payload) => body(payload.taskId)
)
