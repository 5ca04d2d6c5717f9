/**
 * Medusa's metrics, as Effect `Metric`s in Effect's global registry: the OTLP
 * exporter (`Telemetry.layer`) sends them, and `medusa serve`'s `/metrics`
 * renders the same registry (`Metric.snapshot`) as Prometheus text.
 *
 * Names follow Prometheus conventions (`_total` for counters, base units).
 * Tagged variants are built once per tag value here, not at every update:
 * `Metric.tagged` makes a new metric key, which costs a hash per call.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type { PlatformId } from "../../PlatformId.js"
import { all as allPlatforms, platformOf } from "../../PlatformId.js"
import type { Task } from "../../Task.js"

const perPlatform = <A>(make: (platform: PlatformId) => A): Readonly<Record<PlatformId, A>> => {
  const out = {} as Record<PlatformId, A>
  for (const platform of allPlatforms) out[platform] = make(platform)
  return out
}

// =============================================================================
// Tasks
// =============================================================================

/** Tasks that left `pending` (began running). @internal */
export const tasksStarted = Metric.counter("medusa_tasks_started_total", {
  description: "Tasks that began running (pending → in_progress)",
  incremental: true
})

/** @internal */
export const TaskOutcome = ["completed", "failed", "cancelled"] as const

/** @internal */
export type TaskOutcome = typeof TaskOutcome[number]

const tasksFinishedBase = Metric.counter("medusa_tasks_finished_total", {
  description: "Tasks that reached a final state, by outcome (completed, failed, cancelled)",
  incremental: true
})

/** @internal */
export const tasksFinished: Readonly<Record<TaskOutcome, Metric.Metric.Counter<number>>> = {
  completed: Metric.tagged(tasksFinishedBase, "outcome", "completed"),
  failed: Metric.tagged(tasksFinishedBase, "outcome", "failed"),
  cancelled: Metric.tagged(tasksFinishedBase, "outcome", "cancelled")
}

const platformTasksStartedBase = Metric.counter("medusa_platform_tasks_started_total", {
  description: "Tasks that began running, once per platform the task publishes to",
  incremental: true
})

/** @internal */
export const platformTasksStarted: Readonly<Record<PlatformId, Metric.Metric.Counter<number>>> = perPlatform((p) =>
  Metric.tagged(platformTasksStartedBase, "platform", p)
)

/**
 * What became of one platform of a finished task: `completed` (uploaded or
 * posted), `failed` (its error is the task's failure), `skipped` (not run:
 * fail-fast, or a template needed a failed host), `cancelled` (the task ended
 * before it did).
 *
 * @internal
 */
export const PlatformOutcome = ["completed", "failed", "skipped", "cancelled"] as const

/** @internal */
export type PlatformOutcome = typeof PlatformOutcome[number]

const platformTasksFinishedBase = Metric.counter("medusa_platform_tasks_finished_total", {
  description: "Finished tasks, once per platform, by that platform's outcome (completed, failed, skipped, cancelled)",
  incremental: true
})

/** @internal */
export const platformTasksFinished: Readonly<
  Record<PlatformId, Readonly<Record<PlatformOutcome, Metric.Metric.Counter<number>>>>
> = perPlatform((p) => {
  const tagged = Metric.tagged(platformTasksFinishedBase, "platform", p)
  return {
    completed: Metric.tagged(tagged, "outcome", "completed"),
    failed: Metric.tagged(tagged, "outcome", "failed"),
    skipped: Metric.tagged(tagged, "outcome", "skipped"),
    cancelled: Metric.tagged(tagged, "outcome", "cancelled")
  }
})

// =============================================================================
// Uploads
// =============================================================================

const uploadBytesBase = Metric.counter("medusa_upload_bytes_total", {
  description: "Bytes of media written to the platforms' upload endpoints (re-sent bytes included)",
  incremental: true
})

/** @internal */
export const uploadBytes: Readonly<Record<PlatformId, Metric.Metric.Counter<number>>> = perPlatform((p) =>
  Metric.tagged(uploadBytesBase, "platform", p)
)

/** 64 KiB/s to 1 GiB/s, doubling. */
const throughputBoundaries = MetricBoundaries.exponential({ start: 64 * 1024, factor: 2, count: 15 })

const uploadThroughputBase = Metric.histogram(
  "medusa_upload_throughput_bytes_per_second",
  throughputBoundaries,
  "Throughput of each finished upload: bytes the platform acknowledged during the upload over its duration"
)

/** @internal */
export const uploadThroughput: Readonly<Record<PlatformId, Metric.Metric.Histogram<number>>> = perPlatform((p) =>
  Metric.tagged(uploadThroughputBase, "platform", p)
)

// =============================================================================
// Retries, waits, quota, reconciliation
// =============================================================================

/** @internal */
export type Operation = "upload" | "post"

const retriesBase = Metric.counter("medusa_retries_total", {
  description: "Requests retried after a transient failure (dropped connection, 5xx, timeout, rate limit)",
  incremental: true
})

/** @internal */
export const retries: Readonly<Record<PlatformId, Readonly<Record<Operation, Metric.Metric.Counter<number>>>>> =
  perPlatform((p) => {
    const tagged = Metric.tagged(retriesBase, "platform", p)
    return { upload: Metric.tagged(tagged, "operation", "upload"), post: Metric.tagged(tagged, "operation", "post") }
  })

const rateLimitWaitsBase = Metric.counter("medusa_rate_limit_waits_total", {
  description: "Waits a platform asked for (Retry-After, a rate-limit window) that Medusa waited out",
  incremental: true
})

/** @internal */
export const rateLimitWaits: Readonly<Record<PlatformId, Metric.Metric.Counter<number>>> = perPlatform((p) =>
  Metric.tagged(rateLimitWaitsBase, "platform", p)
)

const rateLimitWaitSecondsBase = Metric.counter("medusa_rate_limit_wait_seconds_total", {
  description: "Seconds spent waiting out platform-given waits",
  incremental: true
})

/** @internal */
export const rateLimitWaitSeconds: Readonly<Record<PlatformId, Metric.Metric.Counter<number>>> = perPlatform((p) =>
  Metric.tagged(rateLimitWaitSecondsBase, "platform", p)
)

const quotaBase = Metric.counter("medusa_quota_units_total", {
  description: "YouTube quota spent per Medusa's ledger (calls YouTube accepted), by bucket: " +
    "uploads (videos.insert calls, a quota of their own) and units (the Data API's unit pool)",
  incremental: true
}).pipe(Metric.tagged("platform", "youtube"))

/** @internal */
export const quotaUnits: {
  readonly uploads: Metric.Metric.Counter<number>
  readonly units: Metric.Metric.Counter<number>
} = {
  uploads: Metric.tagged(quotaBase, "bucket", "uploads"),
  units: Metric.tagged(quotaBase, "bucket", "units")
}

/** @internal */
export type ReconciliationResult = "found" | "not_found"

const reconciliationsBase = Metric.counter("medusa_post_reconciliations_total", {
  description:
    "Posts whose outcome was unknown (an interruption or a lost answer) and were looked up on the platform, by result",
  incremental: true
})

/** @internal */
export const postReconciliations: Readonly<
  Record<PlatformId, Readonly<Record<ReconciliationResult, Metric.Metric.Counter<number>>>>
> = perPlatform((p) => {
  const tagged = Metric.tagged(reconciliationsBase, "platform", p)
  return {
    found: Metric.tagged(tagged, "result", "found"),
    not_found: Metric.tagged(tagged, "result", "not_found")
  }
})

/**
 * Every metric above, for documentation and tests.
 *
 * @internal
 */
export const names: ReadonlyArray<string> = [
  "medusa_tasks_started_total",
  "medusa_tasks_finished_total",
  "medusa_platform_tasks_started_total",
  "medusa_platform_tasks_finished_total",
  "medusa_upload_bytes_total",
  "medusa_upload_throughput_bytes_per_second",
  "medusa_retries_total",
  "medusa_rate_limit_waits_total",
  "medusa_rate_limit_wait_seconds_total",
  "medusa_quota_units_total",
  "medusa_post_reconciliations_total"
]

/** `Metric.increment` as a synchronous step (no effect allocation per call site). @internal */
export const unsafeIncrement = (counter: Metric.Metric.Counter<number>, by = 1): void => {
  counter.unsafeUpdate(by, [])
}

/** @internal */
export const increment = (counter: Metric.Metric.Counter<number>, by = 1): Effect.Effect<void> =>
  Effect.sync(() => counter.unsafeUpdate(by, []))

/**
 * Counts a task that just changed state: `in_progress` counts it started
 * (once, and once per platform), a final state counts it finished, and each
 * platform by what became of it.
 *
 * @internal
 */
export const countTransition = (task: Task): void => {
  const state = task.state
  if (state === "in_progress") {
    tasksStarted.unsafeUpdate(1, [])
    for (const p of task.request.platforms) platformTasksStarted[platformOf(p)].unsafeUpdate(1, [])
    return
  }
  if (state !== "completed" && state !== "failed" && state !== "cancelled") return
  tasksFinished[state].unsafeUpdate(1, [])
  for (const p of task.request.platforms) {
    const outcome: PlatformOutcome = task.failures.some((f) => f.platform === p) ?
      "failed" :
      task.skipped.includes(p) ?
      "skipped" :
      task.videos.some((v) => v.host === p) || task.posts.some((post) => post.publisher === p) ?
      "completed" :
      "cancelled"
    // Counted per platform: an account is a label the metrics do not carry.
    platformTasksFinished[platformOf(p)][outcome].unsafeUpdate(1, [])
  }
}
