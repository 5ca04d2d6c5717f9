/**
 * Medusa: publish one video everywhere.
 *
 * Namespaced exports only: `import { Medusa, YouTube } from "medusa"`.
 *
 * @since 0.1.0
 */

// First: on a Node that Medusa does not run on, this fails saying what to do, before any dependency loads.
import "./internal/checkNode.js"

// Engine and models

/** @since 0.1.0 */
export * as Medusa from "./Medusa.js"

/** @since 0.1.0 */
export * as Planning from "./Planning.js"

/** @since 0.1.0 */
export * as PublishRequest from "./PublishRequest.js"

/** @since 0.1.0 */
export * as PublishError from "./PublishError.js"

/** @since 0.1.0 */
export * as Task from "./Task.js"

/** @since 0.1.0 */
export * as TaskId from "./TaskId.js"

/** @since 0.1.0 */
export * as TaskStatus from "./TaskStatus.js"

/** @since 0.1.0 */
export * as TaskStore from "./TaskStore.js"

/** @since 0.1.0 */
export * as Template from "./Template.js"

/** @since 0.1.0 */
export * as Platform from "./Platform.js"

/** @since 0.1.0 */
export * as PlatformId from "./PlatformId.js"

/** @since 0.1.0 */
export * as PlatformModule from "./PlatformModule.js"

// Configuration and wiring

/** @since 0.1.0 */
export * as MedusaConfig from "./MedusaConfig.js"

/** @since 0.1.0 */
export * as Live from "./Live.js"

/** @since 0.1.0 */
export * as Durable from "./Durable.js"

/** @since 0.1.0 */
export * as SqlTaskStore from "./SqlTaskStore.js"

/** @since 0.1.0 */
export * as Webhooks from "./Webhooks.js"

// Platforms

/** @since 0.1.0 */
export * as YouTube from "./platforms/youtube/YouTube.js"

/** @since 0.1.0 */
export * as YouTubeLogin from "./platforms/youtube/YouTubeLogin.js"

/** @since 0.1.0 */
export * as Vimeo from "./platforms/vimeo/Vimeo.js"

/** @since 0.1.0 */
export * as Facebook from "./platforms/facebook/Facebook.js"

/** @since 0.1.0 */
export * as X from "./platforms/x/X.js"

/** @since 0.1.0 */
export * as LinkedIn from "./platforms/linkedin/LinkedIn.js"

/** @since 0.1.0 */
export * as Threads from "./platforms/threads/Threads.js"

/** @since 0.1.0 */
export * as Mastodon from "./platforms/mastodon/Mastodon.js"

/** @since 0.1.0 */
export * as Bluesky from "./platforms/bluesky/Bluesky.js"

/** @since 0.1.0 */
export * as TestPlatforms from "./TestPlatforms.js"

/** @since 0.1.0 */
export * as Telemetry from "./Telemetry.js"
