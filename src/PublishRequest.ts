/**
 * The publish request: which file, which platforms, what to say on each.
 *
 * Post texts (`facebook.message`, `facebook.link`, `x.text`, `linkedin.text`, `bluesky.text`)
 * are templates over the variables the selected hosts produce:
 * `{youtube_url}`, `{youtube_video_id}`, `{vimeo_url}`, `{vimeo_video_id}`.
 * `{{` and `}}` stand for literal braces.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { PlatformId } from "./PlatformId.js"

/**
 * `"twitter"` is accepted as an alias of `"x"`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PlatformName: Schema.transform<
  Schema.Literal<["youtube", "vimeo", "facebook", "x", "linkedin", "bluesky", "twitter"]>,
  typeof PlatformId
> = Schema.transform(
  Schema.Literal("youtube", "vimeo", "facebook", "x", "linkedin", "bluesky", "twitter"),
  PlatformId,
  {
    strict: true,
    decode: (name) => (name === "twitter" ? "x" : name),
    encode: (id) => id
  }
)

/**
 * @since 0.1.0
 * @category schemas
 */
export const YouTubePrivacy: Schema.Literal<["public", "unlisted", "private"]> = Schema.Literal(
  "public",
  "unlisted",
  "private"
)

/**
 * @since 0.1.0
 * @category schemas
 */
export class YouTubeMetadata extends Schema.Class<YouTubeMetadata>("@medusa/YouTubeMetadata")({
  title: Schema.String,
  description: Schema.optional(Schema.String),
  privacy: Schema.optional(YouTubePrivacy),
  tags: Schema.optional(Schema.Array(Schema.String)),
  categoryId: Schema.optional(Schema.String),
  /** ISO 8601; only with `privacy: "private"`, and in the future. */
  publishAt: Schema.optional(Schema.String),
  madeForKids: Schema.optional(Schema.Boolean),
  /** Path of a JPEG or PNG thumbnail. */
  thumbnail: Schema.optional(Schema.String),
  playlistId: Schema.optional(Schema.String),
  notifySubscribers: Schema.optional(Schema.Boolean)
}) {}

/**
 * Vimeo `privacy.view` values that can be set on upload.
 *
 * @since 0.1.0
 * @category schemas
 */
export const VimeoPrivacy: Schema.Literal<["anybody", "nobody", "unlisted", "password", "disable"]> = Schema.Literal(
  "anybody",
  "nobody",
  "unlisted",
  "password",
  "disable"
)

/**
 * @since 0.1.0
 * @category schemas
 */
export class VimeoMetadata extends Schema.Class<VimeoMetadata>("@medusa/VimeoMetadata")({
  title: Schema.String,
  description: Schema.optional(Schema.String),
  privacy: Schema.optional(VimeoPrivacy),
  /** Required with `privacy: "password"`. */
  password: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class FacebookMetadata extends Schema.Class<FacebookMetadata>("@medusa/FacebookMetadata")({
  /** Template. */
  message: Schema.String,
  /** Template, e.g. `"{youtube_url}"`. */
  link: Schema.optional(Schema.String),
  /** ISO 8601 or UNIX seconds; 10 minutes to 30 days ahead. The post is created unpublished and scheduled. */
  scheduledPublishTime: Schema.optional(Schema.Union(Schema.String, Schema.Number))
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class XMetadata extends Schema.Class<XMetadata>("@medusa/XMetadata")({
  /** Template; at most 280 weighted characters once filled (URLs count 23). */
  text: Schema.String,
  /** Upload the media file to X and attach it natively. */
  attachVideo: Schema.optional(Schema.Boolean)
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class LinkedInMetadata extends Schema.Class<LinkedInMetadata>("@medusa/LinkedInMetadata")({
  /** Template; at most 3,000 characters once filled. */
  text: Schema.String
}) {}

/**
 * A Bluesky post: its text, with links and hashtags made rich text (facets),
 * and a link card to the upload (`app.bsky.embed.external`).
 *
 * @since 0.1.0
 * @category schemas
 */
export class BlueskyMetadata extends Schema.Class<BlueskyMetadata>("@medusa/BlueskyMetadata")({
  /** Template; at most 300 graphemes (and 3,000 UTF-8 bytes) once filled. */
  text: Schema.String,
  /** Template: the link card's URL (default: the first uploaded video's URL; `""` for no card). */
  link: Schema.optional(Schema.String),
  /** Template: the card's title (default: the uploaded video's title, else the file name). */
  title: Schema.optional(Schema.String),
  /** Template: the card's description (default empty). */
  description: Schema.optional(Schema.String),
  /** The post's languages, BCP-47 tags such as `en` (at most 3). */
  langs: Schema.optional(Schema.Array(Schema.String))
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class Metadata extends Schema.Class<Metadata>("@medusa/Metadata")({
  youtube: Schema.optional(YouTubeMetadata),
  vimeo: Schema.optional(VimeoMetadata),
  facebook: Schema.optional(FacebookMetadata),
  x: Schema.optional(XMetadata),
  linkedin: Schema.optional(LinkedInMetadata),
  bluesky: Schema.optional(BlueskyMetadata)
}) {}

/**
 * What happens when a platform fails:
 * - `fail-fast`: the first failed upload interrupts the others and nothing is posted.
 * - `best-effort`: a failed host only skips the publishers whose templates need it.
 * - `all-or-nothing`: as fail-fast, and if a post fails after others went out, those are taken back
 *   (deleted through each platform's delete API); the task reports what was made and undone.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Policy: Schema.Literal<["fail-fast", "best-effort", "all-or-nothing"]> = Schema.Literal(
  "fail-fast",
  "best-effort",
  "all-or-nothing"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Policy = typeof Policy.Type

/**
 * The request as users write it (JSON-compatible). `twitter` is accepted as an
 * alias of `x`, both in `platforms` and as a metadata key.
 *
 * @since 0.1.0
 * @category schemas
 */
export class PublishRequest extends Schema.Class<PublishRequest>("@medusa/PublishRequest")({
  mediaFile: Schema.String,
  platforms: Schema.Array(PlatformName),
  metadata: Metadata,
  policy: Schema.optionalWith(Policy, { default: () => "fail-fast" as const }),
  /** ISO 8601 time before which the task stays `pending` (durable stores only keep this across restarts). */
  runAt: Schema.optional(Schema.String)
}) {}

/**
 * The encoded (input) form of a request.
 *
 * @since 0.1.0
 * @category models
 */
export type PublishRequestInput = typeof PublishRequest.Encoded

/**
 * Template variables the hosts produce.
 *
 * @since 0.1.0
 * @category constants
 */
export const templateVariables = {
  youtube: ["youtube_url", "youtube_video_id"],
  vimeo: ["vimeo_url", "vimeo_video_id"]
} as const
