/**
 * The durable runner of a task: an `@effect/workflow` workflow whose body is
 * the one orchestration (`../task/orchestrate.ts`), each step an activity.
 * An activity's result is journaled by the engine, so a task resumed after a
 * crash replays the steps that finished and re-runs the one that was under
 * way (which finds its work in the store: the saved upload session, the
 * recorded post intent).
 *
 * @internal
 */
import * as Activity from "@effect/workflow/Activity"
import * as Workflow from "@effect/workflow/Workflow"
import type { WorkflowEngine, WorkflowInstance } from "@effect/workflow/WorkflowEngine"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { StoreError } from "../../PublishError.js"
import type { TaskId } from "../../TaskId.js"
import type { SqlStore } from "../store/sql.js"
import type * as Engine from "../task/engine.js"
import * as Orchestrate from "../task/orchestrate.js"

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

/** Store hiccups (a busy database, a dropped connection) are retried before an activity fails. */
const storeRetryPolicy = Schedule.exponential("100 millis", 2).pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.intersect(Schedule.recurs(8))
)

/**
 * Each step an activity: executed once, its result journaled.
 *
 * @internal
 */
export const activities: Orchestrate.StepRunner<WorkflowEngine | WorkflowInstance> = {
  step: (name, success, execute) =>
    Activity.make({
      name,
      success,
      error: StoreError,
      execute: Effect.retry(execute, { schedule: storeRetryPolicy, while: (e) => e.reason === "unavailable" })
    })
}

/**
 * The workflow body.
 *
 * @internal
 */
export const body = (
  taskId: string
): Effect.Effect<void, StoreError, DurableSteps | WorkflowEngine | WorkflowInstance> =>
  Effect.flatMap(
    DurableSteps,
    (steps) => Orchestrate.orchestrate(activities, steps.engine, taskId as TaskId)
  )

/**
 * Registers the workflow's handler with the engine.
 *
 * @internal
 */
export const layer: Layer.Layer<never, never, WorkflowEngine | DurableSteps> = PublishTask.toLayer(
  (payload) => body(payload.taskId)
)
