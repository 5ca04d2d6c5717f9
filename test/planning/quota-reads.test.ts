/**
 * The quota plan reads each counted platform's usage once per plan, however
 * many tasks already wait in the store (a submit to a busy server used to
 * read YouTube's ledger file once per waiting task), and still counts every
 * waiting task in the window it will run in. A plan for tasks that upload
 * to no counted host reads nothing and lists nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as QuotaPlan from "../../src/internal/planning/quota.js"
import * as Engine from "../../src/internal/task/engine.js"
import type { Allowance, Host } from "../../src/Platform.js"
import { MediaFile } from "../../src/Platform.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import type { Task } from "../../src/Task.js"
import * as TaskId from "../../src/TaskId.js"
import type { ListOptions } from "../../src/TaskStore.js"

const now = Date.parse("2026-12-06T03:00:00Z")
const resetsAt = Date.parse("2026-12-06T08:00:00Z")

const task = (platforms: ReadonlyArray<string>): Task =>
  Engine.makeTask(
    TaskId.TaskId.make(`medusa_task_${crypto.randomUUID()}`),
    Schema.decodeUnknownSync(PublishRequest)({
      mediaFile: "/tmp/v.mp4",
      platforms,
      metadata: Object.fromEntries(platforms.map((p) => [p, p === "x" ? { text: "t" } : { title: "t" }]))
    }),
    new MediaFile({ path: "/tmp/v.mp4", name: "v.mp4", size: 10, mimeType: "video/mp4" }),
    now
  )

/** A host whose allowance (5 uploads a day, 1 used) counts how often it is read. */
const countingHost = () => {
  let reads = 0
  const allowance: Allowance = {
    bucket: "uploads",
    used: 1,
    limit: 5,
    needs: 1,
    resetsAt,
    windowMillis: 24 * 3_600_000
  }
  const host = {
    allowances: Effect.sync(() => {
      reads++
      return () => [allowance]
    })
  } as unknown as Host<unknown>
  return { host, reads: () => reads }
}

const listOf = (waiting: ReadonlyArray<Task>) => {
  let calls = 0
  const list = (options?: ListOptions) =>
    Effect.sync(() => {
      calls++
      return waiting.filter((t) => options?.status === undefined || t.state === options.status)
    })
  return { list, calls: () => calls }
}

describe("quota plan", () => {
  it.effect("reads a host's usage once per plan, with 20 tasks waiting, and counts every one of them", () =>
    Effect.gen(function*() {
      const { host, reads } = countingHost()
      const waiting = Array.from({ length: 20 }, () => task(["youtube"]))
      const { list } = listOf(waiting)
      const planned = yield* QuotaPlan.plan(
        { hosts: { youtube: host }, publishers: {} },
        list,
        [task(["youtube"])],
        now
      )
      assert.strictEqual(reads(), 1)
      // 1 used + the 20 waiting (unscheduled: they spend today): the new task waits for the reset.
      assert.deepStrictEqual(planned.checks[0]!.map((c) => [c.used, c.limit, c.fits]), [[21, 5, false]])
      assert.strictEqual(planned.tasks[0]!.runAt, resetsAt)
    }))

  it.effect("a plan of tasks without a counted host reads no usage and lists no store", () =>
    Effect.gen(function*() {
      const { host, reads } = countingHost()
      const { calls, list } = listOf([task(["youtube"])])
      const planned = yield* QuotaPlan.plan({ hosts: { youtube: host }, publishers: {} }, list, [task(["x"])], now)
      assert.strictEqual(reads(), 0)
      assert.strictEqual(calls(), 0)
      assert.isUndefined(planned.tasks[0]!.runAt)
    }))
})
