import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"
import { readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { MediaFile } from "../../src/Platform.js"
import { countCharacters, htmlToText } from "../../src/platforms/mastodon/internal/text.js"
import * as Mastodon from "../../src/platforms/mastodon/Mastodon.js"
import { MastodonMetadata } from "../../src/PublishRequest.js"
import { countCharacters as emulatorCount, renderContent } from "../../src/sandbox/emulators/mastodon.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { publisherContract } from "../contract/publisher.js"
import { alignClocks, awaitSleep, awaitStalls, context, Http, media, sandbox, type SandboxOptions } from "./helpers.js"

const options = (sb: Sandbox.Sandbox, overrides: Partial<Mastodon.Options> = {}): Mastodon.Options => ({
  accessToken: Redacted.make(sb.credentials.mastodon.accessToken),
  instanceUrl: sb.urls.mastodon,
  ...overrides
})

const setup = (sandboxOptions: SandboxOptions = {}, overrides: Partial<Mastodon.Options> = {}) =>
  Effect.gen(function*() {
    const sb = yield* sandbox(sandboxOptions)
    yield* alignClocks(sb)
    const mastodon = yield* Mastodon.make(options(sb, overrides))
    return { sb, mastodon }
  })

const stored = (sb: Sandbox.Sandbox) => sb.raw.postsOf("mastodon")
const requests = (sb: Sandbox.Sandbox) => sb.raw.log.filter((e) => e.platform === "mastodon")
const statusRequests = (sb: Sandbox.Sandbox) =>
  requests(sb).filter((e) => e.method === "POST" && e.path === "/api/v1/statuses")
const status = (s: string, more: Partial<MastodonMetadata> = {}) => new MastodonMetadata({ status: s, ...more })

const samplePath = path.resolve("examples/media/sample.mp4")
const sample = new MediaFile({
  path: samplePath,
  name: "sample.mp4",
  size: statSync(samplePath).size,
  mimeType: "video/mp4"
})

describe("Mastodon publisher", () => {
  it.scoped("posts the status with the task's Idempotency-Key; the status url is the post's", () =>
    Effect.gen(function*() {
      const { mastodon, sb } = yield* setup()
      const body = "New video!\n\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ #medusa <3 & more"
      const ctx = context(status(body, { visibility: "unlisted", language: "en" }))
      const post = yield* mastodon.post(ctx)
      expect(stored(sb).map((p) => p.text)).toEqual([body])
      expect(post.postId).toBe(stored(sb)[0]!.id)
      expect(post.url).toBe(`${sb.urls.mastodon}/@medusa/${post.postId}`)
      expect((stored(sb)[0]!.extra as { visibility: string }).visibility).toBe("unlisted")
      const [request] = statusRequests(sb)
      expect(request!.headers["idempotency-key"]).toBe(Mastodon.idempotencyKey(ctx.taskId))
      expect(request!.headers.authorization).toBe("<redacted>")
    }).pipe(Effect.provide(Http)))

  it.scoped("a resend of the same task (a crash, a second run) is folded by the instance into the first status", () =>
    Effect.gen(function*() {
      const { mastodon, sb } = yield* setup()
      const first = yield* mastodon.post(context(status("once only")))
      // The listing cannot see it: the key alone keeps the resend from posting.
      const again = yield* mastodon.post(context(status("once only, edited")))
      expect(again.postId).toBe(first.postId)
      expect(stored(sb).map((p) => p.text)).toEqual(["once only"])
    }).pipe(Effect.provide(Http)))

  describe("the instance's limit, before any byte of the status", () => {
    it.scoped("read from /api/v2/instance; a URL counts 23 however long; the field is named", () =>
      Effect.gen(function*() {
        const { mastodon, sb } = yield* setup({ mastodon: { maxCharacters: 100 } })
        const url = `https://example.com/${"a".repeat(200)}`
        expect(yield* mastodon.validate(status(`${"x".repeat(76)} ${url}`), media)).toEqual([])
        const [issue] = yield* mastodon.validate(status(`${"x".repeat(77)} ${url}`), media)
        expect(issue!.path).toEqual(["status"])
        expect(issue!.message).toMatch(/101 characters once filled \(every URL counts 23\).* allows 100: remove 1/)
        const error = yield* Effect.flip(mastodon.post(context(status(`${"x".repeat(77)} ${url}`))))
        expect(error.reason).toBe("invalid_metadata")
        expect(error.message).toMatch(/metadata\.mastodon\.status: the Mastodon status is 101 characters/)
        expect(statusRequests(sb)).toHaveLength(0)
        expect(requests(sb).map((e) => e.path)).toEqual(["/api/v2/instance"])
      }).pipe(Effect.provide(Http)))

    it.scoped("the content warning counts toward the limit", () =>
      Effect.gen(function*() {
        const { mastodon } = yield* setup()
        expect(yield* mastodon.validate(status("x".repeat(490), { spoilerText: "y".repeat(10) }), media)).toEqual([])
        const issues = yield* mastodon.validate(status("x".repeat(490), { spoilerText: "y".repeat(11) }), media)
        expect(issues[0]!.message).toMatch(/501 characters.*the content warning counts too/)
      }).pipe(Effect.provide(Http)))

    it.scoped("a configured limit replaces the instance's", () =>
      Effect.gen(function*() {
        const { mastodon } = yield* setup({}, { maxCharacters: 10 })
        expect((yield* mastodon.validate(status("x".repeat(11)), media)).map((i) => i.path)).toEqual([["status"]])
      }).pipe(Effect.provide(Http)))

    it("the emulator and the publisher count alike (URLs 23, remote mentions by their local part)", () => {
      expect(countCharacters(`@alice@example.social ${"https://example.com/" + "a".repeat(99)} 🎬`)).toBe(
        6 + 1 + 23 + 2
      )
      FastCheck.assert(
        FastCheck.property(
          FastCheck.array(
            FastCheck.oneof(
              FastCheck.string({ maxLength: 12 }),
              FastCheck.webUrl(),
              FastCheck.constantFrom("@alice@example.social", " ", "\n", "🎬", "#tag")
            ),
            { maxLength: 8 }
          ),
          (parts) => {
            const text = parts.join(" ")
            return countCharacters(text) === emulatorCount(text)
          }
        )
      )
    })
  })

  it("a status's HTML content reads back as its text", () =>
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(
          FastCheck.oneof(
            FastCheck.string({ maxLength: 10 }).map((s) => s.replace(/[<>&"'#\n\r]/g, "")),
            FastCheck.constantFrom("https://vimeo.com/76979871", "<b>", "&amp;", "#tag", "\n", "\n\n", "'\"")
          ),
          { maxLength: 8 }
        ),
        (parts) => {
          const text = parts.join(" ").trim()
          return htmlToText(renderContent(text, "https://mastodon.example")) === text
        }
      )
    ))

  it.scoped("attachVideo: /api/v2/media answers 202, polled until processed (TestClock), then attached", () =>
    Effect.gen(function*() {
      const { mastodon, sb } = yield* setup({ mastodon: { mediaPolls: 2 } })
      const fiber = yield* Effect.fork(
        mastodon.post(context(status("With the video", { attachVideo: true }), { media: sample }))
      )
      // mediaPollPolicy: the second read 250 ms after the first, the third 500 ms after that.
      yield* awaitSleep(250, 250)
      yield* TestClock.adjust(250)
      yield* awaitSleep(500, 500)
      expect(statusRequests(sb)).toHaveLength(0)
      yield* TestClock.adjust(500)
      const post = yield* Fiber.join(fiber)
      const [upload] = sb.state().uploads.filter((u) => u.platform === "mastodon")
      expect(upload!.sha256).toBe(createHash("sha256").update(readFileSync(samplePath)).digest("hex"))
      expect(stored(sb)[0]!.id).toBe(post.postId)
      expect((stored(sb)[0]!.extra as { mediaIds: Array<string> }).mediaIds).toEqual([upload!.id])
      expect(requests(sb).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
        "GET /api/v2/instance 200",
        "POST /api/v2/media 202",
        `GET /api/v1/media/${upload!.id} 206`,
        `GET /api/v1/media/${upload!.id} 206`,
        `GET /api/v1/media/${upload!.id} 200`,
        "POST /api/v1/statuses 200"
      ])
    }).pipe(Effect.provide(Http)))

  it.scoped("a 503 on the attachment's upload and a drop on its processing read are retried after 1 s; one status", () =>
    Effect.gen(function*() {
      const { mastodon, sb } = yield* setup({ mastodon: { mediaPolls: 0 } })
      sb.inject({ platform: "mastodon", route: "media", action: { kind: "status", status: 503 } })
      sb.inject({ platform: "mastodon", route: "media.get", action: { kind: "drop", afterBytes: 0 } })
      const fiber = yield* Effect.fork(
        mastodon.post(context(status("Retried attachment", { attachVideo: true }), { media: sample }))
      )
      for (let i = 0; i < 2; i++) {
        yield* awaitSleep(1_000, 1_000)
        yield* TestClock.adjust(1_000)
      }
      const post = yield* Fiber.join(fiber)
      const [upload] = sb.state().uploads.filter((u) => u.platform === "mastodon")
      expect(requests(sb).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
        "GET /api/v2/instance 200",
        "POST /api/v2/media 503",
        "POST /api/v2/media 202",
        `GET /api/v1/media/${upload!.id} dropped`,
        `GET /api/v1/media/${upload!.id} 200`,
        "POST /api/v1/statuses 200"
      ])
      expect((stored(sb)[0]!.extra as { mediaIds: Array<string> }).mediaIds).toEqual([upload!.id])
      expect(stored(sb).map((p) => p.id)).toEqual([post.postId])
    }).pipe(Effect.provide(Http)))

  it.scoped("an attachment upload or processing read never answered ends at its deadline and is sent again", () =>
    Effect.gen(function*() {
      const { mastodon, sb } = yield* setup({ mastodon: { mediaPolls: 0 } }, { requestTimeout: "10 seconds" })
      sb.inject({ platform: "mastodon", route: "media", action: { kind: "stall" } })
      sb.inject({ platform: "mastodon", route: "media.get", action: { kind: "stall" } })
      const fiber = yield* Effect.fork(
        mastodon.post(context(status("Stalled twice", { attachVideo: true }), { media: sample }))
      )
      yield* awaitStalls(sb, "mastodon", 1)
      // The upload's deadline is the request deadline plus the file's time at 100 kB/s.
      const deadline = 10_000 + sample.size / 100
      yield* TestClock.adjust(deadline - 1)
      expect(sb.raw.log.filter((e) => e.path === "/api/v2/media")).toHaveLength(1)
      yield* TestClock.adjust(1)
      yield* awaitSleep(1_000, 1_000)
      yield* TestClock.adjust(1_000)
      // The second upload is answered; its processing read is not, until its deadline.
      yield* awaitStalls(sb, "mastodon", 2)
      yield* TestClock.adjust(10_000)
      yield* awaitSleep(1_000, 1_000)
      yield* TestClock.adjust(1_000)
      const post = yield* Fiber.join(fiber)
      const uploads = sb.state().uploads.filter((u) => u.platform === "mastodon")
      expect(uploads).toHaveLength(2)
      // The stalled upload was stored too: it stays unattached; the status carries the second.
      expect((stored(sb)[0]!.extra as { mediaIds: Array<string> }).mediaIds).toEqual([uploads[1]!.id])
      expect(statusRequests(sb)).toHaveLength(1)
      expect(stored(sb).map((p) => p.id)).toEqual([post.postId])
    }).pipe(Effect.provide(Http)))

  it.scoped("the account's status limit (429 with X-RateLimit-Reset 3 hours on, no Retry-After): rate_limited, not held", () =>
    Effect.gen(function*() {
      const { mastodon, sb } = yield* setup()
      sb.exhaustQuota("mastodon")
      const error = yield* Effect.flip(mastodon.post(context(status("over the limit"))))
      expect([error._tag, error.reason]).toEqual(["QuotaExceeded", "rate_limited"])
      // The reset is read from the header (by the sandbox clock), well past the 16-minute hold.
      const retryAfter = (error as unknown as { retryAfter: number }).retryAfter
      expect(retryAfter).toBeGreaterThan(3 * 3_600_000 - 60_000)
      expect(retryAfter).toBeLessThanOrEqual(3 * 3_600_000 + 60_000)
      expect(statusRequests(sb)).toHaveLength(1)
      expect(stored(sb)).toHaveLength(0)
    }).pipe(Effect.provide(Http)))

  it.scoped("retract deletes the status, then reports it gone", () =>
    Effect.gen(function*() {
      const { mastodon, sb } = yield* setup()
      const post = yield* mastodon.post(context(status("to be taken back")))
      expect(yield* mastodon.retract!(post)).toBe("deleted")
      expect(stored(sb)).toHaveLength(0)
      expect(yield* mastodon.retract!(post)).toBe("gone")
    }).pipe(Effect.provide(Http)))

  describe("checkCredentials (verify_credentials)", () => {
    it.scoped("a valid token names its account", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        expect(yield* Mastodon.checkCredentials(options(sb))).toEqual({
          platform: "mastodon",
          ok: true,
          valid: true,
          instanceUrl: sb.urls.mastodon,
          account: "@medusa",
          problems: []
        })
      }).pipe(Effect.provide(Http)))

    it.scoped("a revoked token is reported invalid with what to do", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        sb.expireToken("mastodon")
        const report = yield* Mastodon.checkCredentials(options(sb))
        expect([report.ok, report.valid]).toEqual([false, false])
        expect(report.problems[0]).toMatch(/revoked.*update mastodon\.access_token/)
      }).pipe(Effect.provide(Http)))
  })

  publisherContract<MastodonMetadata>({
    id: "mastodon",
    postRoute: "statuses",
    make: (sb) => Mastodon.make(options(sb)),
    metadata: (t) => status(t),
    postRequests: statusRequests,
    foundWhere: "among the account's statuses",
    unknownHint: /Check the profile's recent statuses on http:\/\/127\.0\.0\.1:\d+/,
    expiredToken: { reason: "auth_expired" },
    sameTextTwice: "folded",
    serverErrorSearch: (e) => e.method === "GET" && /^\/api\/v1\/accounts\/\d+\/statuses/.test(e.path),
    rateLimit: { retryAfterSeconds: 120, min: 119_000, max: 120_000 },
    canary: {
      credentials: { mastodon: { accessToken: "CANARY-masto-3a9d0e71" } },
      secrets: ["CANARY-masto-3a9d0e71"]
    },
    checkCredentials: (sb) => Mastodon.checkCredentials(options(sb))
  })
})
