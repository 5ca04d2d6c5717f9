/**
 * The service shapes every platform adapter implements, and their tags.
 *
 * A `Host` uploads the media file and yields a video id and URL; a
 * `Publisher` posts a text (already filled with the hosts' links). The engine
 * only sees these shapes, so test doubles and real adapters are
 * interchangeable. Each platform module (`src/platforms/<id>/`) declares its
 * tag, re-exported below; its adapter provides it with `layer(options)`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { HostId, PublisherId } from "./PlatformId.js"
import { HostTarget, PublisherTarget, Target } from "./PlatformId.js"
import type { Modules } from "./platforms/registry.js"
import type { Issue, PlatformError } from "./PublishError.js"
import type { TaskId } from "./TaskId.js"

// =============================================================================
// Media and upload state
// =============================================================================

/**
 * A media file that passed validation.
 *
 * @since 0.1.0
 * @category models
 */
export class MediaFile extends Schema.Class<MediaFile>("@medusa/MediaFile")({
  /** Absolute path. */
  path: Schema.String,
  /** File name, used as a default title and in upload metadata. */
  name: Schema.String,
  size: Schema.Number,
  /** Sniffed from the first bytes: `video/mp4`, `video/quicktime`, `video/webm`, `video/x-matroska`, `video/x-msvideo`. */
  mimeType: Schema.String
}) {}

/**
 * A resumable upload session, persisted through the `onSession` hook so that an
 * upload can resume after a dropped connection or a crash.
 *
 * @since 0.1.0
 * @category models
 */
export class UploadSession extends Schema.Class<UploadSession>("@medusa/UploadSession")({
  /** A host, or a publisher that uploads the file natively (Facebook, LinkedIn video); the engine keys it by target (`facebook:brand`). */
  host: Target,
  /**
   * YouTube's resumable session URI, Vimeo's tus `upload_link`, Facebook's
   * `upload_session_id`, or LinkedIn's upload state (its parts and their ETags, as JSON).
   */
  uri: Schema.String,
  /** Known as soon as the session exists on some hosts (Vimeo). */
  videoId: Schema.optional(Schema.String),
  /** Extra host data needed to finish (e.g. Vimeo's video link). */
  videoUrl: Schema.optional(Schema.String),
  totalBytes: Schema.Number,
  /** Bytes the server has confirmed it holds. Only the server's word counts. */
  acknowledged: Schema.Number,
  /** Epoch milliseconds. */
  createdAt: Schema.Number
}) {}

/**
 * Upload progress, reported at a bounded rate.
 *
 * @since 0.1.0
 * @category models
 */
export class UploadProgress extends Schema.Class<UploadProgress>("@medusa/UploadProgress")({
  /** A host, or a publisher that uploads the file natively; the engine keys it by target (`youtube:studio`). */
  host: Target,
  /** Bytes written to the wire so far, across attempts of the current session. */
  bytesSent: Schema.Number,
  /** Bytes the server has confirmed. */
  bytesAcknowledged: Schema.Number,
  totalBytes: Schema.Number,
  /** A note for the status message, e.g. "session expired, restarting from 0". */
  note: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export class UploadedVideo extends Schema.Class<UploadedVideo>("@medusa/UploadedVideo")({
  /** The host, or on a task the host's target (`youtube:studio` for a named account). */
  host: HostTarget,
  videoId: Schema.String,
  url: Schema.String,
  /** The title it was uploaded with (the card title of a LinkedIn article linking to it). */
  title: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export class PublishedPost extends Schema.Class<PublishedPost>("@medusa/PublishedPost")({
  /** The publisher, or on a task the publisher's target (`facebook:brand` for a named account). */
  publisher: PublisherTarget,
  postId: Schema.String,
  url: Schema.optional(Schema.String)
}) {}

// =============================================================================
// Host
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface UploadContext<M> {
  readonly taskId: TaskId
  readonly media: MediaFile
  readonly metadata: M
  /** A saved session to resume instead of starting over. */
  readonly resume: Option.Option<UploadSession>
  /** Called whenever the session is created or its acknowledged offset changes. */
  readonly onSession: (session: UploadSession) => Effect.Effect<void>
  /** Called at a bounded rate with byte-level progress. */
  readonly onProgress: (progress: UploadProgress) => Effect.Effect<void>
  /**
   * Told before the upload waits out a platform's `Retry-After` (a rate
   * limit, a busy server), so that the task's status can say why it waits.
   */
  readonly onWait?: ((wait: PostWait) => Effect.Effect<void>) | undefined
}

/**
 * A daily (or monthly) allowance a platform counts, as known locally without
 * a request: what is used in the current window, the limit, what one task
 * needs of it, and when the window resets.
 *
 * @since 0.1.0
 * @category models
 */
export interface Allowance {
  /** What is counted: `"uploads"`, `"units"`, `"posts"`. */
  readonly bucket: string
  readonly used: number
  readonly limit: number
  readonly needs: number
  /** Epoch milliseconds. */
  readonly resetsAt: number
  /** Length of a window, in milliseconds (a day for YouTube); `nextReset` is exact when windows differ (months). */
  readonly windowMillis: number
  /** The first reset after an instant (epoch ms); absent: every window lasts `windowMillis`. */
  readonly nextReset?: ((at: number) => number) | undefined
  /** What a task held by it waits for (`"LinkedIn daily limit"`); default `"<platform> quota"`. */
  readonly waitReason?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Host<M> {
  readonly id: HostId
  /** The account uploads go to (a channel id), for telemetry; absent when the config does not name it. */
  readonly account?: string | undefined
  /** Largest file the host accepts, in bytes. */
  readonly maxFileBytes: number
  /**
   * Checks metadata against the host's rules before anything is sent. Returns
   * every problem (empty when valid); paths are relative to the metadata
   * (the engine prefixes `metadata.<host>`).
   */
  readonly validate: (metadata: M, media: MediaFile) => Effect.Effect<ReadonlyArray<Issue>>
  /**
   * Checks the host's own setup (credential files) at submit, so that a task
   * is never started that cannot upload. Returns every problem, each naming
   * the file and how to fix it.
   */
  readonly checkSetup?: Effect.Effect<ReadonlyArray<string>> | undefined
  /**
   * The host's allowances (YouTube's daily quota), read locally: what is
   * used now, and what an upload with some metadata spends. The engine
   * plans tasks against them before they start, scheduling one that would
   * go past them after the reset. Read once per plan, however many tasks it
   * counts (the tasks already waiting included).
   */
  readonly allowances?: Effect.Effect<(metadata: M) => ReadonlyArray<Allowance>> | undefined
  /**
   * Deletes an uploaded video through the platform's delete API:
   * `"deleted"`, or `"gone"` when the platform no longer has it.
   */
  readonly remove?: ((video: UploadedVideo) => Effect.Effect<"deleted" | "gone", PlatformError>) | undefined
  /** Uploads the file (resuming `resume` when given). */
  readonly upload: (context: UploadContext<M>) => Effect.Effect<UploadedVideo, PlatformError>
  /**
   * Removes what an unfinished upload left on the platform when no task will
   * resume it (the task failed or was cancelled): Vimeo deletes the video it
   * created. Returns what was done, for the task's history; absent when the
   * platform keeps nothing for an unfinished upload (YouTube).
   */
  readonly abandon?: ((session: UploadSession) => Effect.Effect<string | undefined>) | undefined
  /**
   * Steps after the upload (thumbnail, playlist, waiting for processing).
   * Failing here fails the task, but the video id is already recorded, so a
   * retry never uploads twice.
   */
  readonly afterUpload: (video: UploadedVideo, metadata: M, taskId: TaskId) => Effect.Effect<void, PlatformError>
}

// =============================================================================
// Publisher
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface PostContext<M> {
  readonly taskId: TaskId
  /**
   * When the task was created (epoch ms): stable across runs, so a publisher
   * may derive a key from it (Bluesky's record key).
   */
  readonly taskCreatedAt?: number | undefined
  /** Metadata with every template already filled. */
  readonly metadata: M
  readonly media: MediaFile
  /** The videos uploaded by this task, in host order (`youtube` first). */
  readonly videos: ReadonlyArray<UploadedVideo>
  /**
   * Told before the publisher holds the post for a while (a rate limit,
   * high API usage), so that the task's status can say why it waits.
   */
  readonly onWait?: ((wait: PostWait) => Effect.Effect<void>) | undefined
  /**
   * For a publisher that uploads the media file itself (a native Facebook or
   * LinkedIn video): the saved session to resume and the hooks that save it
   * and report byte progress, as a host's upload has them.
   */
  readonly upload?: MediaUpload | undefined
  /**
   * What an earlier send of this post saved with `onStaged` (Threads: its
   * container id), read from the post's record in the task store.
   */
  readonly staged?: string | undefined
  /**
   * Saves a reference to what the publisher prepared for this post (Threads:
   * the container, before the request that publishes it) with the post's
   * intent in the task store, so that a later send of the post, after a
   * crash, receives it as `staged`. Absent when the store cannot keep it.
   */
  readonly onStaged?: ((ref: string) => Effect.Effect<void>) | undefined
}

/**
 * The upload hooks a publisher that carries the file's bytes receives.
 *
 * @since 0.1.0
 * @category models
 */
export interface MediaUpload {
  /** Reads the session an earlier run saved (after a crash), to resume instead of starting over. */
  readonly saved: Effect.Effect<Option.Option<UploadSession>>
  /** Called whenever the session is created or its acknowledged offset changes. */
  readonly onSession: (session: UploadSession) => Effect.Effect<void>
  /** Called at a bounded rate with byte-level progress. */
  readonly onProgress: (progress: UploadProgress) => Effect.Effect<void>
}

/**
 * What `find` receives: the post's context and when the engine recorded its
 * intent to post, which it does before sending anything.
 *
 * @since 0.1.0
 * @category models
 */
export interface FindContext<M> extends PostContext<M> {
  /**
   * Epoch ms (the engine's clock) when the intent to post was recorded. A
   * post the platform dates earlier than this, less `findClockSkewMillis`,
   * was made by someone or something else and is never adopted.
   */
  readonly intentAt: number
}

/**
 * How much earlier than the intent (by Medusa's clock) a platform may date
 * a post that `find` still adopts: 2 minutes.
 *
 * The intent is recorded before the request leaves, so the post's true
 * creation time is never earlier; only the clocks can make it look so. The
 * platforms date posts by their own clocks (Graph's `created_time` and X's
 * `created_at` to the second, LinkedIn's `createdAt` to the millisecond),
 * against the clock of whichever machine recorded the intent. NTP keeps
 * both within a second or so; 2 minutes covers a badly drifting host and
 * the truncation to seconds. A larger figure widens the window in which an
 * identical post made shortly before (by hand, by another tool) is taken
 * for this one, which reports a post that was never made; a smaller one
 * only turns a found post into `post_outcome_unknown`, which asks the user
 * to look. So the allowance errs small.
 *
 * @since 0.1.0
 * @category constants
 */
export const findClockSkewMillis: number = 2 * 60_000

/**
 * Whether a post the platform dates `createdAt` (epoch ms) may be the one
 * sent after `sentAfter` (epoch ms, Medusa's clock), allowing
 * `findClockSkewMillis`. A post without a creation time is never adopted.
 *
 * @since 0.1.0
 * @category predicates
 */
export const madeAfter = (createdAt: number | undefined, sentAfter: number): boolean =>
  createdAt !== undefined && Number.isFinite(createdAt) && createdAt >= sentAfter - findClockSkewMillis

/**
 * A wait a publisher announces before holding a post.
 *
 * @since 0.1.0
 * @category models
 */
export interface PostWait {
  /** Why, in a few words: `"rate limited"`, `"Graph API usage at 93%"`. */
  readonly reason: string
  /** When the post goes ahead (epoch ms). */
  readonly until: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Publisher<M> {
  readonly id: PublisherId
  /** The account posts go to (a page id, an author URN), for telemetry; absent when the config does not name it. */
  readonly account?: string | undefined
  /**
   * Checks metadata against the platform's rules at submit time. Templates are
   * filled with placeholder values of realistic length (URLs count 23 on X
   * whatever their length). Paths are relative to the metadata.
   */
  readonly validate: (metadata: M, media: MediaFile) => Effect.Effect<ReadonlyArray<Issue>>
  /**
   * The publisher's allowances (LinkedIn's daily post limit, an X monthly
   * post cap), read from a local ledger: what is used now, and what a post
   * with some metadata spends; planned before tasks start, as a host's are,
   * and read once per plan.
   */
  readonly allowances?: Effect.Effect<(metadata: M) => ReadonlyArray<Allowance>> | undefined
  /**
   * Posts once. Retries only when the platform certainly did not create the
   * post; when the outcome is unknown it calls `find`, and fails with
   * `PostOutcomeUnknown` when nothing confirms the post.
   */
  readonly post: (context: PostContext<M>) => Effect.Effect<PublishedPost, PlatformError>
  /**
   * Looks for a post this task may already have made (after a crash between
   * sending and recording): one with the same text that the platform dates
   * no earlier than `context.intentAt` (see `madeAfter`). `None` when the
   * platform has no such post, or cannot be searched (`canFind` false).
   */
  readonly find: (context: FindContext<M>) => Effect.Effect<Option.Option<PublishedPost>, PlatformError>
  /** Whether `find` can actually search the platform. */
  readonly canFind: boolean
  /**
   * Removes what an unfinished native upload (`PostContext.upload`, a
   * Facebook or LinkedIn video) left on the platform when no run of the task
   * will resume it (the task failed or was cancelled before the upload
   * completed), as `Host.abandon` does for a host: Facebook deletes the
   * video it started. Returns what was done, for the task's history; absent
   * when the publisher uploads nothing it could leave behind.
   */
  readonly abandonUpload?: ((session: UploadSession) => Effect.Effect<string | undefined>) | undefined
  /**
   * Deletes a post through the platform's delete API: `"deleted"`, or
   * `"gone"` when the platform no longer has it (deleted already).
   */
  readonly retract?: ((post: PublishedPost) => Effect.Effect<"deleted" | "gone", PlatformError>) | undefined
  /**
   * The settle time, in milliseconds: how long after a post's intent is
   * recorded (before its request leaves) a post that request made is
   * certain to show in `find`. It covers the request's time at the platform
   * and the delay before the platform's listing shows a new post. Once an
   * intent is older than this, a search that finds nothing is authoritative:
   * the engine makes the post (see `postStep`); a younger intent waits out
   * the rest first. Each publisher documents its constant.
   */
  readonly settleMillis: number
}

// =============================================================================
// Tags (declared by each platform module, src/platforms/<id>/index.ts)
// =============================================================================

export {
  /**
   * @since 0.1.0
   * @category tags
   */
  BlueskyPublisher
} from "./platforms/bluesky/index.js"
export {
  /**
   * @since 0.1.0
   * @category tags
   */
  FacebookPublisher
} from "./platforms/facebook/index.js"
export {
  /**
   * @since 0.1.0
   * @category tags
   */
  LinkedInPublisher
} from "./platforms/linkedin/index.js"
export {
  /**
   * @since 0.1.0
   * @category tags
   */
  MastodonPublisher
} from "./platforms/mastodon/index.js"
export {
  /**
   * @since 0.1.0
   * @category tags
   */
  ThreadsPublisher
} from "./platforms/threads/index.js"
export {
  /**
   * @since 0.1.0
   * @category tags
   */
  VimeoHost
} from "./platforms/vimeo/index.js"
export {
  /**
   * @since 0.1.0
   * @category tags
   */
  XPublisher
} from "./platforms/x/index.js"
export {
  /**
   * @since 0.1.0
   * @category tags
   */
  YouTubeHost
} from "./platforms/youtube/index.js"

/**
 * Every platform tag. The engine resolves whichever are provided
 * (`Effect.serviceOption`), so a program only needs the layers of the
 * platforms it uses.
 *
 * @since 0.1.0
 * @category models
 */
export type Platforms = Context.Tag.Identifier<Modules["tag"]>

/**
 * The adapters of the named accounts (`facebook:brand`), keyed by target,
 * one built per account from its config section. A platform's default
 * account is provided under the platform's tag, as ever; the engine resolves
 * both. `Live.platforms` provides this from the config's `accounts`.
 *
 * @since 0.1.0
 * @category tags
 */
export class Accounts extends Context.Tag("@medusa/Accounts")<Accounts, {
  readonly hosts: Readonly<Record<`${HostId}:${string}`, Host<any>>>
  readonly publishers: Readonly<Record<`${PublisherId}:${string}`, Publisher<any>>>
}>() {}
