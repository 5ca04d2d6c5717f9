/**
 * The Medusa contract: what a task does, whichever runner executes it (in
 * memory, embedded SQLite, the PostgreSQL cluster). Every runner's test file
 * calls `medusaContract` with a way to build its layer; the assertions are
 * the same. Timing is driven by the test platforms' gates and hooks
 * (`gated`, `started`, `release`), never by sleeps.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Medusa from "../../src/Medusa.js"
import { PlatformRejected, QuotaExceeded } from "../../src/PublishError.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import type { Task } from "../../src/Task.js"
import * as TaskStatus from "../../src/TaskStatus.js"
import { TaskStore } from "../../src/TaskStore.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"

/** Builds the runner under test over the given test platforms. */
export type MakeRunner = (
  platforms: TestPlatforms.Options,
  medusa?: Medusa.Options
) => Layer.Layer<Medusa.Medusa | TaskStore | TestPlatforms.TestPlatforms, unknown>

const quota = new QuotaExceeded({
  platform: "vimeo",
  reason: "quota_exceeded",
  status: 403,
  platformMessage: "Vimeo says: quota used up"
})

const blocked = new PlatformRejected({ platform: "facebook", reason: "blocked", platformMessage: "blocked by policy" })

/** Polls `check` (bounded) until it holds: for effects another process or fiber makes visible later. */
const eventually = <E, R>(what: string, check: Effect.Effect<boolean, E, R>) =>
  check.pipe(
    Effect.filterOrFail((ok) => ok, () => what),
    Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("30 seconds"))),
    Effect.orDieWith((e) => new Error(`not met within 30 s: ${String(e)}`))
  )

export const medusaContract = (
  runner: string,
  make: MakeRunner,
  mediaFile: () => string,
  options: {
    readonly timeout?: number
    /** The runner's waits follow `TestClock` (the in-memory runner): scheduling is tested without real time passing. */
    readonly testClock?: boolean
  } = {}
): void => {
  const request = (overrides: Partial<PublishRequestInput> = {}): PublishRequestInput => ({
    mediaFile: mediaFile(),
    platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
    metadata: {
      youtube: { title: "Launch" },
      vimeo: { title: "Launch" },
      facebook: { message: "Watch on YouTube: {youtube_url}" },
      x: { text: "Vimeo cut: {vimeo_url}" },
      linkedin: { text: "Launched today" }
    },
    ...overrides
  })
  /** A request for `platforms` only, with plain texts (no template needs a host that is not selected). */
  const only = (
    platforms: ReadonlyArray<"youtube" | "vimeo" | "facebook" | "x" | "linkedin">,
    overrides: Partial<PublishRequestInput> = {}
  ): PublishRequestInput => {
    const plain: Record<string, unknown> = {
      youtube: { title: "Launch" },
      vimeo: { title: "Launch" },
      facebook: { message: "On Facebook" },
      x: { text: "On X" },
      linkedin: { text: "On LinkedIn" }
    }
    return request({ platforms, metadata: Object.fromEntries(platforms.map((p) => [p, plain[p]])), ...overrides })
  }
  const posts = (control: TestPlatforms.Control, platform: "facebook" | "x" | "linkedin") =>
    Effect.map(control.callsTo(platform), (calls) => calls.filter((c) => c.operation === "post"))
  const timeout = options.timeout ?? 60_000

  describe(`Medusa contract: ${runner}`, { timeout }, () => {
    it.live("uploads, then posts with the links filled, and completes", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const task = yield* Medusa.publish(request())
        assert.strictEqual(task.state, "completed")
        assert.deepStrictEqual(task.history.map((h) => h.state), ["pending", "in_progress", "completed"])
        const status = TaskStatus.toJSON(task)
        const [fb] = yield* posts(control, "facebook")
        assert.strictEqual(
          (fb!.metadata as { message: string }).message,
          `Watch on YouTube: ${status.results!.youtube_url}`
        )
        const [x] = yield* posts(control, "x")
        assert.strictEqual((x!.metadata as { text: string }).text, `Vimeo cut: ${status.results!.vimeo_url}`)
        // Every post started after every upload's after-step.
        const calls = yield* control.calls
        const lastAfterUpload = calls.map((c) => c.operation).lastIndexOf("afterUpload")
        assert.ok(lastAfterUpload >= 0 && lastAfterUpload < calls.findIndex((c) => c.operation === "post"))
      }).pipe(Effect.provide(make({}))))

    it.live("fail-fast: a failed upload stops its sibling, nothing is posted, the failure is recorded", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const exit = yield* Effect.exit(Medusa.publish(request()))
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual((error as { _tag?: string } | undefined)?._tag, "QuotaExceeded")
        assert.isTrue(yield* control.wasInterrupted("youtube"))
        for (const p of ["facebook", "x", "linkedin"] as const) assert.deepStrictEqual(yield* posts(control, p), [])
        const [task] = yield* Medusa.list()
        const status = TaskStatus.toJSON(task!)
        assert.strictEqual(status.status, "failed")
        assert.strictEqual(status.failed_platform, "vimeo")
        assert.strictEqual(status.error_code, "quota_exceeded")
        assert.deepStrictEqual(status.skipped, ["facebook", "x", "linkedin"])
      }).pipe(Effect.provide(make({ youtube: { gated: true }, vimeo: { fail: { at: "upload", error: quota } } }))))

    it.live("fail-fast: a post waiting for its platform's permit when a sibling post fails is skipped", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        // LinkedIn allows one post at a time: task A holds it, task B's LinkedIn post waits for it.
        const a = yield* Medusa.submit(request({ platforms: ["linkedin"], metadata: { linkedin: { text: "a" } } }))
        yield* control.started("linkedin")
        const b = yield* Medusa.submit(request({
          platforms: ["facebook", "linkedin"],
          metadata: { facebook: { message: "b" }, linkedin: { text: "b" } }
        }))
        // Facebook fails at once; B ends without waiting for A's LinkedIn post.
        const error = yield* Effect.flip(Medusa.await(b))
        assert.strictEqual(error._tag, "PlatformRejected")
        yield* control.release("linkedin")
        assert.strictEqual((yield* Medusa.await(a)).state, "completed")
        assert.deepStrictEqual((yield* posts(control, "linkedin")).map((c) => c.taskId), [a])
        const status = TaskStatus.toJSON(yield* Medusa.status(b))
        assert.strictEqual(status.failed_platform, "facebook")
        assert.deepStrictEqual(status.skipped, ["linkedin"])
      }).pipe(Effect.provide(make(
        { facebook: { fail: { at: "post", error: blocked } }, linkedin: { gated: true } },
        { perPlatformConcurrency: { linkedin: 1 } }
      ))))

    it.live("fail-fast: a failed post fails the task; the post already in flight finishes and is reported", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const id = yield* Medusa.submit(only(["facebook", "x"]))
        yield* control.started("facebook")
        yield* control.started("x")
        // Facebook fails while X is in flight; X must finish.
        yield* control.release("facebook")
        yield* eventually("facebook's failure recorded", Effect.map(Medusa.status(id), (t) => t.failures.length > 0))
        yield* control.release("x")
        const error = yield* Effect.flip(Medusa.await(id))
        assert.strictEqual(error._tag, "PlatformRejected")
        const task = yield* Medusa.status(id)
        assert.deepStrictEqual(task.posts.map((p) => p.publisher), ["x"])
        assert.deepStrictEqual(task.skipped, [])
      }).pipe(
        Effect.provide(make({ facebook: { fail: { at: "post", error: blocked }, gated: true }, x: { gated: true } }))
      ))

    it.live("best-effort: a failed host skips only the posts that need it; every outcome is reported", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const error = yield* Effect.flip(Medusa.publish(request({ policy: "best-effort" })))
        assert.strictEqual(error._tag, "QuotaExceeded")
        const [task] = yield* Medusa.list()
        const status = TaskStatus.toJSON(task!)
        assert.strictEqual(status.status, "failed")
        assert.deepStrictEqual(status.skipped, ["x"])
        assert.ok(status.results!.youtube_url)
        assert.ok(status.results!.facebook_post_id && status.results!.linkedin_post_id)
        assert.deepStrictEqual(yield* posts(control, "x"), [])
      }).pipe(Effect.provide(make({ vimeo: { fail: { at: "upload", error: quota } } }))))

    it.live("a post whose answer was lost but which landed is adopted: one post, completed", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const task = yield* Medusa.publish(only(["x"]))
        assert.strictEqual(task.state, "completed")
        const made = yield* control.posts("x")
        assert.strictEqual(made.length, 1)
        assert.strictEqual(task.posts[0]!.postId, made[0]!.postId)
        assert.strictEqual((yield* posts(control, "x")).length, 1)
      }).pipe(Effect.provide(make({ x: { unknownOutcome: { landed: true }, settleTime: "30 seconds" } }))))

    it.live("an unknown post outcome with no post: the settle time waited out, then exactly one post", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const started = yield* Clock.currentTimeMillis
        const task = yield* Medusa.publish(only(["x"]))
        assert.strictEqual(task.state, "completed")
        // Two requests, one post: the first made none, which the search after the settle time showed.
        assert.strictEqual((yield* posts(control, "x")).length, 2)
        const made = yield* control.posts("x")
        assert.strictEqual(made.length, 1)
        assert.strictEqual(task.posts[0]!.postId, made[0]!.postId)
        const calls = (yield* control.callsTo("x")).filter((c) => c.operation !== "validate")
        assert.deepStrictEqual(calls.map((c) => c.operation), ["post", "find", "find", "post"])
        assert.isAtLeast(calls[3]!.at - started, 300)
      }).pipe(Effect.provide(make({ x: { unknownOutcome: { landed: false }, settleTime: "300 millis" } }))))

    it.live("cancel while running: the upload stops and is abandoned, nothing is posted, the task ends cancelled", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const id = yield* Medusa.submit(only(["youtube", "facebook"]))
        yield* control.started("youtube")
        // The upload saved its session (it holds something on the platform) and goes on for a minute.
        const store = yield* TaskStore
        yield* eventually("the upload session saved", Effect.map(store.loadUploadSession(id, "youtube"), Option.isSome))
        const cancelled = yield* Medusa.cancel(id)
        assert.strictEqual(cancelled.state, "cancelled")
        yield* control.interrupted("youtube")
        const error = yield* Effect.flip(Medusa.await(id))
        assert.strictEqual(error._tag, "TaskCancelled")
        assert.deepStrictEqual(yield* posts(control, "facebook"), [])
        const task = yield* Medusa.status(id)
        assert.deepStrictEqual(task.history.map((h) => h.state), ["pending", "in_progress", "cancelled"])
        // What the unfinished upload created on the platform goes (Vimeo deletes its video): once.
        const abandons = Effect.map(
          control.callsTo("youtube"),
          (calls) => calls.filter((c) => c.operation === "abandon")
        )
        yield* eventually("the upload abandoned", Effect.map(abandons, (a) => a.length > 0))
        assert.deepStrictEqual((yield* abandons).map((c) => c.metadata), [`test://youtube/upload/${id}`])
        // What it did is kept on the task, and its history shows it.
        yield* eventually(
          "the abandon kept on the task",
          Effect.map(Medusa.status(id), (t) => (t.abandoned ?? []).some((a) => a.platform === "youtube"))
        )
        const shown = TaskStatus.toJSONWithHistory(yield* Medusa.status(id), yield* store.history(id)).history ?? []
        assert.deepStrictEqual(
          shown.filter((h) => h.event === "abandoned").map((h) => [h.platform, h.message]),
          [["youtube", "YouTube: abandoned"]]
        )
      }).pipe(Effect.provide(make({ youtube: { delay: "1 minute", abandons: true } }))))

    it.live("cancel while pending (scheduled): it never runs", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const now = yield* Clock.currentTimeMillis
        const runAt = new Date(now + 60 * 60_000).toISOString()
        const id = yield* Medusa.submit(
          request({ platforms: ["linkedin"], metadata: { linkedin: { text: "t" } }, runAt })
        )
        assert.strictEqual((yield* Medusa.status(id)).state, "pending")
        assert.strictEqual((yield* Medusa.cancel(id)).state, "cancelled")
        assert.deepStrictEqual((yield* Medusa.status(id)).history.map((h) => h.state), ["pending", "cancelled"])
        assert.deepStrictEqual(
          yield* control.callsTo("linkedin").pipe(
            Effect.map((calls) => calls.filter((c) => c.operation !== "validate"))
          ),
          []
        )
      }).pipe(Effect.provide(make({}))))

    it.live("runAt: the task stays pending until then, and runs after", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const now = yield* Clock.currentTimeMillis
        const runAt = now + 1500
        const id = yield* Medusa.submit(
          request({
            platforms: ["linkedin"],
            metadata: { linkedin: { text: "t" } },
            runAt: new Date(runAt).toISOString()
          })
        )
        assert.strictEqual((yield* Medusa.status(id)).state, "pending")
        const task = yield* Medusa.await(id)
        assert.strictEqual(task.state, "completed")
        const [post] = yield* posts(control, "linkedin")
        assert.ok(post!.at >= runAt, `posted at ${post!.at}, before runAt ${runAt}`)
      }).pipe(Effect.provide(make({}))))

    it.live("watch: every change in order, from pending to the final state, then the stream ends", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const id = yield* Medusa.submit(only(["youtube", "facebook"]))
        const seen = yield* Medusa.watch(id).pipe(Stream.runCollect, Effect.fork)
        yield* control.started("youtube")
        yield* control.release("youtube")
        const tasks: ReadonlyArray<Task> = Chunk.toReadonlyArray(yield* Fiber.join(seen))
        const states = tasks.map((t) => t.state)
        // Changes arrive in order: the state never goes back, and updatedAt never decreases.
        assert.strictEqual(states[states.length - 1], "completed")
        const order = ["pending", "in_progress", "completed"]
        for (let i = 1; i < states.length; i++) {
          assert.ok(order.indexOf(states[i]!) >= order.indexOf(states[i - 1]!), states.join(" → "))
          assert.ok(tasks[i]!.updatedAt >= tasks[i - 1]!.updatedAt)
        }
        assert.ok(tasks.some((t) => t.message?.startsWith("Posting to Facebook")), "the posting step is seen")
      }).pipe(Effect.provide(make({ youtube: { gated: true } }))))

    it.live("retention: finished tasks are pruned", () =>
      Effect.gen(function*() {
        const id = yield* Effect.map(
          Medusa.publish(request({ platforms: ["linkedin"], metadata: { linkedin: { text: "t" } } })),
          (t) => t.id
        )
        yield* eventually(
          "the finished task pruned",
          Effect.map(Effect.either(Medusa.status(id)), (r) => r._tag === "Left" && r.left._tag === "TaskNotFound")
        )
      }).pipe(Effect.provide(make({}, { retention: "200 millis", pruneInterval: "100 millis" }))))

    // --- scheduling: the wait before start (Orchestrate.untilDue) ---------------

    it.live("reschedule: refused for a task not waiting for its time, and for a time in the past", () =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const done = yield* Medusa.publish(only(["linkedin"]))
        const running = yield* Effect.flip(Medusa.reschedule(done.id, new Date(now + 60_000).toISOString()))
        assert.strictEqual(running._tag, "TaskNotReady")
        assert.include(running.message, done.id)
        assert.include(running.message, "completed")
        const id = yield* Medusa.submit(only(["linkedin"], { runAt: new Date(now + 3_600_000).toISOString() }))
        const past = yield* Effect.flip(Medusa.reschedule(id, new Date(now - 3_600_000).toISOString()))
        assert.strictEqual(past._tag, "InvalidRequest")
        assert.include(past.message, "runAt")
        assert.include(past.message, "in the past")
        assert.strictEqual((yield* Medusa.status(id)).runAt, now + 3_600_000)
        yield* Medusa.cancel(id)
      }).pipe(Effect.provide(make({}))))

    if (options.testClock === true) {
      /** Waits until some fiber sleeps until `at` (the scheduled task's wait), then lets the clock pass it. */
      const sleepingUntil = (at: number) =>
        Effect.yieldNow().pipe(
          Effect.zipRight(TestClock.sleeps()),
          Effect.filterOrFail((sleeps) => Chunk.toReadonlyArray(sleeps).includes(at), () => "not yet"),
          Effect.retry(Schedule.recurs(10_000)),
          Effect.orDieWith(() => new Error(`nothing waits until ${new Date(at).toISOString()}`))
        )
      it.effect("scheduled: pending until runAt; a reschedule moves the start (TestClock)", () =>
        Effect.gen(function*() {
          const control = yield* TestPlatforms.TestPlatforms
          const hour = 3_600_000
          const t0 = yield* Clock.currentTimeMillis
          const id = yield* Medusa.submit(only(["linkedin"], { runAt: new Date(t0 + hour).toISOString() }))
          yield* sleepingUntil(t0 + hour)
          assert.strictEqual(TaskStatus.toJSON(yield* Medusa.status(id)).run_at, new Date(t0 + hour).toISOString())
          const moved = yield* Medusa.reschedule(id, new Date(t0 + 2 * hour).toISOString())
          assert.strictEqual(moved.runAt, t0 + 2 * hour)
          yield* sleepingUntil(t0 + 2 * hour)
          yield* TestClock.adjust(hour + 60_000)
          assert.strictEqual((yield* Medusa.status(id)).state, "pending")
          assert.deepStrictEqual(yield* posts(control, "linkedin"), [])
          yield* TestClock.adjust(hour)
          const task = yield* Medusa.await(id)
          assert.strictEqual(task.state, "completed")
          const [post] = yield* posts(control, "linkedin")
          assert.isAtLeast(post!.at, t0 + 2 * hour)
        }).pipe(Effect.provide(make({}))))
    } else {
      it.live("reschedule: a scheduled task moved earlier starts at the new time", () =>
        Effect.gen(function*() {
          const control = yield* TestPlatforms.TestPlatforms
          const now = yield* Clock.currentTimeMillis
          const id = yield* Medusa.submit(only(["linkedin"], { runAt: new Date(now + 3_600_000).toISOString() }))
          const runAt = (yield* Clock.currentTimeMillis) + 1500
          const moved = yield* Medusa.reschedule(id, new Date(runAt).toISOString())
          assert.strictEqual(TaskStatus.toJSON(moved).run_at, new Date(runAt).toISOString())
          const task = yield* Medusa.await(id)
          assert.strictEqual(task.state, "completed")
          const [post] = yield* posts(control, "linkedin")
          assert.isAtLeast(post!.at, runAt)
        }).pipe(Effect.provide(make({}))))
    }

    // --- batches --------------------------------------------------------------

    it.live("publishBatch: every row validated first (all problems, nothing stored), then one batch id", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const defaults = { platforms: ["linkedin" as const], metadata: { linkedin: { text: "Episode out" } } }
        const bad = yield* Effect.flip(Medusa.publishBatch({
          defaults,
          videos: [
            { mediaFile: mediaFile() },
            { mediaFile: mediaFile(), metadata: { linkedin: { text: 42 as unknown as string } } },
            { mediaFile: mediaFile(), platforms: ["linkedin", "tiktok" as "x"] }
          ]
        }))
        assert.strictEqual(bad._tag, "InvalidBatch")
        assert.deepStrictEqual(bad._tag === "InvalidBatch" ? bad.rows.map((r) => r.row) : [], [2, 3])
        assert.include(bad.message, "row 2: metadata.linkedin.text")
        assert.include(bad.message, "row 3: platforms[1]")
        assert.deepStrictEqual(yield* Medusa.list(), [])

        const batch = yield* Medusa.publishBatch({
          defaults,
          videos: [{ mediaFile: mediaFile() }, { mediaFile: mediaFile(), metadata: { linkedin: { text: "Two" } } }]
        })
        assert.strictEqual(batch.tasks.length, 2)
        for (const task of batch.tasks) {
          assert.strictEqual(task.batchId, batch.batchId)
          assert.strictEqual((yield* Medusa.await(task.id)).state, "completed")
          assert.strictEqual(TaskStatus.toJSON(yield* Medusa.status(task.id)).batch_id, batch.batchId)
        }
        const listed = yield* Medusa.list({ batchId: batch.batchId })
        assert.deepStrictEqual(listed.map((t) => t.id).sort(), batch.tasks.map((t) => t.id).sort())
        const texts = (yield* posts(control, "linkedin")).map((p) => (p.metadata as { text: string }).text).sort()
        assert.deepStrictEqual(texts, ["Episode out", "Two"])
      }).pipe(Effect.provide(make({}))))

    // --- quotas planned, not hit ----------------------------------------------

    it.live("quota plan: a task past today's allowance is scheduled after the reset, before anything is sent", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const day = 24 * 3_600_000
        const dry = yield* Medusa.validate(only(["youtube"]))
        const resetsAt = dry.quota[0]!.resetsAt
        assert.deepStrictEqual(dry.quota.map((q) => [q.platform, q.bucket, q.used, q.limit, q.fits]), [
          ["youtube", "uploads", 0, 1, true]
        ])
        const batch = yield* Medusa.publishBatch({
          defaults: only(["youtube"]),
          videos: [{}, {}, {}]
        })
        const [first, second, third] = batch.tasks
        assert.isUndefined(first!.runAt)
        assert.strictEqual(second!.runAt, resetsAt)
        assert.strictEqual(third!.runAt, resetsAt + day)
        const waiting = TaskStatus.toJSON(yield* Medusa.status(second!.id))
        assert.strictEqual(waiting.status, "pending")
        assert.strictEqual(
          waiting.message,
          `waiting for YouTube quota: resets ${new Date(resetsAt).toISOString().slice(11, 16)} UTC`
        )
        assert.deepStrictEqual(waiting.waits, [
          { platform: "youtube", reason: "waiting for YouTube quota", until: new Date(resetsAt).toISOString() }
        ])
        // A task planned now finds the running one and the two waiting ones counted: it goes after the third.
        const later = yield* Medusa.validate(only(["youtube"]))
        assert.strictEqual(later.runAt, resetsAt + 2 * day)
        yield* control.release("youtube")
        assert.strictEqual((yield* Medusa.await(first!.id)).state, "completed")
        const uploads = (yield* control.callsTo("youtube")).filter((c) => c.operation === "upload")
        assert.strictEqual(uploads.length, 1)
        yield* Medusa.cancel(second!.id)
        yield* Medusa.cancel(third!.id)
      }).pipe(
        Effect.provide(
          make({ youtube: { gated: true, allowance: { used: 0, limit: 1, resetsAt: Date.now() + 3_600_000 } } })
        )
      ))

    // --- taking a publish back ------------------------------------------------

    it.live("retract: refused while running or when nothing was made; deletes, records, and is idempotent", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const calls = (operation: "retract" | "remove") =>
          Effect.map(control.calls, (all) => all.filter((c) => c.operation === operation).map((c) => c.platform))
        const running = yield* Medusa.submit(only(["youtube", "x"]))
        yield* control.started("youtube")
        const early = yield* Effect.flip(Medusa.retract(running))
        assert.strictEqual(early._tag, "TaskNotReady")
        assert.include(early.message, running)
        assert.include(early.message, "still in_progress")
        yield* control.release("youtube")
        yield* Medusa.await(running)

        const uploadOnly = yield* Medusa.submit(only(["youtube"]))
        yield* control.release("youtube")
        yield* Medusa.await(uploadOnly)
        const nothing = yield* Effect.flip(Medusa.retract(uploadOnly))
        assert.strictEqual(nothing._tag, "TaskNotReady")
        assert.include(nothing.message, "made nothing")

        const task = yield* Medusa.retract(running)
        assert.deepStrictEqual(task.retracted?.map((r) => [r.platform, r.kind]), [["x", "post"]])
        assert.deepStrictEqual(yield* calls("retract"), ["x"])
        // Again: nothing is asked twice.
        yield* Medusa.retract(running)
        assert.deepStrictEqual(yield* calls("retract"), ["x"])
        const withVideo = yield* Medusa.retract(running, { videos: true })
        assert.deepStrictEqual(yield* calls("remove"), ["youtube"])
        const status = TaskStatus.toJSON(withVideo)
        assert.deepStrictEqual(status.retracted?.map((r) => `${r.platform}/${r.kind}`), ["x/post", "youtube/video"])
        assert.strictEqual(status.status, "completed")
      }).pipe(Effect.provide(make({ youtube: { gated: true } }))))

    it.live("all-or-nothing: a failed post takes back the posts that went out; the task reports both", () =>
      Effect.gen(function*() {
        const control = yield* TestPlatforms.TestPlatforms
        const exit = yield* Effect.exit(
          Medusa.publish(only(["x", "linkedin", "facebook"], { policy: "all-or-nothing" }))
        )
        assert.isTrue(Exit.isFailure(exit))
        const [task] = yield* Medusa.list()
        assert.strictEqual(task!.state, "failed")
        assert.strictEqual(task!.failures[0]!.platform, "facebook")
        assert.deepStrictEqual(task!.posts.map((p) => p.publisher).sort(), ["linkedin", "x"])
        assert.deepStrictEqual(task!.retracted?.map((r) => r.platform).sort(), ["linkedin", "x"])
        const retracted = (yield* control.calls).filter((c) => c.operation === "retract").map((c) => c.platform)
        assert.deepStrictEqual(retracted.sort(), ["linkedin", "x"])
        const status = TaskStatus.toJSON(task!)
        assert.isDefined(status.results!.x_post_id)
        assert.strictEqual(status.retracted?.length, 2)
      }).pipe(Effect.provide(make({ facebook: { delay: "300 millis", fail: { at: "post", error: blocked } } }))))
  })
}
