/**
 * Facebook Graph API details: error bodies, usage headers and how each error
 * code maps onto Medusa's errors.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import {
  type AttemptFailed,
  fail,
  rateLimited,
  retry,
  retryAfterMillis,
  unknown
} from "../../../internal/http/postOnce.js"
import {
  AuthExpired,
  type PlatformError,
  PlatformRejected,
  PlatformUnavailable,
  QuotaExceeded
} from "../../../PublishError.js"

/** @internal */
export interface GraphError {
  readonly code: number | undefined
  readonly subcode: number | undefined
  readonly message: string | undefined
  readonly type: string | undefined
  readonly userMessage: string | undefined
}

const asNumber = (u: unknown): number | undefined => {
  if (typeof u === "number" && Number.isFinite(u)) return u
  if (typeof u === "string" && u.trim() !== "" && Number.isFinite(Number(u))) return Number(u)
  return undefined
}

const asString = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)

/**
 * The `error` object of a Graph answer, when there is one.
 *
 * @internal
 */
export const parseGraphError = (body: unknown): GraphError | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  const error = (body as { readonly error?: unknown }).error
  if (typeof error !== "object" || error === null) return undefined
  const e = error as Record<string, unknown>
  return {
    code: asNumber(e.code),
    subcode: asNumber(e.error_subcode),
    message: asString(e.message),
    type: asString(e.type),
    userMessage: asString(e.error_user_msg)
  }
}

// =============================================================================
// Usage headers
// =============================================================================

/**
 * The highest usage percentage in `X-App-Usage` / `X-Business-Use-Case-Usage`,
 * and the time to regain access the BUC header gives (minutes there).
 *
 * @internal
 */
export interface Usage {
  readonly percent: number
  readonly regainMillis: number | undefined
}

const parseJsonHeader = (value: string | undefined): unknown => {
  if (value === undefined) return undefined
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}

const usageOf = (entry: unknown): { percent: number; regain: number | undefined } | undefined => {
  if (typeof entry !== "object" || entry === null) return undefined
  const e = entry as Record<string, unknown>
  const values = [e.call_count, e.total_cputime, e.total_time, e.acc_id_util_pct].map(asNumber)
    .filter((n): n is number => n !== undefined)
  const regain = asNumber(e.estimated_time_to_regain_access)
  return { percent: values.length === 0 ? 0 : Math.max(...values), regain }
}

/**
 * Reads both usage headers; `undefined` when neither is present.
 *
 * @internal
 */
export const parseUsage = (headers: Headers.Headers): Usage | undefined => {
  const readings: Array<{ percent: number; regain: number | undefined }> = []
  const app = usageOf(parseJsonHeader(headers["x-app-usage"]))
  if (app) readings.push(app)
  const buc = parseJsonHeader(headers["x-business-use-case-usage"])
  if (typeof buc === "object" && buc !== null) {
    for (const entries of Object.values(buc)) {
      for (const entry of Array.isArray(entries) ? entries : [entries]) {
        const reading = usageOf(entry)
        if (reading) readings.push(reading)
      }
    }
  }
  if (readings.length === 0) return undefined
  const regains = readings.map((r) => r.regain).filter((n): n is number => n !== undefined && n > 0)
  return {
    percent: Math.max(...readings.map((r) => r.percent)),
    regainMillis: regains.length === 0 ? undefined : Math.max(...regains) * 60_000
  }
}

// =============================================================================
// Error mapping
// =============================================================================

/** Codes the Graph error guide lists as rate limits. */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 341, 613, 80001])
/** Codes the Graph error guide says to retry (unknown error, service unavailable). */
const TRANSIENT_CODES = new Set([1, 2])

const PERMISSION_PATTERN = /\b(pages_[a-z_]+|publish_[a-z_]+|business_management|read_insights)\b/

/**
 * The permission a `10` / `200–299` error is about: named in the message
 * when Facebook says, else the one the operation needs.
 *
 * @internal
 */
export const missingPermission = (error: GraphError, needed: string): string =>
  PERMISSION_PATTERN.exec(error.message ?? "")?.[1] ?? needed

/** @internal */
export interface MapContext {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: unknown
  /** The permission the operation needs, named when a permission error does not say. */
  readonly permission: string
  /** Epoch ms now, for the waits. */
  readonly now: number
  /** Wait when a rate limit gives no usable hint. */
  readonly fallbackWaitMillis: number
}

/**
 * Maps a failed Graph answer to a post-attempt verdict. Keyed on the body's
 * `code` / `error_subcode`, as the Graph error guide says, not on the HTTP
 * status (which is 400 for most of them).
 *
 * @internal
 */
export const classifyGraphFailure = (ctx: MapContext): AttemptFailed => {
  const error = parseGraphError(ctx.body)
  const common = {
    platform: "facebook" as const,
    status: ctx.status,
    ...(error?.code !== undefined ?
      { code: error.subcode !== undefined ? `${error.code}/${error.subcode}` : String(error.code) } :
      {}),
    ...(error?.message !== undefined ? { platformMessage: error.message } : {})
  }
  const code = error?.code
  if (code === 190 || code === 102) {
    return fail(
      new AuthExpired({
        ...common,
        reason: "auth_expired",
        description: "the Page access token is expired or invalid; get a new Page token " +
          "(Graph API Explorer or /me/accounts with a fresh user token) and update facebook.access_token"
      })
    )
  }
  if (code === 10 || (code !== undefined && code >= 200 && code <= 299)) {
    const permission = missingPermission(error!, ctx.permission)
    return fail(
      new AuthExpired({
        ...common,
        reason: "permission_missing",
        description: `the Page token lacks the ${permission} permission; grant it to the app and ` +
          `issue a new Page token (run \`medusa auth check\` to see the scopes)`
      })
    )
  }
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) {
    const usage = parseUsage(ctx.headers)
    return rateLimited({
      platform: "facebook",
      status: ctx.status,
      code: common.code,
      platformMessage: error?.message,
      waitMillis: retryAfterMillis(ctx.headers["retry-after"], ctx.now) ?? usage?.regainMillis,
      fallbackMillis: ctx.fallbackWaitMillis,
      now: ctx.now
    })
  }
  if (ctx.status === 429) {
    return rateLimited({
      platform: "facebook",
      status: ctx.status,
      code: common.code,
      platformMessage: error?.message,
      waitMillis: retryAfterMillis(ctx.headers["retry-after"], ctx.now) ?? parseUsage(ctx.headers)?.regainMillis,
      fallbackMillis: ctx.fallbackWaitMillis,
      now: ctx.now
    })
  }
  if (code === 368) {
    return fail(
      new PlatformRejected({
        ...common,
        reason: "blocked",
        description: "Facebook has temporarily blocked this Page or app from posting (policy); " +
          "wait before trying again and check the Page's notifications"
      })
    )
  }
  if (code === 506) {
    return fail(
      new PlatformRejected({
        ...common,
        reason: "duplicate_post",
        description: "Facebook already has a post with this exact message on the Page; change the message"
      })
    )
  }
  if (code !== undefined && TRANSIENT_CODES.has(code)) {
    // Documented as "retry": Facebook answered, and says it could not process it.
    return retry(
      new PlatformUnavailable({ ...common, reason: "server_error", description: "Facebook reported a transient error" })
    )
  }
  if (code === 100 || code === 1609005) {
    return fail(
      new PlatformRejected({
        ...common,
        reason: "invalid_metadata",
        description: code === 1609005 ?
          "Facebook could not fetch the link; check that metadata.facebook.link is a public URL" :
          "Facebook rejected a parameter; check metadata.facebook"
      })
    )
  }
  if (ctx.status >= 500 && code === undefined) {
    // A 5xx without a Graph error may come from anywhere after the post was accepted.
    return unknown(
      new PlatformUnavailable({ ...common, reason: "server_error", description: `Facebook answered ${ctx.status}` })
    )
  }
  return fail(new PlatformRejected({ ...common, reason: "rejected", description: `Facebook answered ${ctx.status}` }))
}

/**
 * The same mapping for requests that create nothing (search, credential
 * check): every verdict becomes its error.
 *
 * @internal
 */
export const graphError = (ctx: MapContext): PlatformError => classifyGraphFailure(ctx).error

/**
 * `QuotaExceeded` raised before sending when usage passed the threshold and
 * waiting would take too long.
 *
 * @internal
 */
export const usageExceeded = (usage: Usage, waitMillis: number, now: number): QuotaExceeded =>
  new QuotaExceeded({
    platform: "facebook",
    reason: "rate_limited",
    description: `Graph API usage is at ${usage.percent}%; Medusa holds new posts above 90% ` +
      `(try again in ${Math.ceil(waitMillis / 60_000)} min)`,
    retryAfter: waitMillis,
    resetsAt: now + waitMillis
  })
