import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { PostWait } from "../../src/Platform.js"
import * as LittleText from "../../src/platforms/linkedin/internal/littleText.js"
import * as LinkedIn from "../../src/platforms/linkedin/LinkedIn.js"
import { LinkedInMetadata } from "../../src/PublishRequest.js"
import { unescapeLittleText } from "../../src/sandbox/emulators/linkedin.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { publisherContract } from "../contract/publisher.js"
import {
  alignClocks,
  awaitSleep,
  context,
  Http,
  media,
  sandbox,
  type SandboxOptions,
  vimeoVideo,
  youtubeVideo
} from "./helpers.js"

const options = (sb: Sandbox.Sandbox, overrides: Partial<LinkedIn.Options> = {}): LinkedIn.Options => ({
  accessToken: Redacted.make(sb.credentials.linkedin.accessToken),
  authorUrn: sb.credentials.linkedin.authorUrn,
  baseUrl: sb.urls.linkedin,
  ...overrides
})

const setup = (sandboxOptions: SandboxOptions = {}, overrides: Partial<LinkedIn.Options> = {}) =>
  Effect.gen(function*() {
    const sb = yield* sandbox(sandboxOptions)
    yield* alignClocks(sb)
    const li = yield* LinkedIn.make(options(sb, overrides))
    return { sb, li }
  })

const liPosts = (sb: Sandbox.Sandbox) => sb.raw.postsOf("linkedin")
const postRequests = (sb: Sandbox.Sandbox) => sb.raw.log.filter((e) => e.platform === "linkedin" && e.method === "POST")
const text = (t: string) => new LinkedInMetadata({ text: t })

describe("LinkedIn publisher", () => {
  it.scoped("posts escaped commentary with the first host's link as an article; id from x-restli-id", () =>
    Effect.gen(function*() {
      const { li, sb } = yield* setup()
      const body = "Launch (v2) is out! #video @team_x [demo] {braces} <3 a|b ~ * \\ https://youtu.be/a_b"
      const post = yield* li.post(context(text(body), { videos: [youtubeVideo, vimeoVideo] }))
      const stored = liPosts(sb)
      expect(stored).toHaveLength(1)
      // The emulator unescapes little text: what readers see is exactly the text.
      expect(stored[0]!.text).toBe(body)
      expect(stored[0]!.link).toBe(youtubeVideo.url)
      // The article card carries the video's own title.
      expect((stored[0]!.extra as { articleTitle: string }).articleTitle).toBe("Launch day")
      expect((stored[0]!.extra as { commentary: string }).commentary).toBe(LittleText.escape(body))
      expect(post.postId).toBe(stored[0]!.id)
      expect(post.postId).toMatch(/^urn:li:share:\d+$/)
      expect(post.url).toBe(`https://www.linkedin.com/feed/update/${post.postId}/`)
      const request = postRequests(sb)[0]!
      expect(request.headers["linkedin-version"]).toBe(LinkedIn.defaultApiVersion)
      expect(request.headers["x-restli-protocol-version"]).toBe("2.0.0")
      expect(request.headers.authorization).toBe("<redacted>")
    }).pipe(Effect.provide(Http)))

  it.scoped("a video recorded without a title gets the file name as the article title", () =>
    Effect.gen(function*() {
      const { li, sb } = yield* setup()
      yield* li.post(context(text("untitled"), { videos: [vimeoVideo] }))
      const stored = liPosts(sb)
      expect(stored[0]!.link).toBe(vimeoVideo.url)
      expect((stored[0]!.extra as { articleTitle: string }).articleTitle).toBe("launch-video")
    }).pipe(Effect.provide(Http)))

  it.scoped("without videos, no article is attached", () =>
    Effect.gen(function*() {
      const { li, sb } = yield* setup()
      yield* li.post(context(text("Text only"), { videos: [] }))
      expect(liPosts(sb)[0]!.link).toBeUndefined()
    }).pipe(Effect.provide(Http)))

  it.scoped("the sandbox rejects a request without LinkedIn-Version", () =>
    Effect.gen(function*() {
      const { sb } = yield* setup()
      const http = yield* HttpClient.HttpClient
      const response = yield* http.execute(
        HttpClientRequest.post(`${sb.urls.linkedin}/rest/posts`).pipe(
          HttpClientRequest.bearerToken(sb.credentials.linkedin.accessToken),
          HttpClientRequest.setHeader("X-Restli-Protocol-Version", "2.0.0"),
          HttpClientRequest.bodyUnsafeJson({
            author: sb.credentials.linkedin.authorUrn,
            commentary: "no version",
            visibility: "PUBLIC",
            distribution: { feedDistribution: "MAIN_FEED" },
            lifecycleState: "PUBLISHED"
          })
        )
      )
      expect(response.status).toBe(400)
      expect(((yield* response.json) as { message: string }).message).toMatch(/LinkedIn-Version/)
      expect(liPosts(sb)).toHaveLength(0)
    }).pipe(Effect.scoped, Effect.provide(Http)))

  describe("validate", () => {
    it.effect("counts the escaped text against 3,000 characters and names the field", () =>
      Effect.gen(function*() {
        const li = yield* LinkedIn.make({ accessToken: Redacted.make("t"), authorUrn: "urn:li:person:x" })
        expect(yield* li.validate(text("a".repeat(3000)), media)).toEqual([])
        const over = yield* li.validate(text(`${"a".repeat(2999)}#`), media)
        expect(over).toHaveLength(1)
        expect(over[0]!.path).toEqual(["text"])
        expect(over[0]!.message).toMatch(/3001 characters once filled and escaped.*remove 1/)
        expect((yield* li.validate(text("  "), media))[0]!.message).toMatch(/empty/)
      }).pipe(Effect.provide(Http)))

    it.prop(
      "escaped text is accepted by the emulator's little-text parser and reads back unchanged",
      [FastCheck.string({
        unit: FastCheck.constantFrom(
          "a",
          " ",
          "\\",
          "|",
          "{",
          "}",
          "@",
          "[",
          "]",
          "(",
          ")",
          "<",
          ">",
          "#",
          "*",
          "_",
          "~",
          "é",
          "x"
        )
      })],
      ([s]) => {
        const parsed = unescapeLittleText(LittleText.escape(s))
        return parsed.ok && parsed.text === s && LittleText.unescape(LittleText.escape(s)) === s
      }
    )
  })

  describe("maps errors", () => {
    it.scoped("426 → version_sunset telling to raise linkedin.api_version", () =>
      Effect.gen(function*() {
        const { li, sb } = yield* setup({}, { apiVersion: "202401" })
        const error = yield* Effect.flip(li.post(context(text("old version"))))
        expect(error._tag).toBe("PlatformRejected")
        expect(error.reason).toBe("version_sunset")
        expect(error.status).toBe(426)
        expect(error.message).toMatch(/raise linkedin\.api_version/)
        expect(liPosts(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))

    it.scoped("403 (another author) → permission_missing naming the scope", () =>
      Effect.gen(function*() {
        const { sb } = yield* setup()
        const other = yield* LinkedIn.make(options(sb, { authorUrn: "urn:li:organization:42" }))
        const forbidden = yield* Effect.flip(other.post(context(text("not mine"))))
        expect(forbidden.reason).toBe("permission_missing")
        expect(forbidden.message).toMatch(/w_organization_social/)
        expect(liPosts(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))

    it.scoped("a malformed author URN is refused before anything is sent, naming the setting", () =>
      Effect.gen(function*() {
        const { sb } = yield* setup()
        const li = yield* LinkedIn.make(options(sb, { authorUrn: "sandbox01" }))
        const error = yield* Effect.flip(li.post(context(text("who am I"))))
        expect(error.reason).toBe("invalid_metadata")
        expect(error.message).toMatch(/linkedin\.author_urn "sandbox01".*urn:li:person:<id>/)
        expect(postRequests(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))

    it.scoped("a 422 that is not a duplicate → invalid_metadata", () =>
      Effect.gen(function*() {
        const { li, sb } = yield* setup()
        sb.inject({ platform: "linkedin", route: "posts", action: { kind: "status", status: 422, message: "bad" } })
        expect((yield* Effect.flip(li.post(context(text("unprocessable"))))).reason).toBe("invalid_metadata")
        expect(liPosts(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))
  })

  describe("rate limits", () => {
    it.scoped("near midnight UTC the daily limit is waited out, announced, then the post goes", () =>
      Effect.gen(function*() {
        const { li, sb } = yield* setup({ clockStart: Date.parse("2026-11-21T23:55:00Z") })
        sb.exhaustQuota("linkedin")
        const waits: Array<PostWait> = []
        const fiber = yield* Effect.fork(li.post(context(text("after midnight"), { waits })))
        const wait = yield* awaitSleep(4 * 60_000, 5 * 60_000, sb)
        expect(waits.map((w) => [w.reason, w.until])).toEqual([["rate limited", Date.parse("2026-11-22T00:00:00Z")]])
        sb.clock.advance(wait)
        yield* TestClock.adjust(wait)
        const post = yield* Fiber.join(fiber)
        expect(liPosts(sb).map((p) => p.id)).toEqual([post.postId])
      }).pipe(Effect.provide(Http)))

    it.scoped("the daily limit (429 without a hint) fails with rate_limited until midnight UTC", () =>
      Effect.gen(function*() {
        // At noon: in the last 16 minutes before midnight the publisher would wait instead (and it does).
        const { li, sb } = yield* setup({ clockStart: Date.parse("2026-11-21T12:00:00Z") })
        sb.exhaustQuota("linkedin")
        const error = yield* Effect.flip(li.post(context(text("over the daily limit"))))
        expect(error._tag).toBe("QuotaExceeded")
        expect(error.reason).toBe("rate_limited")
        const now = new Date(sb.clock.now())
        const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)
        expect(error._tag === "QuotaExceeded" && error.resetsAt).toBe(midnight)
        expect(postRequests(sb)).toHaveLength(1)
      }).pipe(Effect.provide(Http)))
  })

  describe("post ledger", () => {
    const ledgerDir = Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "medusa-li-ledger-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )

    it.scoped("counts the posts LinkedIn made, in a file every adapter naming it shares; a 429 is not counted", () =>
      Effect.gen(function*() {
        const ledgerFile = path.join(yield* ledgerDir, "state", "linkedin-posts.json")
        const { li, sb } = yield* setup({ clockStart: Date.parse("2026-11-21T12:00:00Z") }, {
          ledgerFile,
          dailyPostLimit: 5
        })
        const midnight = Date.parse("2026-11-22T00:00:00Z")
        expect(yield* (li.allowances!.pipe(Effect.map((f) => f(text("plan")))))).toMatchObject([
          { bucket: "posts", used: 0, limit: 5, needs: 1, resetsAt: midnight, waitReason: "LinkedIn daily limit" }
        ])
        yield* li.post(context(text("one")))
        yield* li.post(context(text("two")))
        sb.exhaustQuota("linkedin")
        const refused = yield* Effect.flip(li.post(context(text("three"))))
        expect(refused.reason).toBe("rate_limited")
        expect(postRequests(sb)).toHaveLength(3)
        expect(liPosts(sb)).toHaveLength(2)
        // Another adapter (another process) on the same file reads the two accepted posts.
        const other = yield* LinkedIn.make(options(sb, { ledgerFile, dailyPostLimit: 5 }))
        expect((yield* (other.allowances!.pipe(Effect.map((f) => f(text("plan"))))))[0]!.used).toBe(2)
        const stored = JSON.parse(fs.readFileSync(ledgerFile, "utf8"))
        expect(stored.entries[sb.credentials.linkedin.authorUrn]).toEqual({ day: "2026-11-21", posts: 2 })
        // The next UTC day starts a new window.
        yield* TestClock.adjust(12 * 3_600_000)
        expect(yield* (other.allowances!.pipe(Effect.map((f) => f(text("plan")))))).toMatchObject([
          { used: 0, resetsAt: midnight + 24 * 3_600_000 }
        ])
      }).pipe(Effect.provide(Http)))

    it.scoped("without a file the ledger is this adapter's own; the default limit is 150 a day", () =>
      Effect.gen(function*() {
        const { li } = yield* setup()
        yield* li.post(context(text("counted in memory")))
        expect(yield* (li.allowances!.pipe(Effect.map((f) => f(text("plan")))))).toMatchObject([
          { used: 1, limit: LinkedIn.defaultDailyPostLimit }
        ])
        expect(LinkedIn.defaultDailyPostLimit).toBe(150)
      }).pipe(Effect.provide(Http)))
  })

  describe("checkCredentials", () => {
    it.scoped("a working token, an expired one, a retired version and a malformed URN", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        const good = yield* LinkedIn.checkCredentials(options(sb))
        expect(good.ok).toBe(true)
        expect(good.apiVersion).toBe(LinkedIn.defaultApiVersion)
        const old = yield* LinkedIn.checkCredentials(options(sb, { apiVersion: "202401" }))
        expect(old.valid).toBe(true)
        expect(old.problems[0]).toMatch(/raise linkedin\.api_version/)
        const urn = yield* LinkedIn.checkCredentials(options(sb, { authorUrn: "me" }))
        expect(urn.problems[0]).toMatch(/not a member or organization URN/)
        sb.expireToken("linkedin")
        const expired = yield* LinkedIn.checkCredentials(options(sb))
        expect(expired.valid).toBe(false)
        expect(expired.problems[0]).toMatch(/authorize the app again/)
      }).pipe(Effect.provide(Http)))
  })

  publisherContract<LinkedInMetadata>({
    id: "linkedin",
    postRoute: "posts",
    make: (sb) => LinkedIn.make(options(sb)),
    metadata: text,
    postRequests,
    foundWhere: "by the author finder",
    unknownHint: /Check the recent activity of urn:li:person:/,
    expiredToken: { reason: "auth_expired", code: "65601" },
    serverErrorSearch: (e) => e.method === "GET" && e.path.startsWith("/rest/posts"),
    rateLimit: { retryAfterSeconds: 120, min: 119_000, max: 120_000 },
    canary: {
      credentials: { linkedin: { accessToken: "CANARY-li-0b5e77d2" } },
      secrets: ["CANARY-li-0b5e77d2"]
    },
    checkCredentials: (sb) => LinkedIn.checkCredentials(options(sb))
  })
})
