/**
 * `GET /v1/tasks/{id}` is answered before the API's stack (fastRead.ts) when
 * it can be: the answer must be the API's own, byte for byte. Each request is
 * made twice, once as is and once with a query string (which the direct read
 * leaves to the API): status, headers (but Date) and body must be equal, and
 * the direct read's counter says which way each went. Errors (401, 404) are
 * always the API's; a GET never needs the write scope, so a read key is
 * answered like the write key (no 403 exists for it).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as http from "node:http"
import { counter } from "../../src/internal/server/fastRead.js"
import { promise, readKey, request, startServer, writeKey } from "./fixtures.js"
import { connect } from "./sse.js"

interface Raw {
  readonly status: number
  readonly headers: ReadonlyArray<string>
  readonly body: string
}

/** One GET with its raw header lines (Date dropped: it is the clock's). */
const get = (url: string, key: string | undefined): Promise<Raw> =>
  new Promise((resolve, reject) => {
    const headers = key === undefined ? {} : { authorization: `Bearer ${key}` }
    http.get(url, { headers, agent: false }, (res) => {
      let body = ""
      res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => {
        const pairs: Array<string> = []
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (res.rawHeaders[i]!.toLowerCase() !== "date") pairs.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`)
        }
        resolve({ status: res.statusCode!, headers: pairs, body })
      })
    }).on("error", reject)
  })

/** The same GET directly and through the API; which way each went. */
const both = async (base: string, path: string, key: string | undefined) => {
  const before = counter.served
  const direct = await get(`${base}${path}`, key)
  const directServed = counter.served - before
  const viaApi = await get(`${base}${path}?via=api`, key)
  const apiServed = counter.served - before - directServed
  return { direct, viaApi, directServed, apiServed }
}

describe("GET /v1/tasks/{id} answered directly", () => {
  it.scopedLive("found, unknown, malformed id, no key, wrong key: the same status, headers and body as the API", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const submitted = yield* promise(() => server.call("/v1/tasks", { json: request(server.media) }))
      const { task_id: id } = yield* promise(() => submitted.json() as Promise<{ task_id: string }>)
      // Follow the task to its end (its history, then its changes), so both reads see one version.
      const follower = yield* promise(() => connect(`${server.url}/v1/tasks/${id}/events`, { key: readKey }))
      yield* promise(() => follower.until((es) => es.some((e) => /"status":"completed"/.test(e.data)), 10_000))
      follower.close()

      for (const key of [writeKey, readKey]) {
        const found = yield* promise(() => both(server.url, `/v1/tasks/${id}`, key))
        assert.strictEqual(found.direct.status, 200)
        assert.strictEqual(JSON.parse(found.direct.body).task_id, id)
        assert.deepStrictEqual(found.direct, found.viaApi)
        assert.strictEqual(found.directServed, 1, "the plain read is answered directly")
        assert.strictEqual(found.apiServed, 0, "a read with a query string goes to the API")
      }

      const cases: ReadonlyArray<readonly [string, string | undefined, number]> = [
        [`/v1/tasks/medusa_task_00000000-0000-4000-8000-000000000000`, writeKey, 404],
        [`/v1/tasks/not-a-task-id`, writeKey, 404],
        [`/v1/tasks/${id}`, undefined, 401],
        [`/v1/tasks/${id}`, "a-wrong-key-0123456789", 401]
      ]
      for (const [path, key, status] of cases) {
        const answer = yield* promise(() => both(server.url, path, key))
        assert.strictEqual(answer.direct.status, status, path)
        assert.deepStrictEqual(answer.direct, answer.viaApi)
        assert.strictEqual(answer.directServed, 0, `${status} is the API's answer`)
      }
    }))

  it.scopedLive("with CORS on, reads go through the API (its CORS headers)", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ server: { corsOrigins: ["https://app.example"] } })
      const submitted = yield* promise(() => server.call("/v1/tasks", { json: request(server.media) }))
      const { task_id: id } = yield* promise(() => submitted.json() as Promise<{ task_id: string }>)
      const before = counter.served
      const read = yield* promise(() => server.call(`/v1/tasks/${id}`, { headers: { origin: "https://app.example" } }))
      assert.strictEqual(read.status, 200)
      assert.strictEqual(read.headers.get("access-control-allow-origin"), "https://app.example")
      assert.strictEqual(counter.served, before)
    }))
})
