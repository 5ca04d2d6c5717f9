/**
 * A local ledger of what a platform counted in its current window (a day, a
 * month): per key (a Google project and channel, a LinkedIn author, an X
 * app), one number per bucket (`uploads`, `units`, `posts`). It is kept in a
 * JSON file so that separate runs and processes (the CLI, a worker, the
 * server) share it, or in memory when no file is given.
 *
 * The ledger is an estimate: it counts only what the platform accepted, and
 * the platform's own answer still stands. Writers in one process share one
 * lock per file; processes replace the file atomically (the last writer
 * wins, an under-count at worst).
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import { writeFileAtomic } from "../files/atomicFile.js"

/** A window: its id at an instant (kept with each entry) and the next reset after an instant. @internal */
export interface Window {
  readonly id: (at: number) => string
  readonly nextReset: (at: number) => number
}

const isoDay = (at: number): string => new Date(at).toISOString().slice(0, 10)

/** Calendar days in UTC, reset at midnight UTC. @internal */
export const dailyUtc: Window = {
  id: isoDay,
  nextReset: (at) => {
    const d = new Date(at)
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
  }
}

/**
 * Months in UTC that reset at 00:00 UTC on `day` (1–31; a month shorter than
 * `day` resets on its last day). The id is the window's first day.
 *
 * @internal
 */
export const monthlyUtc = (day: number): Window => {
  const resetIn = (year: number, month: number): number =>
    Date.UTC(year, month, Math.min(day, new Date(Date.UTC(year, month + 1, 0)).getUTCDate()))
  const start = (at: number): number => {
    const d = new Date(at)
    const here = resetIn(d.getUTCFullYear(), d.getUTCMonth())
    return at >= here ? here : resetIn(d.getUTCFullYear(), d.getUTCMonth() - 1)
  }
  return {
    id: (at) => isoDay(start(at)),
    nextReset: (at) => {
      const d = new Date(at)
      const here = resetIn(d.getUTCFullYear(), d.getUTCMonth())
      return at < here ? here : resetIn(d.getUTCFullYear(), d.getUTCMonth() + 1)
    }
  }
}

/** What a key used in the current window, per bucket (0 when absent). @internal */
export type Usage<B extends string> = { readonly [K in B]: number }

/** @internal */
export interface Ledger<B extends string> {
  /** What `key` used in the window containing now. */
  readonly usage: (key: string) => Effect.Effect<Usage<B>>
  /** Adds to `key`'s counts in the window containing now. */
  readonly spend: (key: string, spent: Partial<Usage<B>>) => Effect.Effect<void>
  /** Raises a bucket of `key` to at least `value` (the platform said it is used up). */
  readonly raise: (key: string, bucket: B, value: number) => Effect.Effect<void>
}

/** One entry: the window's id (`day`, the name the first ledger files used) and one count per bucket. */
const Entry = Schema.Struct(
  { day: Schema.String },
  Schema.Record({ key: Schema.String, value: Schema.Union(Schema.String, Schema.Number) })
)
type Entry = typeof Entry.Type

const LedgerFile = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  entries: Schema.Record({ key: Schema.String, value: Entry })
}))

/** One lock per ledger file in this process, whichever adapter opened it. */
const locks = new Map<string, Effect.Semaphore>()
const lockOf = (file: string): Effect.Semaphore => {
  const found = locks.get(file)
  if (found !== undefined) return found
  const made = Effect.unsafeMakeSemaphore(1)
  locks.set(file, made)
  return made
}

/**
 * Opens the ledger kept in `file` (created on the first spend, its directory
 * too), or in memory when `file` is undefined. `what` names it in warnings.
 *
 * @internal
 */
export const make = <B extends string>(options: {
  readonly file: string | undefined
  readonly what: string
  readonly buckets: ReadonlyArray<B>
  readonly window: Window
}): Effect.Effect<Ledger<B>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = options.file === undefined ? undefined : path.resolve(options.file)
    const lock = file === undefined ? yield* Effect.makeSemaphore(1) : lockOf(file)
    let memory: Record<string, Entry> = {}

    const read: Effect.Effect<Record<string, Entry>> = file === undefined ?
      Effect.sync(() => memory) :
      fs.readFileString(file).pipe(
        Effect.flatMap(Schema.decodeUnknown(LedgerFile)),
        Effect.map((ledger) => ledger.entries),
        // A missing or unreadable ledger starts empty: it is an estimate, and
        // the platform's own answers correct it.
        Effect.orElseSucceed(() => ({}))
      )
    // Readers that come while a read is under way share it: a busy server's
    // submits each plan against the ledger, and its uploads keep the file
    // system's threads busy, so one read each would queue them one behind
    // another. A reader never gets a read that started before a write of
    // this process ended (a write drops the shared read).
    let shared: Deferred.Deferred<Record<string, Entry>> | undefined
    const readShared: Effect.Effect<Record<string, Entry>> = Effect.suspend(() => {
      // (The read itself never fails: only an interrupted one does, and then a follower reads alone.)
      if (shared !== undefined) return Effect.catchAllCause(Deferred.await(shared), () => read)
      const deferred = Deferred.unsafeMake<Record<string, Entry>>(FiberId.none)
      shared = deferred
      return read.pipe(
        Effect.onExit((exit) => {
          if (shared === deferred) shared = undefined
          return Deferred.done(deferred, exit)
        })
      )
    })
    const write = (entries: Record<string, Entry>): Effect.Effect<void> =>
      file === undefined ?
        Effect.sync(() => {
          memory = entries
        }) :
        fs.makeDirectory(path.dirname(file), { recursive: true }).pipe(
          Effect.zipRight(writeFileAtomic(fs, file, JSON.stringify({ version: 1, entries }, null, 2) + "\n")),
          Effect.catchAll((error) => Effect.logWarning(`Could not save the ${options.what} ${file}: ${error.message}`))
        )

    const current = (entries: Record<string, Entry>, key: string, now: number): Entry => {
      const day = options.window.id(now)
      const entry = entries[key]
      return entry !== undefined && entry.day === day ? entry : { day }
    }
    const countOf = (entry: Entry, bucket: B): number => {
      const n = entry[bucket]
      return typeof n === "number" ? n : 0
    }
    const usageOf = (entry: Entry): Usage<B> =>
      Object.fromEntries(options.buckets.map((b) => [b, countOf(entry, b)])) as Usage<B>

    const update = (key: string, f: (entry: Entry) => Entry) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const entries = yield* read
        shared = undefined
        yield* write({ ...entries, [key]: f(current(entries, key, now)) })
        shared = undefined
      }))

    return {
      usage: (key) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          return usageOf(current(yield* readShared, key, now))
        }),
      spend: (key, spent) =>
        update(key, (entry) => {
          const next: Record<string, string | number> = { ...entry }
          for (const b of options.buckets) next[b] = countOf(entry, b) + (spent[b] ?? 0)
          return next as Entry
        }),
      raise: (key, bucket, value) =>
        update(key, (entry) => ({ ...entry, [bucket]: Math.max(countOf(entry, bucket), value) }))
    }
  })
