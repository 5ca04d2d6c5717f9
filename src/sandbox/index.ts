/**
 * The sandbox entry point (`medusa/sandbox`).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Credentials from "./Credentials.js"

/** @since 0.1.0 */
export * as Sandbox from "./Sandbox.js"

/** @since 0.1.0 */
export * as Runner from "./Runner.js"
