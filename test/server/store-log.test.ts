import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Engine from "../../src/internal/task/engine.js"
import { MediaFile } from "../../src/Platform.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import * as SqlTaskStore from "../../src/SqlTaskStore.js"
import * as TaskId from "../../src/TaskId.js"
import { TaskStore } from "../../src/TaskStore.js"
import * as TaskStore_ from "../../src/TaskStore.js"
import { dropDatabase, freshDatabase, pgUrl } from "../durable/fixtures/pg.js"

const makeTask = (now: number) => {
  const request = Schema.decodeUnknownSync(PublishRequest)({
    mediaFile: "/tmp/v.mp4",
    platforms: ["youtube"],
    metadata: { youtube: { title: "t" } }
  })
  const media = new MediaFile({ path: "/tmp/v.mp4", name: "v.mp4", size: 10, mimeType: "video/mp4" })
  return Engine.makeTask(TaskId.TaskId.make(`medusa_task_${crypto.randomUUID()}`), request, media, now)
}

const stores: ReadonlyArray<readonly [string, () => Layer.Layer<TaskStore, never, Scope.Scope>]> = [
  ["memory", () => TaskStore_.layerMemory],
  ["sqlite", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "medusa-store-log-"))
    return SqlTaskStore.layerSqlite({ filename: path.join(dir, "t.db") }).pipe(
      Layer.orDie,
      Layer.tap(() => Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    )
  }],
  // PostgreSQL when MEDUSA_TEST_PG_URL is set: a fresh database of this suite's own, dropped after.
  ...(pgUrl === undefined ? [] : [
    ["postgres", () =>
      Layer.unwrapScoped(
        Effect.acquireRelease(Effect.promise(freshDatabase), (url) => Effect.promise(() => dropDatabase(url))).pipe(
          Effect.map((url) => SqlTaskStore.layerPg({ url }).pipe(Layer.orDie))
        )
      )] as const
  ])
]

for (const [name, layer] of stores) {
  describe(`TaskStore change log and idempotency keys (${name})`, () => {
    it.scoped("history, changesSince and seq on changes", () =>
      Effect.gen(function*() {
        const store = yield* TaskStore
        const a = makeTask(1_000)
        const b = makeTask(2_000)
        yield* store.insert(a)
        yield* store.insert(b)
        const step = (id: typeof a.id, state: "in_progress" | "completed", at: number, message?: string) =>
          store.update(id, (t) => Engine.transition(t, state, at, message !== undefined ? { message } : {}))
        yield* step(a.id, "in_progress", 1_100, "Uploading")
        // A progress-only change is not logged.
        yield* store.update(a.id, (t) => Either.right(Engine.rebuild(t, { updatedAt: 1_150 })))
        yield* step(b.id, "in_progress", 2_100)
        yield* step(a.id, "completed", 1_200)
        const history = yield* store.history(a.id)
        assert.deepStrictEqual(history.map((h) => [h.state, h.at, h.message]), [
          ["pending", 1_000, undefined],
          ["in_progress", 1_100, "Uploading"],
          ["completed", 1_200, undefined]
        ])
        const all = yield* store.changesSince(0)
        assert.strictEqual(all.length, 5)
        const seqs = all.map((c) => c.seq)
        assert.deepStrictEqual(seqs, [...seqs].sort((x, y) => x - y))
        const later = yield* store.changesSince(seqs[1]!)
        assert.deepStrictEqual(later.map((c) => c.seq), seqs.slice(2))
        const onlyB = yield* store.changesSince(0, { taskId: b.id })
        assert.deepStrictEqual(onlyB.map((c) => c.task.state), ["pending", "in_progress"])
        assert.deepStrictEqual(onlyB.map((c) => c.previous), [undefined, "pending"])
        assert.deepStrictEqual(
          yield* store.history(TaskId.TaskId.make("medusa_task_00000000-0000-4000-8000-00000000dead")),
          []
        )
        const listed = yield* store.list({ createdAfter: 1_000 })
        assert.deepStrictEqual(listed.map((t) => t.id), [b.id])
        const before = yield* store.list({ createdBefore: 2_000 })
        assert.deepStrictEqual(before.map((t) => t.id), [a.id])
      }).pipe(Effect.provide(layer())))

    it.scoped("listen hands each change in the step that makes it, as changes carries it, until its scope closes", () =>
      Effect.gen(function*() {
        const store = yield* TaskStore
        assert.isDefined(store.listen)
        const heard: Array<TaskStore_.TaskChange> = []
        const scope = yield* Scope.make()
        yield* Scope.extend(store.listen!((change) => heard.push(change)), scope)
        // A listener that throws is dropped; the store's writes and the other listeners go on.
        yield* store.listen!(() => {
          throw new Error("a faulty follower")
        })
        // The stream's subscription is in place once it has seen a probe task (the fork starts later).
        const a = makeTask(1_000)
        const subscribed = yield* Deferred.make<void>()
        const streamed = yield* store.changes.pipe(
          Stream.tap(() => Deferred.succeed(subscribed, undefined)),
          Stream.filter((c) => c.task.id === a.id),
          Stream.take(4),
          Stream.runCollect,
          Effect.fork
        )
        while (!(yield* Deferred.isDone(subscribed))) {
          yield* store.insert(makeTask(900))
          yield* Effect.yieldNow()
        }
        assert.isTrue(heard.length > 0 && heard.every((c) => c.task.id !== a.id && c.task.state === "pending"))
        heard.length = 0
        yield* store.insert(a)
        // Heard by the time the write returns: no fiber had to run in between.
        assert.deepStrictEqual(heard.map((c) => [c.task.state, c.previous]), [["pending", undefined]])
        yield* store.update(a.id, (t) => Engine.transition(t, "in_progress", 1_100))
        assert.strictEqual(heard.length, 2)
        yield* store.update(a.id, (t) => Either.right(Engine.rebuild(t, { updatedAt: 1_150 })))
        assert.strictEqual(heard.length, 3)
        assert.strictEqual(heard[2]!.seq, undefined, "a progress change has no sequence number")
        yield* store.update(a.id, (t) => Engine.transition(t, "completed", 1_200))
        const fromStream = Chunk.toReadonlyArray(yield* Fiber.join(streamed))
        const shape = (c: TaskStore_.TaskChange) => [c.task.state, c.task.updatedAt, c.previous, c.seq]
        assert.deepStrictEqual(heard.map(shape), fromStream.map(shape))
        assert.isTrue(heard.slice(0, 2).every((c) => typeof c.seq === "number"))
        yield* Scope.close(scope, Exit.void)
        yield* store.insert(makeTask(2_000))
        assert.strictEqual(heard.length, 4, "nothing after its scope closed")
      }).pipe(Effect.provide(layer())))

    it.scoped("an idempotency key is claimed once, completed, released, and forgotten after 24 hours", () =>
      Effect.gen(function*() {
        const store = yield* TaskStore
        const now = 10_000_000
        assert.deepStrictEqual(yield* store.claimIdempotencyKey("k", "f1", now), { _tag: "Claimed" })
        const pending = yield* store.claimIdempotencyKey("k", "f1", now + 1)
        assert.strictEqual(pending._tag, "Existing")
        assert.isTrue(pending._tag === "Existing" && pending.taskId === undefined && pending.fingerprint === "f1")
        const id = TaskId.TaskId.make("medusa_task_00000000-0000-4000-8000-000000000001")
        yield* store.completeIdempotencyKey("k", id)
        const done = yield* store.claimIdempotencyKey("k", "f2", now + 2)
        assert.isTrue(done._tag === "Existing" && done.taskId === id && done.fingerprint === "f1")
        // A completed key is not released.
        yield* store.releaseIdempotencyKey("k")
        assert.strictEqual((yield* store.claimIdempotencyKey("k", "f1", now + 3))._tag, "Existing")
        // A claimed, never completed key is.
        yield* store.claimIdempotencyKey("j", "f", now)
        yield* store.releaseIdempotencyKey("j")
        assert.strictEqual((yield* store.claimIdempotencyKey("j", "f", now + 4))._tag, "Claimed")
        // Kept 24 hours, then forgotten.
        const day = TaskStore_.idempotencyKeyRetentionMillis
        assert.strictEqual((yield* store.claimIdempotencyKey("k", "f1", now + day - 1))._tag, "Existing")
        assert.strictEqual((yield* store.claimIdempotencyKey("k", "f9", now + day + 10))._tag, "Claimed")
      }).pipe(Effect.provide(layer())))
  })
}
