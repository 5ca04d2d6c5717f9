import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Bluesky from "../../src/platforms/bluesky/Bluesky.js"
import * as BskyRecord from "../../src/platforms/bluesky/internal/record.js"
import { BlueskyMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { TaskId } from "../../src/TaskId.js"
import { publisherContract } from "../contract/publisher.js"
import { alignClocks, closedPort, context, exposed, sandbox, youtubeVideo } from "./helpers.js"

const options = (sb: Sandbox.Sandbox, overrides: Partial<Bluesky.Options> = {}): Bluesky.Options => ({
  identifier: sb.credentials.bluesky.handle,
  appPassword: Redacted.make(sb.credentials.bluesky.appPassword),
  service: sb.urls.bluesky,
  ...overrides
})

const setup = (overrides: Partial<Bluesky.Options> = {}) =>
  Effect.gen(function*() {
    const sb = yield* sandbox()
    yield* alignClocks(sb)
    const bsky = yield* Bluesky.make(options(sb, overrides))
    return { sb, bsky }
  })

const posts = (sb: Sandbox.Sandbox) => sb.raw.postsOf("bluesky")
const createRequests = (sb: Sandbox.Sandbox) =>
  sb.raw.log.filter((e) => e.platform === "bluesky" && e.path === "/xrpc/com.atproto.repo.createRecord")
const text = (t: string, extra: Partial<ConstructorParameters<typeof BlueskyMetadata>[0]> = {}) =>
  new BlueskyMetadata({ text: t, ...extra })
const otherTask = TaskId.make("medusa_task_9c0ffee0-1234-4abc-8def-0123456789ab")

describe("Bluesky publisher", () => {
  it.scoped("posts the text with link and hashtag facets and a link card to the upload", () =>
    Effect.gen(function*() {
      const { bsky, sb } = yield* setup()
      const made = yield* bsky.post(context(text("New video https://youtu.be/dQw4w9WgXcQ #launch 🎬")))
      const [stored] = posts(sb)
      expect(posts(sb)).toHaveLength(1)
      expect(made.postId).toBe(stored!.id)
      expect(made.postId).toMatch(
        /^at:\/\/did:plc:sandboxbsky0000000000001\/app\.bsky\.feed\.post\/[2-7a-j][2-7a-z]{12}$/
      )
      expect(made.url).toBe(`https://bsky.app/profile/sandbox.bsky.social/post/${made.postId.split("/").pop()}`)
      expect(stored!.link).toBe(youtubeVideo.url)
      const extra = stored!.extra as { facets: Array<any>; embed: any }
      expect(extra.embed).toEqual({
        $type: "app.bsky.embed.external",
        external: { uri: youtubeVideo.url, title: "Launch day", description: "" }
      })
      const bytes = Buffer.from("New video https://youtu.be/dQw4w9WgXcQ #launch 🎬")
      expect(extra.facets.map((f) => [bytes.subarray(f.index.byteStart, f.index.byteEnd).toString(), f.features[0]]))
        .toEqual([
          ["https://youtu.be/dQw4w9WgXcQ", {
            $type: "app.bsky.richtext.facet#link",
            uri: "https://youtu.be/dQw4w9WgXcQ"
          }],
          ["#launch", { $type: "app.bsky.richtext.facet#tag", tag: "launch" }]
        ])
    }))

  it.scoped("the record key is the task's: a second post of the task is the first one, and find sees it", () =>
    Effect.gen(function*() {
      const { bsky, sb } = yield* setup()
      const first = yield* bsky.post(context(text("Once")))
      const again = yield* bsky.post(context(text("Once")))
      expect(again.postId).toBe(first.postId)
      expect(posts(sb)).toHaveLength(1)
      const found = yield* bsky.find({ ...context(text("Once")), intentAt: 0 })
      expect(Option.getOrThrow(found).postId).toBe(first.postId)
      expect(Option.isNone(yield* bsky.find({ ...context(text("Once")), taskId: otherTask, intentAt: 0 }))).toBe(true)
    }))

  it.scoped("no videos and no link: no card; link \"\" turns the card off", () =>
    Effect.gen(function*() {
      const { bsky, sb } = yield* setup()
      yield* bsky.post(context(text("plain"), { videos: [] }))
      yield* bsky.post({ ...context(text("no card", { link: "" })), taskId: otherTask })
      expect(posts(sb).map((p) => (p.extra as { embed?: unknown }).embed)).toEqual([undefined, undefined])
    }))

  it.scoped("retract deletes the record; a second retract finds it gone", () =>
    Effect.gen(function*() {
      const { bsky, sb } = yield* setup()
      const made = yield* bsky.post(context(text("to delete")))
      expect(yield* bsky.retract!(made)).toBe("deleted")
      expect(posts(sb)).toHaveLength(0)
      expect(yield* bsky.retract!(made)).toBe("gone")
    }))

  it.scoped("a text over 300 graphemes is refused at validation with the field path, and at post before any byte", () =>
    Effect.gen(function*() {
      const { bsky, sb } = yield* setup()
      const long = "👩‍👩‍👧‍👦".repeat(301)
      const issues = yield* bsky.validate(text(long), context(text("")).media)
      expect(issues.map((i) => [i.path, i.message])).toEqual([
        [["text"], expect.stringMatching(/301 graphemes .*allows 300: remove 1/)]
      ])
      // 300 family emoji are 300 graphemes (but 7,500 bytes: the byte limit speaks then).
      expect(BskyRecord.graphemeLength("👩‍👩‍👧‍👦".repeat(300))).toBe(300)
      expect(yield* bsky.validate(text("é".repeat(300)), context(text("")).media)).toEqual([])
      const error = yield* Effect.flip(bsky.post(context(text(long))))
      expect([error._tag, error.reason]).toEqual(["PlatformRejected", "invalid_metadata"])
      expect(sb.raw.log.filter((e) => e.platform === "bluesky")).toHaveLength(0)
    }))

  it.scoped("a wrong app password → auth_invalid; the password never shows", () =>
    Effect.gen(function*() {
      const { bsky, sb } = yield* setup({ appPassword: Redacted.make("CANARY-wrong-app-pass") })
      const error = yield* Effect.flip(bsky.post(context(text("nope"))))
      expect([error._tag, error.reason]).toEqual(["AuthExpired", "auth_invalid"])
      expect(exposed(error)).not.toContain("CANARY")
      expect(posts(sb)).toHaveLength(0)
    }))

  it.scoped("an expired session is refreshed by the client, and the post goes through", () =>
    Effect.gen(function*() {
      const { bsky, sb } = yield* setup()
      yield* bsky.post(context(text("first")))
      sb.inject({
        platform: "bluesky",
        route: "createRecord",
        action: { kind: "status", status: 400, code: "ExpiredToken", message: "Token has expired" }
      })
      const made = yield* bsky.post({ ...context(text("second")), taskId: otherTask })
      expect(posts(sb).map((p) => p.id)).toContain(made.postId)
      expect(sb.raw.log.some((e) => e.platform === "bluesky" && e.path.endsWith("refreshSession"))).toBe(true)
    }))

  it.scoped("the PDS unreachable → transport error, no post", () =>
    Effect.gen(function*() {
      const port = yield* closedPort()
      const bsky = yield* Bluesky.make({
        identifier: "a.test",
        appPassword: Redacted.make("x"),
        service: `http://127.0.0.1:${port}`
      })
      const error = yield* Effect.flip(bsky.post(context(text("nowhere"))))
      expect([error._tag, error.reason]).toEqual(["PlatformUnavailable", "transport"])
    }))
})

describe("Bluesky publisher contract", () => {
  const canaries = { appPassword: "CANARY-bsky-4f1e-app-pass" }
  publisherContract<BlueskyMetadata>({
    id: "bluesky",
    postRoute: "createRecord",
    make: (sb) => Bluesky.make(options(sb)),
    metadata: (t) => text(t),
    postRequests: createRequests,
    foundWhere: "under the task's record key",
    unknownHint: /record key/,
    expiredToken: { reason: "auth_invalid" },
    serverErrorSearch: (e) => e.path.startsWith("/xrpc/com.atproto.repo.getRecord"),
    // The PDS answers with ratelimit-reset, an instant (whole seconds) on the sandbox clock.
    rateLimit: { retryAfterSeconds: 120, min: 119_000, max: 121_000 },
    keyed: true,
    canary: {
      credentials: { bluesky: canaries },
      secrets: Object.values(canaries)
    },
    checkCredentials: (sb) => Bluesky.checkCredentials(options(sb))
  })
})
