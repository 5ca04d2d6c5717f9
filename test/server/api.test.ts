import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as fs from "node:fs"
import * as Server from "../../src/Server.js"
import { promise, readKey, request, startServer, writeKey } from "./fixtures.js"

const client = (url: string, key: string) =>
  HttpApiClient.make(Server.Api, {
    baseUrl: url,
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(key))
  }).pipe(Effect.provide(FetchHttpClient.layer))

/** Polls a task until it is final (bounded). */
const awaitFinal = (api: Effect.Effect.Success<ReturnType<typeof client>>, id: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      const status = yield* api.tasks.get({ path: { id } })
      if (["completed", "failed", "cancelled"].includes(status.status)) return status
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.dieMessage(`task ${id} did not finish`)
  })

describe("Server API", () => {
  it.scopedLive("submit answers 202 with the status JSON and Location; get adds the history", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const response = yield* promise(() => server.call("/v1/tasks", { json: request(server.media) }))
      assert.strictEqual(response.status, 202)
      const body = yield* promise(() => response.json() as Promise<{ task_id: string; status: string }>)
      assert.match(body.task_id, /^medusa_task_/)
      assert.strictEqual(response.headers.get("location"), `/v1/tasks/${body.task_id}`)

      const api = yield* client(server.url, readKey)
      const final = yield* awaitFinal(api, body.task_id)
      assert.strictEqual(final.status, "completed")
      assert.deepStrictEqual(final.history?.map((h) => h.state), ["pending", "in_progress", "completed"])
      assert.isString(final.results?.youtube_url)
    }))

  it.scopedLive("the typed client submits, lists with filters and pages with the cursor", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* client(server.url, writeKey)
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        const status = yield* api.tasks.submit({ payload: request(server.media), headers: {} })
        ids.push(status.task_id)
      }
      for (const id of ids) yield* awaitFinal(api, id)
      const seen: Array<string> = []
      let cursor: string | undefined
      for (let page = 0; page < 5; page++) {
        const list = yield* api.tasks.list({
          urlParams: { limit: 2, status: "completed", ...(cursor ? { cursor } : {}) }
        })
        assert.isAtMost(list.tasks.length, 2)
        seen.push(...list.tasks.map((t) => t.task_id))
        cursor = list.next_cursor
        if (cursor === undefined) break
      }
      assert.deepStrictEqual([...seen].sort(), [...ids].sort())
      assert.strictEqual(new Set(seen).size, 5)
      const none = yield* api.tasks.list({ urlParams: { status: "failed" } })
      assert.strictEqual(none.tasks.length, 0)
      const future = yield* api.tasks.list({ urlParams: { created_after: "2999-01-01T00:00:00Z" } })
      assert.strictEqual(future.tasks.length, 0)
      const past = yield* api.tasks.list({ urlParams: { created_before: "2999-01-01T00:00:00Z" } })
      assert.strictEqual(past.tasks.length, 5)
    }))

  it.scopedLive("cancel stops a running task; resume of a final task is 409", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ platforms: { youtube: { delay: "30 seconds" } } })
      const api = yield* client(server.url, writeKey)
      const submitted = yield* api.tasks.submit({ payload: request(server.media), headers: {} })
      const resumed = yield* api.tasks.resume({ path: { id: submitted.task_id } })
      assert.include(["pending", "in_progress"], resumed.status)
      const cancelled = yield* api.tasks.cancel({ path: { id: submitted.task_id } })
      assert.strictEqual(cancelled.status, "cancelled")
      const again = yield* promise(() => server.call(`/v1/tasks/${submitted.task_id}/resume`, { method: "POST" }))
      assert.strictEqual(again.status, 409)
      const twice = yield* promise(() => server.call(`/v1/tasks/${submitted.task_id}/cancel`, { method: "POST" }))
      assert.strictEqual(twice.status, 409)
      const body = yield* promise(() => twice.json() as Promise<{ error: { code: string } }>)
      assert.strictEqual(body.error.code, "invalid_transition")
    }))

  it.scopedLive("an Idempotency-Key returns the same task for a retried submit, and refuses another request", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const send = (key: string, body: unknown) =>
        promise(() => server.call("/v1/tasks", { json: body, headers: { "idempotency-key": key } }))
      const first = yield* send("retry-1", request(server.media))
      const second = yield* send("retry-1", request(server.media))
      assert.strictEqual(first.status, 202)
      assert.strictEqual(second.status, 202)
      assert.strictEqual(second.headers.get("idempotent-replayed"), "true")
      const a = yield* promise(() => first.json() as Promise<{ task_id: string }>)
      const b = yield* promise(() => second.json() as Promise<{ task_id: string }>)
      assert.strictEqual(a.task_id, b.task_id)
      const other = yield* send("retry-1", request(server.media, { policy: "best-effort" }))
      assert.strictEqual(other.status, 409)
      const list = yield* promise(() =>
        server.call("/v1/tasks").then((r) => r.json() as Promise<{ tasks: Array<unknown> }>)
      )
      assert.strictEqual(list.tasks.length, 1)
      // Concurrent retries: still one task.
      const many = yield* Effect.all(
        Array.from({ length: 8 }, () => send("retry-2", request(server.media))),
        { concurrency: "unbounded" }
      )
      const ids = new Set<string>()
      for (const r of many) {
        if (r.status === 202) ids.add((yield* promise(() => r.json() as Promise<{ task_id: string }>)).task_id)
        else assert.strictEqual(r.status, 409)
      }
      assert.strictEqual(ids.size, 1)
      const after = yield* promise(() =>
        server.call("/v1/tasks").then((r) => r.json() as Promise<{ tasks: Array<unknown> }>)
      )
      assert.strictEqual(after.tasks.length, 2)
    }))

  it.scopedLive("validate reports what submit would refuse, and submits nothing", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* client(server.url, readKey)
      const ok = yield* api.tasks.validate({ payload: request(server.media) })
      // Valid: the library's dry-run report (what a submit would do), no issues.
      assert.deepStrictEqual(
        { valid: ok.valid, issues: ok.issues, platforms: ok.platforms, policy: ok.policy, quota: ok.quota },
        { valid: true, issues: [], platforms: ["youtube", "x"], policy: "fail-fast", quota: [] }
      )
      assert.strictEqual(ok.media_bytes, fs.statSync(ok.media_file!).size)
      const bad = yield* api.tasks.validate({
        payload: request(server.media, { platforms: ["youtube", "x", "linkedin"] })
      })
      assert.isFalse(bad.valid)
      assert.isTrue(bad.issues.some((i) => i.field === "metadata.linkedin"))
      const list = yield* api.tasks.list({ urlParams: {} })
      assert.strictEqual(list.tasks.length, 0)
    }))

  it.scopedLive("openapi.json describes media_id (POST /v1/tasks, /v1/validate) and the tus endpoint /v1/uploads", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const spec = yield* promise(() => server.call("/openapi.json").then((r) => r.json() as Promise<any>))
      const resolve = (schema: any): any =>
        schema.$ref === undefined ? schema : spec.components.schemas[schema.$ref.replace("#/components/schemas/", "")]
      for (const path of ["/v1/tasks", "/v1/validate"]) {
        const body = resolve(spec.paths[path].post.requestBody.content["application/json"].schema)
        const variants = (body.anyOf ?? [body]).map(resolve)
        const withId = variants.find((v: any) => v.properties?.media_id !== undefined)
        assert.isDefined(withId, `${path}: a request with media_id`)
        assert.include(withId.required, "media_id")
        assert.notProperty(withId.properties, "mediaFile")
        assert.match(withId.properties.media_id.pattern, /media_/)
        assert.isDefined(variants.find((v: any) => v.required?.includes("mediaFile")), `${path}: with mediaFile`)
      }
      assert.hasAllKeys(spec.paths["/v1/uploads"], ["options", "post"])
      assert.hasAllKeys(spec.paths["/v1/uploads/{media_id}"], ["head", "patch", "delete"])
      const create = spec.paths["/v1/uploads"].post
      assert.property(create.responses, "201")
      assert.includeMembers(create.parameters.map((p: any) => p.name), ["tus-resumable", "upload-length"])
      const append = spec.paths["/v1/uploads/{media_id}"].patch
      assert.property(append.requestBody.content, "application/offset+octet-stream")
      assert.include(append.description, "Medusa-Media-Id")
      assert.deepStrictEqual(append.security, [{ bearer: [] }])
    }))

  it.scopedLive("openapi.json, docs (offline), healthz and metrics", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const spec = yield* promise(() => server.call("/openapi.json").then((r) => r.json() as Promise<any>))
      assert.strictEqual(spec.openapi, "3.1.0")
      for (const p of ["/v1/tasks", "/v1/tasks/{id}", "/v1/tasks/{id}/events", "/v1/events", "/v1/validate"]) {
        assert.property(spec.paths, p)
      }
      assert.property(spec.components.securitySchemes, "bearer")
      const docs = yield* promise(() => server.call("/docs"))
      assert.strictEqual(docs.status, 200)
      const html = yield* promise(() => docs.text())
      assert.include(html, "api-reference")
      // The script is inlined: nothing is fetched from a CDN (the string appears in it only as a config default).
      assert.notMatch(html, /<script[^>]+src=/)
      assert.notMatch(html, /<link[^>]+href="https?:/)
      assert.isAbove(html.length, 1_000_000)
      assert.include(html, "\"withDefaultFonts\":false")
      const health = yield* promise(() => server.call("/healthz", { key: null }))
      assert.strictEqual(health.status, 200)
      const submitted = yield* promise(() => server.call("/v1/tasks", { json: request(server.media) }))
      assert.strictEqual(submitted.status, 202)
      // Whatever the process records in Effect's registry appears too.
      yield* Metric.increment(Metric.tagged(Metric.counter("medusa_test_requests_total"), "route", "x"))
      const metrics = yield* promise(() => server.call("/metrics").then((r) => r.text()))
      assert.match(metrics, /# TYPE medusa_tasks gauge/)
      assert.match(metrics, /# TYPE medusa_test_requests_total counter\nmedusa_test_requests_total\{route="x"\} 1\n/)
      assert.match(metrics, /medusa_tasks\{state="(pending|in_progress|completed)"\} 1/)
    }))
})
