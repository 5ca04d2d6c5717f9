import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { MediaFile, type PostWait } from "../../src/Platform.js"
import * as X from "../../src/platforms/x/X.js"
import { XMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { publisherContract } from "../contract/publisher.js"
import { alignClocks, awaitSleep, context, Http, media, sandbox, type SandboxOptions } from "./helpers.js"

const options = (sb: Sandbox.Sandbox, overrides: Partial<X.Options> = {}): X.Options => ({
  apiKey: Redacted.make(sb.credentials.x.apiKey),
  apiSecret: Redacted.make(sb.credentials.x.apiSecret),
  accessToken: Redacted.make(sb.credentials.x.accessToken),
  accessTokenSecret: Redacted.make(sb.credentials.x.accessTokenSecret),
  baseUrl: sb.urls.x,
  ...overrides
})

const setup = (sandboxOptions: SandboxOptions = {}, overrides: Partial<X.Options> = {}) =>
  Effect.gen(function*() {
    const sb = yield* sandbox(sandboxOptions)
    yield* alignClocks(sb)
    const x = yield* X.make(options(sb, overrides))
    return { sb, x }
  })

const canaries = {
  apiKey: "CANARY-x-key-19d2",
  apiSecret: "CANARY-x-secret-77ab",
  accessToken: "1000000001-CANARYxToken3c41",
  accessTokenSecret: "CANARY-x-token-secret-e02f"
}

const xPosts = (sb: Sandbox.Sandbox) => sb.raw.postsOf("x")
const tweetRequests = (sb: Sandbox.Sandbox) =>
  sb.raw.log.filter((e) => e.platform === "x" && e.method === "POST" && e.path === "/2/tweets")
const text = (t: string, attachVideo?: boolean) =>
  new XMetadata({ text: t, ...(attachVideo === undefined ? {} : { attachVideo }) })

/** A video-sized file on disk (its bytes are what the sandbox hashes). */
const videoFile = (size: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(path.join(tmpdir(), "medusa-x-"))
      const file = path.join(dir, "clip.mp4")
      const data = Buffer.alloc(size)
      for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 10)) & 0xff
      writeFileSync(file, data)
      return {
        dir,
        media: new MediaFile({ path: file, name: "clip.mp4", size, mimeType: "video/mp4" }),
        sha256: createHash("sha256").update(data).digest("hex")
      }
    }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** A publisher that never reaches the network (validation only). */
const offline = X.make({
  apiKey: Redacted.make("k"),
  apiSecret: Redacted.make("s"),
  accessToken: Redacted.make("t"),
  accessTokenSecret: Redacted.make("ts")
})

describe("X publisher", () => {
  it.scoped("posts the text with a signed request; the sandbox stores text and link", () =>
    Effect.gen(function*() {
      const { sb, x } = yield* setup()
      const post = yield* x.post(context(text("Watch it: https://www.youtube.com/watch?v=dQw4w9WgXcQ #launch")))
      const stored = xPosts(sb)
      expect(stored).toHaveLength(1)
      expect(stored[0]!.text).toBe("Watch it: https://www.youtube.com/watch?v=dQw4w9WgXcQ #launch")
      expect(stored[0]!.link).toBe("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
      expect(post.postId).toBe(stored[0]!.id)
      expect(post.url).toBe(`https://x.com/i/web/status/${post.postId}`)
    }).pipe(Effect.provide(Http)))

  it.scoped("a wrong consumer secret fails the sandbox's signature check → auth_invalid", () =>
    Effect.gen(function*() {
      const { sb } = yield* setup()
      const x = yield* X.make(options(sb, { apiSecret: Redacted.make("not-the-secret") }))
      const error = yield* Effect.flip(x.post(context(text("bad signature"))))
      expect(error._tag).toBe("AuthExpired")
      expect(error.reason).toBe("auth_invalid")
      expect(error.status).toBe(401)
      expect(xPosts(sb)).toHaveLength(0)
    }).pipe(Effect.provide(Http)))

  describe("validate (at submit)", () => {
    it.effect("rejects a text over 280 weighted characters, counting URLs 23 and CJK 2", () =>
      Effect.gen(function*() {
        const x = yield* offline
        const url = yield* x.validate(text(`{youtube_url} ${"a".repeat(256)}`), media)
        expect(url).toHaveLength(0)
        const over = yield* x.validate(text(`{youtube_url} ${"a".repeat(257)}`), media)
        expect(over).toHaveLength(1)
        expect(over[0]!.path).toEqual(["text"])
        expect(over[0]!.message).toMatch(/281 weighted characters.*allows 280: remove 1/)
        const cjk = yield* x.validate(text("漢".repeat(141)), media)
        expect(cjk[0]!.message).toMatch(/282 weighted characters/)
        const video = yield* x.validate(
          text("clip", true),
          new MediaFile({ path: "/v.webm", name: "v.webm", size: 600 * 1024 * 1024, mimeType: "video/webm" })
        )
        expect(video.map((i) => i.path)).toEqual([["attachVideo"], ["attachVideo"]])
      }).pipe(Effect.provide(Http)))

    it.effect.prop(
      "any URL counts 23: valid exactly when 24 + the rest ≤ 280",
      [FastCheck.webUrl({ withQueryParameters: true }), FastCheck.integer({ min: 200, max: 300 })],
      ([link, rest]) =>
        Effect.gen(function*() {
          const x = yield* offline
          const issues = yield* x.validate(text(`${link} ${"b".repeat(rest)}`), media)
          return X.weightedLength(`${link} ${"b".repeat(rest)}`) === 24 + rest ?
            (issues.length === 0) === (24 + rest <= 280) :
            true
        }).pipe(Effect.provide(Http)),
      { fastCheck: { numRuns: 25 } }
    )
  })

  describe("maps errors", () => {
    it.scoped("another 403 → permission_missing naming Read and Write", () =>
      Effect.gen(function*() {
        const { sb, x } = yield* setup()
        sb.inject({
          platform: "x",
          route: "tweets",
          action: { kind: "status", status: 403, message: "You are not permitted to perform this action." }
        })
        const error = yield* Effect.flip(x.post(context(text("forbidden"))))
        expect(error.reason).toBe("permission_missing")
        expect(error.message).toMatch(/Read and Write/)
      }).pipe(Effect.provide(Http)))

    it.scoped("a 400 → invalid_metadata", () =>
      Effect.gen(function*() {
        const { sb, x } = yield* setup()
        sb.inject({ platform: "x", route: "tweets", action: { kind: "status", status: 400, message: "bad field" } })
        expect((yield* Effect.flip(x.post(context(text("invalid"))))).reason).toBe("invalid_metadata")
        expect(xPosts(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))

    it.scoped("a text over 280 at post time is refused before sending", () =>
      Effect.gen(function*() {
        const { sb, x } = yield* setup()
        const error = yield* Effect.flip(x.post(context(text("z".repeat(281)))))
        expect(error.reason).toBe("invalid_metadata")
        expect(tweetRequests(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))
  })

  describe("rate limits", () => {
    it.scoped("a used-up window (remaining 0) holds the next post without sending it", () =>
      Effect.gen(function*() {
        const { sb, x } = yield* setup({ x: { rateLimits: { tweets: { limit: 1, windowSeconds: 900 } } } })
        yield* x.post(context(text("uses the window")))
        const waits: Array<PostWait> = []
        const fiber = yield* Effect.fork(x.post(context(text("waits for the next window"), { waits })))
        const wait = yield* awaitSleep(800_000, 901_000, sb)
        expect(tweetRequests(sb)).toHaveLength(1)
        expect(waits.map((w) => [w.reason, w.until])).toEqual([
          ["post window used up", (yield* TestClock.currentTimeMillis) + wait]
        ])
        sb.clock.advance(wait + 1000)
        yield* TestClock.adjust(wait + 1000)
        yield* Fiber.join(fiber)
        expect(xPosts(sb).map((p) => p.text)).toEqual(["uses the window", "waits for the next window"])
        expect(tweetRequests(sb)).toHaveLength(2)
      }).pipe(Effect.provide(Http)))

    it.scoped("a wait beyond maxRateLimitWait fails with rate_limited and resetsAt", () =>
      Effect.gen(function*() {
        const { sb, x } = yield* setup({}, { maxRateLimitWait: "1 minute" })
        sb.inject({ platform: "x", route: "tweets", action: { kind: "rateLimit", retryAfterSeconds: 600 } })
        const error = yield* Effect.flip(x.post(context(text("too long"))))
        expect(error._tag).toBe("QuotaExceeded")
        expect(error.reason).toBe("rate_limited")
        expect(error._tag === "QuotaExceeded" && error.resetsAt! > sb.clock.now()).toBe(true)
      }).pipe(Effect.provide(Http)))
  })

  describe("monthly post cap", () => {
    const ledgerDir = Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(path.join(tmpdir(), "medusa-x-ledger-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )

    it.scoped("off unless configured: no allowance is planned", () =>
      Effect.gen(function*() {
        const { x } = yield* setup()
        expect(x.allowances).toBeUndefined()
      }).pipe(Effect.provide(Http)))

    it.scoped("counts the posts X made in the month from the reset day; a 429 is not counted", () =>
      Effect.gen(function*() {
        const ledgerFile = path.join(yield* ledgerDir, "x-posts.json")
        const { sb, x } = yield* setup({ clockStart: Date.parse("2026-11-21T12:00:00Z") }, {
          monthlyPostCap: 3,
          capResetDay: 15,
          ledgerFile,
          maxRateLimitWait: "1 minute"
        })
        const reset = Date.parse("2026-12-15T00:00:00Z")
        expect(yield* (x.allowances!.pipe(Effect.map((f) => f(text("plan")))))).toMatchObject([
          { bucket: "posts", used: 0, limit: 3, needs: 1, resetsAt: reset, waitReason: "X monthly post cap" }
        ])
        yield* x.post(context(text("one")))
        sb.inject({ platform: "x", route: "tweets", action: { kind: "rateLimit", retryAfterSeconds: 600 } })
        const refused = yield* Effect.flip(x.post(context(text("rate limited"))))
        expect(refused.reason).toBe("rate_limited")
        expect(tweetRequests(sb)).toHaveLength(2)
        const other = yield* X.make(options(sb, { monthlyPostCap: 3, capResetDay: 15, ledgerFile }))
        expect((yield* (other.allowances!.pipe(Effect.map((f) => f(text("plan"))))))[0]!.used).toBe(1)
        // The key names the app by a digest, never its consumer key.
        const raw = readFileSync(ledgerFile, "utf8")
        expect(raw).not.toContain(sb.credentials.x.apiKey)
        expect(Object.values(JSON.parse(raw).entries)).toEqual([{ day: "2026-11-15", posts: 1 }])
        // The window ends on the 15th of the next month at 00:00 UTC.
        yield* TestClock.setTime(reset)
        expect(yield* (other.allowances!.pipe(Effect.map((f) => f(text("plan")))))).toMatchObject([
          { used: 0, resetsAt: Date.parse("2027-01-15T00:00:00Z") }
        ])
      }).pipe(Effect.provide(Http)))
  })

  describe("native video", () => {
    it.scoped("uploads in 1 MiB segments, waits for processing, attaches the media id", () =>
      Effect.gen(function*() {
        const { sb, x } = yield* setup()
        const file = yield* videoFile(2 * 1024 * 1024 + 12_345)
        sb.inject({ platform: "x", route: "media.append", action: { kind: "status", status: 503 } })
        const fiber = yield* Effect.fork(x.post(context(text("with video", true), { media: file.media })))
        // One backoff for the failed append, then the STATUS polls (check_after_secs 1).
        for (let i = 0; i < 3; i++) {
          const wait = yield* awaitSleep(400, 1000)
          yield* TestClock.adjust(wait)
        }
        const post = yield* Fiber.join(fiber)
        const stored = xPosts(sb)
        expect(stored.map((p) => p.id)).toEqual([post.postId])
        const extra = stored[0]!.extra as { mediaIds: Array<string>; mediaSha256: Array<string> }
        expect(extra.mediaIds).toHaveLength(1)
        expect(extra.mediaSha256).toEqual([file.sha256])
        const appends = sb.raw.log.filter((e) => e.platform === "x" && e.path.endsWith("/append"))
        expect(appends).toHaveLength(4) // 3 segments + 1 retried after the 503
      }).pipe(Effect.provide(Http)))

    it.scoped("processing failed → processing_failed and nothing posted", () =>
      Effect.gen(function*() {
        const { sb, x } = yield* setup({ x: { processingOutcome: "failed", processingPolls: 1 } })
        const file = yield* videoFile(10_000)
        const fiber = yield* Effect.fork(x.post(context(text("broken video", true), { media: file.media })))
        const wait = yield* awaitSleep(400, 1000)
        yield* TestClock.adjust(wait)
        const error = yield* Effect.flip(Fiber.join(fiber))
        expect(error.reason).toBe("processing_failed")
        expect(error.platformMessage).toMatch(/Unsupported video format/)
        expect(tweetRequests(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))
  })

  describe("checkCredentials", () => {
    it.scoped("reports the account of valid credentials, and invalid ones without failing", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        yield* alignClocks(sb)
        const good = yield* X.checkCredentials(options(sb))
        expect(good).toEqual({
          platform: "x",
          ok: true,
          valid: true,
          userId: "1000000001",
          username: "medusa_sandbox",
          problems: []
        })
        const bad = yield* X.checkCredentials(options(sb, { accessTokenSecret: Redacted.make("wrong") }))
        expect(bad.valid).toBe(false)
        expect(bad.problems[0]).toMatch(/regenerate the access token/)
      }).pipe(Effect.provide(Http)))
  })

  publisherContract<XMetadata>({
    id: "x",
    postRoute: "tweets",
    make: (sb) => X.make(options(sb)),
    metadata: (t) => text(t),
    postRequests: tweetRequests,
    foundWhere: "among the user's recent posts",
    unknownHint: /Check the account's posts/,
    expiredToken: { reason: "auth_invalid" },
    duplicatePlatformMessage: /duplicate content/,
    serverErrorSearch: (e) => /\/2\/users\/\d+\/tweets/.test(e.path),
    // X answers with x-rate-limit-reset, an instant on the sandbox clock.
    rateLimit: { retryAfterSeconds: 600, min: 590_000, max: 601_000 },
    canary: {
      credentials: { x: canaries },
      secrets: Object.values(canaries)
    },
    checkCredentials: (sb) => X.checkCredentials(options(sb))
  })
})
