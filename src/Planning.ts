/**
 * Publishing as people plan it: what a dry run reports (`Medusa.validate`),
 * and the quota plan made before a task or a batch starts.
 *
 * @since 0.1.0
 */
import type { MediaFile } from "./Platform.js"
import type { Target } from "./PlatformId.js"
import type { PublishRequest, PublishRequestInput } from "./PublishRequest.js"
import type { Task } from "./Task.js"

/**
 * One video of a batch: request fields, merged over the manifest's
 * `defaults` (the row's fields win; `metadata` merges per platform, field by
 * field).
 *
 * @since 0.1.0
 * @category models
 */
export type BatchRow = { readonly [K in keyof PublishRequestInput]?: PublishRequestInput[K] }

/**
 * A batch: shared defaults at the top, one row per video.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchManifest {
  readonly defaults?: BatchRow | undefined
  readonly videos: ReadonlyArray<BatchRow>
}

/**
 * A submitted batch: its id, and its tasks in the manifest's order (each
 * with its planned `runAt` when a quota or a time holds it).
 *
 * @since 0.1.0
 * @category models
 */
export interface Batch {
  readonly batchId: string
  readonly tasks: ReadonlyArray<Task>
}

/**
 * Where a task stands against one platform's daily (or monthly) allowance,
 * as planned before anything is sent.
 *
 * @since 0.1.0
 * @category models
 */
export interface QuotaCheck {
  readonly platform: Target
  /** What is counted: `"uploads"`, `"units"`, `"posts"`. */
  readonly bucket: string
  /** Used in the current window (before this task). */
  readonly used: number
  /** What this task needs of it. */
  readonly needs: number
  readonly limit: number
  /** Epoch milliseconds of the next reset. */
  readonly resetsAt: number
  /** `true` when the task fits before the reset; otherwise it is scheduled after it. */
  readonly fits: boolean
}

/**
 * What a dry run found: the request as it would run, when it would start,
 * and the quota plan. Nothing was stored and nothing was sent.
 *
 * @since 0.1.0
 * @category models
 */
export interface Validation {
  readonly request: PublishRequest
  readonly media: MediaFile
  /** Epoch milliseconds the task would wait for (`runAt`, or a quota reset); absent: it would start at once. */
  readonly runAt?: number | undefined
  /** One entry per counted allowance of the selected platforms (those that keep one). */
  readonly quota: ReadonlyArray<QuotaCheck>
}

/**
 * The dry-run report as JSON (`medusa publish --dry-run --json`, the
 * facade's `validate`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ValidationJson {
  readonly valid: true
  readonly media_file: string
  readonly media_bytes: number
  readonly platforms: ReadonlyArray<Target>
  readonly policy: string
  /** ISO 8601, UTC: when the task would start (absent: at once). */
  readonly run_at?: string
  readonly quota: ReadonlyArray<{
    readonly platform: Target
    readonly bucket: string
    readonly used: number
    readonly needs: number
    readonly limit: number
    readonly resets_at: string
    readonly fits: boolean
  }>
}

/**
 * @since 0.1.0
 * @category conversions
 */
export const validationToJSON = (validation: Validation): ValidationJson => ({
  valid: true,
  media_file: validation.media.path,
  media_bytes: validation.media.size,
  platforms: validation.request.platforms,
  policy: validation.request.policy,
  ...(validation.runAt !== undefined ? { run_at: new Date(validation.runAt).toISOString() } : {}),
  quota: validation.quota.map((q) => ({
    platform: q.platform,
    bucket: q.bucket,
    used: q.used,
    needs: q.needs,
    limit: q.limit,
    resets_at: new Date(q.resetsAt).toISOString(),
    fits: q.fits
  }))
})
