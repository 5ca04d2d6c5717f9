/**
 * A publisher's post limit (LinkedIn's daily limit, an X monthly cap): the
 * `posts` bucket of a ledger, counted when the platform accepted a post,
 * and offered to the quota plan as an allowance. A rate limit (`429`) never
 * reaches `count`: only a post the platform made is counted.
 *
 * @internal
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Allowance } from "../../Platform.js"
import * as Ledger from "./ledger.js"

/** @internal */
export interface PostLimit {
  /** The plan's allowance: one post per task. */
  readonly allowances: Effect.Effect<ReadonlyArray<Allowance>>
  /** Counts one post the platform accepted. */
  readonly count: Effect.Effect<void>
  /** Posts counted in the current window. */
  readonly used: Effect.Effect<number>
}

/**
 * Opens the limit of `key` (an author, an app) in `file` (in memory when
 * undefined). The file system is the one provided, else Node's.
 *
 * @internal
 */
export const make = (options: {
  readonly file: string | undefined
  readonly key: string
  readonly limit: number
  readonly window: Ledger.Window
  /** Window length, for the plan: a day; for months (of varying length), none: the window's own resets count. */
  readonly windowMillis?: number | undefined
  /** `"LinkedIn daily limit"`: what a held task waits for. */
  readonly waitReason: string
  /** `"LinkedIn post ledger"`, in warnings. */
  readonly what: string
}): Effect.Effect<PostLimit> =>
  Effect.gen(function*() {
    const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
    const open = Ledger.make({ file: options.file, what: options.what, buckets: ["posts"], window: options.window })
    const ledger = yield* (Option.isSome(fs) ?
      Effect.provideService(open, FileSystem.FileSystem, fs.value) :
      Effect.provide(open, NodeFileSystem.layer))
    const used = Effect.map(ledger.usage(options.key), (u) => u.posts)
    return {
      used,
      count: ledger.spend(options.key, { posts: 1 }),
      allowances: Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        return [{
          bucket: "posts",
          used: yield* used,
          limit: options.limit,
          needs: 1,
          resetsAt: options.window.nextReset(now),
          ...(options.windowMillis !== undefined ?
            { windowMillis: options.windowMillis } :
            { windowMillis: 31 * 24 * 3_600_000, nextReset: options.window.nextReset }),
          waitReason: options.waitReason
        }]
      })
    }
  })
