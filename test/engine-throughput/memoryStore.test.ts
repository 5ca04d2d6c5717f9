/**
 * The in-memory store publishes each change on a PubSub (no lock): these
 * tests pin down what `watch` and `changes` promise under concurrent updates
 * and a subscription taken in the middle of them.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import * as Engine from "../../src/internal/task/engine.js"
import { MediaFile } from "../../src/Platform.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import type { Task } from "../../src/Task.js"
import type { TaskId } from "../../src/TaskId.js"
import { TaskStore } from "../../src/TaskStore.js"
import type { TaskChange } from "../../src/TaskStore.js"
import * as TaskStoreModule from "../../src/TaskStore.js"

const request = Schema.decodeUnknownSync(PublishRequest)({
  mediaFile: "/tmp/a.mp4",
  platforms: ["facebook"],
  metadata: { facebook: { message: "hello" } }
})
const media = new MediaFile({ path: "/tmp/a.mp4", name: "a.mp4", size: 10, mimeType: "video/mp4" })

const makeTasks = (n: number) =>
  Effect.gen(function*() {
    const store = yield* TaskStore
    const ids: Array<TaskId> = []
    for (let i = 0; i < n; i++) {
      const id = yield* Engine.makeTaskId
      ids.push(id)
      yield* store.insert(Engine.makeTask(id, request, media, 0))
    }
    return ids
  })

// Each update writes a counter into `message`, so order and duplicates show.
const bump = (id: TaskId, k: number) =>
  Effect.flatMap(
    TaskStore,
    (store) =>
      store.update(id, (t) =>
        Either.right(Object.assign(Object.create(Object.getPrototypeOf(t)), t, { message: String(k) }) as Task))
  )

// A subscriber on `changes` that is known to be subscribed: `changes`
// subscribes when first run, so a probe task is updated until the subscriber
// has seen it (bounded). Probe changes are not handed to the test.
const subscribe = Effect.gen(function*() {
  const store = yield* TaskStore
  const [probe] = yield* makeTasks(1)
  const queue = yield* Queue.unbounded<TaskChange>()
  const ready = yield* Deferred.make<void>()
  yield* Effect.forkScoped(Stream.runForEach(
    store.changes,
    (c) => c.task.id === probe ? Deferred.succeed(ready, undefined) : Queue.offer(queue, c)
  ))
  for (let k = 1; !(yield* Deferred.isDone(ready)); k++) {
    if (k > 1000) return yield* Effect.dieMessage("the changes subscriber never started")
    yield* bump(probe!, k)
    yield* Effect.yieldNow()
  }
  return (n: number) => Effect.map(Queue.takeN(queue, n), Chunk.toReadonlyArray)
})

describe("memory store under concurrent updates", () => {
  it.effect("watch: the snapshot, then every later change once and in order, whenever it subscribes", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), (updates, yieldsBefore) =>
          Effect.runPromise(
            Effect.gen(function*() {
              const store = yield* TaskStore
              const [id] = yield* makeTasks(1)
              const writer = yield* Effect.fork(Effect.forEach(
                Array.from({ length: updates }, (_, i) =>
                  i + 1),
                (k) =>
                  Effect.zipRight(bump(id!, k), Effect.yieldNow())
              ))
              for (let i = 0; i < yieldsBefore; i++) yield* Effect.yieldNow()
              // Stop after the last update: watch ends only at a final state.
              const seen = yield* Effect.fork(
                Stream.runCollect(Stream.takeUntil(store.watch(id!), (t) => t.message === String(updates)))
              )
              yield* Fiber.join(writer)
              const messages = Chunk.toReadonlyArray(yield* Fiber.join(seen)).map((t) => Number(t.message ?? 0))
              // Consecutive counters from the snapshot on: nothing lost, nothing twice.
              const first = messages[0]!
              expect(messages).toEqual(Array.from({ length: updates - first + 1 }, (_, i) => first + i))
            }).pipe(Effect.provide(TaskStoreModule.layerMemory))
          )),
        { numRuns: 60 }
      )
    ))

  it.scoped("changes: every change of every task exactly once, in the order applied", () =>
    Effect.gen(function*() {
      const ids = yield* makeTasks(8)
      const take = yield* subscribe
      const applied: Array<string> = []
      yield* Effect.forEach(ids, (id) =>
        Effect.forEach(
          Array.from({ length: 25 }, (_, i) => i + 1),
          (k) =>
            Effect.zipRight(
              Effect.tap(bump(id, k), (t) => Effect.sync(() => applied.push(`${t.id}:${t.message}`))),
              Effect.yieldNow()
            )
        ), { concurrency: "unbounded", discard: true })
      const seen = (yield* take(8 * 25)).map((c) => `${c.task.id}:${c.task.message}`)
      expect(seen).toEqual(applied)
      expect(new Set(seen).size).toBe(8 * 25)
    }).pipe(Effect.provide(TaskStoreModule.layerMemory)))

  it.scoped("a refused update publishes nothing", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const [id] = yield* makeTasks(1)
      const take = yield* subscribe
      const refused = yield* Effect.either(
        store.update(id!, (t) => Engine.transition(t, "completed", 1))
      )
      expect(Either.isLeft(refused)).toBe(true)
      yield* bump(id!, 7)
      const seen = yield* take(1)
      expect(seen.map((c) => [c.task.message, c.previous])).toEqual([["7", "pending"]])
    }).pipe(Effect.provide(TaskStoreModule.layerMemory)))
})
