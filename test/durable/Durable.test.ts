import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import * as Durable from "../../src/Durable.js"
import * as Medusa from "../../src/Medusa.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import * as SqlTaskStore from "../../src/SqlTaskStore.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { tempDir, writeVideo } from "./fixtures/media.js"

const request = (mediaFile: string): PublishRequestInput => ({
  mediaFile,
  platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
  metadata: {
    youtube: { title: "Launch" },
    vimeo: { title: "Launch" },
    facebook: { message: "Watch {youtube_url}" },
    x: { text: "Watch {vimeo_url}" },
    linkedin: { text: "New: {youtube_url} {vimeo_url}" }
  }
})

describe("Durable.layerDurable (embedded SQLite)", () => {
  it.live("publishes through the workflow engine with the same Medusa API", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const video = writeVideo(dir, 4096)
      const layer = Durable.layerDurable({ sqlite: path.join(dir, "medusa.db") }).pipe(
        Layer.provideMerge(TestPlatforms.layer())
      )
      const task = yield* Medusa.publish(request(video)).pipe(Effect.provide(layer))
      assert.strictEqual(task.state, "completed")
      assert.deepStrictEqual(task.videos.map((v) => v.host), ["youtube", "vimeo"])
      assert.deepStrictEqual([...task.posts.map((p) => p.publisher)].sort(), ["facebook", "linkedin", "x"])
      assert.deepStrictEqual(task.history.map((h) => h.state), ["pending", "in_progress", "completed"])
    }))

  it.live("a second layer on the same file joins (its task runs in the owner), or is refused with whenLocked: \"fail\"; a read-only one reads without running", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const video = writeVideo(dir, 4096)
      const sqlite = path.join(dir, "medusa.db")
      const owner = yield* Layer.build(
        Durable.layerDurable({ sqlite }).pipe(Layer.provideMerge(TestPlatforms.layer()))
      )
      const task = yield* Medusa.publish(request(video)).pipe(Effect.provide(owner))
      const joined = yield* Layer.build(
        Durable.layerDurable({ sqlite }).pipe(Layer.provideMerge(TestPlatforms.layer()))
      )
      const handed = yield* Medusa.publish(request(video)).pipe(Effect.provide(joined))
      assert.strictEqual(handed.state, "completed")
      const seenByOwner = yield* Medusa.status(handed.id).pipe(Effect.provide(owner))
      assert.strictEqual(seenByOwner.state, "completed")
      const refused = yield* Effect.flip(Layer.build(Durable.layerDurable({ sqlite, whenLocked: "fail" })))
      assert.strictEqual(refused._tag, "StoreError")
      assert.strictEqual(refused.reason, "locked")
      assert.include(refused.message, sqlite)
      const reader = yield* Layer.build(Durable.layerDurable({ sqlite, readOnly: true }))
      const seen = yield* Medusa.status(task.id).pipe(Effect.provide(reader))
      assert.strictEqual(seen.state, "completed")
      const listed = yield* Medusa.list().pipe(Effect.provide(reader))
      assert.deepStrictEqual(listed.map((t) => t.id), [handed.id, task.id])
      const submit = yield* Effect.flip(Medusa.submit(request(video)).pipe(Effect.provide(reader)))
      assert.strictEqual(submit._tag, "StoreError")
    }).pipe(Effect.scoped))

  it.live("retention prunes finished tasks with the workflow engine's records", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const video = writeVideo(dir, 4096)
      const sqlite = path.join(dir, "medusa.db")
      const layer = Durable.layerDurable({ sqlite, retention: "1 second", pruneInterval: "200 millis" }).pipe(
        Layer.provideMerge(TestPlatforms.layer())
      )
      const engineRows = Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ n: number }>`SELECT COUNT(*) AS n FROM cluster_messages
          WHERE entity_type = 'Workflow/medusa/PublishTask'`).pipe(
          Effect.map((rows) =>
            Number(rows[0]!.n)
          ),
          Effect.provide(SqlTaskStore.sqliteClient({ filename: sqlite, readOnly: true }))
        )
      yield* Effect.gen(function*() {
        const task = yield* Medusa.publish(request(video))
        assert.isAbove(yield* engineRows, 0)
        let gone = false
        for (let i = 0; i < 100 && !gone; i++) {
          yield* Effect.sleep("100 millis")
          gone = Exit.isFailure(yield* Effect.exit(Medusa.status(task.id)))
        }
        assert.isTrue(gone, "the finished task was pruned")
        assert.strictEqual(yield* engineRows, 0)
      }).pipe(Effect.provide(layer))
    }))
})
