/**
 * The one orchestration of a task, executed by every runner:
 *
 * 1. `begin`: pending → in_progress, and the plan;
 * 2. `upload:<host>` for every host, concurrently;
 * 3. what is posted and what is skipped (`Plan.afterUploads`);
 * 4. `posting`, then `post:<publisher>` for every publisher that posts, concurrently;
 * 5. `finish`: the final state.
 *
 * A runner only says how a step is executed (`StepRunner`): inline in this
 * process for the in-memory runner, as an `@effect/workflow` activity (its
 * result journaled, replayed after a crash) for the durable ones. The body
 * branches on step results only, so that a replay takes the same path.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Schema from "effect/Schema"
import type { StoreError } from "../../PublishError.js"
import type { TaskId } from "../../TaskId.js"
import * as Spans from "../telemetry/spans.js"
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
 * The task `id`, from wherever it stands: steps already done find their
 * work recorded (or, under a durable runner, are replayed from the journal).
 *
 * @internal
 */
export const orchestrate = <R>(runner: StepRunner<R>, engine: Engine, id: TaskId): Effect.Effect<void, StoreError, R> =>
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
    }
    yield* runner.step("finish", Plan.Outcome, Steps.finish(engine, id, notPosted))
  }).pipe(Spans.task(id))
