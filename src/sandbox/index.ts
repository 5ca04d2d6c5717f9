/**
 * The sandbox entry point (`medusa/sandbox`).
 *
 * @since 0.1.0
 */

// First: on a Node that Medusa does not run on, this fails saying what to do, before any dependency loads.
import "../internal/checkNode.js"

/** @since 0.1.0 */
export * as Credentials from "./Credentials.js"

/** @since 0.1.0 */
export * as Sandbox from "./Sandbox.js"

/** @since 0.1.0 */
export * as Runner from "./Runner.js"
