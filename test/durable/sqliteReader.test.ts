/**
 * The read-only SQLite reader (better-sqlite3 alone, what `medusa tasks` and
 * `medusa status` use) answers `get`, `history` and `list` exactly as the SQL
 * store does on the same file.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as SqliteReader from "../../src/internal/store/sqliteReader.js"
import * as SqlTaskStore from "../../src/SqlTaskStore.js"
import { type Task, type TaskState, transition } from "../../src/Task.js"
import * as TaskId from "../../src/TaskId.js"
import { TaskStore } from "../../src/TaskStore.js"
import { makeTask } from "./fixtures/tasks.js"

const tmp = () => path.join(mkdtempSync(path.join(tmpdir(), "medusa-reader-")), "medusa.db")

const go = (to: TaskState, at: number, message?: string) => (task: Task) => transition(task, to, at, message)

describe("SQLite reader", () => {
  it.live("get and list answer as the SQL store does (states, order, limit, offset, unknown id)", () =>
    Effect.gen(function*() {
      const file = tmp()
      const layer = SqlTaskStore.layerSqlite({ filename: file })
      // Five tasks, two sharing a creation time (ordered by id then), in every kind of state.
      const ids = yield* Effect.gen(function*() {
        const store = yield* TaskStore
        const ids: Array<TaskId.TaskId> = []
        for (const [i, at] of [1, 2, 3, 3, 4].entries()) {
          const task = yield* makeTask({ createdAt: 1_700_000_000_000 + at * 1000, title: `clip ${i}` })
          yield* store.insert(task)
          ids.push(task.id)
        }
        yield* store.update(ids[0]!, go("in_progress", 1_700_000_010_000))
        yield* store.update(ids[0]!, go("completed", 1_700_000_011_000, "Done"))
        yield* store.update(ids[1]!, go("in_progress", 1_700_000_010_000))
        yield* store.update(ids[1]!, go("failed", 1_700_000_012_000, "YouTube said no"))
        yield* store.update(ids[2]!, go("cancelled", 1_700_000_013_000))
        yield* store.update(ids[3]!, go("in_progress", 1_700_000_014_000))
        return ids
      }).pipe(Effect.provide(layer))

      const queries = [
        {},
        { limit: 2 },
        { limit: 2, offset: 2 },
        { status: "in_progress" as const },
        { status: "pending" as const, limit: 1 },
        { status: "failed" as const },
        { status: "completed" as const, offset: 1 }
      ]
      const unknown = yield* TaskId.make
      const viaStore = yield* Effect.gen(function*() {
        const store = yield* TaskStore
        return {
          lists: yield* Effect.forEach(queries, (q) => store.list(q)),
          gets: yield* Effect.forEach(ids, (id) => store.get(id)),
          histories: yield* Effect.forEach([...ids, unknown], (id) => store.history(id)),
          missing: yield* Effect.flip(store.get(unknown))
        }
      }).pipe(Effect.provide(layer))
      const viaReader = yield* Effect.scoped(Effect.gen(function*() {
        const reader = yield* SqliteReader.open(file)
        return {
          lists: yield* Effect.forEach(queries, (q) => reader.list(q)),
          gets: yield* Effect.forEach(ids, (id) => reader.get(id)),
          histories: yield* Effect.forEach([...ids, unknown], (id) => reader.history(id)),
          missing: yield* Effect.flip(reader.get(unknown))
        }
      }))
      assert.deepStrictEqual(viaReader.lists, viaStore.lists)
      assert.deepStrictEqual(viaReader.gets, viaStore.gets)
      assert.deepStrictEqual(viaReader.histories, viaStore.histories)
      assert.deepStrictEqual(viaStore.histories.map((h) => h.length), [3, 3, 2, 2, 1, 0])
      assert.deepStrictEqual(viaReader.missing, viaStore.missing)
      // The queries are not trivially equal: the lists differ from each other.
      assert.deepStrictEqual(viaStore.lists.map((l) => l.length), [5, 2, 2, 1, 1, 1, 0])
      assert.deepStrictEqual(viaStore.lists[0]!.map((t) => t.id), [
        ids[4],
        ...[ids[2], ids[3]].sort().reverse(),
        ids[1],
        ids[0]
      ])
    }))

  it.live("a file that is not a Medusa store fails with a StoreError naming the file", () =>
    Effect.gen(function*() {
      const file = tmp()
      writeFileSync(file, "not a database, just text that is long enough to have a header of sorts............")
      const error = yield* Effect.flip(Effect.scoped(Effect.flatMap(SqliteReader.open(file), (r) => r.list())))
      assert.strictEqual(error._tag, "StoreError")
      assert.match(error.message, /Listing tasks failed|Cannot open the SQLite database/)
    }))

  it.live("a missing file is refused (the CLI shows an empty store instead, without creating it)", () =>
    Effect.gen(function*() {
      const file = tmp()
      const error = yield* Effect.flip(Effect.scoped(SqliteReader.open(file)))
      assert.include(error.message, `Cannot open the SQLite database ${file}`)
    }))
})
