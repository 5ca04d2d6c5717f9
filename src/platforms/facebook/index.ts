/**
 * Facebook: a publisher posting to a Page through the Graph API. The adapter
 * is `Facebook.ts`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  DurationString,
  optional,
  Percentage,
  postingKeys,
  required,
  Secret,
  Text,
  Url,
  VideoUploadSection
} from "../../internal/config/values.js"
import type { Publisher } from "../../Platform.js"
import type { PublisherModule } from "../../PlatformModule.js"

/**
 * `metadata.facebook` of a publish request.
 *
 * @since 0.1.0
 * @category schemas
 */
export class FacebookMetadata extends Schema.Class<FacebookMetadata>("@medusa/FacebookMetadata")({
  /** Template. */
  message: Schema.String,
  /** Template, e.g. `"{youtube_url}"`. */
  link: Schema.optional(Schema.String),
  /** ISO 8601 or UNIX seconds; 10 minutes to 30 days ahead. The post is created unpublished and scheduled. */
  scheduledPublishTime: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  /** Upload the media file as a native Page video (the message is its description) instead of a link post. */
  video: Schema.optional(Schema.Boolean)
}) {}

/**
 * The `facebook` section of `medusa.config.json` (`Facebook.layer`'s options).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigSection = Schema.Struct({
  pageId: required(Text, "page_id"),
  accessToken: required(Secret, "access_token"),
  baseUrl: optional(Url, "base_url"),
  graphVersion: optional(
    Schema.String.pipe(Schema.pattern(/^v\d+\.\d+$/, { message: () => "must look like v26.0" })),
    "graph_version"
  ),
  ...postingKeys,
  rateLimitFallbackWait: optional(DurationString, "rate_limit_fallback_wait"),
  usageThreshold: optional(Percentage, "usage_threshold"),
  videoUpload: optional(VideoUploadSection, "video_upload")
})

/**
 * @since 0.1.0
 * @category models
 */
export type FacebookConfig = typeof ConfigSection.Type

/**
 * @since 0.1.0
 * @category tags
 */
export class FacebookPublisher extends Context.Tag("@medusa/Platform/FacebookPublisher")<
  FacebookPublisher,
  Publisher<FacebookMetadata>
>() {}

const adapter = () => import("./Facebook.js")

/**
 * @since 0.1.0
 * @category modules
 */
export const facebook: PublisherModule<"facebook", FacebookConfig, FacebookMetadata> = {
  id: "facebook",
  kind: "publisher",
  displayName: "Facebook",
  config: { schema: ConfigSection },
  metadata: FacebookMetadata,
  templateFields: ["message", "link"],
  tag: FacebookPublisher,
  make: (config, defaults) =>
    Effect.flatMap(
      Effect.promise(adapter),
      (Facebook) => Facebook.make({ maxRateLimitWait: defaults.maxWait, ...config })
    ),
  cli: {
    flags: [
      { name: "message", type: "text", description: "Facebook post text (a template: {youtube_url}, {vimeo_url}, …)." },
      { name: "link", type: "text", description: "Facebook link (a template, e.g. {youtube_url})." },
      {
        name: "facebook-video",
        type: "boolean",
        description:
          "Upload the video to the Facebook Page natively (the message is its description) instead of a link post."
      }
    ],
    metadata: ({ flags }) => {
      const out: Record<string, unknown> = {}
      if (typeof flags["message"] === "string") out.message = flags["message"]
      if (typeof flags["link"] === "string") out.link = flags["link"]
      if (flags["facebook-video"] === true) out.video = true
      return Object.keys(out).length > 0 ? out : undefined
    }
  },
  checkCredentials: (config) =>
    Effect.flatMap(Effect.promise(adapter), (Facebook) =>
      Effect.map(Facebook.checkCredentials(config), (r) => ({
        ok: r.ok,
        summary: `${r.valid ? "valid" : "not valid"}; page ${r.pageName ?? "?"} (${r.pageId ?? "?"}), ${
          r.tokenType ?? "?"
        } token, ${r.expiresAt === undefined ? "does not expire" : `expires ${new Date(r.expiresAt).toISOString()}`}`,
        details: [`scopes: ${r.scopes.join(", ") || "none"}`, ...r.problems]
      })))
}
