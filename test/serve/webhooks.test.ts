import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as path from "node:path"
import { Webhook } from "standardwebhooks"
import * as Durable from "../../src/Durable.js"
import * as Medusa from "../../src/Medusa.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import * as SqlTaskStore from "../../src/SqlTaskStore.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import * as Webhooks from "../../src/Webhooks.js"
import { captureLogs } from "../core/helpers.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"
import { type Received, startReceiver } from "./receiver.js"

// A fixed secret, also the canary: neither it nor its key bytes may show up anywhere.
const secretText = "whsec_" + Buffer.from("medusa-canary-secret-0123456789abcdef").toString("base64")
const secret = Redacted.make(secretText)
const keyBase64 = secretText.slice("whsec_".length)

const request = (mediaFile: string): PublishRequestInput => ({
  mediaFile,
  platforms: ["youtube", "facebook"],
  metadata: {
    youtube: { title: "Launch" },
    facebook: { message: "Watch {youtube_url}" }
  }
})

/** Verifies a request with the `standardwebhooks` package; returns the parsed body. */
const verify = (r: Received): { type: string; timestamp: string; data: Record<string, unknown> } =>
  new Webhook(secretText).verify(r.body, {
    "webhook-id": r.headers["webhook-id"]!,
    "webhook-timestamp": r.headers["webhook-timestamp"]!,
    "webhook-signature": r.headers["webhook-signature"]!
  }) as { type: string; timestamp: string; data: Record<string, unknown> }

const fast = Schedule.fromDelays("100 millis", "100 millis", "100 millis", "100 millis")

const receiverResource = (answer?: Parameters<typeof startReceiver>[0]) =>
  Effect.acquireRelease(Effect.promise(() => startReceiver(answer)), (r) => Effect.promise(r.close))

/** Polls `f` until it holds (bounded). */
const eventually = <A, E, R>(f: Effect.Effect<A, E, R>, ok: (a: A) => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      const a = yield* f
      if (ok(a)) return a
      yield* Effect.sleep("25 millis")
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

describe("Webhooks", () => {
  it("signs as the standardwebhooks package verifies", () => {
    const body = JSON.stringify({ type: "task.completed", timestamp: new Date().toISOString(), data: { a: 1 } })
    const ts = Math.floor(Date.now() / 1000)
    const signature = Webhooks.sign(secret, "msg_1", ts, body)
    assert.match(signature, /^v1,[A-Za-z0-9+/]+=*$/)
    const ok = new Webhook(secretText).verify(body, {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(ts),
      "webhook-signature": signature
    })
    assert.deepStrictEqual(ok, JSON.parse(body))
    assert.throws(() =>
      new Webhook(secretText).verify(body + " ", {
        "webhook-id": "msg_1",
        "webhook-timestamp": String(ts),
        "webhook-signature": signature
      })
    )
  })

  it.effect("retrySchedule follows the specification's delays with jitter, then ends", () =>
    Effect.gen(function*() {
      const expected = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400].map((s) => s * 1000)
      for (let attempts = 1; attempts <= expected.length; attempts++) {
        const delay = yield* Webhooks.delayAfter(Webhooks.retrySchedule, attempts)
        assert.isTrue(Option.isSome(delay), `a delay after ${attempts} attempts`)
        const d = Option.getOrThrow(delay)
        const base = expected[attempts - 1]!
        assert.isTrue(d >= base * 0.8 && d <= base * 1.2, `after ${attempts}: ${d} within ±20% of ${base}`)
      }
      assert.isTrue(Option.isNone(yield* Webhooks.delayAfter(Webhooks.retrySchedule, expected.length + 1)))
    }))

  it.live("delivers every event of a task, each signed, in order", () =>
    Effect.gen(function*() {
      const receiver = yield* receiverResource()
      const dir = tempDir("medusa-webhooks-")
      const layer = Webhooks.layer({
        endpoints: [{ url: receiver.url, secret, events: Webhooks.eventTypes }],
        pollInterval: "50 millis"
      }).pipe(
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.provideMerge(Medusa.layerMemory()),
        Layer.provide(TestPlatforms.layerFor(["youtube", "facebook"]))
      )
      const task = yield* Effect.gen(function*() {
        const task = yield* Medusa.publish(request(writeVideo(dir, 4096)))
        yield* Effect.promise(() => receiver.waitFor(4))
        return task
      }).pipe(Effect.provide(layer))
      assert.strictEqual(task.state, "completed")
      const bodies = receiver.received.map(verify)
      assert.deepStrictEqual(bodies.map((b) => b.type), [
        "task.created",
        "upload.completed",
        "post.published",
        "task.completed"
      ])
      assert.strictEqual(bodies[1]!.data["platform"], "youtube")
      assert.strictEqual(bodies[2]!.data["platform"], "facebook")
      assert.strictEqual(bodies[3]!.data["status"], "completed")
      assert.strictEqual(bodies[3]!.data["task_id"], task.id)
      assert.strictEqual(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size, 4)
    }).pipe(Effect.scoped))

  it.live("retries a failing receiver with the same id, across a restart, then logs it delivered", () =>
    Effect.gen(function*() {
      // Fails the first two attempts; the dispatcher is stopped after the first.
      const receiver = yield* receiverResource((n) => ({ status: n < 2 ? 500 : 204 }))
      const dir = tempDir("medusa-webhooks-")
      const sqlite = path.join(dir, "medusa.db")
      const logs: Array<string> = []
      const endpoints = [{ url: receiver.url, secret, events: ["task.completed" as const] }]
      // Long first delay: the second attempt is left to the restarted dispatcher.
      const slowFirst = Schedule.fromDelays("700 millis", "100 millis", "100 millis")
      yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(
          Webhooks.layer({ endpoints, schedule: slowFirst, pollInterval: "50 millis" }).pipe(
            Layer.provide(NodeHttpClient.layerUndici),
            Layer.provideMerge(Durable.layerDurable({ sqlite })),
            Layer.provide(TestPlatforms.layerFor(["youtube", "facebook"]))
          )
        )
        const task = yield* Medusa.publish(request(writeVideo(dir, 4096))).pipe(Effect.provide(context))
        assert.strictEqual(task.state, "completed")
        yield* Effect.promise(() => receiver.waitFor(1))
        // The failed attempt is on record before the process stops.
        yield* eventually(Webhooks.deliveries(), (ds) => ds[0]?.attempts === 1, "the first attempt recorded").pipe(
          Effect.provide(context)
        )
      }))
      assert.strictEqual(receiver.received.length, 1)
      // Restarted: only the store and the dispatcher, no engine.
      const second = Webhooks.layer({ endpoints, schedule: fast, pollInterval: "50 millis" }).pipe(
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.provideMerge(SqlTaskStore.layerSqlite({ filename: sqlite }))
      )
      const deliveries = yield* Effect.gen(function*() {
        yield* Effect.promise(() => receiver.waitFor(3))
        return yield* eventually(
          Webhooks.deliveries(),
          (ds) => ds.length === 1 && ds[0]!.state === "delivered",
          "the delivery to be logged delivered"
        )
      }).pipe(Effect.provide(second), Effect.provide(captureLogs(logs)))
      const ids = receiver.received.map((r) => r.headers["webhook-id"])
      assert.strictEqual(new Set(ids).size, 1, "one webhook-id for every attempt")
      for (const r of receiver.received) assert.strictEqual(verify(r).type, "task.completed")
      const [d] = deliveries
      assert.strictEqual(d!.attempts, 3)
      assert.strictEqual(d!.lastStatus, 204)
      const json = JSON.stringify(deliveries.map(Webhooks.deliveryToJSON))
      assert.notInclude(json, keyBase64)
      assert.notInclude(logs.join("\n"), keyBase64)
    }).pipe(Effect.scoped))

  it.live("honours Retry-After, and a 410 disables the endpoint", () =>
    Effect.gen(function*() {
      const receiver = yield* receiverResource((n) =>
        n === 0 ? { status: 503, headers: { "retry-after": "1" } } : { status: 410 }
      )
      const dir = tempDir("medusa-webhooks-")
      const hourly = Schedule.spaced("1 hour")
      const layer = Webhooks.layer({
        endpoints: [{ url: receiver.url, secret, events: ["task.completed"] }],
        schedule: hourly,
        pollInterval: "50 millis"
      }).pipe(
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.provideMerge(Medusa.layerMemory()),
        Layer.provide(TestPlatforms.layerFor(["youtube"]))
      )
      const before = yield* Metric.value(Metric.tagged(Webhooks.deliveriesTotal, "result", "disabled"))
      yield* Effect.gen(function*() {
        yield* Medusa.publish({
          mediaFile: writeVideo(dir, 2048),
          platforms: ["youtube"],
          metadata: {
            youtube: { title: "A" }
          }
        })
        yield* Effect.promise(() => receiver.waitFor(1))
        const [retried] = yield* eventually(
          Webhooks.deliveries(),
          (ds) => ds[0]?.attempts === 1,
          "the first attempt recorded"
        )
        assert.strictEqual(retried!.state, "pending")
        assert.strictEqual(retried!.lastStatus, 503)
        const wait = retried!.nextAt! - retried!.updatedAt
        assert.isTrue(wait >= 900 && wait <= 1100, `next try after Retry-After (1 s), not the 1 h schedule: ${wait} ms`)
        yield* Effect.promise(() => receiver.waitFor(2))
        const disabled = yield* eventually(Webhooks.disabledEndpoints, (e) => e.length === 1, "the endpoint disabled")
        assert.strictEqual(disabled[0]!.url, receiver.url)
        const all = yield* eventually(
          Webhooks.deliveries(),
          (ds) => ds.every((d) => d.state !== "pending"),
          "no delivery left pending"
        )
        assert.isTrue(all.every((d) => d.state === "disabled"), JSON.stringify(all.map(Webhooks.deliveryToJSON)))
        // A later task makes no delivery to a disabled endpoint.
        yield* Medusa.publish({
          mediaFile: writeVideo(dir, 2048, "b.mp4"),
          platforms: ["youtube"],
          metadata: {
            youtube: { title: "B" }
          }
        })
        yield* Effect.sleep("200 millis")
        assert.strictEqual(receiver.received.length, 2)
        assert.strictEqual((yield* Webhooks.deliveries()).length, all.length)
      }).pipe(Effect.provide(layer))
      const after = yield* Metric.value(Metric.tagged(Webhooks.deliveriesTotal, "result", "disabled"))
      assert.strictEqual(MetricState.isCounterState(after) ? after.count - before.count : -1, 1)
      for (const r of receiver.received) verify(r)
    }).pipe(Effect.scoped))

  it.live("a redirect is a failed attempt, not followed", () =>
    Effect.gen(function*() {
      const receiver = yield* receiverResource((n) =>
        n === 0 ? { status: 307, headers: { location: "http://127.0.0.1:1/elsewhere" } } : { status: 200 }
      )
      const dir = tempDir("medusa-webhooks-")
      const layer = Webhooks.layer({
        endpoints: [{ url: receiver.url, secret, events: ["task.completed"] }],
        schedule: fast,
        pollInterval: "50 millis"
      }).pipe(
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.provideMerge(Medusa.layerMemory()),
        Layer.provide(TestPlatforms.layerFor(["youtube"]))
      )
      const [delivery] = yield* Effect.gen(function*() {
        yield* Medusa.publish({
          mediaFile: writeVideo(dir, 2048),
          platforms: ["youtube"],
          metadata: { youtube: { title: "A" } }
        })
        return yield* eventually(Webhooks.deliveries(), (ds) => ds[0]?.state === "delivered", "the delivery")
      }).pipe(Effect.provide(layer))
      assert.strictEqual(delivery!.attempts, 2, "the 307 counted as a failed attempt")
      assert.strictEqual(receiver.received.length, 2)
      assert.strictEqual(receiver.received[0]!.headers["webhook-id"], receiver.received[1]!.headers["webhook-id"])
    }).pipe(Effect.scoped))

  it.live("refuses a bad secret naming the field, without showing it", () =>
    Effect.gen(function*() {
      const leaked = "whsec_not!base64-canary"
      const exit = yield* Effect.exit(
        Layer.build(
          Webhooks.layer({
            endpoints: [{ url: "http://127.0.0.1:1/hooks", secret: Redacted.make(leaked), events: ["task.failed"] }]
          }).pipe(Layer.provide(NodeHttpClient.layerUndici), Layer.provide(Medusa.layerMemory()))
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      const text = String(Exit.isFailure(exit) ? exit.cause : "")
      assert.include(text, "server.webhooks[0].secret")
      assert.notInclude(text, "not!base64-canary")
    }).pipe(Effect.scoped))
})
