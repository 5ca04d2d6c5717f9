/**
 * The quota plan against allowances that reset at different times: a daily
 * limit (midnight UTC) and a monthly cap (a day of the month) held by one
 * task each, and together. The allowances are the real publishers' (the
 * ledger behind `PostLimit`, in memory); the plan is the one `submit`,
 * `validate` and `publishBatch` run.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as QuotaPlan from "../../src/internal/planning/quota.js"
import * as Ledger from "../../src/internal/quota/ledger.js"
import * as PostLimit from "../../src/internal/quota/posts.js"
import type { ResolvedPlatforms } from "../../src/internal/request/validation.js"
import * as Engine from "../../src/internal/task/engine.js"
import { MediaFile, type Publisher } from "../../src/Platform.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import type { Task } from "../../src/Task.js"
import * as TaskId from "../../src/TaskId.js"

const now = Date.parse("2026-11-21T12:00:00Z")
const tomorrow = Date.parse("2026-11-22T00:00:00Z")
const nextMonth = Date.parse("2026-12-01T00:00:00Z")
const media = new MediaFile({ path: "/tmp/v.mp4", name: "v.mp4", size: 10, mimeType: "video/mp4" })

const task = (platforms: ReadonlyArray<"linkedin" | "x">): Task =>
  Engine.makeTask(
    TaskId.TaskId.make(`medusa_task_${crypto.randomUUID()}`),
    Schema.decodeUnknownSync(PublishRequest)({
      mediaFile: media.path,
      platforms,
      metadata: Object.fromEntries(platforms.map((p) => [p, { text: "t" }]))
    }),
    media,
    now
  )

/** LinkedIn (2 a UTC day, 1 used) and X (1 a month from the 1st, `xUsed` used). */
const setup = (xUsed: number) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(now)
    const linkedin = yield* PostLimit.make({
      file: undefined,
      key: "urn:li:person:a",
      limit: 2,
      window: Ledger.dailyUtc,
      windowMillis: 24 * 3_600_000,
      waitReason: "LinkedIn daily limit",
      what: "ledger"
    })
    const x = yield* PostLimit.make({
      file: undefined,
      key: "app",
      limit: 1,
      window: Ledger.monthlyUtc(1),
      waitReason: "X monthly post cap",
      what: "ledger"
    })
    yield* linkedin.count
    for (let i = 0; i < xUsed; i++) yield* x.count
    const publisher = (limit: PostLimit.PostLimit) =>
      ({ allowances: Effect.map(limit.allowances, (a) => () => a) }) as unknown as Publisher<any>
    const platforms: ResolvedPlatforms = { hosts: {}, publishers: { linkedin: publisher(linkedin), x: publisher(x) } }
    const plan = (tasks: ReadonlyArray<Task>) =>
      QuotaPlan.plan(platforms, () => Effect.succeed([]), tasks, now).pipe(Effect.map((p) => p.tasks))
    return plan
  })

describe("quota plan across allowances with different resets", () => {
  it.effect("LinkedIn holds a task until midnight UTC; X's monthly cap is not in its way", () =>
    Effect.gen(function*() {
      const plan = yield* setup(0)
      const [first, second] = yield* plan([task(["linkedin"]), task(["linkedin", "x"])])
      assert.isUndefined(first!.runAt)
      // LinkedIn is full today; X has room this month: tomorrow, not the 1st of next month.
      assert.strictEqual(second!.runAt, tomorrow)
      assert.strictEqual(second!.message, "waiting for LinkedIn daily limit: resets 00:00 UTC")
      assert.deepStrictEqual(second!.waits?.map((w) => [w.platform, w.reason, w.until]), [
        ["linkedin", "waiting for LinkedIn daily limit", tomorrow]
      ])
    }))

  it.effect("X's cap used up holds a task until the month's reset, its date in the message", () =>
    Effect.gen(function*() {
      const plan = yield* setup(1)
      const [only, both] = yield* plan([task(["x"]), task(["linkedin", "x"])])
      assert.strictEqual(only!.runAt, nextMonth)
      assert.strictEqual(only!.message, "waiting for X monthly post cap: resets 2026-12-01 00:00 UTC")
      // The next month's one post is taken by the first task: the second waits a month more.
      assert.strictEqual(both!.runAt, Date.parse("2027-01-01T00:00:00Z"))
      assert.strictEqual(both!.waits?.[0]?.platform, "x")
    }))
})
