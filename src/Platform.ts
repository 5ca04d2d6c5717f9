/**
 * The service shapes every platform adapter implements, and their tags.
 *
 * A `Host` uploads the media file and yields a video id and URL; a
 * `Publisher` posts a text (already filled with the hosts' links). The engine
 * only sees these shapes, so test doubles and real adapters are
 * interchangeable. Each real adapter module (`YouTube`, `Vimeo`, `Facebook`,
 * `X`, `LinkedIn`) provides one of the tags below with `layer(options)`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { HostId, PublisherId } from "./PlatformId.js"
import type { Issue, PlatformError } from "./PublishError.js"
import type { FacebookMetadata, LinkedInMetadata, VimeoMetadata, XMetadata, YouTubeMetadata } from "./PublishRequest.js"
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
  host: HostId,
  /** YouTube's resumable session URI, or Vimeo's tus `upload_link`. */
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
  host: HostId,
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
  host: HostId,
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
  publisher: PublisherId,
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
 * @since 0.1.0
 * @category models
 */
export interface Host<M> {
  readonly id: HostId
  /** Largest file the host accepts, in bytes. */
  readonly maxFileBytes: number
  /**
   * Checks metadata against the host's rules before anything is sent. Returns
   * every problem (empty when valid); paths are relative to the metadata
   * (the engine prefixes `metadata.<host>`).
   */
  readonly validate: (metadata: M, media: MediaFile) => Effect.Effect<ReadonlyArray<Issue>>
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
}

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
  /**
   * Checks metadata against the platform's rules at submit time. Templates are
   * filled with placeholder values of realistic length (URLs count 23 on X
   * whatever their length). Paths are relative to the metadata.
   */
  readonly validate: (metadata: M, media: MediaFile) => Effect.Effect<ReadonlyArray<Issue>>
  /**
   * Posts once. Retries only when the platform certainly did not create the
   * post; when the outcome is unknown it calls `find`, and fails with
   * `PostOutcomeUnknown` when nothing confirms the post.
   */
  readonly post: (context: PostContext<M>) => Effect.Effect<PublishedPost, PlatformError>
  /**
   * Looks for a post this task may already have made (after a crash between
   * sending and recording). `None` when the platform has no such post, or
   * cannot be searched (`canFind` false).
   */
  readonly find: (context: PostContext<M>) => Effect.Effect<Option.Option<PublishedPost>, PlatformError>
  /** Whether `find` can actually search the platform. */
  readonly canFind: boolean
}

// =============================================================================
// Tags
// =============================================================================

/**
 * @since 0.1.0
 * @category tags
 */
export class YouTubeHost extends Context.Tag("@medusa/Platform/YouTubeHost")<YouTubeHost, Host<YouTubeMetadata>>() {}

/**
 * @since 0.1.0
 * @category tags
 */
export class VimeoHost extends Context.Tag("@medusa/Platform/VimeoHost")<VimeoHost, Host<VimeoMetadata>>() {}

/**
 * @since 0.1.0
 * @category tags
 */
export class FacebookPublisher extends Context.Tag("@medusa/Platform/FacebookPublisher")<
  FacebookPublisher,
  Publisher<FacebookMetadata>
>() {}

/**
 * @since 0.1.0
 * @category tags
 */
export class XPublisher extends Context.Tag("@medusa/Platform/XPublisher")<XPublisher, Publisher<XMetadata>>() {}

/**
 * @since 0.1.0
 * @category tags
 */
export class LinkedInPublisher extends Context.Tag("@medusa/Platform/LinkedInPublisher")<
  LinkedInPublisher,
  Publisher<LinkedInMetadata>
>() {}

/**
 * Every platform tag. The engine resolves whichever are provided
 * (`Effect.serviceOption`), so a program only needs the layers of the
 * platforms it uses.
 *
 * @since 0.1.0
 * @category models
 */
export type Platforms = YouTubeHost | VimeoHost | FacebookPublisher | XPublisher | LinkedInPublisher
