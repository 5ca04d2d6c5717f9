import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import * as Migrations from "../../src/internal/store/migrations.js"
import { PublishedPost, UploadSession } from "../../src/Platform.js"
import * as SqlTaskStore from "../../src/SqlTaskStore.js"
import { canTransition, type Task, type TaskState, transition, withProgress } from "../../src/Task.js"
import { TaskStore } from "../../src/TaskStore.js"
import { dropDatabase, freshDatabase, pgUrl, warnIfNoPg } from "./fixtures/pg.js"
import { makeTask, progress } from "./fixtures/tasks.js"

const tmp = () => path.join(mkdtempSync(path.join(tmpdir(), "medusa-store-")), "medusa.db")

const go = (to: TaskState, at = 1_700_000_001_000, message?: string) => (task: Task) =>
  transition(task, to, at, message)

type StoreLayer = Layer.Layer<TaskStore | SqlTaskStore.SqlTaskStore | SqlClient.SqlClient, unknown>

const contract = (name: string, makeLayer: () => Promise<StoreLayer>, skip = false) =>
  describe.skipIf(skip)(`SqlTaskStore (${name})`, () => {
    const withStore = <A, E>(
      effect: Effect.Effect<A, E, TaskStore | SqlTaskStore.SqlTaskStore | SqlClient.SqlClient>
    ) => Effect.flatMap(Effect.promise(makeLayer), (layer) => Effect.provide(effect, layer))

    it.live("insert then get round-trips the whole task, and ids survive reopening", () =>
      Effect.gen(function*() {
        const layer = yield* Effect.promise(makeLayer)
        const task = yield* makeTask({ runAt: 1_800_000_000_000 })
        yield* Effect.provide(Effect.flatMap(TaskStore, (s) => s.insert(task)), layer)
        // A second layer build is a fresh connection on the same database.
        const again = yield* Effect.provide(Effect.flatMap(TaskStore, (s) => s.get(task.id)), layer)
        assert.deepStrictEqual(again, task)
        assert.strictEqual(again.runAt, 1_800_000_000_000)
      }))

    it.live("update applies transitions under a lock and records the history", () =>
      withStore(Effect.gen(function*() {
        const store = yield* TaskStore
        const sql = yield* SqlClient.SqlClient
        const task = yield* makeTask()
        yield* store.insert(task)
        yield* store.update(task.id, go("in_progress"))
        const done = yield* store.update(task.id, go("completed", 1_700_000_002_000, "Done"))
        assert.strictEqual(done.state, "completed")
        const refused = yield* Effect.flip(store.update(task.id, go("in_progress")))
        assert.strictEqual(refused._tag, "InvalidTransition")
        assert.strictEqual((yield* store.get(task.id)).state, "completed")
        const rows = yield* sql<{ state: string; previous: string | null }>`SELECT state, previous
          FROM medusa_task_history WHERE task_id = ${task.id} ORDER BY seq`
        assert.deepStrictEqual(rows.map((r) => [r.state, r.previous]), [
          ["pending", null],
          ["in_progress", "pending"],
          ["completed", "in_progress"]
        ])
        const missing = yield* Effect.flip(store.get("medusa_task_00000000-0000-4000-8000-000000000000" as Task["id"]))
        assert.strictEqual(missing._tag, "TaskNotFound")
      })))

    it.live("concurrent updates of one task lose nothing", () =>
      withStore(Effect.gen(function*() {
        const store = yield* TaskStore
        const task = yield* makeTask()
        yield* store.insert(task)
        yield* Effect.forEach(
          Array.from({ length: 40 }, (_, i) => i),
          () =>
            store.update(task.id, (t) =>
              Either.right(withProgress(t, progress((t.progress[0]?.bytesSent ?? 0) + 1), "Uploading", t.updatedAt))),
          { concurrency: 8, discard: true }
        )
        assert.strictEqual((yield* store.get(task.id)).progress[0]?.bytesSent, 40)
      })))

    it.live("list filters by state, newest first, with limit and offset", () =>
      withStore(Effect.gen(function*() {
        const store = yield* TaskStore
        const tasks = yield* Effect.forEach([1, 2, 3, 4, 5], (i) => makeTask({ createdAt: 1_700_000_000_000 + i }))
        yield* Effect.forEach(tasks, (t) => store.insert(t), { discard: true })
        yield* store.update(tasks[1]!.id, go("in_progress"))
        yield* store.update(tasks[3]!.id, go("cancelled"))
        const all = yield* store.list()
        assert.deepStrictEqual(all.map((t) => t.id), [...tasks].reverse().map((t) => t.id))
        const pending = yield* store.list({ status: "pending" })
        assert.deepStrictEqual(pending.map((t) => t.id), [tasks[4]!.id, tasks[2]!.id, tasks[0]!.id])
        const page = yield* store.list({ limit: 2, offset: 1 })
        assert.deepStrictEqual(page.map((t) => t.id), [tasks[3]!.id, tasks[2]!.id])
        const sqlStore = yield* SqlTaskStore.SqlTaskStore
        const unfinished = yield* sqlStore.unfinished
        assert.deepStrictEqual(unfinished.map((t) => t.id), [tasks[0]!.id, tasks[1]!.id, tasks[2]!.id, tasks[4]!.id])
      })))

    it.live("watch emits the current task, then each change, and ends after a final state", () =>
      withStore(Effect.gen(function*() {
        const store = yield* TaskStore
        const task = yield* makeTask()
        yield* store.insert(task)
        const started = yield* Deferred.make<void>()
        const watched = yield* store.watch(task.id).pipe(
          Stream.tap(() => Deferred.succeed(started, undefined)),
          Stream.runCollect,
          Effect.fork
        )
        yield* Deferred.await(started)
        const changes = yield* store.changes.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
        yield* Effect.sleep("20 millis")
        yield* store.update(task.id, go("in_progress"))
        yield* store.update(task.id, (t) => Either.right(withProgress(t, progress(600), "Uploading 50%", t.updatedAt)))
        yield* store.update(task.id, go("completed"))
        const states = Chunk.toReadonlyArray(yield* Fiber.join(watched)).map((t) => t.state)
        assert.strictEqual(states[0], "pending")
        assert.strictEqual(states[states.length - 1], "completed")
        assert.includeMembers(states, ["in_progress"])
        const first = Chunk.toReadonlyArray(yield* Fiber.join(changes))[0]
        assert.isDefined(first)
        assert.strictEqual(first!.task.id, task.id)
      })))

    it.live("changes carry the previous state, and progress updates keep it", () =>
      withStore(Effect.gen(function*() {
        const store = yield* TaskStore
        const task = yield* makeTask()
        const fiber = yield* store.changes.pipe(Stream.take(3), Stream.runCollect, Effect.fork)
        yield* Effect.sleep("20 millis")
        yield* store.insert(task)
        yield* store.update(task.id, go("in_progress"))
        yield* store.update(task.id, (t) => Either.right(withProgress(t, progress(10), "Uploading", t.updatedAt)))
        const seen = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        assert.deepStrictEqual(seen.map((c) => [c.previous, c.task.state]), [
          [undefined, "pending"],
          ["pending", "in_progress"],
          ["in_progress", "in_progress"]
        ])
      })))

    it.live("upload sessions and post records: upserts, and an intent never overwrites a done post", () =>
      withStore(Effect.gen(function*() {
        const store = yield* TaskStore
        const task = yield* makeTask()
        yield* store.insert(task)
        assert.isTrue(Option.isNone(yield* store.loadUploadSession(task.id, "youtube")))
        const session = new UploadSession({
          host: "youtube",
          uri: "http://127.0.0.1:1/upload/youtube/v3/videos?upload_id=abc",
          totalBytes: 5_000_000_000,
          acknowledged: 0,
          createdAt: 1_700_000_000_000
        })
        yield* store.saveUploadSession(task.id, session)
        yield* store.saveUploadSession(task.id, new UploadSession({ ...session, acknowledged: 4_294_967_296 }))
        const loaded = yield* store.loadUploadSession(task.id, "youtube")
        assert.deepStrictEqual(
          Option.getOrThrow(loaded),
          new UploadSession({ ...session, acknowledged: 4_294_967_296 })
        )
        assert.isTrue(Option.isNone(yield* store.loadUploadSession(task.id, "vimeo")))

        yield* store.recordPostIntent(task.id, "x")
        assert.strictEqual(Option.getOrThrow(yield* store.loadPostRecord(task.id, "x")).state, "intent")
        const post = new PublishedPost({ publisher: "x", postId: "1790", url: "https://x.com/i/web/status/1790" })
        yield* store.recordPostDone(task.id, post)
        yield* store.recordPostIntent(task.id, "x")
        const record = Option.getOrThrow(yield* store.loadPostRecord(task.id, "x"))
        assert.strictEqual(record.state, "done")
        assert.deepStrictEqual(record.post, post)
        assert.isTrue(Option.isNone(yield* store.loadPostRecord(task.id, "linkedin")))

        // What a publisher staged (a Threads container) stays with the intent, across a second intent.
        yield* store.recordPostIntent(task.id, "threads")
        yield* store.recordPostStaged!(task.id, "threads", "17900000000000001")
        yield* store.recordPostIntent(task.id, "threads")
        const staged = Option.getOrThrow(yield* store.loadPostRecord(task.id, "threads"))
        assert.deepStrictEqual([staged.state, staged.staged, staged.post], ["intent", "17900000000000001", undefined])
        yield* store.recordPostDone(task.id, new PublishedPost({ publisher: "threads", postId: "18000000000000002" }))
        const done = Option.getOrThrow(yield* store.loadPostRecord(task.id, "threads"))
        assert.deepStrictEqual([done.state, done.post?.postId, done.staged], ["done", "18000000000000002", undefined])
        // A done post is never staged again.
        yield* store.recordPostStaged!(task.id, "threads", "17900000000000003")
        assert.isUndefined(Option.getOrThrow(yield* store.loadPostRecord(task.id, "threads")).staged)
      })))

    it.live("prune deletes old finished tasks with their records, and calls the engine hook", () =>
      Effect.gen(function*() {
        const pruned: Array<string> = []
        const layer = yield* Effect.promise(makeLayer)
        yield* Effect.provide(
          Effect.gen(function*() {
            const store = yield* TaskStore
            const sql = yield* SqlClient.SqlClient
            const old = yield* makeTask()
            const recent = yield* makeTask()
            const running = yield* makeTask()
            for (const t of [old, recent, running]) yield* store.insert(t)
            yield* store.update(old.id, go("cancelled", 1_000))
            yield* store.update(recent.id, go("cancelled", 5_000))
            yield* store.update(running.id, go("in_progress", 1_000))
            yield* store.recordPostIntent(old.id, "x")
            const hooked = yield* SqlTaskStore.make({
              onPrune: (ids) => Effect.sync(() => pruned.push(...ids))
            })
            assert.strictEqual(yield* hooked.prune(2_000), 1)
            assert.deepStrictEqual(pruned, [old.id])
            assert.strictEqual((yield* Effect.flip(store.get(old.id)))._tag, "TaskNotFound")
            assert.isTrue(Option.isNone(yield* store.loadPostRecord(old.id, "x")))
            const history = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM medusa_task_history
              WHERE task_id = ${old.id}`
            assert.strictEqual(Number(history[0]!.n), 0)
            assert.strictEqual((yield* store.get(recent.id)).state, "cancelled")
            assert.strictEqual((yield* store.get(running.id)).state, "in_progress")
          }).pipe(Effect.scoped),
          layer
        )
      }))

    it.live("migrations are versioned and idempotent", () =>
      withStore(Effect.gen(function*() {
        yield* SqlTaskStore.migrate
        yield* SqlTaskStore.migrate
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ migration_id: number | string; name: string }>`SELECT migration_id, name
          FROM medusa_migrations ORDER BY migration_id`
        // Every migration once, in order: 1_initial, then each one appended since.
        assert.deepStrictEqual(
          rows.map((r) => `${Number(r.migration_id)}_${r.name}`),
          Object.keys(Migrations.migrations)
        )
        assert.strictEqual(rows[0]?.name, "initial")
      })))

    it.live("model-based: any sequence of requested transitions matches the task model", () =>
      withStore(Effect.gen(function*() {
        const store = yield* TaskStore
        const states: ReadonlyArray<TaskState> = ["pending", "in_progress", "completed", "failed", "cancelled"]
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(fc.array(fc.constantFrom(...states), { maxLength: 6 }), async (steps) => {
              await Effect.runPromise(Effect.gen(function*() {
                const task = yield* makeTask()
                yield* store.insert(task)
                let model: TaskState = "pending"
                const accepted: Array<TaskState> = ["pending"]
                for (const to of steps) {
                  const result = yield* Effect.either(store.update(task.id, go(to)))
                  if (canTransition(model, to)) {
                    assert.isTrue(Either.isRight(result))
                    model = to
                    accepted.push(to)
                  } else {
                    assert.isTrue(Either.isLeft(result))
                  }
                }
                const stored = yield* store.get(task.id)
                assert.strictEqual(stored.state, model)
                assert.deepStrictEqual(stored.history.map((h) => h.state), accepted)
              }))
            }),
            { numRuns: 25 }
          )
        )
      })))
  })

// --- SQLite ------------------------------------------------------------------

contract("SQLite", async () => SqlTaskStore.layerSqlite({ filename: tmp() }))

describe("SqlTaskStore (SQLite, two processes' view)", () => {
  it.live("a read-only store sees the owner's writes through the history, and refuses writes", () =>
    Effect.gen(function*() {
      const filename = tmp()
      const owner = yield* Layer.build(SqlTaskStore.layerSqlite({ filename }))
      const reader = yield* Layer.build(
        SqlTaskStore.layerSqlite({ filename, readOnly: true, pollInterval: "50 millis" })
      )
      const ownerStore = owner.unsafeMap.get(TaskStore.key) as TaskStore["Type"]
      const readerStore = reader.unsafeMap.get(TaskStore.key) as TaskStore["Type"]
      const task = yield* makeTask()
      const seen = yield* readerStore.changes.pipe(
        Stream.filter((c) => c.task.id === task.id),
        Stream.takeUntil((c) => c.task.state === "completed"),
        Stream.runCollect,
        Effect.fork
      )
      yield* Effect.sleep("30 millis")
      yield* ownerStore.insert(task)
      yield* ownerStore.update(task.id, go("in_progress"))
      yield* ownerStore.update(task.id, go("completed"))
      const states = Chunk.toReadonlyArray(yield* Fiber.join(seen).pipe(Effect.timeout("5 seconds")))
        .map((c) => [c.previous, c.task.state])
      assert.deepStrictEqual(states, [[undefined, "pending"], ["pending", "in_progress"], ["in_progress", "completed"]])
      const refused = yield* Effect.flip(readerStore.insert(yield* makeTask()))
      assert.strictEqual(refused._tag, "StoreError")
      assert.strictEqual((refused as { reason: string }).reason, "locked")
      assert.strictEqual((yield* readerStore.get(task.id)).state, "completed")
    }).pipe(Effect.scoped))

  it.effect("an unopenable file is a StoreError naming the file", () =>
    Effect.gen(function*() {
      // A path below a regular file can never be created.
      const file = tmp()
      writeFileSync(file, "not a directory")
      const filename = path.join(file, "medusa.db")
      const error = yield* Effect.flip(Effect.provide(TaskStore, SqlTaskStore.layerSqlite({ filename })))
      assert.strictEqual(error._tag, "StoreError")
      assert.include(error.message, filename)
    }))
})

describe("SqlTaskStore (PostgreSQL connection errors)", () => {
  it.live("an unreachable server is a StoreError that never shows the URL's password", () =>
    Effect.gen(function*() {
      const canary = "CANARY-pg-password-7f3a"
      // Port 1 on loopback refuses at once; nothing leaves the machine.
      const error = yield* Effect.flip(
        Effect.provide(TaskStore, SqlTaskStore.layerPg({ url: `postgres://medusa:${canary}@127.0.0.1:1/medusa` }))
      )
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual((error as { reason: string }).reason, "unavailable")
      assert.notInclude(error.message, canary)
      assert.notInclude(JSON.stringify(error), canary)
      assert.notInclude(String((error as { cause?: unknown }).cause ?? ""), canary)
    }))
})

// --- PostgreSQL ----------------------------------------------------------------

warnIfNoPg("SqlTaskStore PostgreSQL suite")
const pgDatabases: Array<string> = []
const sharedPg = () => freshDatabase().then((url) => (pgDatabases.push(url), url))
afterAll(async () => {
  for (const url of pgDatabases) await dropDatabase(url).catch(() => {})
})

contract("PostgreSQL", async () => SqlTaskStore.layerPg({ url: await sharedPg(), maxConnections: 4 }), !pgUrl)

describe.skipIf(!pgUrl)("SqlTaskStore (PostgreSQL, across connections)", () => {
  it.live("a second process's store receives every change through LISTEN/NOTIFY, even past 8000 bytes", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(sharedPg)
      const a = yield* Layer.build(SqlTaskStore.layerPg({ url, maxConnections: 2, pollInterval: "1 hour" }))
      const b = yield* Layer.build(SqlTaskStore.layerPg({ url, maxConnections: 2, pollInterval: "1 hour" }))
      const writer = a.unsafeMap.get(TaskStore.key) as TaskStore["Type"]
      const watcher = b.unsafeMap.get(TaskStore.key) as TaskStore["Type"]
      const task = yield* makeTask({ title: "x".repeat(10_000) })
      const seen = yield* watcher.changes.pipe(
        Stream.filter((c) => c.task.id === task.id),
        Stream.takeUntil((c) => c.task.state === "completed"),
        Stream.runCollect,
        Effect.fork
      )
      yield* Effect.sleep("100 millis")
      yield* writer.insert(task)
      yield* writer.update(task.id, go("in_progress"))
      yield* writer.update(task.id, (t) => Either.right(withProgress(t, progress(77), "Uploading", t.updatedAt)))
      yield* writer.update(task.id, go("completed"))
      const changes = Chunk.toReadonlyArray(yield* Fiber.join(seen).pipe(Effect.timeout("10 seconds")))
      assert.deepStrictEqual(changes.map((c) => [c.previous, c.task.state]), [
        [undefined, "pending"],
        ["pending", "in_progress"],
        ["in_progress", "in_progress"],
        ["in_progress", "completed"]
      ])
      assert.strictEqual(changes[2]!.task.progress[0]?.bytesSent, 77)
      assert.strictEqual(changes[0]!.task.request.metadata.youtube?.title.length, 10_000)
    }).pipe(Effect.scoped))

  it.live("a watcher that missed notifications catches up from the history", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(sharedPg)
      const a = yield* Layer.build(SqlTaskStore.layerPg({ url, maxConnections: 2, notify: false }))
      // No LISTEN at all: only the history catch-up can deliver.
      const b = yield* Layer.build(
        SqlTaskStore.layerPg({ url, maxConnections: 2, notify: false, pollInterval: "100 millis" })
      )
      const writer = a.unsafeMap.get(TaskStore.key) as TaskStore["Type"]
      const watcher = b.unsafeMap.get(TaskStore.key) as TaskStore["Type"]
      const task = yield* makeTask()
      yield* writer.insert(task)
      const watched = yield* watcher.watch(task.id).pipe(Stream.runCollect, Effect.fork)
      yield* Effect.sleep("50 millis")
      yield* writer.update(task.id, go("in_progress"))
      yield* writer.update(task.id, go("failed"))
      const states = Chunk.toReadonlyArray(yield* Fiber.join(watched).pipe(Effect.timeout("10 seconds")))
        .map((t) => t.state)
      assert.strictEqual(states[0], "pending")
      assert.strictEqual(states[states.length - 1], "failed")
    }).pipe(Effect.scoped))
})
