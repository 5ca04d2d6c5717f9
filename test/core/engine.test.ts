import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Engine from "../../src/internal/task/engine.js"
import * as Medusa from "../../src/Medusa.js"
import { PlatformRejected } from "../../src/PublishError.js"
import type { Task } from "../../src/Task.js"
import * as TaskStatus from "../../src/TaskStatus.js"
import { TaskStore } from "../../src/TaskStore.js"
import { TestPlatforms } from "../../src/TestPlatforms.js"
import { fullRequest, media, settle, testLayer } from "./helpers.js"

describe("publish", () => {
  it.effect("uploads, then posts with the templates filled, and completes", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms
      const fiber = yield* Effect.fork(Medusa.publish(fullRequest()))
      const task = yield* settle(fiber)
      assert.strictEqual(task.state, "completed")
      const status = TaskStatus.toJSON(task)
      assert.strictEqual(status.status, "completed")
      const results = status.results!
      assert.match(results.youtube_url!, /^https:\/\/youtube\.com\/watch\?v=\w{11}$/)
      assert.ok(results.vimeo_video_id)
      assert.ok(results.facebook_post_id && results.x_post_id && results.linkedin_post_id)

      const [fbPost] = yield* Effect.map(control.callsTo("facebook"), (c) => c.filter((x) => x.operation === "post"))
      const fb = fbPost!.metadata as { message: string; link: string }
      assert.strictEqual(fb.message, `Watch on YouTube: ${results.youtube_url}`)
      assert.strictEqual(fb.link, results.youtube_url)
      const [xPost] = yield* Effect.map(control.callsTo("x"), (c) => c.filter((x) => x.operation === "post"))
      assert.strictEqual(
        (xPost!.metadata as { text: string }).text,
        `Vimeo cut: ${results.vimeo_url} (${results.vimeo_video_id})`
      )
      const [liPost] = yield* Effect.map(control.callsTo("linkedin"), (c) => c.filter((x) => x.operation === "post"))
      assert.strictEqual((liPost!.metadata as { text: string }).text, "We launched {braces} today")

      // Every post started after every upload finished.
      const calls = yield* control.calls
      const lastAfterUpload = calls.map((c) => c.operation).lastIndexOf("afterUpload")
      const firstPost = calls.findIndex((c) => c.operation === "post")
      assert.ok(lastAfterUpload >= 0 && lastAfterUpload < firstPost)
    }).pipe(
      Effect.provide(testLayer({ platforms: { youtube: { delay: "2 seconds" }, vimeo: { delay: "1 second" } } }))
    ))

  it.effect("a publisher's announced wait is on the task and in the status JSON until its post is made", () =>
    Effect.gen(function*() {
      const id = yield* Medusa.submit(fullRequest())
      const seen: Array<Task> = []
      const watcher = yield* Medusa.watch(id).pipe(
        Stream.runForEach((t) => Effect.sync(() => seen.push(t))),
        Effect.fork
      )
      const waiting = Option.getOrThrow(
        yield* Medusa.watch(id).pipe(Stream.filter((t) => t.waits !== undefined), Stream.runHead)
      )
      const status = TaskStatus.toJSON(waiting)
      assert.strictEqual(status.status, "in_progress")
      assert.deepStrictEqual(status.waits, [
        { platform: "facebook", reason: "rate limited", until: "1970-01-01T00:05:00.000Z" }
      ])
      // The message stays the plain progress message: the wait is data, not text.
      assert.strictEqual(waiting.message, "Posting to Facebook, X, LinkedIn...")
      yield* TestClock.adjust("5 minutes")
      yield* Fiber.join(watcher)
      const task = yield* Medusa.await(id)
      assert.strictEqual(task.state, "completed")
      assert.strictEqual(task.waits, undefined)
      // Once Facebook posted, the wait went away before the task ended.
      const last = seen.map((t) => t.waits !== undefined).lastIndexOf(true)
      assert.isTrue(seen.slice(last + 1).some((t) => t.state === "in_progress"), "cleared while still running")
    }).pipe(
      Effect.provide(
        testLayer({ platforms: { facebook: { wait: { reason: "rate limited", duration: "5 minutes" } } } })
      )
    ))

  it.effect("a publisher that announced a wait and then failed no longer waits", () =>
    Effect.gen(function*() {
      const id = yield* Medusa.submit(fullRequest({ policy: "best-effort" }))
      yield* Medusa.watch(id).pipe(Stream.filter((t) => t.waits !== undefined), Stream.runHead)
      yield* TestClock.adjust("5 minutes")
      yield* Effect.flip(Medusa.await(id))
      const task = yield* Medusa.status(id)
      assert.strictEqual(task.state, "failed")
      assert.deepStrictEqual(task.failures.map((f) => f.platform), ["facebook"])
      assert.strictEqual(task.waits, undefined)
    }).pipe(
      Effect.provide(testLayer({
        platforms: {
          facebook: {
            wait: { reason: "rate limited", duration: "5 minutes" },
            fail: { at: "post", error: new PlatformRejected({ platform: "facebook", reason: "blocked" }) }
          }
        }
      }))
    ))

  it.effect("history times come from the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_000_000)
      const id = yield* Medusa.submit(fullRequest({ platforms: ["youtube"], metadata: { youtube: { title: "t" } } }))
      const task = yield* settle(yield* Effect.fork(Medusa.await(id)), "500 millis")
      assert.deepStrictEqual(task.history.map((h) => h.state), ["pending", "in_progress", "completed"])
      assert.strictEqual(task.history[0]!.at, 1_000_000)
      // 4 seconds of upload, driven in 500 ms steps.
      assert.strictEqual(task.history[2]!.at - task.history[1]!.at, 4_000)
      assert.strictEqual(TaskStatus.toJSON(task).created_at, new Date(1_000_000).toISOString())
    }).pipe(Effect.provide(testLayer({ platforms: { youtube: { delay: "4 seconds" } } }))))
})

describe("fail-fast", () => {
  it.effect("afterUpload failure fails the task with the video recorded", () =>
    Effect.gen(function*() {
      const id = yield* Medusa.submit(fullRequest({ platforms: ["youtube"], metadata: { youtube: { title: "t" } } }))
      const error = yield* Effect.flip(Medusa.await(id))
      assert.strictEqual(error._tag, "PlatformRejected")
      const status = TaskStatus.toJSON(yield* Medusa.status(id))
      assert.ok(status.results!.youtube_video_id)
    }).pipe(Effect.provide(testLayer({
      platforms: {
        youtube: {
          fail: {
            at: "afterUpload",
            error: new PlatformRejected({
              platform: "youtube",
              reason: "invalid_metadata",
              platformMessage: "bad thumbnail"
            })
          }
        }
      }
    }))))
})

describe("best-effort", () => {
  it.effect("every failure is listed", () =>
    Effect.gen(function*() {
      const id = yield* Medusa.submit(fullRequest({ policy: "best-effort" }))
      yield* Effect.flip(Medusa.await(id))
      const status = TaskStatus.toJSON(yield* Medusa.status(id))
      assert.deepStrictEqual(status.failures!.map((f) => f.platform).sort(), ["facebook", "linkedin"])
      assert.ok(status.results!.x_post_id)
    }).pipe(Effect.provide(testLayer({
      platforms: {
        facebook: { fail: { at: "post", error: new PlatformRejected({ platform: "facebook", reason: "rejected" }) } },
        linkedin: {
          fail: {
            at: "post",
            error: new PlatformRejected({ platform: "linkedin", reason: "version_sunset", status: 426 })
          }
        }
      }
    }))))
})

describe("concurrency", () => {
  it.effect("maxConcurrentTasks bounds running tasks", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms
      const ids = yield* Effect.forEach(Array.from({ length: 6 }), () =>
        Medusa.submit(fullRequest({ platforms: ["youtube"], metadata: { youtube: { title: "t" } } })))
      let maxRunning = 0
      const observer = yield* Effect.fork(Medusa.changes.pipe(
        Stream.runForEach(() =>
          Effect.map(Medusa.list({ status: "in_progress" }), (running) => {
            maxRunning = Math.max(maxRunning, running.length)
          })
        )
      ))
      const all = yield* Effect.fork(Effect.forEach(ids, (id) =>
        Medusa.await(id)))
      yield* settle(all)
      yield* Fiber.interrupt(observer)
      assert.strictEqual(yield* control.maxInFlight("youtube"), 2)
      assert.strictEqual(maxRunning, 2)
    }).pipe(
      Effect.provide(testLayer({ medusa: { maxConcurrentTasks: 2 }, platforms: { youtube: { delay: "1 second" } } }))
    ))

  it.effect("the per-platform bound holds across tasks", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms
      const ids = yield* Effect.forEach(Array.from({ length: 6 }), () => Medusa.submit(fullRequest()))
      const all = yield* Effect.fork(Effect.forEach(ids, (id) => Medusa.await(id)))
      yield* settle(all)
      assert.strictEqual(yield* control.maxInFlight("youtube"), 1)
      assert.strictEqual(yield* control.maxInFlight("vimeo"), 4)
      assert.strictEqual(yield* control.maxInFlight("facebook"), 2)
    }).pipe(Effect.provide(testLayer({
      medusa: { maxConcurrentTasks: 4, perPlatformConcurrency: { youtube: 1, facebook: 2 } },
      platforms: { youtube: { delay: "1 second" }, vimeo: { delay: "5 seconds" }, facebook: { delay: "1 second" } }
    }))))
})

describe("watch", () => {
  it.effect("delivers every transition in order, ending at the final state", () =>
    Effect.gen(function*() {
      const id = yield* Medusa.submit(fullRequest())
      const watched = yield* Effect.fork(Stream.runCollect(Medusa.watch(id)))
      const changes = yield* Effect.fork(
        Medusa.changes.pipe(
          Stream.filter((c) => c.task.id === id),
          Stream.takeUntil((c) => c.task.state === "completed"),
          Stream.runCollect
        )
      )
      const tasks = Chunk.toReadonlyArray(yield* settle(watched))
      const states = tasks.map((t) => t.state)
      assert.strictEqual(states[states.length - 1], "completed")
      const distinct = states.filter((s, i) => i === 0 || s !== states[i - 1])
      assert.deepStrictEqual(distinct.slice(-2), ["in_progress", "completed"])
      // Progress only grows, and the messages say what is happening.
      const youtube = tasks.flatMap((t) => t.progress.filter((p) => p.host === "youtube").map((p) => p.bytesSent))
      assert.deepStrictEqual(youtube, [...youtube].sort((a, b) => a - b))
      assert.strictEqual(youtube[youtube.length - 1], (yield* Medusa.status(id)).media.size)
      const messages = tasks.map((t) => t.message).filter((m): m is string => m !== undefined)
      assert.ok(messages.some((m) => /^Uploading to YouTube\.\.\. \d+%, Vimeo\.\.\. \d+%$/.test(m)))
      assert.ok(messages.includes("Posting to Facebook, X, LinkedIn..."))
      // The watch saw exactly the changes `changes` delivered after it subscribed (none lost, none reordered).
      const fromChanges = Chunk.toReadonlyArray(yield* Fiber.join(changes)).map((c) => c.task)
      assert.deepStrictEqual(
        tasks.slice(-fromChanges.length).map((t) => t.updatedAt),
        fromChanges.map((t) => t.updatedAt)
      )
      assert.strictEqual(tasks.length - 1 >= fromChanges.length, true)
      const last = TaskStatus.toJSON(tasks[tasks.length - 1]!)
      assert.strictEqual(last.status, "completed")
      const inProgress = TaskStatus.toJSON(
        tasks.find((t) => t.state === "in_progress" && t.progress.some((p) => p.host === "youtube"))!
      )
      assert.strictEqual(inProgress.status, "in_progress")
      assert.ok(inProgress.progress!.youtube!.total_bytes > 0)
    }).pipe(
      Effect.provide(testLayer({ platforms: { youtube: { delay: "2 seconds" }, vimeo: { delay: "1 second" } } }))
    ))

  it.effect("of a finished task emits it once and ends", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Medusa.publish(fullRequest()))
      const task = yield* settle(fiber)
      const seen = yield* Stream.runCollect(Medusa.watch(task.id))
      assert.deepStrictEqual(Chunk.toReadonlyArray(seen).map((t) => t.state), ["completed"])
    }).pipe(Effect.provide(testLayer())))
})

describe("cancel", () => {
  it.effect("a pending task waiting for a slot is cancelled without running", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms
      const first = yield* Medusa.submit(fullRequest({ platforms: ["youtube"], metadata: { youtube: { title: "1" } } }))
      yield* control.started("youtube")
      const second = yield* Medusa.submit(
        fullRequest({ platforms: ["youtube"], metadata: { youtube: { title: "2" } } })
      )
      assert.strictEqual((yield* Medusa.status(second)).state, "pending")
      const cancelled = yield* Medusa.cancel(second)
      assert.deepStrictEqual(cancelled.history.map((h) => h.state), ["pending", "cancelled"])
      yield* control.release("youtube")
      assert.strictEqual((yield* Medusa.await(first)).state, "completed")
      const uploads = (yield* control.callsTo("youtube")).filter((c) => c.operation === "upload")
      assert.deepStrictEqual(uploads.map((c) => c.taskId), [first])
    }).pipe(Effect.provide(testLayer({ medusa: { maxConcurrentTasks: 1 }, platforms: { youtube: { gated: true } } }))))
})

describe("errors and listing", () => {
  it.effect("unknown and malformed ids fail with TaskNotFound", () =>
    Effect.gen(function*() {
      const a = yield* Effect.flip(Medusa.status("medusa_task_00000000-0000-4000-8000-000000000000"))
      assert.strictEqual(a._tag, "TaskNotFound")
      const b = yield* Effect.flip(Medusa.await("nope"))
      assert.strictEqual(b._tag, "TaskNotFound")
      assert.include(b.message, "nope")
      const c = yield* Effect.flip(Stream.runDrain(Medusa.watch("medusa_task_00000000-0000-4000-8000-000000000000")))
      assert.strictEqual(c._tag, "TaskNotFound")
    }).pipe(Effect.provide(testLayer())))

  it.effect("list filters by status, newest first, with limit and offset", () =>
    Effect.gen(function*() {
      const ids = yield* Effect.forEach([1, 2, 3], (n) =>
        Medusa.submit(fullRequest({ platforms: ["linkedin"], metadata: { linkedin: { text: `${n}` } } })))
      yield* Effect.forEach(ids, (id) =>
        Effect.either(Medusa.await(id)))
      const all = yield* Medusa.list()
      assert.deepStrictEqual(all.map((t) => t.id), [...ids].reverse())
      assert.deepStrictEqual((yield* Medusa.list({ limit: 1, offset: 1 })).map((t) => t.id), [ids[1]])
      assert.strictEqual((yield* Medusa.list({ status: "completed" })).length, 3)
      assert.strictEqual((yield* Medusa.list({ status: "failed" })).length, 0)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a defect in a platform fails the task instead of leaving it running", () =>
    Effect.gen(function*() {
      const id = yield* Medusa.submit(fullRequest({ platforms: ["linkedin"], metadata: { linkedin: { text: "x" } } }))
      const exit = yield* Effect.exit(Medusa.await(id))
      assert.ok(exit._tag === "Failure")
      const status = TaskStatus.toJSON(yield* Medusa.status(id))
      assert.strictEqual(status.status, "failed")
      assert.strictEqual(status.error_code, "internal_error")
    }).pipe(Effect.provide(testLayer({
      platforms: { linkedin: { fail: { at: "post", error: undefined as never } } }
    }))))
})

describe("post records", () => {
  const postable = (publishers: { readonly canFind: boolean }) =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const control = yield* TestPlatforms
      const engine = yield* Engine.makeEngine(
        store,
        yield* Engine.resolvePlatforms,
        { youtube: 1, vimeo: 1, facebook: 1, x: 1, linkedin: 1, threads: 1, mastodon: 1, bluesky: 1 }
      )
      const { media: file, request } = yield* Engine.validateRequest(
        fullRequest({ platforms: ["x"], metadata: { x: { text: "hello" } } }),
        engine.platforms
      )
      const task = Engine.makeTask(
        "medusa_task_11111111-1111-4111-8111-111111111111" as never,
        request,
        file,
        0
      )
      yield* store.insert(task)
      return { store, control, engine, task, publishers }
    })

  it.effect("an intent without done is resolved with find, never re-posted", () =>
    Effect.gen(function*() {
      const { control, engine, store, task } = yield* postable({ canFind: true })
      // First attempt: the post goes out, then (simulating a crash) only the intent is left.
      yield* Engine.postStep(engine, task.id, "x", [])
      yield* store.recordPostIntent(task.id, "x")
      const again = yield* Engine.postStep(engine, task.id, "x", [])
      const calls = (yield* control.callsTo("x")).map((c) => c.operation)
      assert.deepStrictEqual(calls.filter((c) => c !== "validate"), ["post", "find"])
      assert.strictEqual(again.publisher, "x")
      const record = yield* store.loadPostRecord(task.id, "x")
      assert.ok(Option.isSome(record) && record.value.state === "done")
    }).pipe(Effect.provide(testLayer())))

  it.effect("an intent the platform cannot confirm fails with PostOutcomeUnknown", () =>
    Effect.gen(function*() {
      const { control, engine, store, task } = yield* postable({ canFind: false })
      yield* store.recordPostIntent(task.id, "x")
      const error = yield* Effect.flip(Engine.postStep(engine, task.id, "x", []))
      assert.strictEqual(error._tag, "PostOutcomeUnknown")
      assert.include(error.message, "check the account")
      // Neither searched (it cannot be) nor posted again.
      assert.deepStrictEqual(
        (yield* control.callsTo("x")).map((c) => c.operation).filter((c) => c !== "validate"),
        []
      )
    }).pipe(Effect.provide(testLayer({ platforms: { x: { canFind: false } } }))))

  it.effect("a recorded video is not uploaded again", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const control = yield* TestPlatforms
      const engine = yield* Engine.makeEngine(store, yield* Engine.resolvePlatforms, {
        youtube: 1,
        vimeo: 1,
        facebook: 1,
        x: 1,
        linkedin: 1,
        threads: 1,
        mastodon: 1,
        bluesky: 1
      })
      const { media: file, request } = yield* Engine.validateRequest(
        fullRequest({ platforms: ["youtube"], metadata: { youtube: { title: "t" } } }),
        engine.platforms
      )
      const task = Engine.makeTask("medusa_task_22222222-2222-4222-8222-222222222222" as never, request, file, 0)
      yield* store.insert(task)
      const first = yield* Engine.uploadStep(engine, task.id, "youtube")
      const second = yield* Engine.uploadStep(engine, task.id, "youtube")
      assert.deepStrictEqual(second, first)
      const ops = (yield* control.callsTo("youtube")).map((c) => c.operation).filter((c) => c !== "validate")
      assert.deepStrictEqual(ops, ["upload", "afterUpload", "afterUpload"])
      assert.strictEqual(media.mp4.endsWith(".mp4"), true)
    }).pipe(Effect.provide(testLayer())))
})

describe("waits", () => {
  it("one wait per platform, replaced on a new wait, removed when that platform goes on", () => {
    const fb = Engine.withWait(undefined, "facebook", { reason: "rate limited", until: Date.UTC(2026, 10, 21, 14, 5) })
    const both = Engine.withWait(fb, "x", { reason: "post window used up", until: Date.UTC(2026, 10, 21, 14, 15) })
    assert.deepStrictEqual(both?.map((w) => [w.platform, w.reason, w.until]), [
      ["facebook", "rate limited", Date.UTC(2026, 10, 21, 14, 5)],
      ["x", "post window used up", Date.UTC(2026, 10, 21, 14, 15)]
    ])
    const again = Engine.withWait(both, "facebook", { reason: "rate limited", until: Date.UTC(2026, 10, 21, 15) })
    assert.deepStrictEqual(again?.map((w) => [w.platform, w.until]), [
      ["x", Date.UTC(2026, 10, 21, 14, 15)],
      ["facebook", Date.UTC(2026, 10, 21, 15)]
    ])
    assert.strictEqual(Engine.withWait(Engine.withWait(again, "facebook", undefined), "x", undefined), undefined)
  })
})
