/**
 * The publish request: which file, which platforms, what to say on each.
 *
 * Post texts (`facebook.message`, `facebook.link`, `x.text`, `linkedin.text`)
 * are templates over the variables the selected hosts produce:
 * `{youtube_url}`, `{youtube_video_id}`, `{vimeo_url}`, `{vimeo_video_id}`.
 * `{{` and `}}` stand for literal braces.
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import {
  accountNameRule,
  type HostId,
  hosts,
  names,
  parseTarget,
  PlatformId,
  type PlatformId as PlatformIdType,
  platformOf,
  Target,
  type Target as TargetType
} from "./PlatformId.js"
import { type Modules, modules } from "./platforms/registry.js"

/**
 * A platform's id or one of its aliases (`"twitter"` for `"x"`), decoded to
 * the id.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PlatformName: Schema.Schema<PlatformIdType, string> = Schema.transform(
  Schema.Literal(...(Object.keys(names) as [string, ...Array<string>])),
  PlatformId,
  {
    strict: true,
    decode: (name) => names[name]!,
    encode: (id) => id
  }
)

/**
 * A target as requests write it: a platform's id or alias, optionally with
 * one of its configured accounts (`"facebook:brand"`, `"twitter:studio"`),
 * decoded to the id (`"x:studio"`). Whether the account is configured is
 * checked against the config when the request is validated.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TargetName: Schema.Schema<TargetType, string> = Schema.transformOrFail(Schema.String, Target, {
  strict: true,
  decode: (name, _, ast) => {
    const target = parseTarget(name)
    return target !== undefined ?
      ParseResult.succeed(target) :
      ParseResult.fail(
        new ParseResult.Type(
          ast,
          name,
          `expected one of ${
            Object.keys(names).map((n) => JSON.stringify(n)).join(", ")
          }, optionally with ":<account>" (${accountNameRule}), got ${JSON.stringify(name)}`
        )
      )
  },
  encode: (target) => ParseResult.succeed(target)
})

export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  BlueskyMetadata
} from "./platforms/bluesky/index.js"
export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  FacebookMetadata
} from "./platforms/facebook/index.js"
export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  LinkedInMetadata
} from "./platforms/linkedin/index.js"
export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  MastodonMetadata,
  /**
   * @since 0.1.0
   * @category schemas
   */
  MastodonVisibility
} from "./platforms/mastodon/index.js"
export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  ThreadsMetadata
} from "./platforms/threads/index.js"
export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  VimeoMetadata,
  /**
   * @since 0.1.0
   * @category schemas
   */
  VimeoPrivacy
} from "./platforms/vimeo/index.js"
export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  XMetadata
} from "./platforms/x/index.js"
export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  YouTubeCaption,
  /**
   * @since 0.1.0
   * @category schemas
   */
  YouTubeMetadata,
  /**
   * @since 0.1.0
   * @category schemas
   */
  YouTubePrivacy
} from "./platforms/youtube/index.js"

type MetadataFields = {
  readonly [M in Modules as M["id"]]: Schema.optional<M["metadata"]>
}

const metadataFields = Object.fromEntries(
  modules.map((m) => [m.id, Schema.optional(m.metadata)])
) as unknown as MetadataFields

// `metadata["facebook:brand"]`: a named account's own metadata, decoded by its platform's schema.
const accountMetadata = modules.map((m) =>
  Schema.Record({
    key: Schema.TemplateLiteral(Schema.Literal(m.id), Schema.Literal(":"), Schema.String),
    value: m.metadata as Schema.Schema<unknown, any>
  })
)

/**
 * Each selected platform's metadata, under its id (each module's `metadata`
 * schema). A named account may have its own, under its target
 * (`"facebook:brand"`); without it, the account takes its platform's
 * (`metadataFor`).
 *
 * @since 0.1.0
 * @category schemas
 */
export class Metadata extends Schema.Class<Metadata>("@medusa/Metadata")(
  // A schema (not fields): the class keeps the records; its type shows the platforms' fields.
  Schema.Struct(
    metadataFields,
    ...(accountMetadata as unknown as [typeof accountMetadata[number]])
  ) as unknown as Schema.Struct<MetadataFields>
) {}

/**
 * The metadata a target posts or uploads with: its own
 * (`metadata["facebook:brand"]`), else its platform's (`metadata.facebook`).
 *
 * @since 0.1.0
 * @category getters
 */
export const metadataFor = (metadata: Metadata, target: TargetType): unknown => {
  const own = (metadata as unknown as Record<string, unknown>)[target]
  return own !== undefined ? own : (metadata as unknown as Record<string, unknown>)[platformOf(target)]
}

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
  /** Targets: a platform (its default account) or `"<platform>:<account>"` for a named account. */
  platforms: Schema.Array(TargetName),
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
 * Template variables the hosts produce: `<host>_url` and `<host>_video_id`.
 *
 * @since 0.1.0
 * @category constants
 */
export const templateVariables: { readonly [H in HostId]: readonly [`${H}_url`, `${H}_video_id`] } = Object
  .fromEntries(hosts.map((h) => [h, [`${h}_url`, `${h}_video_id`]])) as any
