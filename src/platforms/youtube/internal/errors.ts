/**
 * YouTube's error answers mapped to Medusa's typed errors (fact sheet §1.5).
 *
 * @internal
 */
import { AuthExpired, PlatformRejected, PlatformUnavailable, QuotaExceeded } from "../../../PublishError.js"
import type { PlatformError } from "../../../PublishError.js"
import { loginHint } from "./auth.js"
import { nextPacificMidnight } from "./quota.js"

/** The parts of YouTube's error body that matter. @internal */
export interface YouTubeErrorBody {
  readonly reason: string | undefined
  readonly message: string | undefined
}

/** Reads `{"error":{"message","errors":[{"reason"}]}}` (and OAuth-style `{"error":"…"}`). @internal */
export const parseErrorValue = (json: unknown): YouTubeErrorBody => {
  if (typeof json !== "object" || json === null) return { reason: undefined, message: undefined }
  const error = (json as { error?: unknown }).error
  if (typeof error === "string") {
    const description = (json as { error_description?: unknown }).error_description
    return { reason: error, message: typeof description === "string" ? description : error }
  }
  if (typeof error !== "object" || error === null) return { reason: undefined, message: undefined }
  const e = error as { message?: unknown; errors?: unknown; status?: unknown }
  const first = Array.isArray(e.errors) && e.errors.length > 0 ? e.errors[0] as { reason?: unknown } : undefined
  return {
    reason: typeof first?.reason === "string" ? first.reason : typeof e.status === "string" ? e.status : undefined,
    message: typeof e.message === "string" ? e.message : undefined
  }
}

/** @internal */
export const parseErrorBody = (text: string): YouTubeErrorBody => {
  try {
    return parseErrorValue(JSON.parse(text))
  } catch {
    return { reason: undefined, message: text.length > 0 && text.length < 500 ? text : undefined }
  }
}

const metadataReasons = new Set([
  "invalidTitle",
  "invalidDescription",
  "invalidTags",
  "invalidCategoryId",
  "invalidPublishAt",
  "invalidVideoMetadata",
  "invalidRecordingDetails",
  "invalidFilename",
  "defaultLanguageNotSet",
  "mediaBodyRequired",
  "invalidImage",
  "imageTooLarge"
])

/**
 * Maps a non-retryable answer. `what` names the call for the description.
 *
 * @internal
 */
export const fromResponse = (
  status: number,
  body: YouTubeErrorBody,
  options: { readonly what: string; readonly now: number; readonly retryAfterMillis?: number | undefined }
): PlatformError => {
  const common = { platform: "youtube" as const, status, code: body.reason, platformMessage: body.message }
  const reason = body.reason
  if (status === 401) {
    return new AuthExpired({
      ...common,
      reason: "auth_invalid",
      description: `YouTube refused the access token during ${options.what} even after a refresh; ${loginHint}`
    })
  }
  if (reason === "quotaExceeded" || reason === "dailyLimitExceeded") {
    const resetsAt = nextPacificMidnight(options.now)
    return new QuotaExceeded({
      ...common,
      reason: "quota_exceeded",
      resetsAt,
      description: `the project's daily YouTube quota is used up; it resets at ${
        new Date(resetsAt).toISOString()
      } (midnight Pacific time)`
    })
  }
  if (reason === "uploadLimitExceeded") {
    return new QuotaExceeded({
      ...common,
      reason: "upload_limit_exceeded",
      resetsAt: options.now + 24 * 3_600_000,
      description: "the channel reached YouTube's 24-hour upload limit; try again in 24 hours"
    })
  }
  if (status === 429 || reason === "rateLimitExceeded" || reason === "userRateLimitExceeded") {
    return new QuotaExceeded({
      ...common,
      reason: "rate_limited",
      retryAfter: options.retryAfterMillis,
      description: `YouTube rate-limited ${options.what} (the daily "Video Uploads" bucket may be used up)`
    })
  }
  if (status === 403) {
    return new AuthExpired({
      ...common,
      reason: "permission_missing",
      description:
        `the account may not ${options.what} (the token lacks a scope, or the channel cannot do this); ${loginHint}`
    })
  }
  if (status === 400 && reason !== undefined && metadataReasons.has(reason)) {
    return new PlatformRejected({
      ...common,
      reason: "invalid_metadata",
      description: `YouTube rejected the metadata of ${options.what}`
    })
  }
  if (status === 404) {
    return new PlatformRejected({ ...common, reason: "not_found", description: `${options.what}: not found` })
  }
  if (status >= 500) {
    return new PlatformUnavailable({ ...common, reason: "server_error", description: `${options.what} failed` })
  }
  return new PlatformRejected({ ...common, reason: "rejected", description: `YouTube refused ${options.what}` })
}

/** Statuses the resumable protocol retries. @internal */
export const isRetryableStatus = (status: number): boolean =>
  status === 500 || status === 502 || status === 503 || status === 504
