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
 * A change is handed to every follower in the step that makes it: from the
 * store's `listen` where it has one (else from one fiber reading
 * `changes`). A follower given its `socket` has its live events written
 * there at once, so a change leaves while the fibers of starting tasks are
 * still queued ahead of any that would carry it; other followers take them
 * from a queue through their stream. Each follower is registered *before*
 * the log is read, so a change is either in what it reads or in what it is
 * handed afterwards. A follower that falls more than `maxBehind` changes
 * behind (a client that stopped reading) is ended rather than buffered
 * without bound: its `EventSource` reconnects with its last id and catches
 * up from the log.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { StoreError } from "../../PublishError.js"
import type { TaskId } from "../../TaskId.js"
import * as TaskStatus from "../../TaskStatus.js"
import type { TaskChange } from "../../TaskStore.js"
import type { Service as TaskStoreService } from "../../TaskStore.js"

/**
 * What of a Node `ServerResponse` (its headers sent) a follower's live
 * events are written through.
 *
 * @internal
 */
export interface Socket {
  readonly write: (chunk: Uint8Array) => boolean
  readonly writableCorked: number
  readonly uncork: () => void
  readonly destroyed: boolean
  /** Its buffer is over the high-water mark: the client reads slower than events come. */
  readonly writableNeedDrain: boolean
  readonly on: (event: "drain", listener: () => void) => unknown
  readonly off: (event: "drain", listener: () => void) => unknown
}

/** @internal */
export interface Feed {
  /**
   * The SSE bytes of a follower's events. Given the follower's `socket`, the
   * stream carries what precedes the live events (the retry hint and the
   * backlog) and then waits, ending only when the follower is ended; the
   * live events are written to the socket as they happen.
   */
  readonly follow: (options: {
    readonly taskId?: TaskId | undefined
    /** Resume after this sequence number; without it: a task's whole history, or every change from now. */
    readonly after?: number | undefined
    readonly progress: boolean
    readonly socket?: Socket | undefined
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

/** What followers are handed: a change, or the heartbeat every follower writes. */
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

// Followers take the same changes at once (a tick's progress, what queued
// while their stream was busy): the first to take a batch joins it, the
// others reuse its bytes, found by the batch's first change and checked
// change by change.
const joinedBatches = new WeakMap<Item, { readonly changes: ReadonlyArray<Item>; readonly bytes: Uint8Array }>()

/** The events of `changes` as one buffer (one write to a socket); `undefined` for none. */
const joined = (changes: ReadonlyArray<Item>): Uint8Array | undefined => {
  if (changes.length === 0) return undefined
  if (changes.length === 1) return encodeChange(changes[0]!)
  const shared = joinedBatches.get(changes[0]!)
  if (
    shared !== undefined && shared.changes.length === changes.length &&
    shared.changes.every((c, i) => c === changes[i])
  ) return shared.bytes
  const parts = changes.map(encodeChange)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  joinedBatches.set(changes[0]!, { changes, bytes: out })
  return out
}

/** @internal */
export const defaultProgressInterval: Duration.Duration = Duration.millis(100)

/** A registered follower: handed every item as it happens, in order. */
interface Follower {
  readonly take: (items: ReadonlyArray<Item>) => void
}

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
    const followers = new Set<Follower>()
    const broadcast = (items: ReadonlyArray<Item>): void => {
      for (const follower of followers) follower.take(items)
    }
    // Progress waiting for the next tick: the newest update per task.
    const waiting = new Map<TaskId, TaskChange>()
    const forward = (change: TaskChange): void => {
      if (change.seq === undefined) {
        waiting.set(change.task.id, change)
        return
      }
      waiting.delete(change.task.id)
      broadcast([change])
    }
    const flush = Effect.sync(() => {
      if (waiting.size === 0) return
      const due = [...waiting.values()]
      waiting.clear()
      broadcast(due)
    })
    if (store.listen !== undefined) {
      yield* store.listen(forward)
    } else {
      yield* store.changes.pipe(
        Stream.runForEach((change) => Effect.sync(() => forward(change))),
        Effect.catchAllCause((cause) => Effect.logError("Medusa server: the task change feed stopped", cause)),
        Effect.forkScoped
      )
      // Let the feeding fiber subscribe to the store before anyone follows.
      yield* Effect.yieldNow()
      yield* Effect.yieldNow()
    }
    yield* flush.pipe(
      Effect.repeat(Schedule.spaced(options.progressInterval ?? defaultProgressInterval)),
      Effect.forkScoped
    )
    // One timer for every follower: the heartbeat is handed out like a change.
    yield* Effect.sleep(Duration.decode(options.heartbeat)).pipe(
      Effect.zipRight(Effect.sync(() => broadcast([heartbeatItem]))),
      Effect.forever,
      Effect.forkScoped
    )
    const maxBehind = options.maxBehind ?? 5_000

    const follow: Feed["follow"] = ({ after, progress, socket, taskId }) =>
      Stream.unwrapScoped(Effect.gen(function*() {
        // Known once the log is read; until then items are only kept.
        let replayedUpTo = Infinity
        const relevant = (change: Item) =>
          isHeartbeat(change) ||
          (taskId === undefined || change.task.id === taskId) &&
            (change.seq === undefined ? progress : change.seq > replayedUpTo)
        const register = (follower: Follower) =>
          Effect.acquireRelease(
            Effect.sync(() => followers.add(follower)),
            () => Effect.sync(() => followers.delete(follower))
          )
        const live = socket === undefined
          ? yield* queued(register, relevant)
          : yield* direct(socket, register, relevant)

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
        replayedUpTo = last
        return Stream.make(encoder.encode("retry: 1000\n\n"), ...backlog).pipe(Stream.concat(live))
      }))

    /** Live events through the follower's own queue and stream (no socket to write to). */
    const queued = (
      register: (follower: Follower) => Effect.Effect<unknown, never, Scope.Scope>,
      relevant: (item: Item) => boolean
    ) =>
      Effect.gen(function*() {
        const queue = yield* Effect.acquireRelease(Queue.unbounded<Item>(), Queue.shutdown)
        yield* register({ take: (items) => items.forEach((item) => queue.unsafeOffer(item)) })
        // What is waiting is measured before each take, so the bound holds whatever the batch size.
        return Stream.repeatEffectChunkOption(
          Effect.flatMap(
            Queue.size(queue),
            (behind) => behind > maxBehind ? Effect.fail(Option.none()) : Queue.takeBetween(queue, 1, page)
          )
        ).pipe(
          Stream.mapChunks((chunk) => {
            const bytes = joined(Chunk.toReadonlyArray(chunk).filter(relevant))
            return bytes === undefined ? Chunk.empty() : Chunk.of(bytes)
          })
        )
      })

    /**
     * Live events written to the socket as they are handed out; the stream
     * writes the backlog first (items handed out meanwhile are kept), then
     * waits until the follower is ended.
     */
    const direct = (
      socket: Socket,
      register: (follower: Follower) => Effect.Effect<unknown, never, Scope.Scope>,
      relevant: (item: Item) => boolean
    ) =>
      Effect.gen(function*() {
        const ended = yield* Deferred.make<void>()
        let done = false
        const end = () => {
          done = true
          Deferred.unsafeDone(ended, Exit.void)
        }
        let kept: Array<Item> | undefined = []
        // Changes written since the socket's buffer went over its mark.
        let behind = 0
        const onDrain = () => {
          behind = 0
        }
        const write = (items: ReadonlyArray<Item>) => {
          if (done) return
          const mine = items.filter(relevant)
          const bytes = joined(mine)
          if (bytes === undefined) return
          if (socket.destroyed) return end()
          if (socket.writableNeedDrain) {
            behind += mine.length
            if (behind > maxBehind) return end()
          }
          socket.write(bytes)
          // Node corks the socket on a write until the next tick, which waits for the fibers
          // running in this microtask run (every task starting, say): send the bytes now.
          if (socket.writableCorked > 0) socket.uncork()
        }
        const follower: Follower = {
          take: (items) => {
            if (kept !== undefined) kept.push(...items)
            else write(items)
          }
        }
        yield* register(follower)
        yield* Effect.acquireRelease(
          Effect.sync(() => socket.on("drain", onDrain)),
          () => Effect.sync(() => socket.off("drain", onDrain))
        )
        const goLive = Effect.sync(() => {
          const items = kept ?? []
          kept = undefined
          write(items)
        })
        // Pulled once the backlog is written: what was kept meanwhile goes next, then every change as it happens.
        return Stream.fromEffect(Effect.zipRight(goLive, Deferred.await(ended))).pipe(Stream.drain)
      })

    return { follow }
  })
