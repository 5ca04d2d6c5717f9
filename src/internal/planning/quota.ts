/**
 * The quota plan: before tasks start, each platform that keeps an allowance
 * (YouTube's daily uploads and units, LinkedIn's daily posts, an X monthly
 * post cap) says what is used and what a task needs; a task that would go
 * past it is scheduled after the next reset
 * (its `runAt`, with a `waits` entry and a message saying so) instead of
 * failing part-way. Tasks already waiting in the store count in the window
 * they will run in.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { QuotaCheck } from "../../Planning.js"
import type { Allowance } from "../../Platform.js"
import type { HostTarget, PublisherTarget, Target } from "../../PlatformId.js"
import { isHost, platformOf, sortTargets, targetName } from "../../PlatformId.js"
import type { StoreError } from "../../PublishError.js"
import { metadataFor } from "../../PublishRequest.js"
import type { Task } from "../../Task.js"
import { PlatformWait } from "../../Task.js"
import type { Service as StoreService } from "../../TaskStore.js"
import type { ResolvedPlatforms } from "../request/validation.js"
import { rebuild, unsafeMake } from "../task/engine.js"

/** @internal */
export interface Planned {
  readonly tasks: ReadonlyArray<Task>
  /** Per task, in order: its checks. */
  readonly checks: ReadonlyArray<ReadonlyArray<QuotaCheck>>
}

/** `resets 08:00 UTC` within a day, `resets 2027-01-01 00:00 UTC` further away. */
const resetText = (at: number, now: number): string => {
  const iso = new Date(at).toISOString()
  return `resets ${at - now <= 24 * 3_600_000 ? iso.slice(11, 16) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`} UTC`
}

/** Windows are counted this far ahead at most (a year of days). */
const maxWindows = 366

/** A task is planned at most this far after its own start (a year and a month, room for a monthly cap). */
const horizonMillis = 400 * 24 * 3_600_000

/** The reset that ends the window starting at `reset` (exact for months). */
const resetAfter = (allowance: Allowance, reset: number): number =>
  allowance.nextReset?.(reset) ?? reset + allowance.windowMillis

/** The window (0: the current one) a task starting at `start` spends in. */
const windowOf = (allowance: Allowance, start: number | undefined): number => {
  if (start === undefined || start < allowance.resetsAt) return 0
  if (allowance.nextReset === undefined) {
    return Math.min(maxWindows, 1 + Math.floor((start - allowance.resetsAt) / allowance.windowMillis))
  }
  let k = 1
  for (let reset = resetAfter(allowance, allowance.resetsAt); start >= reset && k < maxWindows; k++) {
    reset = resetAfter(allowance, reset)
  }
  return k
}

/**
 * Plans `tasks` (in order) against the hosts' allowances.
 *
 * @internal
 */
export const plan = (
  platforms: ResolvedPlatforms,
  list: StoreService["list"],
  tasks: ReadonlyArray<Task>,
  now: number
): Effect.Effect<Planned, StoreError> =>
  Effect.gen(function*() {
    // Each account has its own allowances (a YouTube channel's quota, a
    // LinkedIn author's daily posts), keyed by its target. Only the targets
    // the planned tasks use count: the others' spending changes nothing here.
    const allowancesOf = (target: Target) =>
      isHost(platformOf(target)) ?
        platforms.hosts[target as HostTarget]?.allowances :
        platforms.publishers[target as PublisherTarget]?.allowances
    const counted = sortTargets(
      [...Object.keys(platforms.hosts), ...Object.keys(platforms.publishers)] as Array<Target>
    ).filter((target) => allowancesOf(target) !== undefined && tasks.some((t) => t.request.platforms.includes(target)))
    if (counted.length === 0) return { tasks, checks: tasks.map(() => []) }
    // Each target's usage is read once per plan (a ledger file read), then
    // every task's allowances are derived from it without another read.
    const perTarget = new Map<Target, (metadata: never) => ReadonlyArray<Allowance>>()
    for (const target of counted) perTarget.set(target, yield* allowancesOf(target)!)
    const allowancesFor = (task: Task, target: Target): ReadonlyArray<Allowance> => {
      const f = perTarget.get(target)
      const metadata = metadataFor(task.request.metadata, target)
      return f === undefined || metadata === undefined ? [] : f(metadata as never)
    }
    /** What the task already made there: a finished upload or post spends nothing more. */
    const done = (task: Task, id: Target): boolean =>
      isHost(platformOf(id)) ? task.videos.some((v) => v.host === id) : task.posts.some((p) => p.publisher === id)
    // Spent per host and bucket, per window: [current, after the next reset, …].
    const spent = new Map<string, Array<number>>()
    const add = (key: string, k: number, n: number) => {
      const windows = spent.get(key) ?? []
      windows[k] = (windows[k] ?? 0) + n
      spent.set(key, windows)
    }
    const inWindow = (key: string, k: number) => spent.get(key)?.[k] ?? 0

    // Tasks already waiting in the store will spend too, in the window they start in.
    const waiting = [
      ...yield* list({ status: "pending" }),
      ...yield* list({ status: "in_progress" })
    ]
    for (const task of waiting) {
      for (const host of counted) {
        if (!task.request.platforms.includes(host) || done(task, host)) continue
        for (const a of allowancesFor(task, host)) {
          add(`${host}/${a.bucket}`, windowOf(a, task.runAt), a.needs)
        }
      }
    }

    const out: Array<Task> = []
    const checks: Array<ReadonlyArray<QuotaCheck>> = []
    for (const task of tasks) {
      const found: Array<{ readonly host: Target; readonly allowance: Allowance }> = []
      for (const host of counted) {
        if (!task.request.platforms.includes(host)) continue
        for (const allowance of allowancesFor(task, host)) found.push({ host, allowance })
      }
      // The earliest time, from the task's own start, when every allowance has room in the window
      // it is then in. Allowances reset at different times (midnight Pacific, midnight UTC, a day of
      // the month), so the candidates are the task's start and each allowance's resets after it.
      const from = task.runAt ?? now
      const fitsAt = (at: number, a: Allowance, host: Target): boolean => {
        const w = windowOf(a, at)
        return (w === 0 ? a.used : 0) + inWindow(`${host}/${a.bucket}`, w) + a.needs <= a.limit
      }
      const candidates = new Set<number>([from])
      for (const { allowance: a } of found) {
        for (let k = 1, reset = a.resetsAt; k <= maxWindows && reset <= from + horizonMillis; k++) {
          if (reset > from) candidates.add(reset)
          reset = resetAfter(a, reset)
        }
      }
      const ordered = [...candidates].sort((x, y) => x - y)
      // A task that needs more than a whole window can never fit: it starts and meets the platform's answer.
      const possible = found.every(({ allowance: a }) => a.needs <= a.limit)
      const start = !possible ?
        from :
        ordered.find((at) => found.every(({ allowance: a, host }) => fitsAt(at, a, host))) ??
          ordered[ordered.length - 1]!
      const taskChecks = found.map(({ allowance: a, host }): QuotaCheck => {
        const used = a.used + inWindow(`${host}/${a.bucket}`, 0)
        return {
          platform: host,
          bucket: a.bucket,
          used,
          needs: a.needs,
          limit: a.limit,
          resetsAt: a.resetsAt,
          fits: used + a.needs <= a.limit
        }
      })
      // What holds it: an allowance without room at the task's own start.
      const blocking = found.find(({ allowance: a, host }) => !fitsAt(from, a, host))
      for (const { allowance: a, host } of found) add(`${host}/${a.bucket}`, windowOf(a, start), a.needs)
      checks.push(taskChecks)
      if (start > from && blocking !== undefined) {
        const host = blocking.host
        const reason = `waiting for ${blocking.allowance.waitReason ?? `${targetName(host)} quota`}`
        out.push(rebuild(task, {
          runAt: start,
          message: `${reason}: ${resetText(start, now)}`,
          waits: [unsafeMake(PlatformWait, { platform: host, reason, until: start })]
        }))
      } else {
        out.push(task)
      }
    }
    return { tasks: out, checks }
  })
