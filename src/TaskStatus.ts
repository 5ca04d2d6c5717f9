/**
 * The status JSON: the wire format that the Promise facade, the CLI and any
 * HTTP front end hand to users.
 *
 * ```json
 * {"status":"completed","results":{"youtube_url":"https://youtube.com/watch?v=…","youtube_video_id":"…","facebook_post_id":"…"}}
 * {"status":"failed","error":"YouTube API error: <the platform's own message>","failed_platform":"youtube","error_code":"quota_exceeded","results":{}}
 * {"status":"in_progress","message":"Uploading to YouTube... 42%","progress":{"youtube":{"bytes_sent":…,"total_bytes":…}}}
 * {"status":"pending"}
 * {"status":"cancelled"}
 * ```
 *
 * Every status also carries `task_id`, `created_at` and `updated_at` (ISO
 * 8601). Nothing in it ever holds a credential: it is built only from the
 * task's recorded data.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Target, targetName } from "./PlatformId.js"
import type { Task } from "./Task.js"
import { TaskState } from "./Task.js"

/**
 * Bytes sent and total per host, while uploading.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HostProgress: Schema.Struct<{
  bytes_sent: typeof Schema.Number
  bytes_acknowledged: typeof Schema.Number
  total_bytes: typeof Schema.Number
  percent: typeof Schema.Number
}> = Schema.Struct({
  bytes_sent: Schema.Number,
  bytes_acknowledged: Schema.Number,
  total_bytes: Schema.Number,
  percent: Schema.Number
})

/**
 * One platform failure (every failure of a best-effort task is listed).
 *
 * @since 0.1.0
 * @category schemas
 */
export const FailureJson: Schema.Struct<{
  platform: Schema.optional<typeof Target>
  error: typeof Schema.String
  error_code: typeof Schema.String
}> = Schema.Struct({
  platform: Schema.optional(Target),
  error: Schema.String,
  error_code: Schema.String
})

/**
 * A wait a platform announced (in_progress): the task holds that platform's
 * step until `until`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WaitJson: Schema.Struct<{
  platform: typeof Target
  reason: typeof Schema.String
  until: typeof Schema.String
}> = Schema.Struct({
  platform: Target,
  reason: Schema.String,
  /** ISO 8601, UTC. */
  until: Schema.String
})

/**
 * One state change of a task: the state it entered, when (ISO 8601, UTC),
 * and the message it carried.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HistoryJson: Schema.Struct<{
  state: typeof TaskState
  at: typeof Schema.String
  message: Schema.optional<typeof Schema.String>
  event: Schema.optional<Schema.Literal<["retracted", "abandoned"]>>
  platform: Schema.optional<typeof Target>
}> = Schema.Struct({
  /** The task's state then (for an event, the state it happened in). */
  state: TaskState,
  at: Schema.String,
  message: Schema.optional(Schema.String),
  /**
   * Absent for a state change; `retracted`: a post or video taken back (`medusa retract`, all-or-nothing);
   * `abandoned`: an unfinished upload given up (the task failed or was cancelled), the message saying what
   * became of it.
   */
  event: Schema.optional(Schema.Literal("retracted", "abandoned")),
  /** With an event: the platform it concerns. */
  platform: Schema.optional(Target)
})

/**
 * A post or video taken back.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RetractedJson: Schema.Struct<{
  platform: typeof Target
  kind: Schema.Literal<["post", "video"]>
  id: typeof Schema.String
  at: typeof Schema.String
}> = Schema.Struct({
  platform: Target,
  kind: Schema.Literal("post", "video"),
  id: Schema.String,
  /** ISO 8601, UTC. */
  at: Schema.String
})

/**
 * The status JSON. `status` is always present; the other keys depend on it
 * (see the module overview).
 *
 * @since 0.1.0
 * @category schemas
 */
export const TaskStatus: Schema.Struct<{
  status: typeof TaskState
  task_id: typeof Schema.String
  created_at: typeof Schema.String
  updated_at: typeof Schema.String
  platforms: Schema.optional<Schema.Array$<typeof Target>>
  message: Schema.optional<typeof Schema.String>
  run_at: Schema.optional<typeof Schema.String>
  batch_id: Schema.optional<typeof Schema.String>
  progress: Schema.optional<Schema.Record$<typeof Schema.String, typeof HostProgress>>
  waits: Schema.optional<Schema.Array$<typeof WaitJson>>
  results: Schema.optional<Schema.Record$<typeof Schema.String, typeof Schema.String>>
  error: Schema.optional<typeof Schema.String>
  error_code: Schema.optional<typeof Schema.String>
  failed_platform: Schema.optional<typeof Target>
  failures: Schema.optional<Schema.Array$<typeof FailureJson>>
  skipped: Schema.optional<Schema.Array$<typeof Target>>
  history: Schema.optional<Schema.Array$<typeof HistoryJson>>
  retracted: Schema.optional<Schema.Array$<typeof RetractedJson>>
}> = Schema.Struct({
  status: TaskState,
  task_id: Schema.String,
  created_at: Schema.String,
  updated_at: Schema.String,
  /** The platforms the request named, in its order (what a status page shows a chip for). */
  platforms: Schema.optional(Schema.Array(Target)),
  /** in_progress: `"Uploading to YouTube... 42%"`, `"Posting to Facebook, X..."`. */
  message: Schema.optional(Schema.String),
  /** A scheduled task: when it starts (or started), ISO 8601 UTC. */
  run_at: Schema.optional(Schema.String),
  /** The batch the task belongs to (`medusa batch`, `Medusa.publishBatch`). */
  batch_id: Schema.optional(Schema.String),
  /** in_progress: per host. */
  progress: Schema.optional(Schema.Record({ key: Schema.String, value: HostProgress })),
  /** in_progress: the waits platforms announced (a rate limit's reset, a usage gate), when there are any. */
  waits: Schema.optional(Schema.Array(WaitJson)),
  /** completed, failed: `<host>_url`, `<host>_video_id`, `<publisher>_post_id`, `<publisher>_post_url`. */
  results: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  /** failed: the first failure's message, `"YouTube API error: …"`. */
  error: Schema.optional(Schema.String),
  /** failed: stable snake_case reason, e.g. `quota_exceeded`. */
  error_code: Schema.optional(Schema.String),
  failed_platform: Schema.optional(Target),
  /** failed: every failure, in the order they happened. */
  failures: Schema.optional(Schema.Array(FailureJson)),
  /** Platforms not attempted (best-effort: a host they needed failed; fail-fast: a post failed first). */
  skipped: Schema.optional(Schema.Array(Target)),
  /** Every state change, oldest first, when the reader asked for it (`medusa status`, `GET /v1/tasks/{id}`). */
  history: Schema.optional(Schema.Array(HistoryJson)),
  /** Posts and videos taken back (`medusa retract`, the all-or-nothing policy); they stay in `results`. */
  retracted: Schema.optional(Schema.Array(RetractedJson))
})

/**
 * @since 0.1.0
 * @category models
 */
export type TaskStatus = typeof TaskStatus.Type

// A subscriber formats every change of every task, and the creation and
// update times of consecutive changes mostly repeat: the last two results
// are kept (formatting a Date is the costliest part of `toJSON`).
let isoA = NaN
let isoAText = ""
let isoB = NaN
let isoBText = ""
const iso = (millis: number): string => {
  if (millis === isoA) return isoAText
  if (millis === isoB) return isoBText
  const text = new Date(millis).toISOString()
  isoB = isoA
  isoBText = isoAText
  isoA = millis
  isoAText = text
  return text
}

/**
 * The results of a task: what the uploads and posts produced so far.
 *
 * @since 0.1.0
 * @category getters
 */
export const resultsOf = (task: Task): Record<string, string> => {
  const results: Record<string, string> = {}
  for (const video of task.videos) {
    results[`${video.host}_url`] = video.url
    results[`${video.host}_video_id`] = video.videoId
  }
  for (const post of task.posts) {
    results[`${post.publisher}_post_id`] = post.postId
    if (post.url !== undefined) results[`${post.publisher}_post_url`] = post.url
  }
  return results
}

const waitsJson = (waits: NonNullable<Task["waits"]>) =>
  waits.map((w) => ({ platform: w.platform, reason: w.reason, until: new Date(w.until).toISOString() }))

/**
 * The status JSON of a task.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toJSON = (task: Task): TaskStatus => {
  const base = {
    status: task.state,
    task_id: task.id,
    created_at: iso(task.createdAt),
    updated_at: iso(task.updatedAt),
    platforms: task.request.platforms,
    ...(task.runAt !== undefined ? { run_at: new Date(task.runAt).toISOString() } : {}),
    ...(task.batchId !== undefined ? { batch_id: task.batchId } : {}),
    ...(task.retracted !== undefined && task.retracted.length > 0 ?
      {
        retracted: task.retracted.map((r) => ({
          platform: r.platform,
          kind: r.kind,
          id: r.id,
          at: new Date(r.at).toISOString()
        }))
      } :
      {})
  }
  switch (task.state) {
    case "pending":
      // A pending task's message says why it waits (no runner alive, a quota reset, for instance).
      return {
        ...base,
        ...(task.message !== undefined ? { message: task.message } : {}),
        ...(task.waits !== undefined && task.waits.length > 0 ? { waits: waitsJson(task.waits) } : {})
      }
    case "cancelled": {
      const results = resultsOf(task)
      // A cancelled task may have uploaded or posted before it was stopped.
      return Object.keys(results).length > 0 ? { ...base, results } : base
    }
    case "in_progress": {
      const progress: Record<string, typeof HostProgress.Type> = {}
      for (const p of task.progress) {
        progress[p.host] = {
          bytes_sent: p.bytesSent,
          bytes_acknowledged: p.bytesAcknowledged,
          total_bytes: p.totalBytes,
          percent: percentOf(p.bytesSent, p.totalBytes)
        }
      }
      return {
        ...base,
        message: task.message ?? "Starting...",
        progress,
        ...(task.waits !== undefined && task.waits.length > 0 ? { waits: waitsJson(task.waits) } : {}),
        results: resultsOf(task)
      }
    }
    case "completed":
      return { ...base, results: resultsOf(task) }
    case "failed": {
      const first = task.failures[0]
      const failures = task.failures.map((f) => ({
        ...(f.platform !== undefined ? { platform: f.platform } : {}),
        error: f.message,
        error_code: f.code
      }))
      return {
        ...base,
        error: first?.message ?? task.message ?? "Task failed",
        error_code: first?.code ?? "unknown",
        ...(first?.platform !== undefined ? { failed_platform: first.platform } : {}),
        results: resultsOf(task),
        failures,
        ...(task.skipped.length > 0 ? { skipped: task.skipped } : {})
      }
    }
  }
}

/**
 * A task's recorded state change, as `TaskStore.history` returns it.
 *
 * @since 0.1.0
 * @category models
 */
export interface HistoryEntry {
  /** The change's sequence number in the store (increasing across all tasks). */
  readonly seq: number
  readonly state: Task["state"]
  /** Epoch milliseconds. */
  readonly at: number
  readonly message?: string | undefined
}

/**
 * The status JSON with its `history`.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toJSONWithHistory = (task: Task, history: ReadonlyArray<HistoryEntry>): TaskStatus => {
  const states = history.map((h): { readonly at: number; readonly json: typeof HistoryJson.Type } => ({
    at: h.at,
    json: h.message === undefined ?
      { state: h.state, at: new Date(h.at).toISOString() } :
      { state: h.state, at: new Date(h.at).toISOString(), message: h.message }
  }))
  // Retractions and abandoned uploads are recorded on the task itself (`retracted`, `abandoned`, each with
  // its time): they join the state changes here, in the state the task was in then.
  const stateAt = (at: number): Task["state"] =>
    history.reduce<Task["state"] | undefined>((found, h) => h.at <= at ? h.state : found, undefined) ?? task.state
  const events = (task.retracted ?? []).map((r) => ({
    at: r.at,
    json: {
      state: stateAt(r.at),
      at: new Date(r.at).toISOString(),
      message: `Took back the ${targetName(r.platform)} ${r.kind} ${r.id}`,
      event: "retracted" as const,
      platform: r.platform
    }
  }))
  const abandoned = (task.abandoned ?? []).map((a) => ({
    at: a.at,
    json: {
      state: stateAt(a.at),
      at: new Date(a.at).toISOString(),
      message: `${targetName(a.platform)}: ${a.note}`,
      event: "abandoned" as const,
      platform: a.platform
    }
  }))
  // Stable: at the same millisecond a state change comes before an event.
  const all = [...states, ...events, ...abandoned].sort((a, b) => a.at - b.at)
  return { ...toJSON(task), history: all.map((e) => e.json) }
}

/**
 * Whole percent, floored, so 100 means every byte was sent.
 *
 * @since 0.1.0
 * @category getters
 */
export const percentOf = (sent: number, total: number): number =>
  total <= 0 ? 0 : Math.min(100, Math.floor((sent / total) * 100))

/**
 * @since 0.1.0
 * @category conversions
 */
export const toJSONString = (task: Task): string => JSON.stringify(toJSON(task))
