/**
 * The task model: a publish request being carried out, its state machine and
 * its history.
 *
 * `pending → in_progress → completed | failed`, and `cancelled` from any
 * non-final state. Nothing leaves a final state. Each transition is kept in
 * `history` with its time (taken from `Clock`, so tests use `TestClock`).
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { MediaFile, PublishedPost, UploadedVideo, UploadProgress } from "./Platform.js"
import { type HostTarget, isHost, platformOf, PublisherTarget, Target } from "./PlatformId.js"
import { InvalidTransition } from "./PublishError.js"
import { PublishRequest } from "./PublishRequest.js"
import { TaskId } from "./TaskId.js"

/**
 * @since 0.1.0
 * @category models
 */
export const TaskState: Schema.Literal<["pending", "in_progress", "completed", "failed", "cancelled"]> = Schema
  .Literal("pending", "in_progress", "completed", "failed", "cancelled")

/**
 * @since 0.1.0
 * @category models
 */
export type TaskState = typeof TaskState.Type

/**
 * @since 0.1.0
 * @category guards
 */
export const isFinal = (state: TaskState): boolean =>
  state === "completed" || state === "failed" || state === "cancelled"

const allowed: Readonly<Record<TaskState, ReadonlyArray<TaskState>>> = {
  pending: ["in_progress", "cancelled", "failed"],
  in_progress: ["completed", "failed", "cancelled"],
  completed: [],
  failed: [],
  cancelled: []
}

/**
 * @since 0.1.0
 * @category guards
 */
export const canTransition = (from: TaskState, to: TaskState): boolean => allowed[from].includes(to)

/**
 * @since 0.1.0
 * @category models
 */
export class HistoryEntry extends Schema.Class<HistoryEntry>("@medusa/HistoryEntry")({
  state: TaskState,
  /** Epoch milliseconds. */
  at: Schema.Number,
  message: Schema.optional(Schema.String)
}) {}

/**
 * A platform failure as recorded on the task (the error's data, no cause).
 *
 * @since 0.1.0
 * @category models
 */
export class TaskFailure extends Schema.Class<TaskFailure>("@medusa/TaskFailure")({
  /** The target that failed: `facebook`, or `facebook:brand` for a named account. */
  platform: Schema.optional(Target),
  /** Stable snake_case reason: `quota_exceeded`, `post_outcome_unknown`, … */
  code: Schema.String,
  /** Human message: `"YouTube API error: <the platform's own message>"`. */
  message: Schema.String,
  status: Schema.optional(Schema.Number),
  platformCode: Schema.optional(Schema.String),
  /** The platform's own message, verbatim (lets the typed error be rebuilt from the task). */
  platformMessage: Schema.optional(Schema.String),
  /** Medusa's explanation, as in the error's `description`. */
  description: Schema.optional(Schema.String),
  /** The error's `_tag` (`QuotaExceeded`, …), to rebuild the typed error. */
  tag: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category models
 */
/**
 * A wait a platform announced: the task holds that platform's step until
 * `until` (a rate limit with a reset time, a usage gate).
 *
 * @since 0.1.0
 * @category models
 */
export class PlatformWait extends Schema.Class<PlatformWait>("@medusa/PlatformWait")({
  platform: Target,
  /** Why, in a few words: `"rate limited"`, `"Graph API usage at 93%"`. */
  reason: Schema.String,
  /** Epoch milliseconds. */
  until: Schema.Number
}) {}

export class Task extends Schema.Class<Task>("@medusa/Task")({
  id: TaskId,
  request: PublishRequest,
  media: MediaFile,
  state: TaskState,
  /** Epoch milliseconds. */
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
  history: Schema.Array(HistoryEntry),
  /** Human-readable progress, e.g. `"Uploading to YouTube... 42%"`. */
  message: Schema.optional(Schema.String),
  /** Latest upload progress per host. */
  progress: Schema.Array(UploadProgress),
  /** Uploads that finished, in completion order. */
  videos: Schema.Array(UploadedVideo),
  /** Posts that went out, in completion order. */
  posts: Schema.Array(PublishedPost),
  /** Every failure (one under fail-fast; possibly several under best-effort). */
  failures: Schema.Array(TaskFailure),
  /** Platforms skipped under best-effort because a host they needed failed. */
  skipped: Schema.Array(Target),
  /** Epoch milliseconds; the task stays pending until then. */
  runAt: Schema.optional(Schema.Number),
  /** The waits platforms announced, one per platform, removed when that platform's step goes on. */
  waits: Schema.optional(Schema.Array(PlatformWait)),
  /** The batch it was submitted in (`Medusa.publishBatch`). */
  batchId: Schema.optional(Schema.String),
  /** Posts and videos taken back (`Medusa.retract`, or the `all-or-nothing` policy), in order. */
  retracted: Schema.optional(Schema.Array(Schema.suspend((): Schema.Schema<Retraction> => Retraction))),
  /** What abandoning an unfinished upload did (or why it left something), in order. */
  abandoned: Schema.optional(Schema.Array(Schema.suspend((): Schema.Schema<Abandonment> => Abandonment)))
}) {}

/**
 * An unfinished upload abandoned when no run of its task will resume it (the
 * task failed or was cancelled): what the platform's clean-up did, e.g.
 * "deleted the unfinished video 123", or why it left the upload.
 *
 * @since 0.1.0
 * @category models
 */
export class Abandonment extends Schema.Class<Abandonment>("@medusa/Abandonment")({
  /** The platform, or the account's target (`youtube:studio`). */
  platform: Target,
  note: Schema.String,
  /** Epoch milliseconds. */
  at: Schema.Number
}) {}

/**
 * A post or a video taken back through the platform's delete API.
 *
 * @since 0.1.0
 * @category models
 */
export class Retraction extends Schema.Class<Retraction>("@medusa/Retraction")({
  platform: Target,
  /** The post id or video id. */
  id: Schema.String,
  kind: Schema.Literal("post", "video"),
  /** Epoch milliseconds. */
  at: Schema.Number
}) {}

/**
 * Applies a state transition, recording it in the history.
 *
 * @since 0.1.0
 * @category combinators
 */
export const transition = (
  task: Task,
  to: TaskState,
  at: number,
  message?: string
): Either.Either<Task, InvalidTransition> =>
  canTransition(task.state, to) ?
    Either.right(
      new Task({
        ...task,
        state: to,
        updatedAt: at,
        message,
        history: [...task.history, new HistoryEntry({ state: to, at, message })]
      })
    ) :
    Either.left(new InvalidTransition({ taskId: task.id, from: task.state, to }))

/**
 * Replaces the progress of one host.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withProgress = (task: Task, progress: UploadProgress, message: string, at: number): Task =>
  new Task({
    ...task,
    updatedAt: at,
    message,
    progress: [...task.progress.filter((p) => p.host !== progress.host), progress]
  })

/**
 * @since 0.1.0
 * @category getters
 */
export const hostsOf = (task: Task): ReadonlyArray<HostTarget> =>
  task.request.platforms.filter((p): p is HostTarget => isHost(platformOf(p)))

/**
 * The record of one post attempt: `intent` is written before the request is
 * sent, `done` once the platform confirmed it.
 *
 * @since 0.1.0
 * @category models
 */
export class PostRecord extends Schema.Class<PostRecord>("@medusa/PostRecord")({
  publisher: PublisherTarget,
  state: Schema.Literal("intent", "done"),
  /** Epoch milliseconds of the last change. */
  at: Schema.Number,
  post: Schema.optional(PublishedPost),
  /** While `intent`: what the publisher saved for the post (`PostContext.onStaged`), e.g. Threads' container id. */
  staged: Schema.optional(Schema.String)
}) {}
