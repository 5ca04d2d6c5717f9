/**
 * Platform identifiers: the two video hosts and the three social publishers.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category models
 */
export const HostId: Schema.Literal<["youtube", "vimeo"]> = Schema.Literal("youtube", "vimeo")

/**
 * @since 0.1.0
 * @category models
 */
export type HostId = typeof HostId.Type

/**
 * @since 0.1.0
 * @category models
 */
export const PublisherId: Schema.Literal<["facebook", "x", "linkedin", "bluesky"]> = Schema.Literal(
  "facebook",
  "x",
  "linkedin",
  "bluesky"
)

/**
 * @since 0.1.0
 * @category models
 */
export type PublisherId = typeof PublisherId.Type

/**
 * @since 0.1.0
 * @category models
 */
export const PlatformId: Schema.Literal<["youtube", "vimeo", "facebook", "x", "linkedin", "bluesky"]> = Schema
  .Literal(
    "youtube",
    "vimeo",
    "facebook",
    "x",
    "linkedin",
    "bluesky"
  )

/**
 * @since 0.1.0
 * @category models
 */
export type PlatformId = typeof PlatformId.Type

/**
 * Every host, in the order uploads are reported.
 *
 * @since 0.1.0
 * @category constants
 */
export const hosts: ReadonlyArray<HostId> = ["youtube", "vimeo"]

/**
 * Every publisher, in the order posts are reported.
 *
 * @since 0.1.0
 * @category constants
 */
export const publishers: ReadonlyArray<PublisherId> = ["facebook", "x", "linkedin", "bluesky"]

/**
 * @since 0.1.0
 * @category constants
 */
export const all: ReadonlyArray<PlatformId> = [...hosts, ...publishers]

/**
 * @since 0.1.0
 * @category guards
 */
export const isHost = (id: PlatformId): id is HostId => id === "youtube" || id === "vimeo"

/**
 * @since 0.1.0
 * @category guards
 */
export const isPublisher = (id: PlatformId): id is PublisherId => !isHost(id)

/**
 * The name people know the platform by, used in messages (`"YouTube API error: …"`).
 *
 * @since 0.1.0
 * @category constants
 */
export const displayName: Readonly<Record<PlatformId, string>> = {
  youtube: "YouTube",
  vimeo: "Vimeo",
  facebook: "Facebook",
  x: "X",
  linkedin: "LinkedIn",
  bluesky: "Bluesky"
}
