/**
 * A local ledger of YouTube's daily quota: the "Video Uploads" bucket
 * (calls of `videos.insert`) and the shared unit pool, per Google project and
 * channel, reset at midnight Pacific time. It is persisted beside the
 * credentials file so that separate runs (and the CLI) share it (the
 * generic ledger, `internal/quota/ledger.ts`, keeps it).
 *
 * The ledger is an estimate made before spending, and counts only calls
 * YouTube accepted. YouTube's own `quotaExceeded` is recorded too, so that the
 * next task fails before sending a byte; a rate limit (`429`,
 * `rateLimitExceeded`) is not a used-up quota and is never recorded.
 *
 * @internal
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Windowed from "../../../internal/quota/ledger.js"
import * as Metrics from "../../../internal/telemetry/metrics.js"
import { QuotaExceeded } from "../../../PublishError.js"

/** Costs per method (fact sheet §1.3, since 2026-06-01). @internal */
export const costs = {
  /** In the "Video Uploads" bucket, counted in calls. */
  "videos.insert": 1,
  "thumbnails.set": 50,
  "playlistItems.insert": 50,
  "playlistItems.list": 1,
  "videos.list": 1,
  "videos.delete": 50,
  "captions.list": 50,
  "captions.insert": 400
} as const

/** @internal */
export interface Limits {
  readonly uploadsPerDay: number
  readonly unitsPerDay: number
}

/** @internal */
export const defaultLimits: Limits = { uploadsPerDay: 100, unitsPerDay: 10_000 }

const PACIFIC = "America/Los_Angeles"

// Made once, on first use: building a formatter costs far more than formatting with it.
let pacificFormat: Intl.DateTimeFormat | undefined

const pacificParts = (epochMillis: number) => {
  pacificFormat ??= new Intl.DateTimeFormat("en-US", {
    timeZone: PACIFIC,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit"
  })
  const parts = pacificFormat.formatToParts(new Date(epochMillis))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0")
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour"),
    minute: get("minute"),
    second: get("second")
  }
}

/** The Pacific calendar day of an instant, `YYYY-MM-DD`. @internal */
export const pacificDay = (epochMillis: number): string => {
  const p = pacificParts(epochMillis)
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`
}

/** The next midnight in Pacific time after an instant (DST-aware). @internal */
export const nextPacificMidnight = (epochMillis: number): number => {
  const p = pacificParts(epochMillis)
  // Wall-clock offset of Pacific time from UTC at this instant.
  const wallAsUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
  const offset = wallAsUtc - Math.floor(epochMillis / 1000) * 1000
  const midnightWall = Date.UTC(p.year, p.month - 1, p.day + 1, 0, 0, 0)
  let candidate = midnightWall - offset
  // DST may change between now and midnight: correct with the offset there.
  const q = pacificParts(candidate)
  const offsetThere = Date.UTC(q.year, q.month - 1, q.day, q.hour, q.minute, q.second) - candidate
  candidate = midnightWall - offsetThere
  return candidate
}

/** What the ledger says a key used today. @internal */
export type Usage = Windowed.Usage<"uploads" | "units">

/** @internal */
export interface Ledger {
  /** Fails with `quota_exceeded` when an upload plus `units` would exceed a limit. */
  readonly check: (key: string, units: number) => Effect.Effect<void, QuotaExceeded>
  readonly spend: (key: string, spent: { readonly uploads?: number; readonly units?: number }) => Effect.Effect<void>
  /** Records that YouTube said a bucket is used up for today. */
  readonly exhaust: (key: string, bucket: "uploads" | "units") => Effect.Effect<void>
  readonly usage: (key: string) => Effect.Effect<Usage>
}

/** Pacific calendar days, reset at midnight Pacific time. */
const pacificDays: Windowed.Window = { id: pacificDay, nextReset: nextPacificMidnight }

/** @internal */
export const make = (
  file: string,
  limits: Limits
): Effect.Effect<Ledger, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const ledger = yield* Windowed.make({
      file,
      what: "YouTube quota ledger",
      buckets: ["uploads", "units"] as const,
      window: pacificDays
    })
    const usage = ledger.usage

    const check = (key: string, units: number) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const entry = yield* usage(key)
        const resetsAt = nextPacificMidnight(now)
        const when = `${new Date(resetsAt).toISOString()} (midnight Pacific time)`
        if (entry.uploads + costs["videos.insert"] > limits.uploadsPerDay) {
          return yield* new QuotaExceeded({
            platform: "youtube",
            reason: "quota_exceeded",
            resetsAt,
            description:
              `the daily "Video Uploads" quota of ${key} is used up (${entry.uploads}/${limits.uploadsPerDay} uploads); it resets at ${when}`
          })
        }
        if (entry.units + units > limits.unitsPerDay) {
          return yield* new QuotaExceeded({
            platform: "youtube",
            reason: "quota_exceeded",
            resetsAt,
            description: `this task needs ${units} quota units but ${key} has ${
              Math.max(0, limits.unitsPerDay - entry.units)
            } of ${limits.unitsPerDay} left today; the quota resets at ${when}`
          })
        }
      })

    return {
      check,
      usage,
      spend: (key, spent) =>
        ledger.spend(key, spent).pipe(
          Effect.zipRight(Effect.sync(() => {
            if (spent.uploads) Metrics.unsafeIncrement(Metrics.quotaUnits.uploads, spent.uploads)
            if (spent.units) Metrics.unsafeIncrement(Metrics.quotaUnits.units, spent.units)
          }))
        ),
      exhaust: (key, bucket) =>
        ledger.raise(key, bucket, bucket === "uploads" ? limits.uploadsPerDay : limits.unitsPerDay)
    } satisfies Ledger
  })
