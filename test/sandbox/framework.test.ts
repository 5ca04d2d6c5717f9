import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import fc from "fast-check"
import { createHash } from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Credentials from "../../src/sandbox/Credentials.js"
import {
  dispatch,
  type Emulator,
  type EmulatorEnv,
  FaultEngine,
  makeClock,
  makeCommitter,
  parseFaultRule,
  redactPath,
  SandboxState
} from "../../src/sandbox/internal/framework.js"
import { bytes, request, sha256 } from "./sandbox-http.js"

/** A tiny emulator exercising the framework: an upload route, a GET route and a JSON route. */
const makeTestEmulator = (seen: { body: number; handled: number }): Emulator => ({
  platform: "youtube",
  routes: [
    {
      name: "upload",
      method: "PUT",
      path: /^\/up\/(?<id>\w+)$/,
      handler: async (ctx) => {
        seen.handled += 1
        const upload = ctx.state.uploads.get(ctx.params.id!) ??
          ctx.state.newUpload("youtube", ctx.params.id!, undefined, {}, ctx.now())
        const committer = makeCommitter(upload, ctx.holdBack)
        const { bytes, dropped } = await ctx.consume((c) => {
          seen.body += c.length
          committer.push(c)
        })
        committer.end()
        if (dropped) return
        ctx.send(200, { received: bytes, stored: upload.bytes })
      }
    },
    { name: "get", method: "GET", path: "/thing", handler: (ctx) => ctx.send(200, { ok: true }) },
    {
      name: "post",
      method: "POST",
      path: "/echo",
      handler: async (ctx) => {
        seen.handled += 1
        ctx.send(201, await ctx.json())
      }
    }
  ],
  errorResponse: (status, options) => ({
    body: { error: { code: status, reason: options.code ?? "default", route: options.route ?? null } }
  }),
  expireTokens: () => {},
  exhaustQuota: () => {},
  snapshot: () => ({})
})

const serve = () =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const state = new SandboxState(false)
      const faults = new FaultEngine()
      const env: EmulatorEnv = { state, clock: makeClock(), credentials: Credentials.make(), options: {} }
      const seen = { body: 0, handled: 0 }
      const emulator = makeTestEmulator(seen)
      let base = ""
      const server = http.createServer((req, res) => void dispatch(emulator, faults, env, base, req, res))
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      return { base, state, faults, seen, server }
    }),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      )
  )

describe("fault mechanics", () => {
  it.scoped("drop after K bytes: the handler sees exactly K bytes, the client no answer, the log says dropped", () =>
    Effect.gen(function*() {
      const { base, faults, seen, state } = yield* serve()
      faults.add({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes: 100_000 } })
      const data = bytes(1_000_000)
      const error = yield* Effect.promise(() =>
        request(`${base}/up/a`, { method: "PUT", body: data }).then(() => undefined, (e: Error) => e)
      )
      expect(error).toBeInstanceOf(Error)
      expect(seen.body).toBe(100_000)
      const upload = state.uploads.get("a")!
      expect(upload.bytes).toBe(100_000)
      expect(upload.hash.copy().digest("hex")).toBe(sha256(data.subarray(0, 100_000)))
      expect(state.log.at(-1)!.status).toBe("dropped")
      expect(state.counters.youtube.faults).toBe(1)
      // The fault was used up: the next request is answered.
      const ok = yield* Effect.promise(() => request(`${base}/up/b`, { method: "PUT", body: data }))
      expect(ok.json).toEqual({ received: 1_000_000, stored: 1_000_000 })
    }))

  it.scoped("a drop beyond the body lets the request land and loses the answer", () =>
    Effect.gen(function*() {
      const { base, faults, seen } = yield* serve()
      faults.add({ platform: "youtube", route: "post", action: { kind: "drop", afterBytes: 10_000 } })
      const error = yield* Effect.promise(() =>
        request(`${base}/echo`, { method: "POST", body: "{\"a\":1}" }).then(() => undefined, (e: Error) => e)
      )
      expect(error).toBeInstanceOf(Error)
      expect(seen.handled).toBe(1)
    }))

  it.scoped("keep-alive: a dropped connection does not poison the agent's next request", () =>
    Effect.gen(function*() {
      const { base, faults } = yield* serve()
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
      const put = (body: Buffer) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(
            `${base}/up/k`,
            { method: "PUT", agent, headers: { "content-length": body.length } },
            (res) => {
              res.resume()
              res.on("end", () => resolve(res.statusCode ?? 0))
            }
          )
          req.on("error", reject)
          req.end(body)
        })
      expect(yield* Effect.promise(() => put(Buffer.alloc(10)))).toBe(200)
      faults.add({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes: 5 } })
      const failed = yield* Effect.promise(() => put(Buffer.alloc(50_000)).then(() => false, () => true))
      expect(failed).toBe(true)
      expect(yield* Effect.promise(() => put(Buffer.alloc(10)))).toBe(200)
    }))

  it.scoped("partial acknowledgement stores and hashes only the acknowledged prefix", () =>
    Effect.gen(function*() {
      const { base, faults, state } = yield* serve()
      faults.add({ platform: "youtube", route: "upload", action: { kind: "partialAck", bytes: 4321 } })
      const data = bytes(500_000, 2)
      const r = yield* Effect.promise(() => request(`${base}/up/p`, { method: "PUT", body: data }))
      expect(r.json).toEqual({ received: 500_000, stored: 500_000 - 4321 })
      const upload = state.uploads.get("p")!
      expect(upload.hash.copy().digest("hex")).toBe(sha256(data.subarray(0, 500_000 - 4321)))
    }))

  it.scoped("status faults answer in the emulator's format with the route; HEAD falls back to GET", () =>
    Effect.gen(function*() {
      const { base, faults } = yield* serve()
      faults.add({ platform: "youtube", route: "get", times: 2, action: { kind: "status", status: 503, code: "busy" } })
      const a = yield* Effect.promise(() => request(`${base}/thing`))
      const b = yield* Effect.promise(() => request(`${base}/thing`, { method: "HEAD" }))
      const c = yield* Effect.promise(() => request(`${base}/thing`))
      expect(a.status).toBe(503)
      expect(a.json).toEqual({ error: { code: 503, reason: "busy", route: "get" } })
      expect(b.status).toBe(503)
      expect(b.body.length).toBe(0)
      expect(c.status).toBe(200)
      const h = yield* Effect.promise(() => request(`${base}/thing`, { method: "HEAD" }))
      expect(h.status).toBe(200)
      expect(h.body.length).toBe(0)
    }))

  it.scoped("rate limit faults carry Retry-After; unknown routes get the emulator's 404", () =>
    Effect.gen(function*() {
      const { base, faults } = yield* serve()
      faults.add({ platform: "youtube", action: { kind: "rateLimit", retryAfterSeconds: 7 } })
      const r = yield* Effect.promise(() => request(`${base}/thing`))
      expect(r.status).toBe(429)
      expect(r.headers["retry-after"]).toBe("7")
      const missing = yield* Effect.promise(() => request(`${base}/nope`))
      expect(missing.status).toBe(404)
      expect(missing.json.error.code).toBe(404)
    }))
})

describe("committer", () => {
  it("commits all but the held-back tail, capped by the limit, for any chunking", () =>
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.option(fc.integer({ min: 0, max: 40_000 }), { nil: undefined }),
        (sizes, holdBack, limit) => {
          const state = new SandboxState(true)
          const upload = state.newUpload("vimeo", "u", undefined, {}, 0)
          const committer = makeCommitter(upload, holdBack, limit)
          const data = bytes(sizes.reduce((a, b) => a + b, 0), 11)
          let at = 0
          for (const size of sizes) {
            committer.push(data.subarray(at, at + size))
            at += size
          }
          const committed = committer.end()
          const expected = Math.min(Math.max(0, data.length - holdBack), limit ?? Infinity)
          expect(committed).toBe(expected)
          expect(upload.bytes).toBe(expected)
          expect(Buffer.concat(upload.chunks!).equals(data.subarray(0, expected))).toBe(true)
          expect(upload.hash.copy().digest("hex")).toBe(
            createHash("sha256").update(data.subarray(0, expected)).digest("hex")
          )
        }
      )
    ))
})

describe("fault queueing", () => {
  it("rules of one kind apply to consecutive requests; different kinds combine on one request", () => {
    const faults = new FaultEngine()
    faults.add({ platform: "youtube", route: "upload", action: { kind: "status", status: 503 } })
    faults.add({ platform: "youtube", route: "upload", action: { kind: "rateLimit", retryAfterSeconds: 1 } })
    faults.add({ platform: "youtube", route: "upload", action: { kind: "latency", millis: 5 } })
    faults.add({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes: 10 } })
    const kinds = (actions: ReadonlyArray<{ readonly kind: string }>) => actions.map((a) => a.kind)
    expect(kinds(faults.take("youtube", "upload", "PUT"))).toEqual(["status", "latency", "drop"])
    expect(kinds(faults.take("youtube", "upload", "PUT"))).toEqual(["rateLimit"])
    expect(faults.take("youtube", "upload", "PUT")).toEqual([])
    // Another route or platform never consumes them.
    faults.add({ platform: "youtube", route: "upload", action: { kind: "status", status: 500 } })
    expect(faults.take("youtube", "videos.list", "GET")).toEqual([])
    expect(faults.take("vimeo", "upload", "PUT")).toEqual([])
    expect(kinds(faults.take("youtube", "upload", "PUT"))).toEqual(["status"])
  })

  it("skip lets that many matching requests through first, then applies `times` times", () => {
    const faults = new FaultEngine()
    faults.add({ platform: "facebook", route: "videos", skip: 2, times: 2, action: { kind: "status", status: 500 } })
    const statuses = () => faults.take("facebook", "videos", "POST").map((a) => a.kind)
    // Other routes do not count towards the skip.
    expect(faults.take("facebook", "feed", "POST")).toEqual([])
    expect([statuses(), statuses(), statuses(), statuses(), statuses()]).toEqual([[], [], ["status"], ["status"], []])
  })
})

describe("random faults", () => {
  it("are reproducible from a seed", () => {
    const run = (seed: number) => {
      const engine = new FaultEngine()
      engine.addRandom({
        seed,
        probability: 0.3,
        platform: "x",
        actions: [{ kind: "status", status: 500 }, { kind: "latency", millis: 1 }]
      })
      return Array.from({ length: 200 }, () => engine.take("x", "tweets", "POST").map((a) => a.kind).join(","))
    }
    expect(run(42)).toEqual(run(42))
    expect(run(42)).not.toEqual(run(43))
    const hits = run(42).filter((s) => s !== "").length
    expect(hits).toBeGreaterThan(30)
    expect(hits).toBeLessThan(100)
  })
})

describe("redaction", () => {
  it("removes credentials from query strings and leaves other parameters alone", () =>
    fc.assert(
      fc.property(
        fc.constantFrom("access_token", "refresh_token", "client_secret", "input_token", "code", "oauth_token"),
        fc.stringMatching(/^[A-Za-z0-9._~-]{8,40}$/),
        (name, secret) => {
          const canary = `CANARY${secret}`
          const path = `/v26.0/me?fields=id&${name}=${canary}&error_code=5&x=1`
          const redacted = redactPath(path)
          expect(redacted).not.toContain(canary)
          expect(redacted).toContain("error_code=5")
          expect(redacted).toContain("fields=id")
        }
      )
    ))

  it.scoped("the request log keeps no Authorization header or token parameter", () =>
    Effect.gen(function*() {
      const { base, state } = yield* serve()
      yield* Effect.promise(() =>
        request(`${base}/thing?access_token=CANARY-QUERY`, { headers: { authorization: "Bearer CANARY-HEADER" } })
      )
      const log = JSON.stringify(state.toJSON().requestLog)
      expect(log).not.toContain("CANARY")
      expect(log).toContain("<redacted>")
    }))
})

describe("fault rule validation", () => {
  it("names the field and the fix", () => {
    expect(() => parseFaultRule({ platform: "myspace", action: { kind: "drop", afterBytes: 1 } })).toThrow(
      /platform must be one of youtube, vimeo, facebook, x, linkedin/
    )
    expect(() => parseFaultRule({ platform: "x", action: { kind: "drop" } })).toThrow(/action.afterBytes/)
    expect(() => parseFaultRule({ platform: "x", action: { kind: "status", status: 99 } })).toThrow(/action.status/)
    expect(() => parseFaultRule({ platform: "x", times: 0, action: { kind: "latency", millis: 1 } })).toThrow(/times/)
    expect(parseFaultRule({ platform: "x", times: null, action: { kind: "latency", millis: 1 } }).times).toBe(Infinity)
    expect(() => parseFaultRule({ platform: "x", skip: -1, action: { kind: "latency", millis: 1 } })).toThrow(
      /skip must be a non-negative integer/
    )
    expect(parseFaultRule({ platform: "x", skip: 3, action: { kind: "stall" } }).skip).toBe(3)
  })
})
