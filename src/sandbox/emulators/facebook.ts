/**
 * Facebook emulator (placeholder: routes arrive with the sandbox work).
 *
 * @internal
 */
import type { Emulator, EmulatorEnv } from "../internal/framework.js"

/** @internal */
export const makeFacebook = (_env: EmulatorEnv): Emulator => ({
  platform: "facebook",
  routes: [],
  errorResponse: (status, options) => ({ body: { error: { code: status, message: options.message ?? "error" } } }),
  expireTokens: () => {},
  exhaustQuota: () => {},
  snapshot: () => ({})
})
