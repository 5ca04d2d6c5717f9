/**
 * Threads: a publisher posting a text (its first link becomes the preview)
 * through Meta's Threads API, container then publish. The adapter is
 * `Threads.ts`.
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
 * `metadata.threads` of a publish request.
 *
 * @since 0.1.0
 * @category schemas
 */
export class ThreadsMetadata extends Schema.Class<ThreadsMetadata>("@medusa/ThreadsMetadata")({
  /** Template; at most 500 characters once filled. The first link becomes the post's preview. */
  text: Schema.String
}) {}

/**
 * The `threads` section of `medusa.config.json` (`Threads.layer`'s options).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigSection = Schema.Struct({
  accessToken: required(Secret, "access_token"),
  userId: required(
    Schema.String.pipe(
      Schema.pattern(/^\d+$/, {
        message: (issue) =>
          `must be the numeric Threads user id (GET /me answers it), got ${JSON.stringify(issue.actual)}`
      })
    ),
    "user_id"
  ),
  baseUrl: optional(Url, "base_url"),
  apiVersion: optional(
    Schema.String.pipe(Schema.pattern(/^v\d+\.\d+$/, { message: () => "must look like v1.0" })),
    "api_version"
  ),
  ...postingKeys
})

/**
 * @since 0.1.0
 * @category models
 */
export type ThreadsConfig = typeof ConfigSection.Type

/**
 * @since 0.1.0
 * @category tags
 */
export class ThreadsPublisher extends Context.Tag("@medusa/Platform/ThreadsPublisher")<
  ThreadsPublisher,
  Publisher<ThreadsMetadata>
>() {}

const adapter = () => import("./Threads.js")

/**
 * @since 0.1.0
 * @category modules
 */
export const threads: PublisherModule<"threads", ThreadsConfig, ThreadsMetadata> = {
  id: "threads",
  kind: "publisher",
  displayName: "Threads",
  config: { schema: ConfigSection },
  metadata: ThreadsMetadata,
  templateFields: ["text"],
  tag: ThreadsPublisher,
  make: (config, defaults) =>
    Effect.flatMap(
      Effect.promise(adapter),
      (Threads) => Threads.make({ maxRateLimitWait: defaults.maxWait, ...config })
    ),
  cli: {
    flags: [{
      name: "threads-text",
      type: "text",
      description: "Threads post text (a template; ≤ 500 characters once filled)."
    }],
    metadata: ({ flags }) => typeof flags["threads-text"] === "string" ? { text: flags["threads-text"] } : undefined
  },
  checkCredentials: (config) =>
    Effect.flatMap(Effect.promise(adapter), (Threads) =>
      Effect.map(Threads.checkCredentials(config), (r) => ({
        ok: r.ok,
        summary: `${r.valid ? "valid" : "not valid"}; user ${r.username ? `@${r.username}` : "?"} (${r.userId})`,
        details: [...r.problems]
      })))
}
