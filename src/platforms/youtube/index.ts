/**
 * YouTube: a video host uploading through the Data API's resumable upload,
 * with OAuth credentials written by `medusa auth youtube`. The adapter is
 * `YouTube.ts`, the login `YouTubeLogin.ts`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  ChunkSize,
  NonNegative,
  optional,
  Positive,
  ProcessingSection,
  required,
  RetrySection,
  Text,
  uploadKeys,
  Url
} from "../../internal/config/values.js"
import type { Host } from "../../Platform.js"
import type { HostModule } from "../../PlatformModule.js"

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
 * `metadata.youtube` of a publish request.
 *
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

const QuotaSection = Schema.Struct({
  uploadsPerDay: optional(Positive, "uploads_per_day"),
  unitsPerDay: optional(Positive, "units_per_day")
})

/**
 * The `youtube` section of `medusa.config.json` (`YouTube.layer`'s options).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigSection = Schema.Struct({
  clientSecretsFile: required(Text, "client_secrets_file"),
  credentialsFile: required(Text, "credentials_file"),
  baseUrl: optional(Url, "base_url"),
  chunkSize: optional(ChunkSize, "chunk_size"),
  waitForProcessing: optional(Schema.Boolean, "wait_for_processing"),
  quotaFile: optional(Text, "quota_file"),
  quota: optional(QuotaSection, "quota"),
  channelId: optional(Text, "channel_id"),
  thumbnailMaxBytes: optional(Positive, "thumbnail_max_bytes"),
  retry: optional(RetrySection, "retry"),
  progressIntervalMillis: optional(NonNegative, "progress_interval_millis"),
  processing: optional(ProcessingSection, "processing"),
  ...uploadKeys
})

/**
 * `youtube`: `YouTube.layer`'s options. Paths are absolute (resolved against
 * the config file's directory).
 *
 * @since 0.1.0
 * @category models
 */
export type YouTubeConfig = typeof ConfigSection.Type

/**
 * @since 0.1.0
 * @category tags
 */
export class YouTubeHost extends Context.Tag("@medusa/Platform/YouTubeHost")<YouTubeHost, Host<YouTubeMetadata>>() {}

const adapter = () => import("./YouTube.js")

const text = (flags: Readonly<Record<string, string | true | undefined>>, name: string): string | undefined => {
  const value = flags[name]
  return typeof value === "string" ? value : undefined
}

/**
 * @since 0.1.0
 * @category modules
 */
export const youtube: HostModule<"youtube", YouTubeConfig, YouTubeMetadata> = {
  id: "youtube",
  kind: "host",
  displayName: "YouTube",
  config: {
    schema: ConfigSection,
    resolvePaths: (config, resolve) => ({
      ...config,
      clientSecretsFile: resolve(config.clientSecretsFile),
      credentialsFile: resolve(config.credentialsFile),
      ...(config.quotaFile !== undefined ? { quotaFile: resolve(config.quotaFile) } : {})
    })
  },
  metadata: YouTubeMetadata,
  placeholders: { url: "https://youtube.com/watch?v=XXXXXXXXXXX", videoId: "XXXXXXXXXXX" },
  tag: YouTubeHost,
  make: (config, defaults) =>
    Effect.flatMap(
      Effect.promise(adapter),
      (YouTube) => YouTube.make({ maxWait: defaults.maxWait, stallTimeout: defaults.stallTimeout, ...config })
    ),
  cli: {
    flags: [
      { name: "title", type: "text", description: "Video title (YouTube; also Vimeo unless --vimeo-title)." },
      {
        name: "description",
        type: "text",
        description: "Video description (YouTube; also Vimeo unless --vimeo-description)."
      },
      {
        name: "privacy",
        type: { choices: YouTubePrivacy.literals },
        description: "YouTube privacy (Vimeo gets anybody / unlisted / nobody to match)."
      },
      { name: "tags", type: "text", description: "YouTube tags, comma separated." },
      { name: "category", type: "text", description: "YouTube category id, e.g. 22." },
      { name: "thumbnail", type: "text", description: "YouTube thumbnail (JPEG or PNG file)." },
      { name: "playlist", type: "text", description: "YouTube playlist id to add the video to." },
      {
        name: "publish-at",
        type: "text",
        description: "YouTube scheduled publication (ISO 8601; implies private until then)."
      }
    ],
    metadata: ({ flags, resolvePath }) => {
      const out: Record<string, unknown> = {}
      const put = (field: string, value: unknown) => {
        if (value !== undefined) out[field] = value
      }
      put("title", text(flags, "title"))
      put("description", text(flags, "description"))
      put("privacy", text(flags, "privacy"))
      put("tags", text(flags, "tags")?.split(",").map((s) => s.trim()).filter((s) => s.length > 0))
      put("categoryId", text(flags, "category"))
      put("thumbnail", mapDefined(text(flags, "thumbnail"), resolvePath))
      put("playlistId", text(flags, "playlist"))
      put("publishAt", text(flags, "publish-at"))
      return Object.keys(out).length > 0 ? out : undefined
    }
  },
  checkCredentials: (config) =>
    Effect.flatMap(Effect.promise(adapter), (YouTube) =>
      Effect.map(YouTube.checkCredentials(config), (r) => ({
        ok: r.ok,
        summary: r.valid ?
          `valid; channel ${r.channelTitle ?? "?"} (${r.channelId ?? "?"}), access token ${
            r.expiresAt === undefined ? "expiry unknown" : `expires ${new Date(r.expiresAt).toISOString()}`
          }` :
          "not valid",
        details: [
          ...(r.valid ?
            [
              `scopes: ${r.scopes.join(", ") || "none"}`,
              ...(r.quota ?
                [
                  `quota left today: ${r.quota.uploadsLeft} of ${r.quota.uploadsPerDay} uploads, ${r.quota.unitsLeft} of ${r.quota.unitsPerDay} units (local ledger; resets ${
                    new Date(r.quota.resetsAt).toISOString()
                  }, midnight Pacific)`
                ] :
                [])
            ] :
            []),
          ...r.problems
        ]
      })))
}

const mapDefined = (value: string | undefined, f: (s: string) => string): string | undefined =>
  value === undefined ? undefined : f(value)
