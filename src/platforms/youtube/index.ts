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
 * A caption track inserted after the upload: an SRT or WebVTT file, its
 * language (a BCP-47 tag) and the track's name (at most 150 characters).
 *
 * @since 0.1.0
 * @category schemas
 */
export class YouTubeCaption extends Schema.Class<YouTubeCaption>("@medusa/YouTubeCaption")({
  /** Path of an SRT or WebVTT file. */
  file: Schema.String,
  /** BCP-47 language tag, such as `en`, `en-US` or `pt-BR`. */
  language: Schema.String,
  /** The track's name as viewers see it; empty (the default) for the language's main track. */
  name: Schema.optional(Schema.String)
}) {}

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
  notifySubscribers: Schema.optional(Schema.Boolean),
  /** Caption tracks inserted after the upload (once each, also when the step is re-run). */
  captions: Schema.optional(Schema.Array(YouTubeCaption)),
  /**
   * The video is meant as a Short: checked before the upload to be at most 3
   * minutes long and vertical or square. YouTube has no flag for it.
   */
  short: Schema.optional(Schema.Boolean)
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
      },
      {
        name: "youtube-caption",
        type: "text",
        description:
          "A YouTube caption track, <file>:<language>[:<name>], e.g. talk.en.vtt:en (SRT or WebVTT; language a BCP-47 tag). More tracks: captions in --request."
      },
      {
        name: "youtube-short",
        type: "boolean",
        description:
          "Check before uploading that the video can be a YouTube Short (at most 3 minutes, vertical or square)."
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
      put("captions", mapDefined(text(flags, "youtube-caption"), (value) => [parseCaptionFlag(value, resolvePath)]))
      put("short", flags["youtube-short"] === true ? true : undefined)
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

const mapDefined = <A>(value: string | undefined, f: (s: string) => A): A | undefined =>
  value === undefined ? undefined : f(value)

/**
 * `<file>:<language>[:<name>]`: the language is the first segment after a
 * colon that is a language tag, so a name may hold colons.
 */
const parseCaptionFlag = (
  value: string,
  resolvePath: (path: string) => string
): { readonly file: string; readonly language: string; readonly name?: string } => {
  for (let at = value.indexOf(":"); at > 0; at = value.indexOf(":", at + 1)) {
    const rest = value.slice(at + 1)
    const end = rest.indexOf(":")
    const language = end === -1 ? rest : rest.slice(0, end)
    if (isLanguageTag(language)) {
      const file = resolvePath(value.slice(0, at))
      return end === -1 ? { file, language } : { file, language, name: rest.slice(end + 1) }
    }
  }
  // No language found: what follows the first colon is reported as the language.
  const at = value.indexOf(":")
  return at === -1
    ? { file: resolvePath(value), language: "" }
    : { file: resolvePath(value.slice(0, at)), language: value.slice(at + 1) }
}

const isLanguageTag = (tag: string): boolean => {
  try {
    return tag.length > 0 && Intl.getCanonicalLocales(tag).length === 1
  } catch {
    return false
  }
}

/**
 * The files `metadata.youtube` names (the thumbnail, each caption track's
 * file), each with its field under `metadata.youtube` (`captions[1].file`),
 * for the places that resolve or confine a request's paths: the CLI's
 * request file, the batch manifest and the HTTP server. A value that is not
 * a non-empty string is left out (the request decoder names it).
 *
 * @internal
 */
export const filePaths = (
  youtube: unknown
): ReadonlyArray<{ readonly field: string; readonly value: string }> => {
  if (!isRecord(youtube)) return []
  const out: Array<{ field: string; value: string }> = []
  const add = (field: string, value: unknown) => {
    if (typeof value === "string" && value.length > 0) out.push({ field, value })
  }
  add("thumbnail", youtube["thumbnail"])
  const captions = youtube["captions"]
  if (Array.isArray(captions)) {
    captions.forEach((caption: unknown, i) => {
      if (isRecord(caption)) add(`captions[${i}].file`, caption["file"])
    })
  }
  return out
}

/**
 * `metadata.youtube` with the files `filePaths` lists replaced by `f(value,
 * field)`; everything else as it was.
 *
 * @internal
 */
export const mapFilePaths = (youtube: unknown, f: (value: string, field: string) => string): unknown => {
  if (!isRecord(youtube)) return youtube
  const out: Record<string, unknown> = { ...youtube }
  if (typeof out["thumbnail"] === "string" && out["thumbnail"].length > 0) {
    out["thumbnail"] = f(out["thumbnail"], "thumbnail")
  }
  if (Array.isArray(out["captions"])) {
    out["captions"] = out["captions"].map((caption: unknown, i) =>
      isRecord(caption) && typeof caption["file"] === "string" && caption["file"].length > 0
        ? { ...caption, file: f(caption["file"], `captions[${i}].file`) }
        : caption
    )
  }
  return out
}

/** The metadata keys a YouTube account reads: `youtube` and `youtube:<account>`. */
const isYouTubeKey = (key: string): boolean => key === "youtube" || key.startsWith("youtube:")

/**
 * `filePaths` over a request's whole `metadata`: every YouTube account's
 * section (`youtube`, `youtube:studio`), each file with its path under
 * `metadata` (`youtube:studio.captions[0].file`).
 *
 * @internal
 */
export const metadataFilePaths = (
  metadata: unknown
): ReadonlyArray<{ readonly path: string; readonly value: string }> =>
  isRecord(metadata) ?
    Object.entries(metadata).flatMap(([key, section]) =>
      isYouTubeKey(key) ? filePaths(section).map(({ field, value }) => ({ path: `${key}.${field}`, value })) : []
    ) :
    []

/**
 * `mapFilePaths` over a request's whole `metadata` (every YouTube account's
 * section); `f` receives each file's path as `metadataFilePaths` names it.
 *
 * @internal
 */
export const mapMetadataFilePaths = (metadata: unknown, f: (value: string, path: string) => string): unknown =>
  isRecord(metadata) ?
    Object.fromEntries(
      Object.entries(metadata).map(([key, section]) => [
        key,
        isYouTubeKey(key) ? mapFilePaths(section, (value, field) => f(value, `${key}.${field}`)) : section
      ])
    ) :
    metadata

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
