import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { request } from "./sandbox-http.js"

const V = "v26.0"
const form = (params: Record<string, string>) => new URLSearchParams(params).toString()
const formHeaders = { "content-type": "application/x-www-form-urlencoded" }

const post = (sb: Sandbox.Sandbox, params: Record<string, string>, headers: Record<string, string> = {}) =>
  Effect.promise(() =>
    request(`${sb.urls.facebook}/${V}/${sb.credentials.facebook.pageId}/feed`, {
      method: "POST",
      headers: { ...formHeaders, ...headers },
      body: form(params)
    })
  )

const get = (sb: Sandbox.Sandbox, path: string, headers: Record<string, string> = {}) =>
  Effect.promise(() => request(`${sb.urls.facebook}${path}`, { headers }))

const token = (sb: Sandbox.Sandbox) => sb.credentials.facebook.pageAccessToken
const usageOf = (headers: Record<string, unknown>) => JSON.parse(String(headers["x-app-usage"])).call_count as number

let unique = 0
const message = (label: string) => `${label} #${++unique} ${Date.now()}`

layer(Sandbox.layer())("facebook emulator", (it) => {
  it.effect("posts message + link, stores it, and reports growing usage on every answer", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const text = message("Launch day")
      const r = yield* post(sb, { message: text, link: "https://youtu.be/abc123", access_token: token(sb) })
      assert.strictEqual(r.status, 200)
      const id: string = r.json.id
      assert.match(id, new RegExp(`^${sb.credentials.facebook.pageId}_\\d+$`))
      const stored = sb.state().posts.find((p) => p.id === id)
      assert.deepInclude(stored, {
        platform: "facebook",
        text,
        link: "https://youtu.be/abc123",
        url: `https://www.facebook.com/${id.replace("_", "/posts/")}`
      })
      const first = usageOf(r.headers)
      const bucHeader = JSON.parse(String(r.headers["x-business-use-case-usage"]))
      assert.strictEqual(bucHeader[sb.credentials.facebook.pageId][0].type, "pages")
      const again = yield* get(sb, `/${V}/me?fields=id,name`, { authorization: `Bearer ${token(sb)}` })
      assert.strictEqual(again.status, 200)
      assert.deepStrictEqual(again.json, { id: sb.credentials.facebook.pageId, name: "Medusa Sandbox Page" })
      assert.isAbove(usageOf(again.headers), first)
    }))

  it.effect("takes the token as a query param, a form field, or an Authorization Bearer/OAuth header", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const viaQuery = yield* Effect.promise(() =>
        request(
          `${sb.urls.facebook}/${V}/me/feed?${form({ access_token: token(sb), message: message("query") })}`,
          { method: "POST", headers: formHeaders, body: "" }
        )
      )
      assert.strictEqual(viaQuery.status, 200)
      const viaBearer = yield* post(sb, { message: message("bearer") }, { authorization: `Bearer ${token(sb)}` })
      assert.strictEqual(viaBearer.status, 200)
      const viaOAuth = yield* post(sb, { message: message("oauth") }, { authorization: `OAuth ${token(sb)}` })
      assert.strictEqual(viaOAuth.status, 200)
      const viaJson = yield* Effect.promise(() =>
        request(`${sb.urls.facebook}/${V}/${sb.credentials.facebook.pageId}/feed`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message: message("json"), access_token: token(sb) })
        })
      )
      assert.strictEqual(viaJson.status, 200)
    }))

  it.effect("answers Graph errors: bad token 190, no token 104, unknown version 12, unknown page 100", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const bad = yield* post(sb, { message: message("x"), access_token: "not-the-token" })
      assert.strictEqual(bad.status, 400)
      assert.strictEqual(bad.json.error.code, 190)
      assert.strictEqual(bad.json.error.type, "OAuthException")
      assert.isString(bad.json.error.fbtrace_id)
      assert.isDefined(bad.headers["x-app-usage"])
      const none = yield* post(sb, { message: message("x") })
      assert.strictEqual(none.json.error.code, 104)
      const version = yield* get(sb, `/v19.0/me?access_token=${token(sb)}`)
      assert.strictEqual(version.json.error.code, 12)
      assert.include(version.json.error.message, "v26.0")
      const other = yield* Effect.promise(() =>
        request(`${sb.urls.facebook}/${V}/999/feed`, {
          method: "POST",
          headers: formHeaders,
          body: form({ message: "hi", access_token: token(sb) })
        })
      )
      assert.strictEqual(other.json.error.code, 100)
      assert.strictEqual(other.json.error.error_subcode, 33)
      const noRoute = yield* get(sb, `/${V}/${sb.credentials.facebook.pageId}/photos`)
      assert.strictEqual(noRoute.status, 404)
      assert.strictEqual(noRoute.json.error.type, "GraphMethodException")
      const empty = yield* post(sb, { access_token: token(sb) })
      assert.strictEqual(empty.json.error.code, 100)
      assert.include(empty.json.error.message, "Missing message or attachment")
      const badLink = yield* post(sb, { message: message("x"), link: "notaurl", access_token: token(sb) })
      assert.strictEqual(badLink.json.error.code, 100)
      assert.include(badLink.json.error.message, "notaurl")
    }))

  it.effect("rejects a duplicate message with 506 and stores nothing", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const text = message("dup")
      const first = yield* post(sb, { message: text, access_token: token(sb) })
      assert.strictEqual(first.status, 200)
      const before = sb.state().posts.length
      const second = yield* post(sb, { message: text, access_token: token(sb) })
      assert.strictEqual(second.status, 400)
      assert.strictEqual(second.json.error.code, 506)
      assert.strictEqual(sb.state().posts.length, before)
    }))

  it.effect("schedules within 10 minutes..75 days; scheduled posts are listed apart until due", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const now = Math.floor(sb.clock.now() / 1000)
      const tooSoon = yield* post(sb, {
        message: message("soon"),
        published: "false",
        scheduled_publish_time: String(now + 300),
        access_token: token(sb)
      })
      assert.strictEqual(tooSoon.json.error.code, 100)
      assert.strictEqual(tooSoon.json.error.error_user_title, "Invalid Scheduled Publish Time")
      const tooLate = yield* post(sb, {
        message: message("late"),
        published: "false",
        scheduled_publish_time: new Date((now + 76 * 86_400) * 1000).toISOString(),
        access_token: token(sb)
      })
      assert.strictEqual(tooLate.json.error.code, 100)
      const publishedToo = yield* post(sb, {
        message: message("both"),
        scheduled_publish_time: String(now + 3600),
        access_token: token(sb)
      })
      assert.strictEqual(publishedToo.json.error.code, 100)

      const text = message("scheduled")
      const ok = yield* post(sb, {
        message: text,
        published: "false",
        scheduled_publish_time: String(now + 86_400),
        access_token: token(sb)
      })
      assert.strictEqual(ok.status, 200)
      const stored = sb.state().posts.find((p) => p.id === ok.json.id)
      assert.deepStrictEqual(stored?.extra, { published: false, scheduledPublishTime: now + 86_400 })

      const pageId = sb.credentials.facebook.pageId
      const scheduled = yield* get(sb, `/${V}/${pageId}/scheduled_posts?access_token=${token(sb)}`)
      assert.deepInclude(scheduled.json.data, {
        id: ok.json.id,
        message: text,
        created_time: scheduled.json.data.find((p: any) => p.id === ok.json.id).created_time,
        scheduled_publish_time: now + 86_400
      })
      const feed = yield* get(sb, `/${V}/${pageId}/feed?access_token=${token(sb)}`)
      assert.notInclude(feed.json.data.map((p: any) => p.id), ok.json.id)

      sb.clock.advance(2 * 86_400_000)
      const later = yield* get(sb, `/${V}/${pageId}/feed?access_token=${token(sb)}&limit=100`)
      assert.include(later.json.data.map((p: any) => p.id), ok.json.id)
      const after = yield* get(sb, `/${V}/${pageId}/scheduled_posts?access_token=${token(sb)}`)
      assert.notInclude(after.json.data.map((p: any) => p.id), ok.json.id)
    }))

  it.effect("lists recent posts newest first with message and created_time", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const a = yield* post(sb, { message: message("older"), access_token: token(sb) })
      sb.clock.advance(1000)
      const b = yield* post(sb, { message: message("newer"), access_token: token(sb) })
      const feed = yield* get(sb, `/${V}/me/feed?access_token=${token(sb)}&limit=2`)
      assert.deepStrictEqual(feed.json.data.map((p: any) => p.id), [b.json.id, a.json.id])
      assert.match(feed.json.data[0].created_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/)
      assert.deepStrictEqual(Object.keys(feed.json.data[0]).sort(), ["created_time", "id", "message"])
    }))

  it.effect("debug_token, me/permissions", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const t = token(sb)
      const debug = yield* get(sb, `/${V}/debug_token?input_token=${t}&access_token=${t}`)
      assert.strictEqual(debug.status, 200)
      assert.deepInclude(debug.json.data, {
        app_id: sb.credentials.facebook.appId,
        type: "PAGE",
        profile_id: sb.credentials.facebook.pageId,
        is_valid: true,
        expires_at: 0
      })
      assert.includeMembers(debug.json.data.scopes, ["pages_manage_posts", "pages_read_engagement"])
      const invalid = yield* get(sb, `/${V}/debug_token?input_token=nope&access_token=${t}`)
      assert.strictEqual(invalid.status, 200)
      assert.strictEqual(invalid.json.data.is_valid, false)
      const perms = yield* get(sb, `/${V}/me/permissions?access_token=${t}`)
      assert.deepInclude(perms.json.data, { permission: "pages_manage_posts", status: "granted" })
    }))

  it.effect("a status fault answers the requested Graph code in Graph's format", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      sb.inject({ platform: "facebook", route: "feed", action: { kind: "status", status: 400, code: "368" } })
      const before = sb.state().posts.length
      const r = yield* post(sb, { message: message("blocked"), access_token: token(sb) })
      assert.strictEqual(r.status, 400)
      assert.strictEqual(r.json.error.code, 368)
      assert.strictEqual(r.json.error.type, "OAuthException")
      assert.isDefined(r.headers["x-app-usage"])
      assert.strictEqual(sb.state().posts.length, before)
      sb.inject({ platform: "facebook", route: "feed", action: { kind: "rateLimit", retryAfterSeconds: 7 } })
      const limited = yield* post(sb, { message: message("limited"), access_token: token(sb) })
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.json.error.code, 32)
      assert.strictEqual(limited.headers["retry-after"], "7")
    }))

  it.effect("scheduling window property: accepted iff 600 s <= offset <= 75 days", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const day = 86_400
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.oneof(fc.integer({ min: -day, max: 80 * day }), fc.constantFrom(599, 600, 75 * day, 75 * day + 1)),
            async (offset) => {
              const now = Math.floor(sb.clock.now() / 1000)
              const r = await request(`${sb.urls.facebook}/${V}/me/feed`, {
                method: "POST",
                headers: formHeaders,
                body: form({
                  message: message("prop"),
                  published: "false",
                  scheduled_publish_time: String(now + offset),
                  access_token: token(sb)
                })
              })
              // A second of slack around the bounds: the sandbox clock moves while the request travels.
              if (offset >= 601 && offset <= 75 * day - 1) return r.status === 200
              if (offset < 599 || offset > 75 * day + 1) return r.status === 400 && r.json.error.code === 100
              return true
            }
          ),
          { numRuns: 40 }
        )
      )
    }))
})

describe("facebook emulator, configured", () => {
  it.scoped("a token without pages_manage_posts gets code 200", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({ facebook: { scopes: ["pages_read_engagement"] } })
      const r = yield* post(sb, { message: "hello", access_token: token(sb) })
      assert.strictEqual(r.status, 403)
      assert.strictEqual(r.json.error.code, 200)
      assert.include(r.json.error.message, "pages_manage_posts")
      assert.strictEqual(sb.state().posts.length, 0)
    }))

  it.scoped("usage grows to 100 and throttles with 80001 until the window rolls by the sandbox clock", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({ facebook: { usagePerCall: 30 } })
      const usages: Array<number> = []
      for (let i = 0; i < 3; i++) {
        const r = yield* post(sb, { message: `usage ${i}`, access_token: token(sb) })
        assert.strictEqual(r.status, 200)
        usages.push(usageOf(r.headers))
      }
      assert.deepStrictEqual(usages, [30, 60, 90])
      const fourth = yield* post(sb, { message: "usage 3", access_token: token(sb) })
      assert.strictEqual(fourth.status, 200)
      const throttled = yield* post(sb, { message: "usage 4", access_token: token(sb) })
      assert.strictEqual(throttled.json.error.code, 80001)
      const buc = JSON.parse(String(throttled.headers["x-business-use-case-usage"]))
      assert.isAbove(buc[sb.credentials.facebook.pageId][0].estimated_time_to_regain_access, 0)
      sb.clock.advance(3_600_000)
      const again = yield* post(sb, { message: "usage 5", access_token: token(sb) })
      assert.strictEqual(again.status, 200)
      assert.strictEqual(usageOf(again.headers), 30)
      sb.exhaustQuota("facebook")
      const exhausted = yield* post(sb, { message: "usage 6", access_token: token(sb) })
      assert.strictEqual(exhausted.json.error.code, 80001)
    }))

  it.scoped("an expired token gets 190/463 and debug_token says is_valid false", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({})
      sb.expireToken("facebook")
      sb.clock.advance(1000)
      const r = yield* post(sb, { message: "after expiry", access_token: token(sb) })
      assert.strictEqual(r.json.error.code, 190)
      assert.strictEqual(r.json.error.error_subcode, 463)
      assert.isDefined(r.headers["www-authenticate"])
      const appToken = `${sb.credentials.facebook.appId}|app-secret`
      const debug = yield* get(sb, `/${V}/debug_token?input_token=${token(sb)}&access_token=${appToken}`)
      assert.strictEqual(debug.status, 200)
      assert.strictEqual(debug.json.data.is_valid, false)
      assert.strictEqual(debug.json.data.error.subcode, 463)
      assert.isAbove(debug.json.data.expires_at, 0)
    }))

  it.scoped("a canary token never shows in the sandbox state or request log", () =>
    Effect.gen(function*() {
      const canary = "CANARY-fb-7f3a9c"
      const sb = yield* Sandbox.make({ credentials: { facebook: { pageAccessToken: canary } } })
      yield* get(sb, `/${V}/debug_token?input_token=${canary}&access_token=${canary}`)
      yield* post(sb, { message: "canary", access_token: canary }, { authorization: `OAuth ${canary}` })
      const r = yield* post(sb, { message: "canary 2", access_token: "wrong" })
      assert.notInclude(JSON.stringify(r.json), canary)
      const state = JSON.stringify(sb.state())
      assert.isTrue(sb.state().posts.some((p) => p.text === "canary"))
      assert.isAbove(sb.state().requestLog.length, 2)
      assert.notInclude(state, canary)
    }))
})
