/**
 * Bluesky: a publisher posting a text (links and #hashtags as rich text,
 * with a link card to the upload, or the video itself) to the account's repository on its PDS,
 * through the AT Protocol (`@atproto/api`). The adapter is `Bluesky.ts`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { optional, postingKeys, required, Secret, Url } from "../../internal/config/values.js"
import type { Publisher } from "../../Platform.js"
import type { PublisherModule } from "../../PlatformModule.js"

/**
 * `metadata.bluesky` of a publish request: the post's text, with links and
 * hashtags made rich text (facets), and a link card to the upload
 * (`app.bsky.embed.external`) or, with `attachVideo`, the video itself
 * (`app.bsky.embed.video`).
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
  langs: Schema.optional(Schema.Array(Schema.String)),
  /**
   * Upload the media file to the PDS as a blob and embed it (`app.bsky.embed.video`)
   * instead of the link card: an MP4 of at most 100 MB (and 3 minutes).
   */
  attachVideo: Schema.optional(Schema.Boolean),
  /** Template: the video's alt text (at most 1,000 graphemes); only with `attachVideo`. */
  alt: Schema.optional(Schema.String)
}) {}

/**
 * The `bluesky` section of `medusa.config.json` (`Bluesky.layer`'s options,
 * the app password `Redacted`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigSection = Schema.Struct({
  identifier: required(
    Schema.String.pipe(
      Schema.pattern(/^(did:[a-z]+:[A-Za-z0-9._:%-]+|[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9][A-Za-z0-9-]*)+)$/, {
        message: (issue) =>
          `must be the account's handle (medusa.bsky.social, without "@") or its DID (did:plc:…), got ${
            JSON.stringify(issue.actual)
          }`
      })
    ),
    "identifier"
  ),
  appPassword: required(Secret, "app_password"),
  service: optional(Url, "service"),
  ...postingKeys
})

/**
 * @since 0.1.0
 * @category models
 */
export type BlueskyConfig = typeof ConfigSection.Type

/**
 * @since 0.1.0
 * @category tags
 */
export class BlueskyPublisher extends Context.Tag("@medusa/Platform/BlueskyPublisher")<
  BlueskyPublisher,
  Publisher<BlueskyMetadata>
>() {}

const adapter = () => import("./Bluesky.js")

/** The default PDS (`Bluesky.defaultService`), kept here so that the credential summary needs no second import. */
const defaultService = "https://bsky.social"

/**
 * @since 0.1.0
 * @category modules
 */
export const bluesky: PublisherModule<"bluesky", BlueskyConfig, BlueskyMetadata> = {
  id: "bluesky",
  kind: "publisher",
  displayName: "Bluesky",
  config: { schema: ConfigSection },
  metadata: BlueskyMetadata,
  templateFields: ["text", "link", "title", "description", "alt"],
  tag: BlueskyPublisher,
  make: (config, defaults) =>
    Effect.flatMap(
      Effect.promise(adapter),
      (Bluesky) => Bluesky.make({ maxRateLimitWait: defaults.maxWait, ...config })
    ),
  cli: {
    flags: [
      {
        name: "bluesky-text",
        type: "text",
        description:
          "Bluesky post text (a template; ≤ 300 graphemes once filled). Links and #hashtags become rich text; the post carries a link card to the first upload."
      },
      {
        name: "bluesky-video",
        type: "boolean",
        description: "Upload the video to the Bluesky PDS and embed it instead of the link card (MP4, ≤ 100 MB)."
      }
    ],
    metadata: ({ flags }) => {
      const out: Record<string, unknown> = {}
      if (typeof flags["bluesky-text"] === "string") out.text = flags["bluesky-text"]
      if (flags["bluesky-video"] === true) out.attachVideo = true
      return Object.keys(out).length > 0 ? out : undefined
    }
  },
  checkCredentials: (config) =>
    Effect.flatMap(Effect.promise(adapter), (Bluesky) =>
      Effect.map(Bluesky.checkCredentials(config), (r) => ({
        ok: r.ok,
        summary: `${r.valid ? "valid" : "not valid"}; account ${r.handle ? `@${r.handle}` : "?"} (${
          r.did ?? "?"
        }), app password on ${config.service ?? defaultService}`,
        details: [...r.problems]
      })))
}
