/**
 * Native LinkedIn videos (`linkedin.video: true`) against the sandbox over
 * real loopback HTTP, beyond the host contract (linkedin-video-contract.test.ts:
 * drops, 5xx, 429, expiry, crash resume, stalls, error mapping):
 * initializeUpload, a PUT per part keeping its ETag, finalizeUpload, then a
 * post carrying the video URN once; a finalize answered 5xx; validation.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { MediaFile, type MediaUpload, type PostContext, type UploadSession } from "../../src/Platform.js"
import * as LinkedIn from "../../src/platforms/linkedin/LinkedIn.js"
import { LinkedInMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { TaskId } from "../../src/TaskId.js"
import { fastRetry, mediaFile, requests, tempDir } from "../hosts/helpers.js"
import { Http, sandbox } from "./helpers.js"

const KiB = 1024

const setup = (part = 128 * KiB) =>
  Effect.gen(function*() {
    const sb = yield* sandbox({ linkedin: { videoPartBytes: part } })
    const dir = yield* tempDir
    const li = yield* LinkedIn.make({
      accessToken: Redacted.make(sb.credentials.linkedin.accessToken),
      authorUrn: sb.credentials.linkedin.authorUrn,
      baseUrl: sb.urls.linkedin,
      videoUpload: { retry: fastRetry, progressIntervalMillis: 0 }
    })
    return { sb, dir, li }
  })

const hooks = (saved: Option.Option<UploadSession> = Option.none()) =>
  Effect.gen(function*() {
    const sessions = yield* Ref.make<ReadonlyArray<UploadSession>>(Option.toArray(saved))
    const upload: MediaUpload = {
      saved: Effect.map(Ref.get(sessions), (all) => Option.fromNullable(all.at(-1))),
      onSession: (s) => Ref.update(sessions, (all) => [...all, s]),
      onProgress: () => Effect.void
    }
    return { upload, sessions }
  })

/** The upload hooks, with `effect` run after each saved session. */
const tapSession = (upload: MediaUpload, effect: (s: UploadSession) => Effect.Effect<void>): MediaUpload => ({
  ...upload,
  onSession: (s) => Effect.zipRight(upload.onSession(s), effect(s))
})

const ctx = (media: MediaFile, upload: MediaUpload, text = "Launch day, natively"): PostContext<LinkedInMetadata> => ({
  taskId: TaskId.make("medusa_task_5b1f0c2e-8a4d-4c3b-9e7f-1a2b3c4d5e6f"),
  metadata: new LinkedInMetadata({ text, video: true }),
  media,
  videos: [],
  upload
})

const storedOf = (sb: Sandbox.Sandbox, urn: string) => sb.state().uploads.find((u) => u.videoId === urn)
const videoOfPost = (sb: Sandbox.Sandbox) => sb.raw.postsOf("linkedin").map((p) => p.extra?.video as string)

describe("LinkedIn native video", () => {
  it.scopedLive("uploads each part, finalizes with the ETags, posts the URN once; sha256-exact", () =>
    Effect.gen(function*() {
      const { dir, li, sb } = yield* setup()
      const file = mediaFile(dir, 300 * KiB + 5, 21)
      const h = yield* hooks()
      const post = yield* li.post(ctx(file.media, h.upload))
      const [urn] = videoOfPost(sb)
      assert.match(urn!, /^urn:li:video:/)
      assert.strictEqual(storedOf(sb, urn!)!.sha256, file.sha256)
      assert.isTrue(storedOf(sb, urn!)!.complete)
      assert.strictEqual(requests(sb, "linkedin", "PUT").length, 3)
      assert.strictEqual(sb.raw.postsOf("linkedin").length, 1)
      assert.strictEqual(sb.raw.postsOf("linkedin")[0]!.id, post.postId)
      // The access token never goes to the pre-signed part URLs.
      assert.isTrue(requests(sb, "linkedin", "PUT").every((e) => e.headers.authorization === undefined))
      const last = (yield* Ref.get(h.sessions)).at(-1)!
      assert.strictEqual(last.acknowledged, file.media.size)
      assert.strictEqual(JSON.parse(last.uri).parts.filter((p: { etag?: string }) => p.etag).length, 3)
      assert.deepStrictEqual(sb.state().orphans.linkedin, [])
    }).pipe(Effect.provide(Http)))

  it.scopedLive("a finalize answered 5xx is finalized again; the post goes out once", () =>
    Effect.gen(function*() {
      const { dir, li, sb } = yield* setup()
      const file = mediaFile(dir, 200 * KiB, 24)
      const h = yield* hooks()
      const upload = tapSession(h.upload, (s) =>
        Effect.sync(() => {
          if (s.acknowledged === 128 * KiB) {
            sb.inject({ platform: "linkedin", route: "videos.initialize", action: { kind: "status", status: 502 } })
          }
        }))
      yield* li.post(ctx(file.media, upload))
      assert.strictEqual(requests(sb, "linkedin", "POST", "/rest/videos?action=finalizeUpload").length, 2)
      assert.strictEqual(sb.raw.postsOf("linkedin").length, 1)
    }).pipe(Effect.provide(Http)))

  it.effect("validate refuses a file under 75 KB and a file that is not MP4, naming the field", () =>
    Effect.gen(function*() {
      const li = yield* LinkedIn.make({ accessToken: Redacted.make("t"), authorUrn: "urn:li:person:x" })
      const small = yield* li.validate(
        new LinkedInMetadata({ text: "t", video: true }),
        new MediaFile({ path: "/tmp/x.mp4", name: "x.mp4", size: 1000, mimeType: "video/mp4" })
      )
      assert.deepStrictEqual(small.map((i) => i.path), [["video"]])
      assert.match(small[0]!.message, /1000 bytes; LinkedIn takes videos of 75 KB to 500 MB/)
      const webm = yield* li.validate(
        new LinkedInMetadata({ text: "t", video: true }),
        new MediaFile({ path: "/tmp/x.webm", name: "x.webm", size: 200_000, mimeType: "video/webm" })
      )
      assert.match(webm[0]!.message, /MP4 only/)
      const link = yield* li.validate(
        new LinkedInMetadata({ text: "t" }),
        new MediaFile({ path: "/tmp/x.webm", name: "x.webm", size: 1000, mimeType: "video/webm" })
      )
      assert.deepStrictEqual(link, [])
    }).pipe(Effect.provide(Http)))
})
