/**
 * Bluesky posts with the video itself (`bluesky.attachVideo: true`) against
 * the sandbox's PDS emulator over real loopback HTTP: the file as a blob
 * (`uploadBlob`), sha256-exact, embedded with `app.bsky.embed.video`; the
 * submit-time checks; progress; a dropped upload re-sent; a re-run that
 * finds the post and uploads nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { MediaFile, type MediaUpload, type UploadProgress } from "../../src/Platform.js"
import * as Bluesky from "../../src/platforms/bluesky/Bluesky.js"
import { BlueskyMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { tempDir } from "../hosts/helpers.js"
import { context, mp4, mp4Video, sandbox } from "./helpers.js"

const setup = Effect.gen(function*() {
  const sb = yield* sandbox()
  const dir = yield* tempDir
  const bsky = yield* Bluesky.make({
    identifier: sb.credentials.bluesky.handle,
    appPassword: Redacted.make(sb.credentials.bluesky.appPassword),
    service: sb.urls.bluesky
  })
  return { sb, dir, bsky }
})

interface Blob {
  readonly cid: string
  readonly mimeType: string
  readonly size: number
  readonly sha256: string
  readonly referencedBy: ReadonlyArray<string>
}
const blobsOf = (sb: Sandbox.Sandbox) => (sb.state().platforms.bluesky as { blobs: ReadonlyArray<Blob> }).blobs
const uploadRequests = (sb: Sandbox.Sandbox) =>
  sb.raw.log.filter((e) => e.platform === "bluesky" && e.path === "/xrpc/com.atproto.repo.uploadBlob")

const recording = () => {
  const progress: Array<UploadProgress> = []
  const upload: MediaUpload = {
    saved: Effect.succeedNone,
    onSession: () => Effect.void,
    onProgress: (p) => Effect.sync(() => void progress.push(p))
  }
  return { progress, upload }
}

const video = (text: string, extra: Partial<ConstructorParameters<typeof BlueskyMetadata>[0]> = {}) =>
  new BlueskyMetadata({ text, attachVideo: true, ...extra })

describe("Bluesky native video", () => {
  it.scopedLive("uploads the file as a blob, sha256-exact, and embeds it with app.bsky.embed.video", () =>
    Effect.gen(function*() {
      const { bsky, dir, sb } = yield* setup
      const file = mp4Video(dir, { durationSeconds: 42, width: 1080, height: 1920, mdatBytes: 300_000 })
      const size = file.media.size
      const { progress, upload } = recording()
      const made = yield* bsky.post({
        ...context(video("Launch day https://example.com #launch", { alt: "A rocket lifting off" }), {
          media: file.media
        }),
        upload
      })
      const [blob] = blobsOf(sb)
      expect(blobsOf(sb)).toHaveLength(1)
      expect(blob!.sha256).toBe(file.sha256)
      expect([blob!.size, blob!.mimeType]).toEqual([size, "video/mp4"])
      expect(blob!.cid).toMatch(/^bafkrei[a-z2-7]{52}$/)
      const rkey = made.postId.split("/").pop()!
      expect(blob!.referencedBy).toEqual([rkey])
      const [stored] = sb.raw.postsOf("bluesky")
      expect((stored!.extra as { embed: unknown }).embed).toEqual({
        $type: "app.bsky.embed.video",
        video: { $type: "blob", ref: { $link: blob!.cid }, mimeType: "video/mp4", size },
        alt: "A rocket lifting off",
        // The display size from the MP4 header.
        aspectRatio: { width: 1080, height: 1920 }
      })
      // The upload's start and end at least; the last says every byte is there.
      expect(progress[0]).toMatchObject({ host: "bluesky", bytesAcknowledged: 0, totalBytes: size })
      expect(progress.at(-1)).toMatchObject({ bytesSent: size, bytesAcknowledged: size, totalBytes: size })
      expect(uploadRequests(sb)).toHaveLength(1)
    }))

  it.scopedLive("a re-run of a posted task finds the post under its record key and uploads nothing", () =>
    Effect.gen(function*() {
      const { bsky, dir, sb } = yield* setup
      const file = mp4(dir, 50_000)
      const first = yield* bsky.post(context(video("Once"), { media: file.media }))
      const again = yield* bsky.post(context(video("Once"), { media: file.media }))
      expect(again.postId).toBe(first.postId)
      expect(uploadRequests(sb)).toHaveLength(1)
      expect(sb.raw.postsOf("bluesky")).toHaveLength(1)
    }))

  it.scopedLive("a connection dropped mid-upload is sent again: one blob, one post", () =>
    Effect.gen(function*() {
      const { bsky, dir, sb } = yield* setup
      const file = mp4(dir, 400_000)
      sb.inject({ platform: "bluesky", route: "uploadBlob", action: { kind: "drop", afterBytes: 100_000 } })
      const { progress, upload } = recording()
      yield* bsky.post({ ...context(video("Dropped once"), { media: file.media }), upload })
      expect(uploadRequests(sb)).toHaveLength(2)
      expect(blobsOf(sb).map((b) => [b.sha256, b.referencedBy.length])).toEqual([[file.sha256, 1]])
      expect(progress.some((p) => p.note?.includes("sending it again") === true)).toBe(true)
      expect(sb.raw.postsOf("bluesky")).toHaveLength(1)
    }))

  it.scopedLive("the PDS refusing the blob fails the post with what to do, and nothing is posted", () =>
    Effect.gen(function*() {
      const { bsky, dir, sb } = yield* setup
      const file = mp4(dir, 20_000)
      sb.inject({
        platform: "bluesky",
        route: "uploadBlob",
        action: { kind: "status", status: 400, code: "BlobTooLarge", message: "This file is too large" }
      })
      const error = yield* Effect.flip(bsky.post(context(video("Too big here"), { media: file.media })))
      expect([error._tag, error.reason, error.code]).toEqual(["PlatformRejected", "rejected", "BlobTooLarge"])
      expect(error.description).toMatch(/compress the video, or post a link card instead \(remove attachVideo\)/)
      expect(sb.raw.postsOf("bluesky")).toHaveLength(0)
    }))

  it.scopedLive("submit-time checks: MP4 only, 100 MB and 3 minutes at most, no link card beside it, alt only with it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const bsky = yield* Bluesky.make({ identifier: "a.test", appPassword: Redacted.make("x") })
      const ok = mp4Video(dir, { durationSeconds: 180, width: 1920, height: 1080, mdatBytes: 2000 }, "ok.mp4").media
      const long = mp4Video(dir, { durationSeconds: 180.5, width: 1920, height: 1080, mdatBytes: 2000 }, "long.mp4")
        .media
      const unreadable = mp4(dir, 5000).media
      const mov = new MediaFile({ ...ok, name: "clip.mov", mimeType: "video/quicktime" })
      // The size checked is the file's as Medusa measured it.
      const huge = new MediaFile({ ...ok, name: "big.mp4", size: 100_000_001 })
      const issues = (m: BlueskyMetadata, media: MediaFile) =>
        Effect.map(bsky.validate(m, media), (all) => all.map((i) => [i.path, i.message]))
      expect(yield* issues(video("", { alt: "ok" }), ok)).toEqual([])
      expect(yield* issues(video("hi"), mov)).toEqual([
        [["attachVideo"], expect.stringMatching(/clip\.mov is video\/quicktime; Bluesky embeds video\/mp4 videos only/)]
      ])
      expect(yield* issues(video("hi"), huge)).toEqual([
        [["attachVideo"], expect.stringMatching(/big\.mp4 is 100000001 bytes; .*at most 100000000 bytes/)]
      ])
      expect(yield* issues(video("hi"), long)).toEqual([
        [["attachVideo"], expect.stringMatching(/long\.mp4 is 180\.5 s long; .*at most 180 s \(3 minutes\): trim it/)]
      ])
      expect(yield* issues(video("hi"), unreadable)).toEqual([
        [["attachVideo"], expect.stringMatching(/cannot read the duration of .*video\.mp4 from its MP4 header \(/)]
      ])
      expect(yield* issues(video("hi", { link: "https://example.com" }), ok)).toEqual([
        [["link"], expect.stringMatching(/the attached video takes the link card's place/)]
      ])
      expect(yield* issues(video("hi", { alt: "é".repeat(1001) }), ok)).toEqual([
        [["alt"], expect.stringMatching(/1001 graphemes .*allows 1000: remove 1/)]
      ])
      expect(yield* issues(new BlueskyMetadata({ text: "hi", alt: "no video" }), ok)).toEqual([
        [["alt"], expect.stringMatching(/add attachVideo: true, or remove alt/)]
      ])
      // Without attachVideo the file is not read at all.
      expect(yield* issues(new BlueskyMetadata({ text: "hi" }), unreadable)).toEqual([])
    }))
})
