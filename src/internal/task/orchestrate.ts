/**
 * The one orchestration of a task, executed by every runner:
 *
 * 0. the wait before start: a pending task with a `runAt` ahead (scheduled,
 *    or planned after a quota reset) stays pending until then, following a
 *    reschedule or a cancel as it is stored (`untilDue`);
 * 1. `begin`: pending → in_progress, and the plan;
 * 2. `upload:<host>` for every host, concurrently;
 * 3. what is posted and what is skipped (`Plan.afterUploads`);
 * 4. `posting`, then `post:<publisher>` for every publisher that posts, concurrently;
 *    under `all-or-nothing`, `retract` when a post failed and others went out;
 * 5. `finish`: the final state.
 *
 * A runner only says how a step is executed (`StepRunner`): inline in this
 * process for the in-memory runner, as an `@effect/workflow` activity (its
 * result journaled, replayed after a crash) for the durable ones. The body
 * branches on step results only, so that a replay takes the same path.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { StoreError } from "../../PublishError.js"
import type { Task } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import type { Engine } from "./engine.js"
import * as Plan from "./plan.js"
import * as Steps from "./steps.js"

/**
 * How a runner executes one named step. `success` describes the result, for
 * runners that record it.
 *
 * @internal
 */
export interface StepRunner<R> {
  readonly step: <A, I>(
    name: string,
    success: Schema.Schema<A, I>,
    execute: Effect.Effect<A, StoreError>
  ) => Effect.Effect<A, StoreError, R>
}

/**
 * Executes each step in place.
 *
 * @internal
 */
export const inline: StepRunner<never> = { step: (_name, _success, execute) => execute }

/**
 * `f` over every item at once, each in a child fiber (interrupted with this
 * one); a single item runs in this fiber. Plain forks: `forEach` with
 * unbounded concurrency costs several times more per task, for the few
 * items a task has.
 */
const concurrently = <A, B, E, R>(
  items: ReadonlyArray<A>,
  f: (a: A) => Effect.Effect<B, E, R>
): Effect.Effect<ReadonlyArray<B>, E, R> =>
  items.length === 1 ?
    Effect.map(f(items[0]!), (b) => [b]) :
    Effect.flatMap(Effect.forEach(items, (a) => Effect.fork(f(a))), (fibers) => Effect.forEach(fibers, Fiber.join))

/**
 * How long a task must still wait before it starts: a pending task whose
 * `runAt` is ahead. The one rule of the wait, for every runner.
 *
 * @internal
 */
export const remainingWait = (task: Task, now: number): number =>
  task.state === "pending" && task.runAt !== undefined && task.runAt > now ? task.runAt - now : 0

/**
 * Waits until the task is due. The store is followed meanwhile: a changed
 * `runAt` (a reschedule) restarts the wait, a task that left `pending` (a
 * cancel) ends it, and `begin` then finds it as it is. `known` saves the
 * read when the runner holds the task already.
 *
 * @internal
 */
export const untilDue = (engine: Engine, id: TaskId, known?: Task): Effect.Effect<void, StoreError> => {
  const from = (task: Task): Effect.Effect<void, StoreError> =>
    Effect.clockWith((clock) => {
      const left = remainingWait(task, clock.unsafeCurrentTimeMillis())
      if (left === 0) return Effect.void
      const changed = engine.store.watch(id).pipe(
        Stream.filter((t) => t.state !== task.state || t.runAt !== task.runAt),
        Stream.runHead,
        Effect.catchTag("TaskNotFound", () => Effect.succeed(Option.none<Task>()))
      )
      return Effect.flatMap(
        Effect.race(Effect.as(Effect.sleep(Duration.millis(left)), Option.none<Task>()), changed),
        (next) => Option.isSome(next) ? from(next.value) : Effect.void
      )
    })
  if (known !== undefined) return known.runAt === undefined ? Effect.void : from(known)
  // A task that is gone is for `begin` to find gone.
  return engine.store.get(id).pipe(Effect.flatMap(from), Effect.catchTag("TaskNotFound", () => Effect.void))
}

/**
 * The task `id`, from wherever it stands: steps already done find their
 * work recorded (or, under a durable runner, are replayed from the journal).
 * The wait before start comes first, outside `slot` (the in-memory runner's
 * bound on tasks at once), so that a scheduled task holds no slot.
 *
 * @internal
 */
export const orchestrate = <R>(
  runner: StepRunner<R>,
  engine: Engine,
  id: TaskId,
  options: {
    /** The task as the runner holds it, when it does. */
    readonly known?: Task | undefined
    readonly slot?: (<A, E, R2>(effect: Effect.Effect<A, E, R2>) => Effect.Effect<A, E, R2>) | undefined
  } = {}
): Effect.Effect<void, StoreError, R> => {
  const steps = stepsOf(runner, engine, id)
  const due = untilDue(engine, id, options.known)
  const slotted = options.slot === undefined ? steps : options.slot(steps)
  // A task without `runAt` (the usual case) starts in this step.
  return options.known !== undefined && options.known.runAt === undefined ? slotted : Effect.zipRight(due, slotted)
}

const stepsOf = <R>(runner: StepRunner<R>, engine: Engine, id: TaskId): Effect.Effect<void, StoreError, R> =>
  Effect.gen(function*() {
    const plan = yield* runner.step("begin", Plan.Plan, Steps.begin(engine, id))
    if (!plan.run) return

    const uploads = yield* concurrently(plan.hosts, (host) =>
      Effect.map(
        runner.step(`upload:${host}`, Plan.Outcome, Steps.upload(engine, id, plan, host)),
        (outcome) => [host, outcome] as const
      ))
    if (uploads.some(([, outcome]) => outcome === "stopped")) return

    const { skipped, toPost } = Plan.afterUploads(plan, uploads)
    const notPosted = [...skipped]
    if (toPost.length > 0) {
      yield* runner.step("posting", Plan.Outcome, Steps.posting(engine, id, toPost))
      const posts = yield* concurrently(toPost, (publisher) =>
        Effect.map(
          runner.step(`post:${publisher}`, Plan.Outcome, Steps.post(engine, id, plan, publisher)),
          (outcome) => [publisher, outcome] as const
        ))
      if (posts.some(([, outcome]) => outcome === "stopped")) return
      for (const [publisher, outcome] of posts) if (outcome === "skipped") notPosted.push(publisher)
      // All or nothing: a failed post takes back the ones that went out.
      if (
        plan.allOrNothing === true && posts.some(([, o]) => o === "failed") && posts.some(([, o]) => o === "ok")
      ) {
        yield* runner.step("retract", Plan.Outcome, Steps.retractPosts(engine, id))
      }
    }
    yield* runner.step("finish", Plan.Outcome, Steps.finish(engine, id, notPosted))
  })
