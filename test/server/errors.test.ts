import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import { promise, request, startServer } from "./fixtures.js"

interface ErrorJson {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string }
}

const errorOf = (response: Response) => response.json() as Promise<ErrorJson>

const assertErrorShape = (body: unknown, context: string) => {
  assert.isObject(body, context)
  const error = (body as ErrorJson).error
  assert.isObject(error, context)
  assert.isString(error.code, context)
  assert.isString(error.message, context)
  assert.notMatch(error.message, /\n\s+at /, `${context}: a stack trace`)
  for (const key of Object.keys(body as object)) assert.strictEqual(key, "error", context)
}

describe("Server bad input", () => {
  it.scopedLive("each bad request is a JSON error naming what is wrong", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ server: { maxBodyBytes: 4096 } })
      const post = (body: string) =>
        promise(() =>
          server.call("/v1/tasks", { method: "POST", body, headers: { "content-type": "application/json" } })
        )

      const malformed = yield* post("{\n  \"mediaFile\": \"video.mp4\",\n  \"platforms\": [\"youtube\",]\n}")
      assert.strictEqual(malformed.status, 400)
      const m = yield* promise(() => errorOf(malformed))
      assert.strictEqual(m.error.code, "invalid_json")
      assert.include(m.error.message, "line 3, column")

      const unknown = yield* promise(() => server.call("/v1/tasks", { json: request(server.media, { platfroms: [] }) }))
      assert.strictEqual(unknown.status, 400)
      const u = yield* promise(() => errorOf(unknown))
      assert.strictEqual(u.error.code, "invalid_request")
      assert.strictEqual(u.error.field, "platfroms")
      assert.include(u.error.message, "did you mean \"platforms\"")

      const badEnum = yield* promise(() =>
        server.call("/v1/tasks", { json: request(server.media, { policy: "sometimes" }) })
      )
      assert.strictEqual(badEnum.status, 400)
      const e = yield* promise(() => errorOf(badEnum))
      assert.strictEqual(e.error.field, "policy")

      const badQuery = yield* promise(() => server.call("/v1/tasks?status=done"))
      assert.strictEqual(badQuery.status, 400)
      assert.strictEqual((yield* promise(() => errorOf(badQuery))).error.field, "status")

      const big = yield* post(
        JSON.stringify(request(server.media, { metadata: { youtube: { title: "x".repeat(5000) } } }))
      )
      assert.strictEqual(big.status, 413)
      assert.strictEqual((yield* promise(() => errorOf(big))).error.code, "payload_too_large")

      const id = "medusa_task_00000000-0000-4000-8000-000000000000"
      const missing = yield* promise(() => server.call(`/v1/tasks/${id}`))
      assert.strictEqual(missing.status, 404)
      const n = yield* promise(() => errorOf(missing))
      assert.strictEqual(n.error.code, "task_not_found")
      assert.include(n.error.message, id)
      const missingEvents = yield* promise(() => server.call(`/v1/tasks/${id}/events`))
      assert.strictEqual(missingEvents.status, 404)

      const wrongMethod = yield* promise(() => server.call(`/v1/tasks/${id}`, { method: "DELETE" }))
      assert.strictEqual(wrongMethod.status, 405)
      assert.strictEqual(wrongMethod.headers.get("allow"), "GET")
      assert.strictEqual((yield* promise(() => errorOf(wrongMethod))).error.code, "method_not_allowed")

      const noRoute = yield* promise(() => server.call("/v2/tasks"))
      assert.strictEqual(noRoute.status, 404)

      for (const r of [malformed, unknown, badEnum, badQuery, big, missing, wrongMethod, noRoute]) {
        assert.strictEqual(r.headers.get("content-type"), "application/json")
      }
    }))

  it.scopedLive(
    "property: random bodies and paths never answer 500, and every error has the one shape",
    () =>
      Effect.gen(function*() {
        const server = yield* startServer({ server: { maxBodyBytes: 2048 } })
        const segment = fc.oneof(
          fc.constantFrom("v1", "tasks", "events", "validate", "cancel", "resume", "healthz", "metrics", "docs", ".."),
          fc.constantFrom("medusa_task_00000000-0000-4000-8000-000000000000", "%2e%2e", "%00", "?", "#"),
          fc.string({ maxLength: 12 }).map(encodeURIComponent)
        )
        const json = fc.oneof(
          fc.json({ maxDepth: 3 }),
          fc.record({
            mediaFile: fc.oneof(fc.string(), fc.constantFrom("video.mp4", "../x", "/etc/passwd", "link-out.mp4")),
            platforms: fc.array(fc.oneof(fc.string(), fc.constantFrom("youtube", "x", "twitter", "vimeo"))),
            metadata: fc.dictionary(
              fc.constantFrom("youtube", "x", "vimeo", "facebook", "linkedin", "zz"),
              fc.jsonValue()
            ),
            policy: fc.oneof(fc.string(), fc.constantFrom("fail-fast", "best-effort"))
          }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
          fc.string({ maxLength: 3000 })
        )
        yield* promise(() =>
          fc.assert(
            fc.asyncProperty(
              fc.array(segment, { minLength: 0, maxLength: 5 }),
              fc.constantFrom("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"),
              fc.option(json, { nil: undefined }),
              fc.constantFrom("application/json", "text/plain", undefined),
              async (segments, method, body, type) => {
                const pathname = "/" + segments.join("/")
                const withBody = method !== "GET" && method !== "HEAD" && body !== undefined
                const response = await server.call(pathname, {
                  method,
                  ...(withBody ? { body } : {}),
                  headers: type !== undefined ? { "content-type": type } : {},
                  signal: AbortSignal.timeout(10_000)
                })
                const context = `${method} ${pathname} ${withBody ? body?.slice(0, 80) : ""}`
                assert.isBelow(response.status, 500, context)
                if (response.status >= 400 && method !== "HEAD") assertErrorShape(await response.json(), context)
                else await response.body?.cancel()
              }
            ),
            { numRuns: 150 }
          )
        )
      }),
    120_000
  )
})
