/**
 * Medusa: publish one video everywhere.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Platform from "./Platform.js"

/** @since 0.1.0 */
export * as PlatformId from "./PlatformId.js"

/** @since 0.1.0 */
export * as PublishError from "./PublishError.js"

/** @since 0.1.0 */
export * as PublishRequest from "./PublishRequest.js"

/** @since 0.1.0 */
export * as Task from "./Task.js"

/** @since 0.1.0 */
export * as TaskId from "./TaskId.js"

/** @since 0.1.0 */
export * as TaskStore from "./TaskStore.js"

/** @since 0.1.0 */
export * as Medusa from "./Medusa.js"

/** @since 0.1.0 */
export * as TaskStatus from "./TaskStatus.js"

/** @since 0.1.0 */
export * as Template from "./Template.js"

/** @since 0.1.0 */
export * as TestPlatforms from "./TestPlatforms.js"

/** @since 0.1.0 */
export * as Config from "./Config.js"
