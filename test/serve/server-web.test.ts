/**
 * The web parts mounted on the server: a browser-style tus upload through
 * `/v1/uploads` (behind the keys) becomes a `media_id` that `POST /v1/tasks`
 * publishes, the upload is deleted after the task; the webhook delivery log at
 * `GET /v1/webhooks/deliveries`; the status page at `/` without a key.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as path from "node:path"
import { Webhook } from "standardwebhooks"
import * as tus from "tus-js-client"
import * as Medusa from "../../src/Medusa.js"
import * as Config from "../../src/MedusaConfig.js"
import * as Server from "../../src/Server.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"
import { startReceiver } from "./receiver.js"

const writeKey = "server-web-write-key-0123456789"
const readKey = "server-web-read-key-0123456789"
const secretText = "whsec_" + Buffer.from("server-web-canary-secret-0123456789").toString("base64")

const call = (base: string, key: string | undefined, route: string, body?: unknown) =>
  fetch(`${base}${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  }).then(async (res) => ({ status: res.status, headers: res.headers, text: await res.text() }))

const upload = (data: Buffer, endpoint: string, key: string) =>
  new Promise<string>((resolve, reject) => {
    const u = new tus.Upload(data, {
      endpoint,
      headers: { authorization: `Bearer ${key}` },
      retryDelays: [0, 100],
      metadata: { filename: "clip.mp4", filetype: "video/mp4" },
      onSuccess: () => resolve(u.url!),
      onError: reject
    })
    u.start()
  })

describe("serve: uploads, media_id, webhooks log, page", () => {
  it.live(
    "a tus upload publishes by media_id, is deleted after its task, and webhooks are logged",
    () =>
      Effect.gen(function*() {
        const receiver = yield* Effect.acquireRelease(
          Effect.promise(() => startReceiver()),
          (r) => Effect.promise(r.close)
        )
        const dir = tempDir("medusa-serve-web-")
        const uploads = path.join(dir, "uploads")
        const context = yield* Layer.build(
          Server.layerNode({
            port: 0,
            host: "127.0.0.1",
            apiKeys: [
              { key: Redacted.make(writeKey), scopes: ["read", "write"] },
              { key: Redacted.make(readKey), scopes: ["read"] }
            ],
            mediaRoots: [dir],
            uploads: { directory: uploads, maxUploadBytes: 3_000_000 },
            webhooks: {
              endpoints: [{ url: receiver.url, secret: Redacted.make(secretText), events: ["task.completed"] }],
              pollInterval: "50 millis"
            }
          }).pipe(
            Layer.provideMerge(Medusa.layerMemory()),
            Layer.provide(TestPlatforms.layerFor(["youtube"]))
          )
        )
        const base = yield* HttpServer.addressFormattedWith((a) => Effect.succeed(a)).pipe(Effect.provide(context))
        // Larger than the API's 1 MiB body limit, which applies to JSON bodies only.
        const data = fs.readFileSync(writeVideo(dir, 2_500_000, "source.mp4"))

        // The page is public; the uploads are not, and a read key may not write.
        const page = yield* Effect.promise(() => call(base, undefined, "/"))
        assert.strictEqual(page.status, 200)
        assert.include(page.headers.get("content-type")!, "text/html")
        assert.include(page.headers.get("content-security-policy")!, "script-src 'sha256-")
        assert.include(page.text, "<title>Medusa")
        const anonymous = yield* Effect.promise(() =>
          fetch(`${base}/v1/uploads`, { method: "POST", headers: { "tus-resumable": "1.0.0", "upload-length": "10" } })
        )
        assert.strictEqual(anonymous.status, 401)
        const reader = yield* Effect.flip(Effect.tryPromise(() => upload(data, `${base}/v1/uploads`, readKey)))
        assert.include(String(reader.error), "403")
        const tooBig = yield* Effect.flip(
          Effect.tryPromise(() => upload(Buffer.alloc(3_000_001), `${base}/v1/uploads`, writeKey))
        )
        assert.include(String(tooBig.error), "413")

        const url = yield* Effect.promise(() => upload(data, `${base}/v1/uploads`, writeKey))
        const mediaId = url.split("/").at(-1)!
        const file = path.join(uploads, mediaId)
        assert.isTrue(fs.existsSync(file))

        // Refusals name media_id.
        const both = yield* Effect.promise(() =>
          call(base, writeKey, "/v1/tasks", {
            media_id: mediaId,
            mediaFile: path.join(dir, "source.mp4"),
            platforms: ["youtube"],
            metadata: { youtube: { title: "x" } }
          })
        )
        assert.strictEqual(both.status, 400)
        assert.strictEqual(JSON.parse(both.text).error.field, "media_id")
        const unknown = yield* Effect.promise(() =>
          call(base, writeKey, "/v1/tasks", {
            media_id: `media_${"f".repeat(32)}`,
            platforms: ["youtube"],
            metadata: { youtube: { title: "x" } }
          })
        )
        assert.strictEqual(unknown.status, 400)
        assert.strictEqual(JSON.parse(unknown.text).error.field, "media_id")
        const valid = yield* Effect.promise(() =>
          call(base, writeKey, "/v1/validate", {
            media_id: mediaId,
            platforms: ["youtube"],
            metadata: { youtube: { title: "From the browser" } }
          })
        )
        const report = JSON.parse(valid.text)
        assert.deepStrictEqual(
          { valid: report.valid, issues: report.issues, platforms: report.platforms, bytes: report.media_bytes },
          { valid: true, issues: [], platforms: ["youtube"], bytes: 2_500_000 }
        )

        const submitted = yield* Effect.promise(() =>
          call(base, writeKey, "/v1/tasks", {
            media_id: mediaId,
            platforms: ["youtube"],
            metadata: { youtube: { title: "From the browser" } }
          })
        )
        assert.strictEqual(submitted.status, 202, submitted.text)
        const taskId = JSON.parse(submitted.text).task_id as string
        yield* Effect.promise(() => receiver.waitFor(1))
        const hook = receiver.received[0]!
        const event = new Webhook(secretText).verify(hook.body, {
          "webhook-id": hook.headers["webhook-id"]!,
          "webhook-timestamp": hook.headers["webhook-timestamp"]!,
          "webhook-signature": hook.headers["webhook-signature"]!
        }) as { type: string; data: { task_id: string; status: string } }
        assert.strictEqual(event.type, "task.completed")
        assert.strictEqual(event.data.task_id, taskId)

        for (let i = 0; i < 200 && fs.existsSync(file); i++) yield* Effect.sleep("10 millis")
        assert.isFalse(fs.existsSync(file), "the upload is deleted once its task ended")

        // The delivery log, with a read key; no secret in it.
        let log = { status: 0, text: "" }
        for (let i = 0; i < 200; i++) {
          log = yield* Effect.promise(() => call(base, readKey, "/v1/webhooks/deliveries"))
          if (JSON.parse(log.text).deliveries?.[0]?.state === "delivered") break
          yield* Effect.sleep("20 millis")
        }
        assert.strictEqual(log.status, 200)
        const body = JSON.parse(log.text)
        assert.strictEqual(body.deliveries.length, 1)
        assert.strictEqual(body.deliveries[0].state, "delivered")
        assert.strictEqual(body.deliveries[0].attempts, 1)
        assert.strictEqual(body.deliveries[0].last_status, 200)
        assert.strictEqual(body.deliveries[0].task_id, taskId)
        assert.notInclude(log.text, secretText.slice("whsec_".length))
        const badLimit = yield* Effect.promise(() => call(base, readKey, "/v1/webhooks/deliveries?limit=0"))
        assert.strictEqual(badLimit.status, 400)
        assert.strictEqual(JSON.parse(badLimit.text).error.field, "limit")
        const noKey = yield* Effect.promise(() => call(base, undefined, "/v1/webhooks/deliveries"))
        assert.strictEqual(noKey.status, 401)
        const metrics = yield* Effect.promise(() => call(base, readKey, "/metrics"))
        assert.match(metrics.text, /medusa_webhook_deliveries_total\{[^}]*result="success"[^}]*\} [1-9]/)
        const spec = yield* Effect.promise(() => call(base, readKey, "/openapi.json"))
        assert.property(JSON.parse(spec.text).paths, "/v1/webhooks/deliveries", "the log is declared in the API")
      }).pipe(Effect.scoped),
    60_000
  )

  it("the config's server.webhooks and server.uploads reach the server options", () =>
    Effect.gen(function*() {
      const config = yield* Config.decode({
        server: {
          api_keys: [{ key: writeKey, scopes: ["read", "write"] }],
          webhooks: [{ url: "https://app.example/hooks", secret: secretText, events: ["task.failed"] }],
          uploads: { max_upload_bytes: 1000, max_total_bytes: 5000, expire_after: "2 hours" }
        }
      }, "/srv/medusa/medusa.config.json")
      const options = Server.optionsFromConfig(config)
      assert.strictEqual(options.webhooks!.endpoints[0]!.url, "https://app.example/hooks")
      assert.strictEqual(Redacted.value(options.webhooks!.endpoints[0]!.secret), secretText)
      assert.deepStrictEqual(options.webhooks!.endpoints[0]!.events, ["task.failed"])
      assert.strictEqual(options.uploads!.directory, "/srv/medusa/.medusa/uploads")
      assert.strictEqual(options.uploads!.maxUploadBytes, 1000)
      assert.strictEqual(options.uploads!.maxTotalBytes, 5000)
      assert.notInclude(String(options.webhooks!.endpoints[0]!.secret), secretText.slice(6))
    }).pipe(Effect.runPromise))
})
