/**
 * Re-enabling a webhook endpoint a 410 disabled, over the API: write scope,
 * 404 naming a url that is not disabled, and the events after it delivered.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { promise, readKey, request, startServer } from "../server/fixtures.js"
import { startReceiver } from "./receiver.js"

const secret = Redacted.make("whsec_" + Buffer.from("enable-test-secret-0123456789ab").toString("base64"))

describe("POST /v1/webhooks/endpoints/enable", () => {
  it.scopedLive("enables an endpoint a 410 disabled: read keys refused, unknown urls 404, later events delivered", () =>
    Effect.gen(function*() {
      // Gone for the first event, then answering again.
      const receiver = yield* Effect.acquireRelease(
        Effect.promise(() => startReceiver((n) => ({ status: n === 0 ? 410 : 200 }))),
        (r) => Effect.promise(r.close)
      )
      const server = yield* startServer({
        server: {
          webhooks: {
            endpoints: [{ url: receiver.url, secret, events: ["task.created"] }],
            schedule: Schedule.fromDelays("1 hour"),
            pollInterval: "20 millis"
          }
        }
      })
      const log = () =>
        server.call("/v1/webhooks/deliveries").then((r) => r.json() as Promise<{ disabled_endpoints: Array<any> }>)
      const submit = () => server.call("/v1/tasks", { json: request(server.media) })

      assert.strictEqual((yield* promise(submit)).status, 202)
      yield* promise(() => receiver.waitFor(1))
      let disabled: Array<any> = []
      for (let i = 0; i < 250 && disabled.length === 0; i++) {
        disabled = (yield* promise(log)).disabled_endpoints
        if (disabled.length === 0) yield* Effect.sleep("20 millis")
      }
      assert.deepStrictEqual(disabled.map((d) => d.url), [receiver.url])

      const enable = (url: string, key?: string) =>
        promise(() =>
          server.call("/v1/webhooks/endpoints/enable", { json: { url }, ...(key !== undefined ? { key } : {}) })
        )
      const readOnly = yield* enable(receiver.url, readKey)
      assert.strictEqual(readOnly.status, 403)
      const unknown = yield* enable("https://elsewhere.example/hooks")
      assert.strictEqual(unknown.status, 404)
      const unknownBody = yield* promise(() => unknown.json() as Promise<any>)
      assert.strictEqual(unknownBody.error.code, "endpoint_not_disabled")
      assert.strictEqual(unknownBody.error.field, "url")
      assert.include(unknownBody.error.message, "https://elsewhere.example/hooks")
      assert.include(unknownBody.error.message, receiver.url, "names the disabled endpoints")
      assert.lengthOf((yield* promise(log)).disabled_endpoints, 1, "a refused call changes nothing")

      const ok = yield* enable(receiver.url)
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(yield* promise(() => ok.json()), { url: receiver.url, enabled: true })
      assert.lengthOf((yield* promise(log)).disabled_endpoints, 0)
      assert.strictEqual((yield* enable(receiver.url)).status, 404, "enabled already")

      // The next event reaches the endpoint again.
      assert.strictEqual((yield* promise(submit)).status, 202)
      yield* promise(() => receiver.waitFor(2))
      assert.strictEqual(receiver.received.length, 2)
    }))
})
