/**
 * The requests folder's calls (reschedule, retract, webhook enable asked of
 * the process that owns a SQLite store) expire: the asking process writes
 * its own timeout in the call and removes the call when it gives up; the
 * owner discards (and answers, and logs) a call read after its expiry
 * instead of carrying it out. Owner and asker run in this process on the
 * test clock; the folder is real.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as TestClock from "effect/TestClock"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Requests from "../../src/internal/runner/requests.js"
import { TaskNotFound } from "../../src/PublishError.js"
import type { Task } from "../../src/Task.js"
import { tempDir } from "./fixtures/media.js"

const setup = () => {
  const dir = tempDir("medusa-requests-")
  const filename = path.join(dir, "medusa.db")
  const folder = Requests.requestsDirOf(filename)
  const files = () => (fs.existsSync(folder) ? fs.readdirSync(folder).sort() : [])
  return { filename, folder, files }
}

const reschedule = {
  _tag: "reschedule",
  id: "medusa_task_0000000000000000000000",
  runAt: "2031-01-01T00:00:00Z"
} as const

/** Handlers of an owner that only carries out calls (none other is left in these tests). */
const owner = (call: (c: Requests.TaskCall) => Effect.Effect<Task, Requests.CallError>) => ({
  cancel: () => Effect.void,
  submit: () => Effect.void,
  call,
  enableWebhook: () => Effect.die("no webhook call in this test")
})

/** Runs the owner's rounds (100 ms apart on the test clock) until `done` holds. */
const until = (done: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 100 && !done(); i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow()
    }
    assert.isTrue(done(), "the owner did not get there")
  })

describe("requests folder calls", () => {
  it.scoped("a call is carried out before its expiry, and its answer (here the typed error) comes back", () =>
    Effect.gen(function*() {
      const { filename, files } = setup()
      const seen: Array<Requests.TaskCall> = []
      yield* Requests.serve(
        filename,
        owner((c) => Effect.sync(() => seen.push(c)).pipe(Effect.zipRight(new TaskNotFound({ taskId: c.id }))))
      )
      const asked = yield* Effect.fork(Requests.callFromOutside(filename, reschedule))
      yield* until(() => seen.length === 1)
      // The asker polls for the answer on the test clock.
      yield* TestClock.adjust("100 millis")
      const error = yield* Effect.flip(Fiber.join(asked))
      assert.strictEqual(error._tag, "TaskNotFound")
      assert.deepStrictEqual(seen, [reschedule])
      assert.deepStrictEqual(files(), [])
    }))

  it.scoped("the asking process gives up: its call is removed, and no owner carries it out later", () =>
    Effect.gen(function*() {
      const { filename, files } = setup()
      const asked = yield* Effect.fork(Requests.callFromOutside(filename, reschedule))
      yield* Effect.yieldNow()
      assert.lengthOf(files().filter((f) => f.endsWith(".call")), 1)
      const written = JSON.parse(fs.readFileSync(path.join(Requests.requestsDirOf(filename), files()[0]!), "utf8"))
      assert.strictEqual(written.expiresAt, 15_000, "the asker's own timeout, on its clock")
      yield* TestClock.adjust("15 seconds")
      const error = yield* Effect.flip(Fiber.join(asked))
      assert.strictEqual(error._tag, "StoreError")
      assert.include(error.message, "did not answer within 15s")
      assert.include(error.message, "The request is withdrawn: nothing was done")
      assert.deepStrictEqual(files(), [])
      // An owner that starts now finds nothing to do.
      const seen: Array<Requests.TaskCall> = []
      yield* Requests.serve(filename, owner((c) => Effect.sync(() => seen.push(c)).pipe(Effect.zipRight(Effect.never))))
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(seen, [])
    }))

  it.scoped("an expired call left behind (its asker was killed) is discarded, answered and logged, not carried out", () =>
    Effect.gen(function*() {
      const { filename, folder, files } = setup()
      fs.mkdirSync(folder, { recursive: true })
      yield* TestClock.setTime(60_000)
      fs.writeFileSync(path.join(folder, "old.call"), JSON.stringify({ call: reschedule, expiresAt: 59_999 }))
      const logs: Array<string> = []
      const seen: Array<Requests.TaskCall> = []
      yield* Requests.serve(filename, owner((c) => Effect.sync(() => seen.push(c)).pipe(Effect.zipRight(Effect.never))))
        .pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message)))))
        )
      yield* until(() => files().includes("old.answer"))
      assert.deepStrictEqual(seen, [])
      assert.deepStrictEqual(files(), ["old.answer"])
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(folder, "old.answer"), "utf8")), {
        _tag: "expired",
        at: 59_999
      })
      assert.isTrue(
        logs.some((l) => l.includes("request old.call (reschedule task medusa_task_") && l.includes("discarded")),
        logs.join("\n")
      )
    }))

  it.scoped("a call the owner took up before the asker gave up is finished by the owner; the asker says so", () =>
    Effect.gen(function*() {
      const { filename, files } = setup()
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const seen: Array<Requests.TaskCall> = []
      yield* Requests.serve(
        filename,
        owner((c) =>
          Effect.gen(function*() {
            seen.push(c)
            yield* Deferred.succeed(started, undefined)
            yield* Deferred.await(release)
            return yield* new TaskNotFound({ taskId: c.id })
          })
        )
      )
      const asked = yield* Effect.fork(Requests.callFromOutside(filename, reschedule))
      yield* until(() => seen.length === 1)
      yield* Deferred.await(started)
      yield* TestClock.adjust("15 seconds")
      const error = yield* Effect.flip(Fiber.join(asked))
      assert.include(error.message, "It took the request up and may still carry it out")
      assert.lengthOf(files().filter((f) => f.endsWith(".taken")), 1)
      yield* Deferred.succeed(release, undefined)
      yield* until(() => files().every((f) => f.endsWith(".answer")) && files().length === 1)
      assert.deepStrictEqual(seen, [reschedule])
    }))

  it.scoped("a call written without an expiry (an earlier version) is still carried out", () =>
    Effect.gen(function*() {
      const { filename, folder, files } = setup()
      fs.mkdirSync(folder, { recursive: true })
      fs.writeFileSync(path.join(folder, "bare.call"), JSON.stringify(reschedule))
      const seen: Array<Requests.TaskCall> = []
      yield* Requests.serve(
        filename,
        owner((c) => Effect.sync(() => seen.push(c)).pipe(Effect.zipRight(new TaskNotFound({ taskId: c.id }))))
      )
      yield* until(() => files().includes("bare.answer"))
      assert.deepStrictEqual(seen, [reschedule])
    }))

  it.scoped("a webhook endpoint enable is carried out by the owner's outbox, and its outcome comes back", () =>
    Effect.gen(function*() {
      const { filename, files } = setup()
      const asked: Array<string> = []
      yield* Requests.serve(filename, {
        ...owner(() => Effect.die("no task call in this test")),
        enableWebhook: (url) => Effect.sync(() => asked.push(url) === 1)
      })
      const first = yield* Effect.fork(Requests.enableWebhookFromOutside(filename, "https://gone.example/hooks"))
      yield* until(() => asked.length === 1)
      yield* TestClock.adjust("100 millis")
      assert.isTrue(yield* Fiber.join(first))
      const again = yield* Effect.fork(Requests.enableWebhookFromOutside(filename, "https://gone.example/hooks"))
      yield* until(() => asked.length === 2)
      yield* TestClock.adjust("100 millis")
      assert.isFalse(yield* Fiber.join(again))
      assert.deepStrictEqual(files(), [])
    }))
})
