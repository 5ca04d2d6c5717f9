import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as path from "node:path"
import { promise, readKey, request, startServer, writeKey } from "./fixtures.js"

const errorOf = (response: Response) =>
  response.json() as Promise<{ error: { code: string; message: string; field?: string } }>

describe("Server security", () => {
  it.scopedLive("a key on everything but /healthz: 401 without or with a wrong key, 403 for a read key that writes", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      for (const p of ["/v1/tasks", "/v1/events", "/openapi.json", "/docs", "/metrics", "/v1/tasks/x", "/nowhere"]) {
        for (const key of [null, "wrong", `${writeKey}x`, writeKey.slice(0, -1), ""]) {
          const r = yield* promise(() => server.call(p, { key }))
          assert.strictEqual(r.status, 401, `${p} with ${key}`)
          assert.strictEqual(r.headers.get("www-authenticate"), "Bearer")
          assert.strictEqual((yield* promise(() => errorOf(r))).error.code, "unauthorized")
        }
      }
      const health = yield* promise(() => server.call("/healthz", { key: null }))
      assert.strictEqual(health.status, 200)
      const read = yield* promise(() => server.call("/v1/tasks", { key: readKey }))
      assert.strictEqual(read.status, 200)
      const write = yield* promise(() => server.call("/v1/tasks", { key: readKey, json: request(server.media) }))
      assert.strictEqual(write.status, 403)
      assert.strictEqual((yield* promise(() => errorOf(write))).error.code, "forbidden")
      const validate = yield* promise(() => server.call("/v1/validate", { key: readKey, json: request(server.media) }))
      assert.strictEqual(validate.status, 200)
      const list = yield* promise(() =>
        server.call("/v1/tasks").then((r) => r.json() as Promise<{ tasks: Array<unknown> }>)
      )
      assert.strictEqual(list.tasks.length, 0)
    }))

  it.scopedLive("a media path outside media_roots, with .., or through a symlink out is refused naming the field; nothing is opened", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const { media } = server
      const refused = [
        "../outside/secret.mp4",
        path.join(media.root, "..", "outside", "secret.mp4"),
        path.join(media.outside, "secret.mp4"),
        "/etc/passwd",
        "link-out.mp4",
        // A symlink to a FIFO outside: opening it would hang this request.
        "link-to-fifo.mp4",
        path.join(media.outside, "fifo.mp4")
      ]
      for (const mediaFile of refused) {
        for (const endpoint of ["/v1/tasks", "/v1/validate"]) {
          const r = yield* promise(() =>
            server.call(endpoint, { json: request(media, { mediaFile }), signal: AbortSignal.timeout(5_000) })
          )
          if (endpoint === "/v1/tasks") {
            assert.strictEqual(r.status, 400, mediaFile)
            const body = yield* promise(() => errorOf(r))
            assert.strictEqual(body.error.field, "mediaFile", mediaFile)
            assert.strictEqual(body.error.code, "media_path_refused", mediaFile)
          } else {
            const body = yield* promise(() => r.json() as Promise<{ valid: boolean; issues: Array<{ field: string }> }>)
            assert.isFalse(body.valid)
            assert.strictEqual(body.issues[0]?.field, "mediaFile")
          }
        }
      }
      const thumbnail = yield* promise(() =>
        server.call("/v1/tasks", {
          json: request(media, {
            metadata: { youtube: { title: "t", thumbnail: "../outside/secret.mp4" }, x: { text: "t" } }
          })
        })
      )
      assert.strictEqual(thumbnail.status, 400)
      assert.strictEqual((yield* promise(() => errorOf(thumbnail))).error.field, "metadata.youtube.thumbnail")
      // Caption files too: the check names the track, and nothing of the file is read (its first line is not echoed).
      for (const file of ["/etc/passwd", "../outside/secret.mp4", "link-out.mp4"]) {
        const caption = yield* promise(() =>
          server.call("/v1/tasks", {
            json: request(media, {
              metadata: { youtube: { title: "t", captions: [{ file, language: "en" }] }, x: { text: "t" } }
            })
          })
        )
        assert.strictEqual(caption.status, 400, file)
        const body = yield* promise(() => errorOf(caption))
        assert.strictEqual(body.error.field, "metadata.youtube.captions[0].file", file)
        assert.strictEqual(body.error.code, "media_path_refused", file)
        assert.notInclude(JSON.stringify(body), "root:", file)
      }
      // A symlink that stays inside is followed.
      const inside = yield* promise(() =>
        server.call("/v1/tasks", { json: request(media, { mediaFile: "link-in.mp4" }) })
      )
      assert.strictEqual(inside.status, 202)
      const list = yield* promise(() =>
        server.call("/v1/tasks").then((r) => r.json() as Promise<{ tasks: Array<unknown> }>)
      )
      assert.strictEqual(list.tasks.length, 1)
    }))

  it.scopedLive("CORS is off unless origins are configured", () =>
    Effect.gen(function*() {
      const off = yield* startServer()
      const plain = yield* promise(() => off.call("/v1/tasks", { headers: { origin: "https://app.example.com" } }))
      assert.isNull(plain.headers.get("access-control-allow-origin"))
      const on = yield* startServer({ server: { corsOrigins: ["https://app.example.com"] } })
      const preflight = yield* promise(() =>
        fetch(`${on.url}/v1/tasks`, {
          method: "OPTIONS",
          headers: {
            origin: "https://app.example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"
          }
        })
      )
      assert.isBelow(preflight.status, 300)
      assert.strictEqual(preflight.headers.get("access-control-allow-origin"), "https://app.example.com")
      const denied = yield* promise(() => on.call("/v1/tasks", { headers: { origin: "https://evil.example.com" } }))
      assert.notStrictEqual(denied.headers.get("access-control-allow-origin"), "https://evil.example.com")
      const unauthorized = yield* promise(() =>
        on.call("/v1/tasks", { key: null, headers: { origin: "https://app.example.com" } })
      )
      assert.strictEqual(unauthorized.status, 401)
      // Error answers carry the CORS header too, so a page can read them.
      assert.strictEqual(unauthorized.headers.get("access-control-allow-origin"), "https://app.example.com")
    }))

  it.scopedLive("a key never appears in a response, a log line or an error (canary)", () =>
    Effect.gen(function*() {
      const canary = "canary-7f3a9c1e-KEY"
      const lines: Array<string> = []
      const logger = Logger.make(({ cause, message }) => {
        lines.push(`${String(message)} ${String(cause)}`)
      })
      const server = yield* startServer({
        server: { apiKeys: [{ key: Redacted.make(canary), scopes: ["read", "write"] }] }
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      const bodies: Array<string> = []
      const record = (r: Response) =>
        promise(async () => {
          bodies.push(JSON.stringify([...r.headers]), await r.text())
        })
      const tries: Array<[string, RequestInit & { key?: string | null; json?: unknown }]> = [
        ["/v1/tasks", { key: canary }],
        ["/v1/tasks", { key: `${canary}0` }],
        ["/v1/tasks", { key: canary.slice(1) }],
        ["/v1/tasks", { key: canary, json: { mediaFile: canary, platforms: [canary] } }],
        ["/v1/tasks", { key: canary, method: "PUT" }],
        [`/v1/tasks/${canary}`, { key: canary }],
        ["/v1/tasks", {
          key: canary,
          method: "POST",
          body: `{"${canary}": `,
          headers: { "content-type": "application/json" }
        }],
        ["/v1/events", { key: `x${canary}` }],
        ["/metrics", { key: canary }],
        ["/openapi.json", { key: canary }]
      ]
      for (const [p, init] of tries) yield* record(yield* promise(() => server.call(p, init)))
      const everything = bodies.join("\n") + lines.join("\n")
      // The canary may be echoed only where the caller put it in the body or path as data, never as the key:
      // check the key in the places it was only ever a key.
      for (const [i, text] of bodies.entries()) {
        const [p, init] = tries[Math.floor(i / 2)]!
        if (init.json !== undefined || p.includes(canary) || init.body !== undefined) continue
        assert.notInclude(text, canary, `${p}`)
      }
      assert.notInclude(lines.join("\n"), canary)
      assert.isAbove(everything.length, 0)
    }))
})
