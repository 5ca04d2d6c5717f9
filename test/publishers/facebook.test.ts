import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import type { PostWait } from "../../src/Platform.js"
import * as Facebook from "../../src/platforms/facebook/Facebook.js"
import { FacebookMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { publisherContract } from "../contract/publisher.js"
import { alignClocks, awaitSleep, closedPort, context, Http, media, sandbox, type SandboxOptions } from "./helpers.js"

const options = (sb: Sandbox.Sandbox, overrides: Partial<Facebook.Options> = {}): Facebook.Options => ({
  pageId: sb.credentials.facebook.pageId,
  accessToken: Redacted.make(sb.credentials.facebook.pageAccessToken),
  baseUrl: sb.urls.facebook,
  ...overrides
})

const publisher = (sb: Sandbox.Sandbox, overrides: Partial<Facebook.Options> = {}) =>
  Facebook.make(options(sb, overrides))

const fbPosts = (sb: Sandbox.Sandbox) => sb.raw.postsOf("facebook")

const message = (text: string, link?: string) =>
  new FacebookMetadata({ message: text, ...(link === undefined ? {} : { link }) })

const setup = (sandboxOptions: SandboxOptions = {}, overrides: Partial<Facebook.Options> = {}) =>
  Effect.gen(function*() {
    const sb = yield* sandbox(sandboxOptions)
    yield* alignClocks(sb)
    const fb = yield* publisher(sb, overrides)
    return { sb, fb }
  })

describe("Facebook publisher", () => {
  it.scoped("posts the message and link; the sandbox stores both", () =>
    Effect.gen(function*() {
      const { fb, sb } = yield* setup()
      const post = yield* fb.post(
        context(message("New video: https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ"))
      )
      const stored = fbPosts(sb)
      expect(stored).toHaveLength(1)
      expect(stored[0]!.text).toBe("New video: https://www.youtube.com/watch?v=dQw4w9WgXcQ")
      expect(stored[0]!.link).toBe("https://youtu.be/dQw4w9WgXcQ")
      expect(post.publisher).toBe("facebook")
      expect(post.postId).toBe(stored[0]!.id)
      const [page, id] = post.postId.split("_")
      expect(post.url).toBe(`https://www.facebook.com/${page}/posts/${id}`)
      // The token travels in the Authorization header, never in the URL.
      const logged = sb.raw.log.filter((e) => e.platform === "facebook")
      expect(logged.every((e) => !e.path.includes("access_token"))).toBe(true)
      expect(logged[0]!.headers.authorization).toBe("<redacted>")
    }).pipe(Effect.provide(Http)))

  it.scoped("a scheduled post is created unpublished with scheduled_publish_time", () =>
    Effect.gen(function*() {
      const { fb, sb } = yield* setup()
      const at = Math.floor(sb.clock.now() / 1000) + 3600
      const metadata = new FacebookMetadata({ message: "Premiere in an hour", scheduledPublishTime: at })
      expect(yield* fb.validate(metadata, media)).toEqual([])
      const intentAt = sb.clock.now()
      const post = yield* fb.post(context(metadata))
      const stored = fbPosts(sb)
      expect(stored).toHaveLength(1)
      expect(stored[0]!.extra).toEqual({ published: false, scheduledPublishTime: at })
      // A scheduled post is found among the Page's scheduled posts.
      expect(Option.getOrThrow(yield* fb.find({ ...context(metadata), intentAt })).postId).toBe(post.postId)
    }).pipe(Effect.provide(Http)))

  it.scoped("validate keeps scheduled times within 10 minutes to 30 days and names the field", () =>
    Effect.gen(function*() {
      const { fb, sb } = yield* setup()
      const now = sb.clock.now()
      const issuesFor = (scheduledPublishTime: string | number) =>
        fb.validate(new FacebookMetadata({ message: "m", scheduledPublishTime }), media)
      const soon = yield* issuesFor(Math.floor(now / 1000) + 300)
      expect(soon).toHaveLength(1)
      expect(soon[0]!.path).toEqual(["scheduledPublishTime"])
      expect(soon[0]!.message).toMatch(/less than 10 minutes ahead/)
      const late = yield* issuesFor(new Date(now + 31 * 86_400_000).toISOString())
      expect(late[0]!.message).toMatch(/more than 30 days ahead/)
      const garbage = yield* issuesFor("next tuesday")
      expect(garbage[0]!.message).toMatch(/"next tuesday" is not an ISO 8601 date-time/)
      const millis = yield* issuesFor(now + 3_600_000)
      expect(millis[0]!.message).toMatch(/looks like milliseconds/)
      expect(yield* issuesFor(new Date(now + 2 * 86_400_000).toISOString())).toEqual([])
      const badLink = yield* fb.validate(new FacebookMetadata({ message: "m", link: "youtube" }), media)
      expect(badLink[0]!.path).toEqual(["link"])
      // A link alone is a post; nothing at all is not.
      expect(yield* fb.validate(new FacebookMetadata({ message: "", link: "https://vimeo.com/1" }), media)).toEqual([])
      expect((yield* fb.validate(new FacebookMetadata({ message: " " }), media))[0]!.path).toEqual(["message"])
      // A template link is measured with a placeholder URL.
      expect(yield* fb.validate(new FacebookMetadata({ message: "m", link: "{youtube_url}" }), media)).toEqual([])
    }).pipe(Effect.provide(Http)))

  describe("maps Graph errors by body code", () => {
    const cases: ReadonlyArray<
      readonly [code: string, tag: string, reason: string, pattern: RegExp]
    > = [
      ["190", "AuthExpired", "auth_expired", /get a new Page token/],
      ["10", "AuthExpired", "permission_missing", /pages_manage_posts/],
      ["200", "AuthExpired", "permission_missing", /pages_read_engagement/],
      ["368", "PlatformRejected", "blocked", /temporarily blocked/],
      ["506", "PlatformRejected", "duplicate_post", /change the message/],
      ["100", "PlatformRejected", "invalid_metadata", /metadata\.facebook/]
    ]
    for (const [code, tag, reason, pattern] of cases) {
      it.scoped(`code ${code} → ${reason}`, () =>
        Effect.gen(function*() {
          const { fb, sb } = yield* setup()
          sb.inject({ platform: "facebook", route: "feed", action: { kind: "status", status: 400, code } })
          const error = yield* Effect.flip(fb.post(context(message(`code ${code}`))))
          expect(error._tag).toBe(tag)
          expect(error.reason).toBe(reason)
          expect(error.code).toBe(code)
          expect(error.message).toMatch(pattern)
          expect(error.message).toMatch(/^Facebook API error: /)
          expect(fbPosts(sb)).toHaveLength(0)
          // Definitive answers are never retried.
          expect(sb.raw.log.filter((e) => e.platform === "facebook" && e.method === "POST")).toHaveLength(1)
        }).pipe(Effect.provide(Http)))
    }
  })

  describe("rate limits", () => {
    for (const code of ["4", "17", "32", "341", "613"]) {
      it.scoped(`code ${code} waits (fallback, no usage hint) and then posts once`, () =>
        Effect.gen(function*() {
          const { fb, sb } = yield* setup({}, { rateLimitFallbackWait: "5 minutes" })
          sb.inject({ platform: "facebook", route: "feed", action: { kind: "status", status: 400, code } })
          const fiber = yield* Effect.fork(fb.post(context(message(`rate limited ${code}`))))
          const wait = yield* awaitSleep(4 * 60_000, 5 * 60_000)
          expect(fbPosts(sb)).toHaveLength(0)
          yield* TestClock.adjust(wait)
          const post = yield* Fiber.join(fiber)
          expect(fbPosts(sb).map((p) => p.id)).toEqual([post.postId])
        }).pipe(Effect.provide(Http)))
    }

    it.scoped("80001 waits estimated_time_to_regain_access from X-Business-Use-Case-Usage", () =>
      Effect.gen(function*() {
        const { fb, sb } = yield* setup({}, { maxRateLimitWait: "2 hours" })
        sb.exhaustQuota("facebook")
        const fiber = yield* Effect.fork(fb.post(context(message("after the throttle"))))
        // The emulator's window is one hour by the sandbox clock.
        const wait = yield* awaitSleep(50 * 60_000, 61 * 60_000)
        expect(fbPosts(sb)).toHaveLength(0)
        sb.clock.advance(wait + 1000)
        yield* TestClock.adjust(wait + 1000)
        yield* Fiber.join(fiber)
        expect(fbPosts(sb)).toHaveLength(1)
      }).pipe(Effect.provide(Http)))

    it.scoped("a wait longer than maxRateLimitWait fails with rate_limited and when to retry", () =>
      Effect.gen(function*() {
        const { fb, sb } = yield* setup({}, { maxRateLimitWait: "10 minutes" })
        sb.exhaustQuota("facebook")
        const error = yield* Effect.flip(fb.post(context(message("too long a wait"))))
        expect(error._tag).toBe("QuotaExceeded")
        expect(error.reason).toBe("rate_limited")
        expect(error.code).toBe("80001/2446079")
        expect(error._tag === "QuotaExceeded" && error.retryAfter! > 10 * 60_000).toBe(true)
      }).pipe(Effect.provide(Http)))

    it.scoped("usage above 90% holds the next post until the window has room", () =>
      Effect.gen(function*() {
        const { fb, sb } = yield* setup({ facebook: { usageStart: 91 } }, { rateLimitFallbackWait: "5 minutes" })
        yield* fb.post(context(message("first, usage read from its answer")))
        const waits: Array<PostWait> = []
        const fiber = yield* Effect.fork(fb.post(context(message("second, held"), { waits })))
        const wait = yield* awaitSleep(4 * 60_000, 5 * 60_000)
        expect(fbPosts(sb)).toHaveLength(1)
        expect(waits.map((w) => [w.reason, w.until])).toEqual([
          ["Graph API usage at 92%", (yield* TestClock.currentTimeMillis) + wait]
        ])
        yield* TestClock.adjust(wait)
        yield* Fiber.join(fiber)
        expect(fbPosts(sb).map((p) => p.text)).toEqual(["first, usage read from its answer", "second, held"])
      }).pipe(Effect.provide(Http)))

    it.scoped("transient code 2 is retried after backoff", () =>
      Effect.gen(function*() {
        const { fb, sb } = yield* setup()
        sb.inject({ platform: "facebook", route: "feed", action: { kind: "status", status: 503, code: "2" } })
        const fiber = yield* Effect.fork(fb.post(context(message("transient"))))
        const wait = yield* awaitSleep(500, 2000)
        yield* TestClock.adjust(wait)
        yield* Fiber.join(fiber)
        expect(fbPosts(sb)).toHaveLength(1)
      }).pipe(Effect.provide(Http)))
  })

  describe("never posts twice", () => {
    it.scoped("the search after a lost answer is retried when it fails in transit", () =>
      Effect.gen(function*() {
        const { fb, sb } = yield* setup()
        sb.inject({ platform: "facebook", route: "feed", action: { kind: "drop", afterBytes: 1_000_000 } })
        sb.inject({ platform: "facebook", route: "feed.list", action: { kind: "status", status: 500, code: "1" } })
        const fiber = yield* Effect.fork(fb.post(context(message("Search fails once"))))
        yield* TestClock.adjust(yield* awaitSleep(400, 600))
        const post = yield* Fiber.join(fiber)
        expect(fbPosts(sb).map((p) => p.id)).toEqual([post.postId])
      }).pipe(Effect.provide(Http)))

    it.scoped("when the search keeps failing: post_outcome_unknown, and the post is not sent again", () =>
      Effect.gen(function*() {
        const { fb, sb } = yield* setup()
        sb.inject({ platform: "facebook", route: "feed", action: { kind: "drop", afterBytes: 1_000_000 } })
        sb.inject({
          platform: "facebook",
          route: "feed.list",
          times: Infinity,
          action: { kind: "status", status: 503, code: "2" }
        })
        const fiber = yield* Effect.fork(fb.post(context(message("Search fails for good"))))
        yield* TestClock.adjust(yield* awaitSleep(400, 600))
        yield* TestClock.adjust(yield* awaitSleep(900, 1100))
        const error = yield* Effect.flip(Fiber.join(fiber))
        expect(error._tag).toBe("PostOutcomeUnknown")
        expect(error.message).toMatch(/Looking for the post failed too/)
        expect(fbPosts(sb)).toHaveLength(1)
        expect(sb.raw.log.filter((e) => e.platform === "facebook" && e.method === "POST")).toHaveLength(1)
      }).pipe(Effect.provide(Http)))

    it.scoped("connection refused (nothing sent) is retried, and posts once the platform is up", () =>
      Effect.gen(function*() {
        const port = yield* closedPort()
        const sbOptions = { ports: { facebook: port } }
        const placeholder = yield* sandbox()
        const fb = yield* publisher(placeholder, { baseUrl: `http://127.0.0.1:${port}` })
        yield* alignClocks(placeholder)
        const fiber = yield* Effect.fork(fb.post(context(message("Refused first"))))
        const wait = yield* awaitSleep(500, 1500)
        const sb = yield* sandbox(sbOptions)
        yield* TestClock.adjust(wait)
        const post = yield* Fiber.join(fiber)
        expect(fbPosts(sb).map((p) => p.id)).toEqual([post.postId])
      }).pipe(Effect.provide(Http)))

    it.live("no answer within requestTimeout: unknown outcome, and the request is not sent again", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        const fb = yield* publisher(sb, { requestTimeout: "100 millis" })
        sb.inject({ platform: "facebook", route: "feed", action: { kind: "latency", millis: 400 } })
        const error = yield* Effect.flip(fb.post(context(message("Slow answer"))))
        expect(error._tag).toBe("PostOutcomeUnknown")
        expect(error.platformMessage).toMatch(/no answer to the post request within/)
        // The request reached the sandbox (it is logged on arrival) and was never sent again.
        expect(sb.raw.log.filter((e) => e.platform === "facebook" && e.method === "POST")).toHaveLength(1)
        expect(fbPosts(sb).length).toBeLessThanOrEqual(1)
      }).pipe(Effect.scoped, Effect.provide(Http)))
  })

  describe("checkCredentials", () => {
    it.scoped("reports the page, scopes and expiry of a valid token", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        const report = yield* Facebook.checkCredentials(options(sb))
        expect(report.ok).toBe(true)
        expect(report.valid).toBe(true)
        expect(report.tokenType).toBe("PAGE")
        expect(report.pageId).toBe(sb.credentials.facebook.pageId)
        expect(report.pageName).toBe("Medusa Sandbox Page")
        expect(report.missingScopes).toEqual([])
        expect(report.scopes).toEqual(expect.arrayContaining(["pages_manage_posts", "pages_read_engagement"]))
        expect(report.expiresAt).toBeUndefined()
      }).pipe(Effect.provide(Http)))

    it.scoped("names a missing scope, an expiry and a page mismatch", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox({
          facebook: { scopes: ["pages_manage_posts"], tokenExpiresAt: Math.floor(Date.now() / 1000) + 86_400 }
        })
        const report = yield* Facebook.checkCredentials(options(sb, { pageId: "999" }))
        expect(report.ok).toBe(false)
        expect(report.missingScopes).toEqual(["pages_read_engagement"])
        expect(report.expiresAt).toBeGreaterThan(Date.now())
        expect(report.problems.join("\n")).toMatch(/lacks pages_read_engagement/)
        expect(report.problems.join("\n")).toMatch(/facebook\.page_id is 999/)
      }).pipe(Effect.provide(Http)))

    it.scoped("an invalid token is a report, not a failure", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        const report = yield* Facebook.checkCredentials(options(sb, { accessToken: Redacted.make("wrong") }))
        expect(report.valid).toBe(false)
        expect(report.ok).toBe(false)
        expect(report.problems[0]).toMatch(/not valid/)
      }).pipe(Effect.provide(Http)))
  })

  publisherContract<FacebookMetadata>({
    id: "facebook",
    postRoute: "feed",
    make: (sb) => publisher(sb),
    metadata: (text) => message(text),
    postRequests: (sb) => sb.raw.log.filter((e) => e.platform === "facebook" && e.method === "POST"),
    foundWhere: "on the Page",
    unknownHint: /Check the Page's posts/,
    expiredToken: { reason: "auth_expired", code: "190/463" },
    // No plain-5xx scenario: Graph marks some 5xx answers transient (code 2), and those are retried.
    canary: {
      credentials: { facebook: { pageAccessToken: "CANARY-fb-7f3a9c1e55" } },
      secrets: ["CANARY-fb-7f3a9c1e55"]
    },
    checkCredentials: (sb) => Facebook.checkCredentials(options(sb))
  })
})
