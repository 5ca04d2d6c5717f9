/**
 * LinkedIn: a publisher posting to a member's or an organization's feed
 * through the Posts API. The adapter is `LinkedIn.ts`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  optional,
  Positive,
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
 * `metadata.linkedin` of a publish request.
 *
 * @since 0.1.0
 * @category schemas
 */
export class LinkedInMetadata extends Schema.Class<LinkedInMetadata>("@medusa/LinkedInMetadata")({
  /** Template; at most 3,000 characters once filled. */
  text: Schema.String,
  /** Upload the media file through LinkedIn's Videos API and post it natively instead of an article link. */
  video: Schema.optional(Schema.Boolean)
}) {}

/**
 * The `linkedin` section of `medusa.config.json` (`LinkedIn.layer`'s options).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigSection = Schema.Struct({
  accessToken: required(Secret, "access_token"),
  authorUrn: required(
    Schema.String.pipe(
      Schema.pattern(/^urn:li:(person|organization):[A-Za-z0-9_-]+$/, {
        message: (issue) =>
          `must be a LinkedIn URN such as urn:li:person:abc123 or urn:li:organization:123, got ${
            JSON.stringify(issue.actual)
          }`
      })
    ),
    "author_urn"
  ),
  baseUrl: optional(Url, "base_url"),
  apiVersion: optional(
    Schema.String.pipe(Schema.pattern(/^\d{6}$/, { message: () => "must be a YYYYMM version such as 202511" })),
    "api_version"
  ),
  ...postingKeys,
  videoUpload: optional(VideoUploadSection, "video_upload"),
  dailyPostLimit: optional(Positive, "daily_post_limit"),
  ledgerFile: optional(Text, "ledger_file")
})

/**
 * @since 0.1.0
 * @category models
 */
export type LinkedInConfig = typeof ConfigSection.Type

/**
 * @since 0.1.0
 * @category tags
 */
export class LinkedInPublisher extends Context.Tag("@medusa/Platform/LinkedInPublisher")<
  LinkedInPublisher,
  Publisher<LinkedInMetadata>
>() {}

const adapter = () => import("./LinkedIn.js")

/**
 * @since 0.1.0
 * @category modules
 */
export const linkedin: PublisherModule<"linkedin", LinkedInConfig, LinkedInMetadata> = {
  id: "linkedin",
  kind: "publisher",
  displayName: "LinkedIn",
  config: {
    schema: ConfigSection,
    // The ledger of accepted posts is shared through a file beside the config file (in memory for an inline config).
    resolvePaths: (config, resolve, fromFile) => {
      const file = config.ledgerFile ?? (fromFile ? ".medusa/linkedin-posts.json" : undefined)
      return file === undefined ? config : { ...config, ledgerFile: resolve(file) }
    }
  },
  metadata: LinkedInMetadata,
  templateFields: ["text"],
  tag: LinkedInPublisher,
  make: (config, defaults) =>
    Effect.flatMap(
      Effect.promise(adapter),
      (LinkedIn) => LinkedIn.make({ maxRateLimitWait: defaults.maxWait, ...config })
    ),
  cli: {
    flags: [
      {
        name: "linkedin-text",
        type: "text",
        description: "LinkedIn post text (a template; ≤ 3,000 characters once filled)."
      },
      {
        name: "linkedin-video",
        type: "boolean",
        description: "Upload the video to LinkedIn natively (the text is its commentary) instead of an article link."
      }
    ],
    metadata: ({ flags }) => {
      const out: Record<string, unknown> = {}
      if (typeof flags["linkedin-text"] === "string") out.text = flags["linkedin-text"]
      if (flags["linkedin-video"] === true) out.video = true
      return Object.keys(out).length > 0 ? out : undefined
    }
  },
  checkCredentials: (config) =>
    Effect.flatMap(Effect.promise(adapter), (LinkedIn) =>
      Effect.map(LinkedIn.checkCredentials(config), (r) => ({
        ok: r.ok,
        summary: `${r.valid ? "valid" : "not valid"}; author ${r.authorUrn}, LinkedIn-Version ${r.apiVersion}`,
        details: [...r.problems]
      })))
}
