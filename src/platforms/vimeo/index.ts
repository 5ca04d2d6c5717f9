/**
 * Vimeo: a video host uploading through the tus protocol with a personal
 * access token. The adapter is `Vimeo.ts`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  NonNegative,
  optional,
  ProcessingSection,
  required,
  RetrySection,
  Secret,
  uploadKeys,
  Url
} from "../../internal/config/values.js"
import type { Host } from "../../Platform.js"
import type { HostModule } from "../../PlatformModule.js"

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
 * `metadata.vimeo` of a publish request.
 *
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
 * The `vimeo` section of `medusa.config.json` (`Vimeo.layer`'s options).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigSection = Schema.Struct({
  accessToken: required(Secret, "access_token"),
  baseUrl: optional(Url, "base_url"),
  retry: optional(RetrySection, "retry"),
  progressIntervalMillis: optional(NonNegative, "progress_interval_millis"),
  waitForProcessing: optional(Schema.Boolean, "wait_for_processing"),
  processing: optional(ProcessingSection, "processing"),
  ...uploadKeys
})

/**
 * @since 0.1.0
 * @category models
 */
export type VimeoConfig = typeof ConfigSection.Type

/**
 * @since 0.1.0
 * @category tags
 */
export class VimeoHost extends Context.Tag("@medusa/Platform/VimeoHost")<VimeoHost, Host<VimeoMetadata>>() {}

const adapter = () => import("./Vimeo.js")

/** The Vimeo privacy matching a YouTube one, when only `--privacy` is given. */
const privacyFor: Readonly<Record<string, string>> = { public: "anybody", unlisted: "unlisted", private: "nobody" }

/**
 * @since 0.1.0
 * @category modules
 */
export const vimeo: HostModule<"vimeo", VimeoConfig, VimeoMetadata> = {
  id: "vimeo",
  kind: "host",
  displayName: "Vimeo",
  config: { schema: ConfigSection },
  metadata: VimeoMetadata,
  placeholders: { url: "https://vimeo.com/1234567890", videoId: "1234567890" },
  tag: VimeoHost,
  make: (config, defaults) =>
    Effect.flatMap(
      Effect.promise(adapter),
      (Vimeo) => Vimeo.make({ maxWait: defaults.maxWait, stallTimeout: defaults.stallTimeout, ...config })
    ),
  cli: {
    flags: [
      { name: "vimeo-title", type: "text", description: "Vimeo title (default: --title)." },
      { name: "vimeo-description", type: "text", description: "Vimeo description (default: --description)." },
      { name: "vimeo-privacy", type: { choices: VimeoPrivacy.literals }, description: "Vimeo privacy.view." }
    ],
    // --title, --description and --privacy (YouTube's flags) fill Vimeo's too unless its own are given.
    metadata: ({ flags }) => {
      const out: Record<string, unknown> = {}
      const first = (...names: ReadonlyArray<string>) => names.map((n) => flags[n]).find((v) => typeof v === "string")
      const title = first("vimeo-title", "title")
      const description = first("vimeo-description", "description")
      const youtubePrivacy = flags["privacy"]
      const privacy = first("vimeo-privacy") ??
        (typeof youtubePrivacy === "string" ? privacyFor[youtubePrivacy] : undefined)
      if (title !== undefined) out.title = title
      if (description !== undefined) out.description = description
      if (privacy !== undefined) out.privacy = privacy
      return Object.keys(out).length > 0 ? out : undefined
    }
  },
  checkCredentials: (config) =>
    Effect.flatMap(Effect.promise(adapter), (Vimeo) =>
      Effect.map(Vimeo.checkCredentials(config), (r) => ({
        ok: r.ok,
        summary: `${r.valid ? "valid" : "not valid"}; account ${r.accountName ?? "?"} (${
          r.accountUri ?? "?"
        }), personal access token`,
        details: [...(r.valid ? [`scopes: ${r.scopes.join(", ") || "none"}`] : []), ...r.problems]
      })))
}
