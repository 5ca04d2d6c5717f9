/**
 * The quota plan: before tasks start, each host that keeps a daily
 * allowance (YouTube's uploads and units) says what is used and what a task
 * needs; a task that would go past it is scheduled after the next reset
 * (its `runAt`, with a `waits` entry and a message saying so) instead of
 * failing part-way. Tasks already waiting in the store count in the window
 * they will run in.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { QuotaCheck } from "../../Planning.js"
import type { Allowance } from "../../Platform.js"
import type { HostId } from "../../PlatformId.js"
import { displayName, hosts as allHosts } from "../../PlatformId.js"
import type { StoreError } from "../../PublishError.js"
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

/** `resets 08:00 UTC` */
const resetText = (at: number): string => `resets ${new Date(at).toISOString().slice(11, 16)} UTC`

/** The window (0: the current one) a task starting at `start` spends in. */
const windowOf = (allowance: Allowance, start: number | undefined): number =>
  start === undefined || start < allowance.resetsAt ?
    0 :
    1 + Math.floor((start - allowance.resetsAt) / allowance.windowMillis)

const startOfWindow = (allowance: Allowance, k: number): number =>
  k === 0 ? 0 : allowance.resetsAt + (k - 1) * allowance.windowMillis

/**
 * Plans `tasks` (in order) against the hosts' allowances.
 *
 * @internal
 */
export const plan = (
  platforms: ResolvedPlatforms,
  list: StoreService["list"],
  tasks: ReadonlyArray<Task>,
  _now: number
): Effect.Effect<Planned, StoreError> =>
  Effect.gen(function*() {
    // Only the hosts the planned tasks upload to: the others' spending changes nothing here.
    const counted = allHosts.filter((h) =>
      platforms.hosts[h]?.allowances !== undefined && tasks.some((t) => t.request.platforms.includes(h))
    )
    if (counted.length === 0) return { tasks, checks: tasks.map(() => []) }
    // Each host's usage is read once per plan (a file read for YouTube), then
    // every task's allowances are derived from it without another read.
    const perHost = new Map<HostId, (metadata: unknown) => ReadonlyArray<Allowance>>()
    for (const host of counted) perHost.set(host, yield* platforms.hosts[host]!.allowances!)
    const allowancesOf = (task: Task, host: HostId): ReadonlyArray<Allowance> => {
      const f = perHost.get(host)
      const metadata = task.request.metadata[host]
      return f === undefined || metadata === undefined ? [] : f(metadata)
    }
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
        if (!task.request.platforms.includes(host) || task.videos.some((v) => v.host === host)) continue
        for (const a of allowancesOf(task, host)) {
          add(`${host}/${a.bucket}`, windowOf(a, task.runAt), a.needs)
        }
      }
    }

    const out: Array<Task> = []
    const checks: Array<ReadonlyArray<QuotaCheck>> = []
    for (const task of tasks) {
      const found: Array<{ readonly host: HostId; readonly allowance: Allowance }> = []
      for (const host of counted) {
        if (!task.request.platforms.includes(host)) continue
        for (const allowance of allowancesOf(task, host)) found.push({ host, allowance })
      }
      // The first window, from the task's own start, where every allowance has room.
      let k = Math.max(0, ...found.map(({ allowance }) => windowOf(allowance, task.runAt)))
      const fitsIn = (w: number) =>
        found.every(({ allowance: a, host }) =>
          (w === 0 ? a.used : 0) + inWindow(`${host}/${a.bucket}`, w) + a.needs <= a.limit
        )
      // A task that needs more than a whole window can never fit: it starts and meets the platform's answer.
      const possible = found.every(({ allowance: a }) => a.needs <= a.limit)
      while (possible && !fitsIn(k) && k < 366) k++
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
      const blocking = taskChecks.find((c) => !c.fits) ?? taskChecks[0]
      for (const { allowance: a, host } of found) add(`${host}/${a.bucket}`, k, a.needs)
      checks.push(taskChecks)
      const start = Math.max(0, ...found.map(({ allowance }) => startOfWindow(allowance, k)))
      if (k > 0 && blocking !== undefined && (task.runAt === undefined || task.runAt < start)) {
        const host = blocking.platform as HostId
        const reason = `waiting for ${displayName[host]} quota`
        out.push(rebuild(task, {
          runAt: start,
          message: `${reason}: ${resetText(start)}`,
          waits: [unsafeMake(PlatformWait, { platform: host, reason, until: start })]
        }))
      } else {
        out.push(task)
      }
    }
    return { tasks: out, checks }
  })
