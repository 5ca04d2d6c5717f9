/**
 * Medusa's typed errors.
 *
 * Platform failures form one union, `PlatformError`, whose members all carry the
 * platform, a stable snake_case `reason` (it becomes `error_code` in the status
 * JSON) and the preserved original: HTTP status, the platform's own code and the
 * platform's own message. Nothing here ever holds a credential.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { Target, targetName } from "./PlatformId.js"

// =============================================================================
// Platform errors
// =============================================================================

const platformFields = {
  /** The platform, or the target (`facebook:brand`) once the engine recorded it for a named account. */
  platform: Target,
  /** HTTP status of the answer that failed, when there was one. */
  status: Schema.optional(Schema.Number),
  /** The platform's own error code (`quotaExceeded`, `190/460`, `4102`, …). */
  code: Schema.optional(Schema.String),
  /** The platform's own message, verbatim. */
  platformMessage: Schema.optional(Schema.String),
  /** Medusa's explanation and what to do about it. */
  description: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}

const formatMessage = (self: {
  readonly platform: Target
  readonly platformMessage?: string | undefined
  readonly description?: string | undefined
  readonly reason: string
}): string => {
  const head = `${targetName(self.platform)} API error: ${self.platformMessage ?? self.reason}`
  return self.description ? `${head} (${self.description})` : head
}

/**
 * Credentials are expired, revoked or missing a permission. Retrying will not
 * help; the user must re-authenticate or grant the permission.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthExpired extends Schema.TaggedError<AuthExpired>("@medusa/AuthExpired")("AuthExpired", {
  ...platformFields,
  reason: Schema.Literal("auth_expired", "auth_invalid", "permission_missing")
}) {
  override get message(): string {
    return formatMessage(this)
  }
}

/**
 * A quota or rate limit was hit. `retryAfter` (milliseconds) and `resetsAt`
 * (epoch milliseconds) say when trying again makes sense, when known.
 *
 * @since 0.1.0
 * @category errors
 */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>("@medusa/QuotaExceeded")("QuotaExceeded", {
  ...platformFields,
  reason: Schema.Literal("quota_exceeded", "upload_limit_exceeded", "rate_limited"),
  retryAfter: Schema.optional(Schema.Number),
  resetsAt: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    return formatMessage(this)
  }
}

/**
 * The platform refused the request for what it is: invalid metadata, a
 * duplicate post, a sunset API version, a blocked account, a failed
 * processing step. Retrying the same request will not help.
 *
 * @since 0.1.0
 * @category errors
 */
export class PlatformRejected extends Schema.TaggedError<PlatformRejected>("@medusa/PlatformRejected")(
  "PlatformRejected",
  {
    ...platformFields,
    reason: Schema.Literal(
      "invalid_metadata",
      "duplicate_post",
      "version_sunset",
      "blocked",
      "not_found",
      "processing_failed",
      "rejected"
    )
  }
) {
  override get message(): string {
    return formatMessage(this)
  }
}

/**
 * The platform could not be reached or kept failing with transient errors
 * after the retry policy gave up.
 *
 * @since 0.1.0
 * @category errors
 */
export class PlatformUnavailable extends Schema.TaggedError<PlatformUnavailable>("@medusa/PlatformUnavailable")(
  "PlatformUnavailable",
  {
    ...platformFields,
    reason: Schema.Literal("transport", "server_error", "session_expired", "timeout")
  }
) {
  override get message(): string {
    return formatMessage(this)
  }
}

/**
 * A post request was sent but its outcome is unknown (the connection dropped
 * after the request left, or a timeout), and the platform offers no way to
 * confirm it. Medusa never re-posts blindly: the user must check the platform.
 *
 * @since 0.1.0
 * @category errors
 */
export class PostOutcomeUnknown extends Schema.TaggedError<PostOutcomeUnknown>("@medusa/PostOutcomeUnknown")(
  "PostOutcomeUnknown",
  {
    ...platformFields,
    reason: Schema.Literal("post_outcome_unknown")
  }
) {
  override get message(): string {
    return formatMessage(this)
  }
}

/**
 * @since 0.1.0
 * @category errors
 */
export type PlatformError = AuthExpired | QuotaExceeded | PlatformRejected | PlatformUnavailable | PostOutcomeUnknown

/**
 * @since 0.1.0
 * @category errors
 */
export const PlatformError: Schema.Union<
  [
    typeof AuthExpired,
    typeof QuotaExceeded,
    typeof PlatformRejected,
    typeof PlatformUnavailable,
    typeof PostOutcomeUnknown
  ]
> = Schema.Union(AuthExpired, QuotaExceeded, PlatformRejected, PlatformUnavailable, PostOutcomeUnknown)

const platformErrorTags = new Set([
  "AuthExpired",
  "QuotaExceeded",
  "PlatformRejected",
  "PlatformUnavailable",
  "PostOutcomeUnknown"
])

/**
 * @since 0.1.0
 * @category guards
 */
export const isPlatformError = (u: unknown): u is PlatformError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && platformErrorTags.has(u._tag) &&
  Predicate.hasProperty(u, "platform")

// =============================================================================
// Request, task and configuration errors
// =============================================================================

/**
 * One problem found in a request, config or metadata, located by its path.
 *
 * @since 0.1.0
 * @category models
 */
export class Issue extends Schema.Class<Issue>("@medusa/Issue")({
  /** Path of the offending field, e.g. `["metadata", "youtube", "title"]`. */
  path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
  message: Schema.String
}) {
  /** `metadata.youtube.title` */
  get location(): string {
    return formatPath(this.path)
  }
}

/**
 * @since 0.1.0
 * @category formatting
 */
export const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.length === 0 ?
    "(root)" :
    path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`).join("")

/**
 * A publish request is invalid. Lists every problem found, not only the first.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>("@medusa/InvalidRequest")("InvalidRequest", {
  issues: Schema.Array(Issue)
}) {
  readonly reason = "invalid_request" as const
  override get message(): string {
    return `Invalid publish request (${this.issues.length} problem${this.issues.length === 1 ? "" : "s"}):\n` +
      this.issues.map((i) => `  - ${i.location}: ${i.message}`).join("\n")
  }
}

/**
 * The configuration file or environment is unusable.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigError extends Schema.TaggedError<ConfigError>("@medusa/ConfigError")("ConfigError", {
  /** The config file (or `environment`) the problem is in. */
  file: Schema.String,
  issues: Schema.Array(Issue),
  cause: Schema.optional(Schema.Defect)
}) {
  readonly reason = "invalid_config" as const
  override get message(): string {
    return `Invalid configuration in ${this.file}:\n` +
      this.issues.map((i) => `  - ${i.location}: ${i.message}`).join("\n")
  }
}

/**
 * @since 0.1.0
 * @category errors
 */
export class TaskNotFound extends Schema.TaggedError<TaskNotFound>("@medusa/TaskNotFound")("TaskNotFound", {
  taskId: Schema.String
}) {
  readonly reason = "task_not_found" as const
  override get message(): string {
    return `No task with id ${this.taskId}. List known tasks with \`medusa tasks\` or Medusa.list().`
  }
}

/**
 * A state change that the task model forbids (nothing leaves a final state).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>("@medusa/InvalidTransition")(
  "InvalidTransition",
  {
    taskId: Schema.String,
    from: Schema.String,
    to: Schema.String
  }
) {
  readonly reason = "invalid_transition" as const
  override get message(): string {
    return `Task ${this.taskId} cannot go from ${this.from} to ${this.to}`
  }
}

/**
 * The task was cancelled before it finished (returned by `publish` / `await`).
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskCancelled extends Schema.TaggedError<TaskCancelled>("@medusa/TaskCancelled")("TaskCancelled", {
  taskId: Schema.String
}) {
  readonly reason = "cancelled" as const
  override get message(): string {
    return `Task ${this.taskId} was cancelled`
  }
}

/**
 * The task store (memory, SQLite, PostgreSQL) failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreError extends Schema.TaggedError<StoreError>("@medusa/StoreError")("StoreError", {
  reason: Schema.Literal("unavailable", "locked", "corrupt", "conflict", "lease_lost"),
  description: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Task store error (${this.reason}): ${this.description}`
  }
}

/**
 * An operation on a task that its state does not allow: rescheduling a task
 * that is not waiting for its time, retracting one that is still running or
 * made nothing. Nothing was changed or sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskNotReady extends Schema.TaggedError<TaskNotReady>("@medusa/TaskNotReady")("TaskNotReady", {
  taskId: Schema.String,
  /** `reschedule`, `retract`. */
  operation: Schema.String,
  /** Why, and what to do instead. */
  description: Schema.String
}) {
  readonly reason = "task_not_ready" as const
  override get message(): string {
    return `Cannot ${this.operation} task ${this.taskId}: ${this.description}`
  }
}

/**
 * The problems of one row of a batch manifest.
 *
 * @since 0.1.0
 * @category models
 */
export class BatchRowIssues extends Schema.Class<BatchRowIssues>("@medusa/BatchRowIssues")({
  /** 1-based, in the order of the manifest's videos. */
  row: Schema.Number,
  /** The line in the manifest file (CSV), when known. */
  line: Schema.optional(Schema.Number),
  issues: Schema.Array(Issue)
}) {}

/**
 * A batch manifest has problems: every row's, each with its field path.
 * Nothing of the batch was submitted.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidBatch extends Schema.TaggedError<InvalidBatch>("@medusa/InvalidBatch")("InvalidBatch", {
  /** The manifest file, when it came from one. */
  file: Schema.optional(Schema.String),
  rows: Schema.Array(BatchRowIssues),
  /** How many rows the manifest has. */
  total: Schema.Number
}) {
  readonly reason = "invalid_batch" as const
  override get message(): string {
    const problems = this.rows.reduce((n, r) => n + r.issues.length, 0)
    return `Invalid batch manifest${
      this.file !== undefined ? ` ${this.file}` : ""
    }: ${this.rows.length} of ${this.total} ` +
      `row${this.total === 1 ? "" : "s"} with problems (${problems} in all); nothing was submitted:\n` +
      this.rows.flatMap((r) =>
        r.issues.map((i) =>
          `  - row ${r.row}${r.line !== undefined ? ` (line ${r.line})` : ""}: ${i.location}: ${i.message}`
        )
      ).join("\n")
  }
}
