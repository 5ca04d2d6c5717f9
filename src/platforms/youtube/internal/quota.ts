/**
 * A local ledger of YouTube's daily quota: the "Video Uploads" bucket
 * (calls of `videos.insert`) and the shared unit pool, per Google project and
 * channel, reset at midnight Pacific time. It is persisted beside the
 * credentials file so that separate runs (and the CLI) share it.
 *
 * The ledger is an estimate made before spending, and counts only calls
 * YouTube accepted. YouTube's own `quotaExceeded` is recorded too, so that the
 * next task fails before sending a byte; a rate limit (`429`,
 * `rateLimitExceeded`) is not a used-up quota and is never recorded.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as Schema from "effect/Schema"
import { writeFileAtomic } from "../../../internal/files/atomicFile.js"
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
  "videos.delete": 50
} as const

/** @internal */
export interface Limits {
  readonly uploadsPerDay: number
  readonly unitsPerDay: number
}

/** @internal */
export const defaultLimits: Limits = { uploadsPerDay: 100, unitsPerDay: 10_000 }

const Entry = Schema.Struct({
  /** Pacific calendar day, `YYYY-MM-DD`. */
  day: Schema.String,
  uploads: Schema.Number,
  units: Schema.Number
})
type Entry = typeof Entry.Type

const LedgerFile = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  entries: Schema.Record({ key: Schema.String, value: Entry })
}))

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

/** @internal */
export interface Ledger {
  /** Fails with `quota_exceeded` when an upload plus `units` would exceed a limit. */
  readonly check: (key: string, units: number) => Effect.Effect<void, QuotaExceeded>
  readonly spend: (key: string, spent: { readonly uploads?: number; readonly units?: number }) => Effect.Effect<void>
  /** Records that YouTube said a bucket is used up for today. */
  readonly exhaust: (key: string, bucket: "uploads" | "units") => Effect.Effect<void>
  readonly usage: (key: string) => Effect.Effect<Entry>
}

/** @internal */
export const make = (
  file: string,
  limits: Limits
): Effect.Effect<Ledger, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const lock = yield* Effect.makeSemaphore(1)

    const read = fs.readFileString(file).pipe(
      Effect.flatMap(Schema.decodeUnknown(LedgerFile)),
      // A missing or unreadable ledger starts empty: it is an estimate, and
      // YouTube's own answers correct it.
      Effect.orElseSucceed(() => ({ version: 1 as const, entries: {} as Record<string, Entry> }))
    )
    // Readers that come while a read is under way share it: a busy server's
    // submits each plan against the ledger, and its uploads keep the file
    // system's threads busy, so one read each would queue them one behind
    // another. A reader never gets a read that started before its own call
    // and before a write of this process ended (writes drop the shared read).
    let shared: Deferred.Deferred<typeof LedgerFile.Type> | undefined
    const readShared = Effect.suspend(() => {
      // (The read itself never fails: only an interrupted one does, and then a follower reads alone.)
      if (shared !== undefined) return Effect.catchAllCause(Deferred.await(shared), () => read)
      const deferred = Deferred.unsafeMake<typeof LedgerFile.Type>(FiberId.none)
      shared = deferred
      return read.pipe(
        Effect.onExit((exit) => {
          if (shared === deferred) shared = undefined
          return Deferred.done(deferred, exit)
        })
      )
    })
    const write = (entries: Record<string, Entry>) =>
      writeFileAtomic(fs, file, JSON.stringify({ version: 1, entries }, null, 2) + "\n").pipe(
        Effect.catchAll((error) =>
          Effect.logWarning(`Could not save the YouTube quota ledger ${file}: ${error.message}`)
        )
      )

    const current = (entries: Record<string, Entry>, key: string, day: string): Entry => {
      const entry = entries[key]
      return entry !== undefined && entry.day === day ? entry : { day, uploads: 0, units: 0 }
    }

    const update = (key: string, f: (entry: Entry) => Entry) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const ledger = yield* read
        const entries = { ...ledger.entries, [key]: f(current(ledger.entries, key, pacificDay(now))) }
        shared = undefined
        yield* write(entries)
        shared = undefined
      }))

    const usage = (key: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const ledger = yield* readShared
        return current(ledger.entries, key, pacificDay(now))
      })

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
        update(key, (e) => ({ ...e, uploads: e.uploads + (spent.uploads ?? 0), units: e.units + (spent.units ?? 0) }))
          .pipe(
            Effect.zipRight(Effect.sync(() => {
              if (spent.uploads) Metrics.unsafeIncrement(Metrics.quotaUnits.uploads, spent.uploads)
              if (spent.units) Metrics.unsafeIncrement(Metrics.quotaUnits.units, spent.units)
            }))
          ),
      exhaust: (key, bucket) =>
        update(key, (e) =>
          bucket === "uploads" ?
            { ...e, uploads: Math.max(e.uploads, limits.uploadsPerDay) } :
            { ...e, units: Math.max(e.units, limits.unitsPerDay) })
    } satisfies Ledger
  })
