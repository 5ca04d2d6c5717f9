import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as fc from "fast-check"
import { makeUploadRetryPolicy, parseRetryAfter, Transient } from "../../src/internal/http/resumable.js"
import { tagsLength } from "../../src/platforms/youtube/internal/metadata.js"
import { nextPacificMidnight, pacificDay } from "../../src/platforms/youtube/internal/quota.js"

describe("upload retry policy", () => {
  it.effect("waits at least the server's Retry-After", () =>
    Effect.gen(function*() {
      const driver = yield* Schedule.driver(makeUploadRetryPolicy({ baseDelay: "10 millis", maxRetries: 3 }))
      const fiber = yield* Effect.fork(
        driver.next(new Transient({ reason: "server_error", status: 503, retryAfterMillis: 30_000, description: "t" }))
      )
      yield* TestClock.adjust("29 seconds")
      assert.isNull(yield* Fiber.poll(fiber).pipe(Effect.map((o) => o._tag === "None" ? null : o)))
      yield* TestClock.adjust("1 second")
      const done = yield* Fiber.join(fiber).pipe(Effect.either)
      assert.strictEqual(done._tag, "Right")
    }))

  it.effect("backs off exponentially (jittered, capped) and gives up after maxRetries", () =>
    Effect.gen(function*() {
      const driver = yield* Schedule.driver(
        makeUploadRetryPolicy({ baseDelay: "1 second", maxDelay: "4 seconds", maxRetries: 3 })
      )
      const failure = new Transient({ reason: "transport", description: "t" })
      for (const expected of [1000, 2000, 4000]) {
        const fiber = yield* Effect.fork(driver.next(failure))
        // Jitter is within [0.8, 1.2] of the delay; the cap applies before jitter.
        yield* TestClock.adjust(expected * 0.79)
        assert.isTrue((yield* Fiber.poll(fiber))._tag === "None", `not before ${expected}`)
        yield* TestClock.adjust(expected * 0.42)
        assert.strictEqual((yield* Fiber.join(fiber).pipe(Effect.either))._tag, "Right")
      }
      const last = yield* driver.next(failure).pipe(Effect.either)
      assert.strictEqual(last._tag, "Left", "no fourth retry")
    }))

  it("parses Retry-After as seconds or as an HTTP date", () => {
    assert.strictEqual(parseRetryAfter("7", 0), 7000)
    assert.strictEqual(parseRetryAfter(new Date(60_000).toUTCString(), 0), 60_000)
    assert.isUndefined(parseRetryAfter("soon", 0))
    assert.isUndefined(parseRetryAfter(undefined, 0))
  })
})

describe("quota day", () => {
  it("resets at midnight Pacific, DST included", () => {
    // 2026-11-21 20:00 UTC = 12:00 PST → next reset 2026-11-22 08:00 UTC.
    assert.strictEqual(
      new Date(nextPacificMidnight(Date.UTC(2026, 10, 21, 20))).toISOString(),
      "2026-11-22T08:00:00.000Z"
    )
    // Summer (PDT, UTC-7): 2026-07-01 12:00 UTC → 2026-07-02 07:00 UTC.
    assert.strictEqual(
      new Date(nextPacificMidnight(Date.UTC(2026, 6, 1, 12))).toISOString(),
      "2026-07-02T07:00:00.000Z"
    )
    // The night DST ends (2026-11-01): 2026-10-31 20:00 UTC (13:00 PDT) → 2026-11-01 07:00 UTC (still PDT at midnight).
    assert.strictEqual(
      new Date(nextPacificMidnight(Date.UTC(2026, 9, 31, 20))).toISOString(),
      "2026-11-01T07:00:00.000Z"
    )
  })

  it("the next reset is always the start of the next Pacific day", () =>
    fc.assert(fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }), (t) => {
      const reset = nextPacificMidnight(t)
      return reset > t && reset - t <= 25 * 3_600_000 && pacificDay(reset) !== pacificDay(t) &&
        pacificDay(reset - 1) === pacificDay(t)
    })))
})

describe("YouTube tag length", () => {
  it("counts commas and quotes around tags with spaces, as YouTube does", () => {
    assert.strictEqual(tagsLength(["Foo Baz"]), 9)
    assert.strictEqual(tagsLength(["Foo-Baz"]), 7)
    assert.strictEqual(tagsLength(["a", "b c"]), 1 + 1 + 5)
    assert.strictEqual(tagsLength([]), 0)
  })
})
