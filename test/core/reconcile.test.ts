/**
 * The test double keeps the reconciliation rule of the real publishers: after
 * a crash inside a post, `find` adopts only a post with the same text dated
 * after the intent (less the clock-skew allowance). The real publishers
 * prove it against the sandbox in the publisher contract suite.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Engine from "../../src/internal/task/engine.js"
import { findClockSkewMillis } from "../../src/Platform.js"
import { TaskStore } from "../../src/TaskStore.js"
import * as Template from "../../src/Template.js"
import { TestPlatforms } from "../../src/TestPlatforms.js"
import { fullRequest, testLayer } from "./helpers.js"

// The TestClock starts at 0: older posts are dated before it.
const intentWithoutDone = Effect.gen(function*() {
  const store = yield* TaskStore
  const control = yield* TestPlatforms
  const engine = yield* Engine.makeEngine(
    store,
    yield* Engine.resolvePlatforms,
    { youtube: 1, vimeo: 1, facebook: 1, x: 1, linkedin: 1, threads: 1, mastodon: 1, bluesky: 1 }
  )
  const { media, request } = yield* Engine.validateRequest(
    fullRequest({ platforms: ["x"], metadata: { x: { text: "Launch day" } } }),
    engine.platforms
  )
  const task = Engine.makeTask("medusa_task_22222222-2222-4222-8222-222222222222" as never, request, media, 0)
  yield* store.insert(task)
  // What the post carries once filled: what an identical post on the platform has.
  const metadata = Template.fillMetadata("x", request.metadata.x!, {})
  return { control, engine, store, task, metadata }
})

describe("reconciliation with the test platforms", () => {
  it.effect("an identical post older than the intent is not adopted: the post is made once settled", () =>
    Effect.gen(function*() {
      const { control, engine, store, task, metadata } = yield* intentWithoutDone
      const older = yield* control.seedPost("x", metadata, -findClockSkewMillis - 1)
      yield* store.recordPostIntent(task.id, "x")
      // The test platform's settle time is 0: a search that finds nothing is authoritative at once.
      const made = yield* Engine.postStep(engine, task.id, "x", [])
      assert.notStrictEqual(made.postId, older.postId)
      const operations = (yield* control.callsTo("x")).map((c) => c.operation).filter((o) => o !== "validate")
      assert.deepStrictEqual(operations, ["find", "post"])
    }).pipe(Effect.provide(testLayer({ only: ["x"] }))))

  it.effect("the task's own post is adopted beside an older identical one, however late the resume", () =>
    Effect.gen(function*() {
      const { control, engine, store, task, metadata } = yield* intentWithoutDone
      const older = yield* control.seedPost("x", metadata, -86_400_000)
      // The post goes out and is recorded; then (a crash) only the intent is left.
      const sent = yield* Engine.postStep(engine, task.id, "x", [])
      yield* store.recordPostIntent(task.id, "x")
      yield* TestClock.adjust("1 hour")
      const adopted = yield* Engine.postStep(engine, task.id, "x", [])
      assert.strictEqual(adopted.postId, sent.postId)
      assert.notStrictEqual(adopted.postId, older.postId)
      const record = yield* store.loadPostRecord(task.id, "x")
      assert.ok(Option.isSome(record) && record.value.state === "done")
    }).pipe(Effect.provide(testLayer({ only: ["x"] }))))
})
