/**
 * Mastodon: a publisher posting a status (optionally with the video
 * attached) on the configured instance. The adapter is `Mastodon.ts`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { optional, Positive, postingKeys, required, Secret, Url } from "../../internal/config/values.js"
import type { Publisher } from "../../Platform.js"
import type { PublisherModule } from "../../PlatformModule.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const MastodonVisibility: Schema.Literal<["public", "unlisted", "private", "direct"]> = Schema.Literal(
  "public",
  "unlisted",
  "private",
  "direct"
)

/**
 * `metadata.mastodon` of a publish request.
 *
 * @since 0.1.0
 * @category schemas
 */
export class MastodonMetadata extends Schema.Class<MastodonMetadata>("@medusa/MastodonMetadata")({
  /** Template; at most the instance's limit once filled (500 by default; every URL counts 23). */
  status: Schema.String,
  visibility: Schema.optional(MastodonVisibility),
  /** Content warning shown before the status (a template; it counts toward the limit). */
  spoilerText: Schema.optional(Schema.String),
  /** Upload the media file to the instance and attach it (`/api/v2/media`). */
  attachVideo: Schema.optional(Schema.Boolean),
  /** ISO 639-1 language of the status. */
  language: Schema.optional(Schema.String)
}) {}

/**
 * The `mastodon` section of `medusa.config.json` (`Mastodon.layer`'s options).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigSection = Schema.Struct({
  accessToken: required(Secret, "access_token"),
  instanceUrl: required(Url, "instance_url"),
  maxCharacters: optional(Positive, "max_characters"),
  ...postingKeys
})

/**
 * @since 0.1.0
 * @category models
 */
export type MastodonConfig = typeof ConfigSection.Type

/**
 * @since 0.1.0
 * @category tags
 */
export class MastodonPublisher extends Context.Tag("@medusa/Platform/MastodonPublisher")<
  MastodonPublisher,
  Publisher<MastodonMetadata>
>() {}

const adapter = () => import("./Mastodon.js")

const visibilities = ["public", "unlisted", "private", "direct"] as const

/**
 * @since 0.1.0
 * @category modules
 */
export const mastodon: PublisherModule<"mastodon", MastodonConfig, MastodonMetadata> = {
  id: "mastodon",
  kind: "publisher",
  displayName: "Mastodon",
  config: { schema: ConfigSection },
  metadata: MastodonMetadata,
  templateFields: ["status", "spoilerText"],
  tag: MastodonPublisher,
  make: (config, defaults) =>
    Effect.flatMap(
      Effect.promise(adapter),
      (Mastodon) => Mastodon.make({ maxRateLimitWait: defaults.maxWait, ...config })
    ),
  cli: {
    flags: [
      {
        name: "mastodon-status",
        type: "text",
        description:
          "Mastodon status (a template; at most the instance's limit once filled, 500 by default; every URL counts 23)."
      },
      {
        name: "mastodon-video",
        type: "boolean",
        description: "Also upload the video to the Mastodon instance and attach it."
      },
      {
        name: "mastodon-visibility",
        type: { choices: visibilities },
        description: "Mastodon visibility (default public)."
      }
    ],
    metadata: ({ flags }) => {
      const out: Record<string, unknown> = {}
      if (typeof flags["mastodon-status"] === "string") out.status = flags["mastodon-status"]
      if (flags["mastodon-video"] === true) out.attachVideo = true
      if (typeof flags["mastodon-visibility"] === "string") out.visibility = flags["mastodon-visibility"]
      return Object.keys(out).length > 0 ? out : undefined
    }
  },
  checkCredentials: (config) =>
    Effect.flatMap(Effect.promise(adapter), (Mastodon) =>
      Effect.map(Mastodon.checkCredentials(config), (r) => ({
        ok: r.ok,
        summary: `${r.valid ? "valid" : "not valid"}; account ${r.account ?? "?"} on ${r.instanceUrl}`,
        details: [...r.problems]
      })))
}
