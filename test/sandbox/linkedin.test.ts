import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import { RESERVED, unescapeLittleText } from "../../src/sandbox/emulators/linkedin.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { request } from "./sandbox-http.js"

const headersFor = (sb: Sandbox.Sandbox, over: Record<string, string | undefined> = {}) => {
  const base: Record<string, string | undefined> = {
    authorization: `Bearer ${sb.credentials.linkedin.accessToken}`,
    "linkedin-version": "202607",
    "x-restli-protocol-version": "2.0.0",
    "content-type": "application/json",
    ...over
  }
  return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, string>
}

const body = (sb: Sandbox.Sandbox, commentary: string, extra: Record<string, unknown> = {}) => ({
  author: sb.credentials.linkedin.authorUrn,
  commentary,
  visibility: "PUBLIC",
  distribution: { feedDistribution: "MAIN_FEED", targetEntities: [], thirdPartyDistributionChannels: [] },
  lifecycleState: "PUBLISHED",
  isReshareDisabledByAuthor: false,
  ...extra
})

const create = (sb: Sandbox.Sandbox, payload: unknown, over: Record<string, string | undefined> = {}) =>
  Effect.promise(() =>
    request(`${sb.urls.linkedin}/rest/posts`, {
      method: "POST",
      headers: headersFor(sb, over),
      body: JSON.stringify(payload)
    })
  )

const find = (sb: Sandbox.Sandbox, query: string) =>
  Effect.promise(() => request(`${sb.urls.linkedin}/rest/posts?${query}`, { headers: headersFor(sb) }))

/** What a client must send for `text` (every reserved character backslash-escaped). */
const escape = (text: string) => [...text].map((c) => RESERVED.has(c) ? `\\${c}` : c).join("")

let unique = 0
const text = (label: string) => `${label} ${++unique} ${Date.now()}`

layer(Sandbox.layer())("linkedin emulator", (it) => {
  it.effect("creates a post: 201, empty body, x-restli-id; stores unescaped text and the article link", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const plain = `${text("New video (4K)!")} #launch @team [beta] <3 a_b*c~d | {x} back\\slash`
      const r = yield* create(
        sb,
        body(sb, escape(plain), { content: { article: { source: "https://youtu.be/abc123", title: "Launch" } } })
      )
      assert.strictEqual(r.status, 201, r.text)
      assert.strictEqual(r.body.length, 0)
      const id = String(r.headers["x-restli-id"])
      assert.match(id, /^urn:li:share:\d+$/)
      assert.deepInclude(sb.state().posts.find((p) => p.id === id), {
        platform: "linkedin",
        text: plain,
        link: "https://youtu.be/abc123",
        url: `https://www.linkedin.com/feed/update/${id}/`
      })
    }))

  it.effect("requires LinkedIn-Version (400), an active version (426) and Rest.li 2.0.0 (400)", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const before = sb.state().posts.length
      const missing = yield* create(sb, body(sb, text("v")), { "linkedin-version": undefined })
      assert.strictEqual(missing.status, 400)
      assert.strictEqual(missing.json.status, 400)
      assert.include(missing.json.message, "LinkedIn-Version")
      const sunset = yield* create(sb, body(sb, text("v")), { "linkedin-version": "202401" })
      assert.strictEqual(sunset.status, 426)
      assert.deepInclude(sunset.json, { status: 426, message: "Requested version 202401 is not active" })
      const future = yield* create(sb, body(sb, text("v")), { "linkedin-version": "209912" })
      assert.strictEqual(future.status, 426)
      const malformed = yield* create(sb, body(sb, text("v")), { "linkedin-version": "2025-11" })
      assert.strictEqual(malformed.status, 400)
      const restli = yield* create(sb, body(sb, text("v")), { "x-restli-protocol-version": undefined })
      assert.strictEqual(restli.status, 400)
      assert.include(restli.json.message, "X-Restli-Protocol-Version")
      const patch = yield* create(sb, body(sb, text("v")), { "linkedin-version": "202511.01" })
      assert.strictEqual(patch.status, 201)
      assert.strictEqual(sb.state().posts.length, before + 1)
    }))

  it.effect("checks the bearer token and the author, in LinkedIn's error format", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const none = yield* create(sb, body(sb, text("t")), { authorization: undefined })
      assert.strictEqual(none.status, 401)
      const bad = yield* create(sb, body(sb, text("t")), { authorization: "Bearer nope" })
      assert.deepStrictEqual(bad.json, { message: "Invalid access token", serviceErrorCode: 65600, status: 401 })
      const other = yield* create(sb, { ...body(sb, text("t")), author: "urn:li:person:someoneelse" })
      assert.strictEqual(other.status, 403)
      assert.strictEqual(other.json.serviceErrorCode, 100)
      assert.include(other.json.message, "urn:li:person:someoneelse")
    }))

  it.effect("validates the body: required fields, commentary length, unescaped reserved characters", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const { visibility: _, ...noVisibility } = body(sb, text("f"))
      const missing = yield* create(sb, noVisibility)
      assert.strictEqual(missing.status, 422)
      assert.include(missing.json.message, "/visibility")
      const long = yield* create(sb, body(sb, "x".repeat(3001)))
      assert.strictEqual(long.status, 422)
      assert.include(long.json.message, "3000")
      assert.strictEqual((yield* create(sb, body(sb, `${text("y")}${"y".repeat(2950)}`.slice(0, 3000)))).status, 201)
      const unescaped = yield* create(sb, body(sb, "Watch (now)"))
      assert.strictEqual(unescaped.status, 422)
      assert.include(unescaped.json.message, "'('")
      assert.include(unescaped.json.message, "index 6")
      const badLink = yield* create(sb, body(sb, text("l"), { content: { article: { source: "youtu.be/x" } } }))
      assert.strictEqual(badLink.status, 422)
      assert.include(badLink.json.message, "/content/article/source")
    }))

  it.effect("mentions and hashtag templates become their display text", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const label = text("hi")
      const r = yield* create(
        sb,
        body(sb, `${label} @[Medusa](urn:li:organization:123) {hashtag|\\#|video}`)
      )
      assert.strictEqual(r.status, 201)
      assert.strictEqual(
        sb.state().posts.find((p) => p.id === r.headers["x-restli-id"])?.text,
        `${label} Medusa #video`
      )
    }))

  it.effect("a duplicate gets 422 naming the first post; posts.find lists recent posts newest first", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const content = text("dup")
      const first = yield* create(sb, body(sb, content))
      const id = String(first.headers["x-restli-id"])
      const again = yield* create(sb, body(sb, content))
      assert.strictEqual(again.status, 422)
      assert.deepStrictEqual(again.json, { message: `Content is a duplicate of ${id}`, status: 422 })
      sb.clock.advance(1000)
      const second = yield* create(sb, body(sb, text("later")))
      const author = encodeURIComponent(sb.credentials.linkedin.authorUrn)
      const found = yield* find(sb, `q=author&author=${author}&count=2`)
      assert.strictEqual(found.status, 200)
      assert.deepStrictEqual(
        found.json.elements.map((e: any) => e.id),
        [second.headers["x-restli-id"], id]
      )
      assert.strictEqual(found.json.elements[1].commentary, content)
      assert.strictEqual(found.json.paging.count, 2)
      const wrongFinder = yield* find(sb, "q=nope")
      assert.strictEqual(wrongFinder.status, 400)
    }))

  it.effect("faults answer in LinkedIn's format", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      sb.inject({ platform: "linkedin", route: "posts", action: { kind: "status", status: 503 } })
      const r = yield* create(sb, body(sb, text("fault")))
      assert.deepStrictEqual(r.json, { message: "Service Unavailable", status: 503 })
    }))
})

describe("linkedin emulator, configured", () => {
  it.scoped("a video whose initializeUpload answer was lost is unannounced, not an orphan, until a request names it", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({ linkedin: { videoPartBytes: 100 * 1024 } })
      const initialize = Effect.promise(() =>
        request(`${sb.urls.linkedin}/rest/videos?action=initializeUpload`, {
          method: "POST",
          headers: headersFor(sb),
          body: JSON.stringify({
            initializeUploadRequest: { owner: sb.credentials.linkedin.authorUrn, fileSizeBytes: 200 * 1024 }
          })
        }).then((reply) => reply.json.value.video as string, () => undefined)
      )
      // Handled, answer lost.
      sb.inject({ platform: "linkedin", route: "videos.initialize", action: { kind: "drop", afterBytes: 1_000_000 } })
      assert.isUndefined(yield* initialize)
      const known = yield* initialize
      assert.isString(known)
      const [lost] = sb.state().unannounced.linkedin
      assert.notStrictEqual(lost, known)
      assert.deepStrictEqual(sb.state().orphans.linkedin, [])
      // The client learns `known` and sends its first part only: an orphan once it is abandoned.
      yield* Effect.promise(() =>
        request(`${sb.urls.linkedin}/upload/videos/${encodeURIComponent(known!)}/parts/0`, {
          method: "PUT",
          body: Buffer.alloc(100 * 1024)
        })
      )
      assert.deepStrictEqual(sb.state().orphans.linkedin, [known!])
      assert.deepStrictEqual(sb.state().unannounced.linkedin, [lost])
    }))

  it.scoped("the daily per-member limit gives 429; the next UTC day resets it", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({
        linkedin: { dailyPostLimit: 2 },
        clockStart: Date.parse("2026-11-21T12:00:00Z")
      })
      assert.strictEqual((yield* create(sb, body(sb, "one"))).status, 201)
      assert.strictEqual((yield* create(sb, body(sb, "two"))).status, 201)
      const three = yield* create(sb, body(sb, "three"))
      assert.strictEqual(three.status, 429)
      assert.strictEqual(three.json.status, 429)
      sb.clock.advance(12 * 3_600_000)
      assert.strictEqual((yield* create(sb, body(sb, "three"))).status, 201)
      sb.exhaustQuota("linkedin")
      assert.strictEqual((yield* create(sb, body(sb, "four"))).status, 429)
    }))

  it.scoped("linkedinMinVersion moves the sunset line; an expired token gets 65601; canary stays out", () =>
    Effect.gen(function*() {
      const canary = "CANARY-li-55e1"
      const sb = yield* Sandbox.make({
        linkedinMinVersion: "202608",
        credentials: { linkedin: { accessToken: canary } }
      })
      assert.strictEqual((yield* create(sb, body(sb, "old version"))).status, 426)
      assert.strictEqual((yield* create(sb, body(sb, "ok"), { "linkedin-version": "202609" })).status, 201)
      sb.expireToken("linkedin")
      const expired = yield* create(sb, body(sb, "expired"), { "linkedin-version": "202609" })
      assert.strictEqual(expired.status, 401)
      assert.strictEqual(expired.json.serviceErrorCode, 65601)
      assert.notInclude(JSON.stringify(sb.state()), canary)
    }))
})

describe("little text", () => {
  it("unescapes whatever a client escapes", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...[..."ab (x)\\|{}@[]<>#*_~ é😀"]) }), (s) => {
        const r = unescapeLittleText(escape(s))
        return r.ok && r.text === s
      })
    )
  })

  it("flags the first unescaped reserved character", () => {
    assert.deepStrictEqual(unescapeLittleText("ok \\( then ) x"), { ok: false, index: 11, char: ")" })
    assert.deepStrictEqual(unescapeLittleText("trailing \\"), { ok: false, index: 9, char: "\\" })
  })
})
