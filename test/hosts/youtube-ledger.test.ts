/**
 * The YouTube quota ledger under many readers at once (a busy server plans
 * every submit against it): readers that come while a read of the file is
 * under way share it, and a read after a write of this process sees the
 * write. The file system is Node's, with its string reads counted and held
 * until every reader has come.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Quota from "../../src/platforms/youtube/internal/quota.js"

describe("YouTube quota ledger", () => {
  it.live("20 readers at once read the file once; a read after a spend reads it again and sees the spend", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-ledger-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const file = path.join(dir, "youtube-quota.json")
      const day = Quota.pacificDay(Date.now())
      fs.writeFileSync(file, JSON.stringify({ version: 1, entries: { k: { day, uploads: 3, units: 10 } } }))

      const real = yield* FileSystem.FileSystem
      const open = yield* Deferred.make<void>()
      let reads = 0
      const counted: FileSystem.FileSystem = {
        ...real,
        readFileString: (p, encoding) =>
          Effect.suspend(() => {
            reads++
            return Effect.zipRight(Deferred.await(open), real.readFileString(p, encoding))
          })
      }
      const ledger = yield* Quota.make(file, Quota.defaultLimits).pipe(
        Effect.provideService(FileSystem.FileSystem, counted)
      )

      let entered = 0
      const readers = yield* Effect.forEach(
        Array.from({ length: 20 }),
        () => Effect.zipRight(Effect.sync(() => entered++), ledger.usage("k")),
        { concurrency: "unbounded" }
      ).pipe(Effect.fork)
      // Every reader has asked (the first one's read is held) before the read may finish.
      yield* Effect.yieldNow().pipe(Effect.repeat({ until: () => entered === 20 }))
      yield* Deferred.succeed(open, undefined)
      const entries = yield* readers.await.pipe(Effect.flatten)
      assert.strictEqual(reads, 1)
      assert.deepStrictEqual(entries.map((e) => e.uploads), Array.from({ length: 20 }, () => 3))

      yield* ledger.spend("k", { uploads: 1, units: 50 })
      const after = yield* ledger.usage("k")
      assert.deepStrictEqual([after.uploads, after.units], [4, 60])
      // One read for the spend (under its lock), one for the reader after it.
      assert.strictEqual(reads, 3)
    }).pipe(Effect.provide(NodeFileSystem.layer), Effect.scoped))
})
