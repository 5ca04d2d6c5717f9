/**
 * X (Twitter): a publisher posting through the v2 API with OAuth 1.0a user
 * context, optionally with the video attached. The adapter is `X.ts`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  DurationString,
  optional,
  Positive,
  postingKeys,
  required,
  Secret,
  Text,
  Url
} from "../../internal/config/values.js"
import type { Publisher } from "../../Platform.js"
import type { PublisherModule } from "../../PlatformModule.js"

/**
 * `metadata.x` (or `metadata.twitter`) of a publish request.
 *
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
 * The `twitter` (or `x`) section of `medusa.config.json` (`X.layer`'s options).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigSection = Schema.Struct({
  apiKey: required(Secret, "api_key"),
  apiSecret: required(Secret, "api_secret"),
  accessToken: required(Secret, "access_token"),
  accessTokenSecret: required(Secret, "access_token_secret"),
  baseUrl: optional(Url, "base_url"),
  ...postingKeys,
  processingTimeout: optional(DurationString, "processing_timeout"),
  maxPollInterval: optional(DurationString, "max_poll_interval"),
  monthlyPostCap: optional(Positive, "monthly_post_cap"),
  capResetDay: optional(
    Schema.Number.pipe(
      Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= 31, {
        message: () => "must be a day of the month, a whole number from 1 to 31"
      })
    ),
    "cap_reset_day"
  ),
  ledgerFile: optional(Text, "ledger_file")
})

/**
 * @since 0.1.0
 * @category models
 */
export type XConfig = typeof ConfigSection.Type

/**
 * @since 0.1.0
 * @category tags
 */
export class XPublisher extends Context.Tag("@medusa/Platform/XPublisher")<XPublisher, Publisher<XMetadata>>() {}

const adapter = () => import("./X.js")

/**
 * @since 0.1.0
 * @category modules
 */
export const x: PublisherModule<"x", XConfig, XMetadata> = {
  id: "x",
  kind: "publisher",
  displayName: "X",
  aliases: ["twitter"],
  config: {
    section: "twitter",
    schema: ConfigSection,
    // The ledger of accepted posts is shared through a file beside the config file (in memory for an inline config).
    resolvePaths: (config, resolve, fromFile) => {
      const file = config.ledgerFile ?? (fromFile ? ".medusa/x-posts.json" : undefined)
      return file === undefined ? config : { ...config, ledgerFile: resolve(file) }
    }
  },
  metadata: XMetadata,
  templateFields: ["text"],
  tag: XPublisher,
  make: (config, defaults) =>
    Effect.flatMap(Effect.promise(adapter), (X) => X.make({ maxRateLimitWait: defaults.maxWait, ...config })),
  cli: {
    flags: [
      { name: "x-text", type: "text", description: "X post text (a template; ≤ 280 weighted characters once filled)." },
      { name: "x-video", type: "boolean", description: "Also upload the video to X and attach it natively." }
    ],
    metadata: ({ flags }) => {
      const out: Record<string, unknown> = {}
      if (typeof flags["x-text"] === "string") out.text = flags["x-text"]
      if (flags["x-video"] === true) out.attachVideo = true
      return Object.keys(out).length > 0 ? out : undefined
    }
  },
  checkCredentials: (config) =>
    Effect.flatMap(Effect.promise(adapter), (X) =>
      Effect.map(X.checkCredentials(config), (r) => ({
        ok: r.ok,
        summary: `${r.valid ? "valid" : "not valid"}; account ${r.username ? `@${r.username}` : "?"} (${
          r.userId ?? "?"
        }), OAuth 1.0a user context`,
        details: [...r.problems]
      })))
}
