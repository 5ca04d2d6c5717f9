/**
 * The steps of a task, each one unit that a runner executes once (a durable
 * runner records its result; a re-run after a crash finds its work done in
 * the store and returns the same outcome).
 *
 * Platform errors never fail a step: they are recorded on the task and the
 * step returns `failed`. A defect is recorded as an internal failure for the
 * same reason. A running step stops (`stopped`) when the task ends elsewhere,
 * from this process or another one: the store is the one signal.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { HostTarget, PublisherTarget, Target } from "../../PlatformId.js"
import { sortTargets, targetName } from "../../PlatformId.js"
import type { PlatformError } from "../../PublishError.js"
import { isPlatformError, StoreError } from "../../PublishError.js"
import type { Task } from "../../Task.js"
import { isFinal, TaskFailure } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import * as Spans from "../telemetry/spans.js"
import type { Engine } from "./engine.js"
import {
  abandonUpload,
  failureOf,
  failWithDefect,
  modify,
  postMessage,
  postStep,
  rebuild,
  retarget,
  transitionTo,
  uploadMessage,
  uploadStep,
  withPermitUnless,
  withPlatformPermit,
  withWait
} from "./engine.js"
import type { Outcome } from "./plan.js"
import * as Plan from "./plan.js"
import * as Retract from "./retract.js"

const vanished = (id: TaskId) =>
  new StoreError({ reason: "conflict", description: `task ${id} disappeared from the store while it was running` })

const getTask = (engine: Engine, id: TaskId): Effect.Effect<Task, StoreError> =>
  Effect.catchTag(engine.store.get(id), "TaskNotFound", () => Effect.fail(vanished(id)))

/** Records a failure once per target (a re-run step may meet it again), keyed by the target that failed. */
const recordFailure = (
  engine: Engine,
  id: TaskId,
  target: Target,
  reported: PlatformError
): Effect.Effect<"failed", StoreError> => {
  const error = retarget(reported, target)
  return Effect.as(
    Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        modify(engine, id, (t) =>
          t.failures.some((f) => f.platform === error.platform) ?
            t :
            rebuild(t, {
              failures: [...t.failures, failureOf(error)],
              // A platform that failed no longer waits.
              waits: withWait(t.waits, error.platform, undefined),
              updatedAt: now
            }))
    ),
    "failed" as const
  )
}

/** A platform error becomes the task's recorded failure (of `target`) and the outcome `failed`. */
const recorded = (
  engine: Engine,
  id: TaskId,
  target: Target,
  step: Effect.Effect<Outcome, PlatformError | StoreError>
): Effect.Effect<Outcome, StoreError> =>
  Effect.catchIf(step, isPlatformError, (error) => recordFailure(engine, id, target, error))

/** The task's first state (from now on) that satisfies `predicate`; `None` if the task goes away. */
const whenTask = (
  engine: Engine,
  id: TaskId,
  predicate: (task: Task) => boolean
): Effect.Effect<Option.Option<Task>, StoreError> => engine.store.waitFor(id, predicate)

/**
 * Resolves `stopped` when the task has ended (cancelled from any process, or
 * failed with a defect), `aborted` when `abortWhen` holds for it.
 */
const stopSignal = (
  engine: Engine,
  id: TaskId,
  abortWhen: (task: Task) => boolean
): Effect.Effect<"stopped" | "aborted", StoreError> =>
  whenTask(engine, id, (t) => isFinal(t.state) || abortWhen(t)).pipe(
    Effect.map((found) =>
      // A watch that ends without a match: the task went away.
      Option.isSome(found) && !isFinal(found.value.state) ? "aborted" as const : "stopped" as const
    )
  )

/**
 * Runs a step until it ends or `stopSignal` fires: when the task ends
 * elsewhere (unless a cancel interrupts this process's fiber anyway), or when
 * `abortWhen` holds. A step with nothing to watch for runs without a second
 * fiber. A defect is recorded as the task's internal failure (the task must
 * never stay `in_progress`).
 */
const guarded = (
  engine: Engine,
  id: TaskId,
  step: Effect.Effect<Outcome, StoreError>,
  abortWhen: ((task: Task) => boolean) | undefined
): Effect.Effect<Outcome, StoreError> =>
  (abortWhen === undefined && engine.cancelInterrupts ?
    step :
    Effect.raceFirst(step, stopSignal(engine, id, abortWhen ?? never))).pipe(
      Effect.catchAllDefect((defect) =>
        Effect.as(
          failWithDefect(engine, id, defect instanceof Error ? defect.message : String(defect)),
          "failed" as const
        )
      )
    )

const never = () => false

/**
 * pending → in_progress, and the plan. A task already final (or cancelled
 * before it started) is not run.
 *
 * @internal
 */
export const begin = (engine: Engine, id: TaskId): Effect.Effect<Plan.Plan, StoreError> =>
  Effect.gen(function*() {
    const task = yield* getTask(engine, id)
    const plan = Plan.planOf(task.request, true)
    if (isFinal(task.state)) return { ...plan, run: false }
    if (task.state === "pending") {
      const message = plan.hosts.length > 0 ? uploadMessage(plan.hosts, []) : postMessage(plan.publishers)
      const started = yield* transitionTo(engine, id, "in_progress", { message }).pipe(
        Effect.as(true),
        Effect.catchTags({ TaskNotFound: () => Effect.succeed(false), InvalidTransition: () => Effect.succeed(false) })
      )
      if (!started) return { ...plan, run: false }
    }
    return plan
  })

/**
 * Uploads to one host (or finds the video recorded by an earlier run),
 * holding the host's permit. Stops under fail-fast once another platform's
 * failure is recorded.
 *
 * @internal
 */
export const upload = (
  engine: Engine,
  id: TaskId,
  plan: Pick<Plan.Plan, "failFast" | "hosts">,
  host: HostTarget
): Effect.Effect<Outcome, StoreError> =>
  guarded(
    engine,
    id,
    withPlatformPermit(
      engine,
      host,
      recorded(engine, id, host, Effect.as(uploadStep(engine, id, host), "ok" as const))
    ),
    // Only a sibling's failure can stop an upload (fail-fast).
    plan.failFast && plan.hosts.length > 1 ? (t) => Plan.uploadMustStop(plan, host, t.failures) : undefined
  ).pipe(
    // Nothing resumes an upload that did not finish here: what it created on the platform goes.
    Effect.tap((outcome) => outcome === "ok" ? Effect.void : abandonUpload(engine, id, host)),
    Spans.step(host, engine.platforms.hosts[host]?.account)
  )

/**
 * The status message once the uploads are done.
 *
 * @internal
 */
export const posting = (
  engine: Engine,
  id: TaskId,
  publishers: ReadonlyArray<PublisherTarget>
): Effect.Effect<"ok", StoreError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    modify(engine, id, (t) =>
      t.state !== "in_progress" ?
        t :
        rebuild(t, { message: postMessage(publishers), updatedAt: now }))).pipe(Effect.as("ok" as const))

/**
 * Posts to one publisher (or finds the post recorded by an earlier run). The
 * decision to post is taken once the publisher's permit is held, from the
 * failures recorded in the store: under fail-fast, nothing starts once a
 * failure is known, whichever process recorded it. A failure is recorded
 * before the permit is released.
 *
 * @internal
 */
export const post = (
  engine: Engine,
  id: TaskId,
  plan: Pick<Plan.Plan, "failFast">,
  publisher: PublisherTarget
): Effect.Effect<Outcome, StoreError> =>
  guarded(
    engine,
    id,
    withPermitUnless(
      engine.permits[publisher],
      // A post still waiting for its permit when a failure is known will not go out: stop waiting.
      plan.failFast ? whenTask(engine, id, (t) => !Plan.mayPost(plan, t.failures.length)) : Effect.never,
      recorded(
        engine,
        id,
        publisher,
        Effect.gen(function*() {
          const task = yield* getTask(engine, id)
          if (task.posts.some((p) => p.publisher === publisher)) return "ok" as const
          if (!Plan.mayPost(plan, task.failures.length)) return "skipped" as const
          const videos = sortTargets(task.videos.map((v) => v.host)).flatMap((h) =>
            task.videos.filter((v) => v.host === h).slice(0, 1)
          )
          yield* postStep(engine, id, publisher, videos)
          return "ok" as const
        })
      )
    ).pipe(Effect.map(Option.getOrElse(() => "skipped" as const))),
    // Nothing stops a post that started but a cancel.
    undefined
  ).pipe(
    // A native video upload that did not end in a post is not resumed: what it left on the platform goes.
    Effect.tap((outcome) => outcome === "ok" ? Effect.void : abandonUpload(engine, id, publisher)),
    Spans.step(publisher, engine.platforms.publishers[publisher]?.account)
  )

/**
 * The final state: `failed` with the first failure's message when any was
 * recorded, else `completed`; `skipped` lists the platforms that did not run.
 *
 * @internal
 */
export const finish = (
  engine: Engine,
  id: TaskId,
  skipped: ReadonlyArray<Target>
): Effect.Effect<"ok", StoreError> =>
  Effect.gen(function*() {
    const current = yield* getTask(engine, id)
    if (isFinal(current.state)) return "ok" as const
    const ordered = Plan.ordered(skipped)
    const result = yield* Effect.either(
      current.failures.length > 0 ?
        transitionTo(engine, id, "failed", { skipped: ordered, message: current.failures[0]!.message }) :
        transitionTo(engine, id, "completed", { skipped: ordered })
    )
    // Refused: the task ended meanwhile (cancelled); that state stands.
    if (Either.isLeft(result) && result.left._tag === "StoreError") return yield* result.left
    if (Either.isRight(result)) yield* Effect.annotateCurrentSpan(Spans.Attr.state, result.right.state)
    return "ok" as const
  })

/**
 * `all-or-nothing`: deletes the posts the task made (a post failed after
 * they went out). Each deletion is recorded on the task; one that fails is
 * recorded as a failure, so that the task reports what stays up.
 *
 * @internal
 */
export const retractPosts = (engine: Engine, id: TaskId): Effect.Effect<Outcome, StoreError> =>
  Effect.gen(function*() {
    const task = yield* getTask(engine, id)
    const outcome = yield* Effect.either(Retract.undo(engine, task, {}))
    if (Either.isRight(outcome)) return "ok" as const
    if (outcome.left._tag === "StoreError") return yield* outcome.left
    const error = outcome.left
    yield* modify(engine, id, (t) =>
      rebuild(t, {
        failures: [
          ...t.failures,
          new TaskFailure({
            ...failureOf(error),
            message: `Could not take back the post on ${targetName(error.platform)}: ${error.message}`
          }, true)
        ]
      }))
    return "failed" as const
  })
