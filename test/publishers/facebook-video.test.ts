/**
 * Native Page videos (`facebook.video: true`) against the sandbox over real
 * loopback HTTP, beyond the host contract (facebook-video-contract.test.ts:
 * drops, partial acknowledgements, 5xx, 429, expiry, crash resume, stalls,
 * error mapping): the description posted once, a saved session found
 * expired, a lost answer to finish, and validation.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import {
  MediaFile,
  type MediaUpload,
  type PostContext,
  type Publisher,
  type UploadSession
} from "../../src/Platform.js"
import * as Facebook from "../../src/platforms/facebook/Facebook.js"
import { FacebookMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { TaskId } from "../../src/TaskId.js"
import { fastRetry, mediaFile, requests, tempDir } from "../hosts/helpers.js"
import { Http, sandbox } from "./helpers.js"

const KiB = 1024
const MiB = 1024 * KiB

const setup = (chunk = 256 * KiB, overrides: Partial<Facebook.Options> = {}) =>
  Effect.gen(function*() {
    const sb = yield* sandbox({ facebook: { videoChunkBytes: chunk } })
    const dir = yield* tempDir
    const fb = yield* Facebook.make({
      pageId: sb.credentials.facebook.pageId,
      accessToken: Redacted.make(sb.credentials.facebook.pageAccessToken),
      baseUrl: sb.urls.facebook,
      videoUpload: { retry: fastRetry, progressIntervalMillis: 0 },
      ...overrides
    })
    return { sb, dir, fb }
  })

/** Upload hooks that keep the sessions and progress in memory, starting from `saved`. */
const hooks = (saved: Option.Option<UploadSession> = Option.none()) =>
  Effect.gen(function*() {
    const sessions = yield* Ref.make<ReadonlyArray<UploadSession>>(Option.toArray(saved))
    const progress = yield* Ref.make(0)
    const upload: MediaUpload = {
      saved: Effect.map(Ref.get(sessions), (all) => Option.fromNullable(all.at(-1))),
      onSession: (s) => Ref.update(sessions, (all) => [...all, s]),
      onProgress: () => Ref.update(progress, (n) => n + 1)
    }
    return { upload, sessions, progress }
  })

const ctx = (
  media: MediaFile,
  upload: MediaUpload,
  message = "Launch day: the video itself"
): PostContext<FacebookMetadata> => ({
  taskId: TaskId.make("medusa_task_5b1f0c2e-8a4d-4c3b-9e7f-1a2b3c4d5e6f"),
  metadata: new FacebookMetadata({ message, video: true }),
  media,
  videos: [],
  upload
})

const videosOf = (sb: Sandbox.Sandbox) =>
  (sb.state().platforms.facebook as { videos: ReadonlyArray<{ id: string; published: boolean; deleted: boolean }> })
    .videos

const storedOf = (sb: Sandbox.Sandbox, videoId: string) => sb.state().uploads.find((u) => u.videoId === videoId)

/** Starts a native video post and interrupts it once some bytes are acknowledged: its saved session. */
const interruptedSession = (fb: Publisher<FacebookMetadata>, media: MediaFile) =>
  Effect.gen(function*() {
    const first = yield* hooks()
    yield* Effect.exit(
      fb.post({
        ...ctx(media, first.upload),
        upload: {
          ...first.upload,
          onSession: (s) =>
            Effect.zipRight(first.upload.onSession(s), s.acknowledged > 0 ? Effect.interrupt : Effect.void)
        }
      })
    )
    return (yield* Ref.get(first.sessions)).at(-1)!
  })

describe("Facebook native video", () => {
  it.scopedLive("uploads in the server's chunks, arrives sha256-exact, and posts the description once", () =>
    Effect.gen(function*() {
      const { dir, fb, sb } = yield* setup()
      const file = mediaFile(dir, MiB + 12_345, 7)
      const h = yield* hooks()
      const post = yield* fb.post(ctx(file.media, h.upload))
      const stored = storedOf(sb, post.postId)!
      assert.strictEqual(stored.sha256, file.sha256)
      assert.isTrue(stored.complete)
      // 1 MiB + a bit in 256 KiB chunks: five transfers.
      assert.strictEqual(stored.requests, 5)
      const posts = sb.raw.postsOf("facebook")
      assert.strictEqual(posts.length, 1)
      assert.strictEqual(posts[0]!.text, "Launch day: the video itself")
      assert.strictEqual(post.url, `https://www.facebook.com/${sb.credentials.facebook.pageId}/videos/${post.postId}`)
      const sessions = yield* Ref.get(h.sessions)
      assert.strictEqual(sessions.at(-1)!.acknowledged, file.media.size)
      assert.strictEqual(sessions.at(-1)!.videoId, post.postId)
      assert.isAbove(yield* Ref.get(h.progress), 2)
      assert.deepStrictEqual(sb.state().orphans.facebook, [])
    }).pipe(Effect.provide(Http)))

  it.scopedLive("an expired session is abandoned: its video is deleted and a new session uploads from 0", () =>
    Effect.gen(function*() {
      const { dir, fb, sb } = yield* setup()
      const file = mediaFile(dir, 600 * KiB, 11)
      const saved = yield* interruptedSession(fb, file.media)
      sb.clock.advance(2 * 86_400_000)
      const second = yield* hooks(Option.some(saved))
      const post = yield* fb.post(ctx(file.media, second.upload))
      assert.notStrictEqual(post.postId, saved.videoId)
      assert.strictEqual(storedOf(sb, post.postId)!.sha256, file.sha256)
      const old = videosOf(sb).find((v) => v.id === saved.videoId)!
      assert.isTrue(old.deleted)
      assert.deepStrictEqual(sb.state().orphans.facebook, [])
    }).pipe(Effect.provide(Http)))

  it.scopedLive("an unanswered delete of the abandoned video does not hold the upload: the new session goes on", () =>
    Effect.gen(function*() {
      const { dir, fb, sb } = yield* setup(256 * KiB, {
        videoUpload: { retry: fastRetry, progressIntervalMillis: 0, requestTimeout: "1 second" }
      })
      const file = mediaFile(dir, 600 * KiB, 12)
      const saved = yield* interruptedSession(fb, file.media)
      sb.clock.advance(2 * 86_400_000)
      // Facebook deletes the video but its answer never comes.
      sb.inject({ platform: "facebook", route: "video.delete", action: { kind: "stall" } })
      const second = yield* hooks(Option.some(saved))
      const post = yield* fb.post(ctx(file.media, second.upload))
      assert.notStrictEqual(post.postId, saved.videoId)
      assert.strictEqual(storedOf(sb, post.postId)!.sha256, file.sha256)
      assert.isTrue(videosOf(sb).find((v) => v.id === saved.videoId)!.deleted)
      assert.strictEqual(sb.raw.counters.facebook.stalls, 1)
    }).pipe(Effect.provide(Http)))

  it.scopedLive("a lost answer to finish is reconciled through the video: one post, and find adopts it", () =>
    Effect.gen(function*() {
      const { dir, fb, sb } = yield* setup()
      const file = mediaFile(dir, 300 * KiB, 12)
      const h = yield* hooks()
      // Once every byte is acknowledged, the next request on the route is the finish: its answer is lost.
      const upload: MediaUpload = {
        ...h.upload,
        onSession: (s) =>
          Effect.zipRight(
            h.upload.onSession(s),
            Effect.sync(() => {
              if (s.acknowledged === file.media.size) {
                sb.inject({ platform: "facebook", route: "videos", action: { kind: "drop", afterBytes: 1_000_000 } })
              }
            })
          )
      }
      const post = yield* fb.post(ctx(file.media, upload))
      assert.strictEqual(sb.state().counters.facebook.faults, 1)
      const finishes = requests(sb, "facebook", "POST").filter((e) => e.status === "dropped")
      assert.strictEqual(finishes.length, 1)
      assert.strictEqual(sb.raw.postsOf("facebook").length, 1)
      assert.strictEqual(post.postId, (yield* Ref.get(h.sessions)).at(-1)!.videoId)
      // After a crash between finish and recording it, find adopts the post from the saved session.
      const found = yield* fb.find({ ...ctx(file.media, h.upload), intentAt: 0 })
      assert.deepStrictEqual(Option.map(found, (p) => p.postId), Option.some(post.postId))
      // A different description is not this task's post.
      const other = yield* fb.find({ ...ctx(file.media, h.upload, "another text"), intentAt: 0 })
      assert.isTrue(Option.isNone(other))
    }).pipe(Effect.provide(Http)))

  it.effect("validate refuses a tiny file, a link and a schedule with video: true, naming the fields", () =>
    Effect.gen(function*() {
      const fb = yield* Facebook.make({ pageId: "1", accessToken: Redacted.make("t") })
      const issues = yield* fb.validate(
        new FacebookMetadata({ message: "m", video: true, link: "https://x.test", scheduledPublishTime: 1 }),
        new MediaFile({ path: "/tmp/x.mp4", name: "x.mp4", size: 10, mimeType: "video/mp4" })
      )
      const paths = issues.map((i) => i.path.join("."))
      assert.includeMembers(paths, ["video", "link", "scheduledPublishTime"])
      assert.match(issues.find((i) => i.path[0] === "video")!.message, /10 bytes/)
      // Without video: true the same file is fine for a link post.
      const link = yield* fb.validate(
        new FacebookMetadata({ message: "m" }),
        new MediaFile({ path: "/tmp/x.mp4", name: "x.mp4", size: 10, mimeType: "video/mp4" })
      )
      assert.deepStrictEqual(link, [])
    }).pipe(Effect.provide(Http)))
})
