/**
 * LinkedIn emulator (placeholder: routes arrive with the sandbox work).
 *
 * @internal
 */
import type { Emulator, EmulatorEnv } from "../internal/framework.js"

/** @internal */
export const makeLinkedIn = (_env: EmulatorEnv): Emulator => ({
  platform: "linkedin",
  routes: [],
  errorResponse: (status, options) => ({ body: { error: { code: status, message: options.message ?? "error" } } }),
  expireTokens: () => {},
  exhaustQuota: () => {},
  snapshot: () => ({})
})
