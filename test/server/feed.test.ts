import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { EventEmitter } from "node:events"
import { makeFeed } from "../../src/internal/server/events.js"
import * as Engine from "../../src/internal/task/engine.js"
import { MediaFile } from "../../src/Platform.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import * as TaskId from "../../src/TaskId.js"
import { TaskStore } from "../../src/TaskStore.js"
import * as TaskStoreModule from "../../src/TaskStore.js"

const task = (now: number) =>
  Engine.makeTask(
    TaskId.TaskId.make(`medusa_task_${crypto.randomUUID()}`),
    Schema.decodeUnknownSync(PublishRequest)({
      mediaFile: "/tmp/v.mp4",
      platforms: ["youtube"],
      metadata: { youtube: { title: "t" } }
    }),
    new MediaFile({ path: "/tmp/v.mp4", name: "v.mp4", size: 10, mimeType: "video/mp4" }),
    now
  )

const ids = (chunks: Chunk.Chunk<Uint8Array>) =>
  [...Chunk.toReadonlyArray(chunks)].flatMap((bytes) => [...new TextDecoder().decode(bytes).matchAll(/^id: (\d+)$/gm)])
    .map((m) => Number(m[1]))

describe("event feed", () => {
  it.scopedLive("a follower that falls too far behind is ended; reconnecting after its last id loses nothing", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const feed = yield* makeFeed(store, { heartbeat: "1 hour", maxBehind: 3 })
      // A follower that reads nothing while 10 tasks are stored.
      const pull = yield* Stream.toPull(feed.follow({ progress: true }))
      const first = yield* pull // "retry:" only: the subscription is in place
      assert.strictEqual(ids(first).length, 0)
      for (let i = 0; i < 10; i++) yield* store.insert(task(1_000 + i))
      // Let the feed hand them all to the follower's queue.
      yield* Effect.sleep("200 millis")
      const got: Array<number> = []
      while (true) {
        const next = yield* Effect.either(pull).pipe(
          Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => new Error(`pull hung after ${got}`) })
        )
        if (next._tag === "Left") break
        got.push(...ids(next.right))
      }
      assert.isBelow(got.length, 10, "ended before everything was buffered")
      assert.deepStrictEqual(got, got.map((_, i) => i + 1))
      // Reconnecting after the last id received replays the rest from the log.
      const rest = yield* feed.follow({ progress: true, after: got[got.length - 1] ?? 0 }).pipe(
        Stream.take(1 + 10 - got.length),
        Stream.runCollect,
        Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => new Error("replay hung") })
      )
      const replayed = ids(rest)
      assert.deepStrictEqual([...got, ...replayed], Array.from({ length: 10 }, (_, i) => i + 1))
    }).pipe(Effect.provide(TaskStoreModule.layerMemory)))

  it.scoped("progress is coalesced per task per tick (newest wins); a state change is sent at once and drops its task's older progress", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const feed = yield* makeFeed(store, { heartbeat: "1 hour", progressInterval: "100 millis" })
      // Every event the follower is sent, one at a time, in order.
      const events = yield* Queue.unbounded<{ readonly kind: string; readonly data: any }>()
      const pull = yield* Stream.toPull(feed.follow({ progress: true }))
      yield* pull // "retry:" only: the subscription is in place
      yield* pull.pipe(
        Effect.flatMap((chunk) =>
          Queue.offerAll(
            events,
            Chunk.toReadonlyArray(chunk).flatMap((bytes) =>
              [...new TextDecoder().decode(bytes).matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({
                kind: m[1]!,
                data: JSON.parse(m[2]!)
              }))
            )
          )
        ),
        Effect.forever,
        Effect.forkScoped
      )
      const a = task(1_000)
      const b = task(1_001)
      const progress = (t: typeof a, message: string) =>
        store.update(t.id, (x) => Either.right(Engine.rebuild(x, { message })))
      yield* store.insert(a)
      yield* store.insert(b)
      assert.deepStrictEqual((yield* Queue.takeN(events, 2)).pipe(Chunk.toReadonlyArray).map((e) => e.kind), [
        "status",
        "status"
      ])
      const started = yield* store.update(a.id, (x) => Engine.transition(x, "in_progress", 1_002))
      assert.strictEqual((yield* Queue.take(events)).data.status, "in_progress")

      // 50 updates of a, 3 of b within one tick: one event each, the newest.
      for (let i = 1; i <= 50; i++) yield* progress(started, `a ${i}`)
      for (let i = 1; i <= 3; i++) yield* progress(b, `b ${i}`)
      assert.strictEqual(yield* Queue.size(events), 0, "held until the tick")
      yield* TestClock.adjust("100 millis")
      const tick = Chunk.toReadonlyArray(yield* Queue.takeN(events, 2))
      assert.deepStrictEqual(tick.map((e) => [e.kind, e.data.task_id, e.data.message]), [
        ["progress", a.id, "a 50"],
        ["progress", b.id, "b 3"]
      ])

      // A state change within the tick goes at once; a's waiting progress (older) is dropped.
      yield* progress(started, "a 51")
      yield* store.update(a.id, (x) => Engine.transition(x, "completed", 1_003))
      const completed = yield* Queue.take(events)
      assert.deepStrictEqual([completed.kind, completed.data.status], ["status", "completed"])
      yield* TestClock.adjust("100 millis")
      // The next event is b's state change: nothing of a was sent after its completion.
      yield* store.update(b.id, (x) => Engine.transition(x, "cancelled", 1_004))
      const next = yield* Queue.take(events)
      assert.deepStrictEqual([next.kind, next.data.task_id, next.data.status], ["status", b.id, "cancelled"])
    }).pipe(Effect.provide(TaskStoreModule.layerMemory)))
})

/** What the feed writes a follower's live events through, as Node's `ServerResponse` behaves: a write corks until uncorked. */
class FakeSocket extends EventEmitter {
  readonly writes: Array<{ readonly ids: ReadonlyArray<number>; readonly corked: number }> = []
  writableCorked = 0
  writableNeedDrain = false
  destroyed = false
  written = Effect.runSync(Deferred.make<void>())
  write = (chunk: Uint8Array): boolean => {
    if (this.writableCorked === 0) this.writableCorked++
    this.writes.push({ ids: ids(Chunk.of(chunk)), corked: this.writableCorked })
    Deferred.unsafeDone(this.written, Effect.void)
    return !this.writableNeedDrain
  }
  uncork = (): void => {
    if (this.writableCorked > 0) this.writableCorked--
  }
  written_ids = () => this.writes.flatMap((w) => w.ids)
}

describe("event feed, writing to the follower's socket", () => {
  it.scoped("a change is written and sent in the step that makes it, after the backlog and what came while it was written", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const feed = yield* makeFeed(store, { heartbeat: "1 hour" })
      const socket = new FakeSocket()
      const a = task(1_000)
      yield* store.insert(a) // seq 1: the backlog
      const pull = yield* Stream.toPull(feed.follow({ progress: true, after: 0, socket }))
      assert.deepStrictEqual(ids(yield* pull), [1], "the stream carries the backlog")
      // Not yet live: kept until the stream has written the backlog.
      const b = task(1_001)
      yield* store.insert(b) // seq 2
      assert.deepStrictEqual(socket.written_ids(), [])
      const rest = yield* Effect.fork(pull)
      yield* Deferred.await(socket.written)
      assert.deepStrictEqual(socket.written_ids(), [2])
      // Live: written, and uncorked, by the time the update returns (no fiber ran in between).
      yield* store.update(a.id, (x) => Engine.transition(x, "in_progress", 1_002))
      assert.deepStrictEqual(socket.written_ids(), [2, 3])
      assert.strictEqual(socket.writableCorked, 0, "uncorked: the bytes leave now, not at the next tick")
      assert.isTrue(socket.writes.every((w) => w.corked === 1))
      // Progress waits for the tick; the stream itself carries nothing more.
      yield* store.update(a.id, (x) => Either.right(Engine.rebuild(x, { message: "50%" })))
      assert.strictEqual(socket.writes.length, 2)
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(socket.writes.length, 3)
      assert.isNull(rest.unsafePoll())
    }).pipe(Effect.provide(TaskStoreModule.layerMemory)))

  it.scoped("a follower whose request ends (the client went away) is written to no more", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const feed = yield* makeFeed(store, { heartbeat: "1 hour" })
      const socket = new FakeSocket()
      const request = yield* Scope.make()
      const pull = yield* Stream.toPull(feed.follow({ progress: true, socket })).pipe(Scope.extend(request))
      yield* pull // "retry:" only
      const rest = yield* Effect.fork(pull)
      yield* store.insert(task(1_000))
      yield* Deferred.await(socket.written)
      assert.deepStrictEqual(socket.written_ids(), [1])
      // What the server does when the client closes: the request's fiber is interrupted, its scope closed.
      yield* Fiber.interrupt(rest)
      yield* Scope.close(request, Exit.void)
      yield* store.insert(task(1_001))
      yield* TestClock.adjust("100 millis")
      assert.deepStrictEqual(socket.written_ids(), [1])
    }).pipe(Effect.provide(TaskStoreModule.layerMemory)))

  it.scoped("a socket over its mark is ended after maxBehind changes (drain resets the count); a destroyed one at its next change", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const feed = yield* makeFeed(store, { heartbeat: "1 hour", maxBehind: 3 })
      const follow = (socket: FakeSocket) =>
        Effect.gen(function*() {
          const pull = yield* Stream.toPull(feed.follow({ progress: false, socket }))
          yield* pull // "retry:" only
          const rest = yield* Effect.fork(Effect.either(pull))
          return rest
        })
      const slow = new FakeSocket()
      slow.writableNeedDrain = true
      const slowRest = yield* follow(slow)
      const gone = new FakeSocket()
      const goneRest = yield* follow(gone)
      // Let both streams go live (the pull that writes what was kept, then waits).
      yield* store.insert(task(1_000))
      yield* Deferred.await(slow.written)
      yield* Deferred.await(gone.written)
      yield* store.insert(task(1_001))
      slow.emit("drain")
      gone.destroyed = true
      for (let i = 0; i < 3; i++) yield* store.insert(task(1_002 + i))
      assert.deepStrictEqual(slow.written_ids(), [1, 2, 3, 4, 5], "3 behind since the drain: still followed")
      assert.deepStrictEqual(gone.written_ids(), [1, 2], "nothing after it was destroyed")
      const goneEnd = yield* Fiber.join(goneRest)
      assert.isTrue(Either.isLeft(goneEnd), "the destroyed socket's stream ended")
      assert.isNull(slowRest.unsafePoll())
      yield* store.insert(task(1_005))
      assert.deepStrictEqual(slow.written_ids(), [1, 2, 3, 4, 5], "the fourth change behind is not written")
      assert.isTrue(Either.isLeft(yield* Fiber.join(slowRest)), "ended: the client reconnects with its last id")
    }).pipe(Effect.provide(TaskStoreModule.layerMemory)))
})
