import { expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, json, request } from "./sandbox-http.js"

const CANARY = {
  youtube: {
    clientSecret: "CANARY-yt-secret",
    refreshToken: "CANARY-yt-refresh",
    accessToken: "CANARY-yt-access"
  },
  vimeo: { accessToken: "CANARY-vimeo" },
  facebook: { pageAccessToken: "CANARY-fb" },
  x: { apiSecret: "CANARY-x-secret", accessTokenSecret: "CANARY-x-token-secret", accessToken: "1-CANARY-x-token" },
  linkedin: { accessToken: "CANARY-li" }
}

const control = (sb: Sandbox.Sandbox, method: string, path: string, body?: unknown) =>
  request(`${sb.controlUrl}${path}`, {
    method,
    ...(body !== undefined
      ? { headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : json(body) }
      : {})
  })

const ytList = (sb: Sandbox.Sandbox) =>
  request(`${sb.urls.youtube}/youtube/v3/videos?part=status&id=x&access_token=${CANARY.youtube.accessToken}`, {
    headers: { authorization: `Bearer ${CANARY.youtube.accessToken}` }
  })

layer(Sandbox.layer({ credentials: CANARY }))("control API", (it) => {
  it.effect("faults over HTTP: inject, list, apply N times in the platform's format, clear", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const added = yield* Effect.promise(() =>
        control(sb, "POST", "/_sandbox/faults", {
          platform: "youtube",
          route: "videos.list",
          times: 2,
          action: { kind: "status", status: 503 }
        })
      )
      expect(added.status).toBe(200)
      expect(added.json.rules[0]).toMatchObject({ platform: "youtube", route: "videos.list", remaining: 2 })
      const a = yield* Effect.promise(() => ytList(sb))
      const b = yield* Effect.promise(() => ytList(sb))
      const c = yield* Effect.promise(() => ytList(sb))
      expect([a.status, b.status, c.status]).toEqual([503, 503, 200])
      expect(a.json.error.errors[0].reason).toBe("backendError")
      expect(a.json.error.status).toBe("UNAVAILABLE")

      yield* Effect.promise(() =>
        control(sb, "POST", "/_sandbox/faults", [
          { platform: "vimeo", times: null, action: { kind: "latency", millis: 1 } }
        ])
      )
      const listed = yield* Effect.promise(() => control(sb, "GET", "/_sandbox/faults"))
      expect(listed.json.rules).toEqual([
        { platform: "vimeo", times: null, remaining: null, action: { kind: "latency", millis: 1 } }
      ])
      const cleared = yield* Effect.promise(() => control(sb, "DELETE", "/_sandbox/faults"))
      expect(cleared.json.rules).toEqual([])
    }))

  it.effect("bad control input gets a 400 naming the field; a bad batch adds nothing", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const r = yield* Effect.promise(() =>
        control(sb, "POST", "/_sandbox/faults", [
          { platform: "youtube", action: { kind: "drop", afterBytes: 1 } },
          { platform: "youtube", action: { kind: "explode" } }
        ])
      )
      expect(r.status).toBe(400)
      expect(r.json.error).toContain("rules[1]: action.kind must be one of")
      expect((yield* Effect.promise(() => control(sb, "GET", "/_sandbox/faults"))).json.rules).toEqual([])
      const expire = yield* Effect.promise(() => control(sb, "POST", "/_sandbox/tokens/expire", { platform: "tiktok" }))
      expect(expire.status).toBe(400)
      expect(expire.json.error).toContain("platform must be one of")
      const notJson = yield* Effect.promise(() => control(sb, "POST", "/_sandbox/clock", "{"))
      expect(notJson.status).toBe(400)
      expect(notJson.json.error).toContain("not valid JSON")
      const unknown = yield* Effect.promise(() => control(sb, "GET", "/_sandbox/nothing"))
      expect(unknown.status).toBe(404)
    }))

  it.effect("seeded random faults over HTTP give the same faults for the same request sequence", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const run = () =>
        Effect.promise(async () => {
          await control(sb, "DELETE", "/_sandbox/faults")
          const added = await control(sb, "POST", "/_sandbox/faults/random", {
            seed: 99,
            probability: 0.5,
            platform: "vimeo",
            actions: [{ kind: "status", status: 500 }, { kind: "status", status: 502 }]
          })
          expect(added.status).toBe(200)
          const statuses: Array<number> = []
          for (let i = 0; i < 20; i++) {
            statuses.push(
              (await request(`${sb.urls.vimeo}/videos/1`, { headers: { authorization: "bearer x" } })).status
            )
          }
          await control(sb, "DELETE", "/_sandbox/faults")
          return statuses
        })
      const first = yield* run()
      const second = yield* run()
      expect(first).toEqual(second)
      expect(first.filter((s) => s >= 500).length).toBeGreaterThan(3)
      expect(first.filter((s) => s === 401).length).toBeGreaterThan(3)
      const bad = yield* Effect.promise(() =>
        control(sb, "POST", "/_sandbox/faults/random", { seed: 1, probability: 2, actions: [] })
      )
      expect(bad.status).toBe(400)
      expect(bad.json.error).toContain("probability must be between 0 and 1")
    }))

  it.effect("tokens/expire and quota/exhaust over HTTP", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      yield* Effect.promise(() => control(sb, "POST", "/_sandbox/quota/exhaust", { platform: "youtube" }))
      const q = yield* Effect.promise(() => ytList(sb))
      expect(q.status).toBe(403)
      expect(q.json.error.errors[0]).toMatchObject({ reason: "quotaExceeded", domain: "youtube.quota" })
      yield* Effect.promise(() => control(sb, "POST", "/_sandbox/tokens/expire", { platform: "youtube" }))
      const t = yield* Effect.promise(() => ytList(sb))
      expect(t.status).toBe(401)
    }))

  it.effect("the clock moves over HTTP; quota resets at midnight Pacific", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      // 23:59 PST on 2026-01-15 is 07:59 UTC on 2026-01-16.
      const set = yield* Effect.promise(() => control(sb, "POST", "/_sandbox/clock", { set: "2026-01-16T07:59:00Z" }))
      expect(set.json.iso).toMatch(/^2026-01-16T07:59:0/)
      sb.exhaustQuota("youtube")
      expect((sb.state().platforms.youtube as any).quota.unitsLeft).toBe(0)
      const moved = yield* Effect.promise(() => control(sb, "POST", "/_sandbox/clock", { advanceSeconds: 120 }))
      expect(moved.json.iso).toMatch(/^2026-01-16T08:01:0/)
      const quota = (sb.state().platforms.youtube as any).quota
      expect(quota.day).toBe("2026-01-16")
      expect(quota.unitsLeft).toBe(10_000)
      expect(quota.uploadsLeft).toBe(100)
    }))

  it.effect("posts seeded over HTTP are dated as asked and listed by the platforms' own searches", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const seed = (body: unknown) => Effect.promise(() => control(sb, "POST", "/_sandbox/posts", body))
      const fb = yield* seed({ platform: "facebook", text: "Seeded on the Page", at: "2025-03-01T10:00:00.750Z" })
      const x = yield* seed({ platform: "x", text: "Seeded on X", at: Date.parse("2025-03-01T10:00:00Z") })
      const li = yield* seed({ platform: "linkedin", text: "Seeded (with #little text)", at: 1_740_823_200_123 })
      expect([fb.status, x.status, li.status]).toEqual([200, 200, 200])
      expect(x.json.post).toMatchObject({ platform: "x", text: "Seeded on X", createdAt: 1_740_823_200_000 })
      expect(sb.raw.posts.map((p) => p.id)).toEqual(
        expect.arrayContaining([fb.json.post.id, x.json.post.id, li.json.post.id])
      )
      // X's ids are snowflakes that carry the creation time.
      expect(Number((BigInt(x.json.post.id) >> 22n) + 1_288_834_974_657n)).toBe(1_740_823_200_000)

      const page = yield* Effect.promise(() =>
        request(`${sb.urls.facebook}/v26.0/${sb.credentials.facebook.pageId}/feed?fields=id,message,created_time`, {
          headers: { authorization: `Bearer ${CANARY.facebook.pageAccessToken}` }
        })
      )
      // Graph dates posts to the second, with a +0000 offset.
      expect(page.json.data).toContainEqual({
        id: fb.json.post.id,
        message: "Seeded on the Page",
        created_time: "2025-03-01T10:00:00+0000"
      })
      const author = sb.credentials.linkedin.authorUrn
      const found = yield* Effect.promise(() =>
        request(`${sb.urls.linkedin}/rest/posts?q=author&author=${encodeURIComponent(author)}&count=10`, {
          headers: {
            authorization: `Bearer ${CANARY.linkedin.accessToken}`,
            "linkedin-version": "202601",
            "x-restli-protocol-version": "2.0.0"
          }
        })
      )
      expect(found.json.elements).toContainEqual(expect.objectContaining({
        id: li.json.post.id,
        commentary: "Seeded \\(with \\#little text\\)",
        createdAt: 1_740_823_200_123
      }))

      const bad = (body: unknown) => Effect.map(seed(body), (r) => [r.status, r.json.error])
      expect(yield* bad({ platform: "youtube", text: "t" })).toEqual([
        400,
        expect.stringContaining("platform must be one of facebook, x, linkedin")
      ])
      expect(yield* bad({ platform: "x" })).toEqual([400, expect.stringContaining("text must be a non-empty string")])
      expect(yield* bad({ platform: "x", text: "t", at: "last week" })).toEqual([
        400,
        expect.stringContaining("at must be epoch milliseconds or an ISO 8601 date-time; got \"last week\"")
      ])
    }))

  it.effect("the state JSON has uploads, counters and a request log, and no credential anywhere", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(5000)
      const init = yield* Effect.promise(() =>
        request(`${sb.urls.youtube}/upload/youtube/v3/videos?uploadType=resumable&part=snippet`, {
          method: "POST",
          headers: { authorization: "Bearer CANARY-yt-access", "x-upload-content-length": data.length },
          body: json({ snippet: { title: "t" } })
        })
      )
      // The clock test above moved time: the initial token is valid for an hour of sandbox time, so refresh.
      expect([200, 401]).toContain(init.status)
      const token = yield* Effect.promise(() =>
        request(`${sb.urls.youtube}/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body:
            `grant_type=refresh_token&refresh_token=${CANARY.youtube.refreshToken}&client_id=${sb.credentials.youtube.clientId}&client_secret=${CANARY.youtube.clientSecret}`
        })
      )
      expect(token.status).toBe(200)
      const issued: string = token.json.access_token
      const init2 = yield* Effect.promise(() =>
        request(`${sb.urls.youtube}/upload/youtube/v3/videos?uploadType=resumable&part=snippet`, {
          method: "POST",
          headers: { authorization: `Bearer ${issued}`, "x-upload-content-length": data.length },
          body: json({ snippet: { title: "t" } })
        })
      )
      expect(init2.status).toBe(200)
      yield* Effect.promise(() => request(init2.headers.location!, { method: "PUT", body: data }))
      const state = yield* Effect.promise(() => request(sb.stateUrl))
      expect(state.status).toBe(200)
      expect(state.json.counters.youtube.requests).toBeGreaterThan(5)
      expect(state.json.counters.youtube.bodyBytes).toBeGreaterThanOrEqual(data.length)
      expect(state.json.uploads.some((u: any) => u.complete && u.bytes === data.length)).toBe(true)
      expect(state.json.requestLog.length).toBeGreaterThan(3)
      expect(state.text).not.toContain("CANARY")
      expect(state.text).not.toContain(issued)
    }))
})
