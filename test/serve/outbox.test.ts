/**
 * The webhook outbox contract, on every store: events recorded with the
 * change they describe (none for a refused change), fanned out once, claimed
 * under a lease, disabled endpoints skipped, pruned with their tasks.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import { PublishedPost, UploadedVideo } from "../../src/Platform.js"
import { InvalidTransition } from "../../src/PublishError.js"
import * as SqlTaskStore from "../../src/SqlTaskStore.js"
import { Task, transition } from "../../src/Task.js"
import * as TaskStoreModule from "../../src/TaskStore.js"
import { TaskStore } from "../../src/TaskStore.js"
import { tempDir } from "../durable/fixtures/media.js"
import { dropDatabase, freshDatabase, pgUrl, warnIfNoPg } from "../durable/fixtures/pg.js"
import { makeTask } from "../durable/fixtures/tasks.js"

const a = "http://127.0.0.1:1/a"
const b = "http://127.0.0.1:1/b"
const endpoints = [
  { url: a, events: ["task.created", "upload.completed", "post.published", "task.completed"] as const },
  { url: b, events: ["task.completed"] as const }
].map((e) => ({ url: e.url, events: [...e.events] }))

const contract = (name: string, layer: () => Layer.Layer<TaskStore, unknown>) =>
  describe(`webhook outbox (${name})`, () => {
    it.live("records, fans out once, leases, disables and prunes", () =>
      Effect.gen(function*() {
        const store = yield* TaskStore
        const outbox = store.outbox!
        const task = yield* makeTask({ createdAt: Date.now() })
        const now = Date.now()
        yield* store.insert(task)
        yield* store.update(task.id, (t) => transition(t, "in_progress", now))
        // A progress update: no event.
        yield* store.update(task.id, (t) => Either.right(new Task({ ...t, message: "Uploading", updatedAt: now })))
        yield* store.update(task.id, (t) =>
          Either.right(
            new Task({
              ...t,
              videos: [new UploadedVideo({ host: "youtube", videoId: "v1", url: "https://youtu.be/v1" })],
              posts: [new PublishedPost({ publisher: "x", postId: "p1" })]
            })
          ))
        // A refused change records nothing.
        const refused = yield* Effect.flip(
          store.update(task.id, () =>
            Either.left(new InvalidTransition({ taskId: task.id, from: "in_progress", to: "pending" })))
        )
        assert.strictEqual(refused._tag, "InvalidTransition")
        yield* store.update(task.id, (t) =>
          transition(t, "completed", now + 1))

        assert.strictEqual(yield* outbox.fanOut(endpoints, now, 60_000), 5)
        assert.strictEqual(yield* outbox.fanOut(endpoints, now, 60_000), 0, "each event is fanned out once")
        const all = yield* outbox.deliveries()
        assert.deepStrictEqual(
          all.filter((d) => d.url === a).map((d) => d.type).reverse(),
          ["task.created", "upload.completed", "post.published", "task.completed"]
        )
        assert.deepStrictEqual(all.filter((d) => d.url === b).map((d) => d.type), ["task.completed"])
        const ids = new Set(all.map((d) => d.eventId))
        assert.strictEqual(ids.size, 4, "one event id per event, shared by its endpoints")
        const completed = all.filter((d) => d.type === "task.completed")
        assert.strictEqual(completed[0]!.body, completed[1]!.body)
        assert.strictEqual(JSON.parse(completed[0]!.body).data.status, "completed")

        const claimed = yield* outbox.claim(now, 30_000, 10)
        assert.strictEqual(claimed.length, 5)
        assert.strictEqual((yield* outbox.claim(now + 1, 30_000, 10)).length, 0, "leased deliveries are not handed out")
        assert.strictEqual((yield* outbox.claim(now + 30_001, 30_000, 10)).length, 5, "after the lease, again")

        const first = claimed[0]!
        yield* outbox.record(first.id, {
          state: "delivered",
          attempts: 1,
          lastStatus: 204,
          lastError: undefined,
          nextAt: undefined,
          now
        })
        yield* outbox.disable(b, now, "answered 410 Gone")
        const after = yield* outbox.deliveries()
        assert.strictEqual(after.find((d) => d.id === first.id)!.state, "delivered")
        assert.isTrue(after.filter((d) => d.url === b).every((d) => d.state === "disabled"))
        assert.deepStrictEqual((yield* outbox.disabled).map((d) => d.url), [b])

        // A new task: the disabled endpoint gets nothing.
        const other = yield* makeTask({ createdAt: Date.now() })
        yield* store.insert(other)
        yield* store.update(other.id, (t) => transition(t, "cancelled", now + 2))
        assert.strictEqual(yield* outbox.fanOut(endpoints, now + 2, 60_000), 1)
        assert.isTrue(yield* outbox.enable(b))

        // Too old when first dispatched: no delivery.
        const old = yield* makeTask({ createdAt: now - 120_000 })
        yield* store.insert(old)
        assert.strictEqual(yield* outbox.fanOut(endpoints, now + 3, 60_000), 0)

        yield* store.prune(now + 10)
        assert.strictEqual(
          (yield* outbox.deliveries({ taskId: task.id })).length,
          0,
          "pruned with the task"
        )
      }).pipe(Effect.provide(layer())))
  })

contract("memory", () => TaskStoreModule.layerMemory)
contract("SQLite", () => SqlTaskStore.layerSqlite({ filename: path.join(tempDir("medusa-outbox-"), "medusa.db") }))

warnIfNoPg("webhook outbox (PostgreSQL)")
describe.skipIf(pgUrl === undefined)("webhook outbox (PostgreSQL)", () => {
  contract("PostgreSQL", () =>
    Layer.unwrapScoped(
      Effect.map(
        Effect.acquireRelease(Effect.promise(freshDatabase), (url) => Effect.promise(() => dropDatabase(url))),
        (url) => SqlTaskStore.layerPg({ url, notify: false })
      )
    ))

  it.live("two dispatchers claiming at once get disjoint deliveries (SKIP LOCKED)", () =>
    Effect.gen(function*() {
      const url = yield* Effect.acquireRelease(
        Effect.promise(freshDatabase),
        (url) => Effect.promise(() => dropDatabase(url))
      )
      const one = yield* Layer.build(SqlTaskStore.layerPg({ url, notify: false }))
      const two = yield* Layer.build(SqlTaskStore.layerPg({ url, notify: false }))
      const store1 = one.unsafeMap.get(TaskStore.key) as TaskStore["Type"]
      const store2 = two.unsafeMap.get(TaskStore.key) as TaskStore["Type"]
      const now = Date.now()
      for (let i = 0; i < 20; i++) yield* store1.insert(yield* makeTask({ createdAt: now }))
      assert.strictEqual(yield* store1.outbox!.fanOut(endpoints, now, 60_000), 20)
      const [x, y] = yield* Effect.all([
        store1.outbox!.claim(now, 30_000, 15),
        store2.outbox!.claim(now, 30_000, 15)
      ], { concurrency: 2 })
      const xs = new Set(x.map((d) => d.id))
      assert.isTrue(y.every((d) => !xs.has(d.id)), "no delivery handed to both")
      assert.strictEqual(x.length + y.length, 20)
    }).pipe(Effect.scoped))
})
