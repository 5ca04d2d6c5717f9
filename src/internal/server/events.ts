/**
 * Server-Sent Events of task changes. Every logged state change is an event
 * whose id is its sequence number in the store's change log; a follower that
 * reconnects with `Last-Event-ID` first gets what it missed from the log, then
 * the live changes after it: no gap, no duplicate. Progress updates (not
 * logged) are `progress` events without an id, so they never move a
 * follower's position. A comment every `heartbeat` keeps proxies from
 * closing an idle connection.
 *
 * Progress is coalesced: a task's progress updates wait for the next tick
 * (`progressInterval`, default 100 ms) and only the newest of them is sent;
 * a state change is never held back, and it drops its task's waiting
 * progress (older than the change, whose status JSON carries the progress
 * too). So a follower gets at most one progress event per task per tick,
 * however fast the uploads report.
 *
 * One fiber feeds the store's changes into a hub; each follower subscribes
 * to the hub *before* reading the log, so a change is either in what it
 * reads or in what it is handed afterwards. A follower that falls more than
 * `maxBehind` changes behind (a client that stopped reading) is ended rather
 * than buffered without bound: its `EventSource` reconnects with its last id
 * and catches up from the log.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { StoreError } from "../../PublishError.js"
import type { TaskId } from "../../TaskId.js"
import * as TaskStatus from "../../TaskStatus.js"
import type { TaskChange } from "../../TaskStore.js"
import type { Service as TaskStoreService } from "../../TaskStore.js"

/** @internal */
export interface Feed {
  /** The SSE bytes of a follower's events, as they happen. */
  readonly follow: (options: {
    readonly taskId?: TaskId | undefined
    /** Resume after this sequence number; without it: a task's whole history, or every change from now. */
    readonly after?: number | undefined
    readonly progress: boolean
  }) => Stream.Stream<Uint8Array, StoreError>
}

const page = 1_000

/** The text of one event. @internal */
export const formatChange = (change: TaskChange): string => {
  const data = TaskStatus.toJSONString(change.task)
  return change.seq === undefined ?
    `event: progress\ndata: ${data}\n\n` :
    `id: ${change.seq}\nevent: status\ndata: ${data}\n\n`
}

const encoder = new TextEncoder()

/** What the hub carries: a change, or the heartbeat every follower writes. */
type Item = TaskChange | typeof heartbeatItem
const heartbeatItem = { heartbeat: true } as const
const heartbeatBytes = encoder.encode(": heartbeat\n\n")
const isHeartbeat = (item: Item): item is typeof heartbeatItem => item === heartbeatItem

// A live change goes to every follower: it is formatted and encoded once.
const encoded = new WeakMap<Item, Uint8Array>()
const encodeChange = (change: Item): Uint8Array => {
  if (isHeartbeat(change)) return heartbeatBytes
  let bytes = encoded.get(change)
  if (bytes === undefined) {
    bytes = encoder.encode(formatChange(change))
    encoded.set(change, bytes)
  }
  return bytes
}

// Followers keeping up take the same changes at once (a tick's progress, a
// burst of submits): the first to take a batch joins it, the others reuse its
// bytes, found by the batch's first change and checked change by change.
const joinedBatches = new WeakMap<Item, { readonly changes: ReadonlyArray<Item>; readonly bytes: Uint8Array }>()

/** The events a follower took at once, as one chunk (one write to its socket). */
const joined = (changes: ReadonlyArray<Item>): Chunk.Chunk<Uint8Array> => {
  if (changes.length === 0) return Chunk.empty()
  if (changes.length === 1) return Chunk.of(encodeChange(changes[0]!))
  const shared = joinedBatches.get(changes[0]!)
  if (
    shared !== undefined && shared.changes.length === changes.length &&
    shared.changes.every((c, i) => c === changes[i])
  ) return Chunk.of(shared.bytes)
  const parts = changes.map(encodeChange)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  joinedBatches.set(changes[0]!, { changes, bytes: out })
  return Chunk.of(out)
}

/** @internal */
export const defaultProgressInterval: Duration.Duration = Duration.millis(100)

/** @internal */
export const makeFeed = (
  store: TaskStoreService,
  options: {
    readonly heartbeat: Duration.DurationInput
    readonly maxBehind?: number | undefined
    /** How often a task's progress is sent at most (its newest update); state changes go at once. */
    readonly progressInterval?: Duration.DurationInput | undefined
  }
): Effect.Effect<Feed, never, Scope.Scope> =>
  Effect.gen(function*() {
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<Item>(), PubSub.shutdown)
    // Progress waiting for the next tick: the newest update per task.
    const waiting = new Map<TaskId, TaskChange>()
    const forward = (change: TaskChange): Effect.Effect<unknown> => {
      if (change.seq === undefined) {
        waiting.set(change.task.id, change)
        return Effect.void
      }
      waiting.delete(change.task.id)
      return PubSub.publish(hub, change)
    }
    const flush = Effect.suspend(() => {
      if (waiting.size === 0) return Effect.void
      const due = [...waiting.values()]
      waiting.clear()
      return PubSub.publishAll(hub, due)
    })
    yield* store.changes.pipe(
      Stream.runForEach(forward),
      Effect.catchAllCause((cause) => Effect.logError("Medusa server: the task change feed stopped", cause)),
      Effect.forkScoped
    )
    yield* flush.pipe(
      Effect.repeat(Schedule.spaced(options.progressInterval ?? defaultProgressInterval)),
      Effect.forkScoped
    )
    // Let the feeding fiber subscribe to the store before anyone follows.
    yield* Effect.yieldNow()
    yield* Effect.yieldNow()

    // One timer for every follower: the heartbeat goes through the hub like a change
    // (a stream merged with a timer per follower cost more than all the changes).
    yield* Effect.sleep(Duration.decode(options.heartbeat)).pipe(
      Effect.zipRight(PubSub.publish(hub, heartbeatItem)),
      Effect.forever,
      Effect.forkScoped
    )

    const follow: Feed["follow"] = ({ after, progress, taskId }) =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const live = yield* PubSub.subscribe(hub)
        const backlog: Array<Uint8Array> = []
        let last = after ?? 0
        if (after !== undefined || taskId !== undefined) {
          while (true) {
            const changes = yield* store.changesSince(last, { taskId, limit: page })
            for (const change of changes) {
              backlog.push(encodeChange(change))
              last = change.seq
            }
            if (changes.length < page) break
          }
        }
        const replayedUpTo = last
        const relevant = (change: Item) =>
          isHeartbeat(change) ||
          (taskId === undefined || change.task.id === taskId) &&
            (change.seq === undefined ? progress : change.seq > replayedUpTo)
        const maxBehind = options.maxBehind ?? 5_000
        // What is waiting is measured before each take, so the bound holds whatever the batch size.
        const changes = Stream.repeatEffectChunkOption(
          Effect.flatMap(
            Queue.size(live),
            (behind) => behind > maxBehind ? Effect.fail(Option.none()) : Queue.takeBetween(live, 1, page)
          )
        ).pipe(
          Stream.mapChunks((chunk) => joined(Chunk.toReadonlyArray(chunk).filter(relevant)))
        )
        return Stream.make(encoder.encode("retry: 1000\n\n"), ...backlog).pipe(
          Stream.concat(changes)
        )
      }))

    return { follow }
  })
