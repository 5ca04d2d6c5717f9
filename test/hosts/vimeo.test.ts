import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { readFileSync, writeFileSync } from "node:fs"
import * as Medusa from "../../src/Medusa.js"
import { type UploadSession, VimeoHost } from "../../src/Platform.js"
import * as Vimeo from "../../src/platforms/vimeo/Vimeo.js"
import { VimeoMetadata } from "../../src/PublishRequest.js"
import type { SandboxOptions } from "../../src/sandbox/Sandbox.js"
import { hostContract } from "../contract/host.js"
import {
  buildHost,
  context,
  fastRetry,
  mediaFile,
  platform,
  platformUndici,
  recorder,
  requests,
  sandbox,
  tempDir
} from "./helpers.js"

const KiB = 1024

const setup = (options: { sandbox?: SandboxOptions; host?: Partial<Vimeo.Options>; undici?: boolean } = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const sb = yield* sandbox(options.sandbox)
    const host = yield* buildHost(
      VimeoHost,
      Vimeo.layer({
        accessToken: Redacted.make(sb.credentials.vimeo.accessToken),
        baseUrl: sb.urls.vimeo,
        retry: fastRetry,
        ...options.host
      }),
      options.undici ? platformUndici : platform
    )
    return { dir, sb, host }
  })

const meta = new VimeoMetadata({ title: "Launch day", description: "A video", privacy: "unlisted" })

const videoOf = (sb: { state: () => { platforms: Record<string, unknown> } }, videoId: string) =>
  (sb.state().platforms.vimeo as { videos: Array<{ id: string; sha256: string; complete: boolean; bytes: number }> })
    .videos.find((v) => v.id === videoId)

describe("Vimeo host", () => {
  hostContract<VimeoMetadata>({
    id: "vimeo",
    setup,
    metadata: meta,
    byteRoute: "tus.patch",
    byteMethod: "PATCH",
    keepsCutBytes: true,
    partialAck: true,
    // The creation's JSON metadata.
    framingBytes: 256,
    findsLostCreation: true,
    createRoute: "videos.create",
    serverErrorBurst: [
      { route: "tus.patch", status: 503, times: 2 },
      { route: "tus.head", status: 502, times: 2 }
    ],
    creations: (sb) => requests(sb, "vimeo", "POST"),
    offsetQuery: { route: "tus.head", requests: (sb) => requests(sb, "vimeo", "HEAD") },
    stored: (sb, session) => session.videoId === undefined ? undefined : videoOf(sb, session.videoId),
    videoUrl: (videoId) => `https://vimeo.com/${videoId}`,
    sessionNamesVideo: true,
    invalidMetadata: () => ({
      metadata: new VimeoMetadata({ title: " ", description: "d".repeat(5001), privacy: "password" }),
      locations: ["description", "password", "title"]
    }),
    errorCases: [
      { route: "videos.create", status: 401, code: "8002", tag: "AuthExpired", reason: "auth_invalid" },
      { route: "videos.create", status: 403, code: "4102", tag: "QuotaExceeded", reason: "quota_exceeded" },
      { route: "videos.create", status: 403, code: "4101", tag: "QuotaExceeded", reason: "quota_exceeded" },
      { route: "videos.create", status: 400, code: "2204", tag: "PlatformRejected", reason: "invalid_metadata" },
      { route: "videos.create", status: 429, tag: "QuotaExceeded", reason: "rate_limited" }
    ],
    // An upload link that is gone answers 404; the host creates a new video.
    expireSession: {
      expire: (sb) => sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "status", status: 404 } })
    }
  })
})

describe("Vimeo tus upload", () => {
  it.scopedLive("a partial acknowledgement resumes from the server's Upload-Offset", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 600 * KiB, 22)
      sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "partialAck", bytes: 123_457 } })
      const video = yield* host.upload(yield* context(file.media, meta, yield* recorder))
      assert.strictEqual(videoOf(sb, video.videoId)?.sha256, file.sha256)
      const patches = requests(sb, "vimeo", "PATCH")
      assert.strictEqual(patches.length, 2)
      assert.strictEqual(patches[1]!.headers["upload-offset"], String(file.media.size - 123_457))
    }))

  it.scopedLive("a 409 re-reads the offset with HEAD and continues", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 300 * KiB, 23)
      sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "status", status: 409 } })
      const video = yield* host.upload(yield* context(file.media, meta, yield* recorder))
      assert.strictEqual(videoOf(sb, video.videoId)?.sha256, file.sha256)
      assert.deepStrictEqual(
        sb.state().requestLog.filter((e) => e.platform === "vimeo").map((e) => `${e.method} ${e.status}`),
        ["POST 201", "PATCH 409", "HEAD 200", "PATCH 204"]
      )
    }))
})

describe("Vimeo errors and metadata", () => {
  it.scopedLive("an exhausted quota fails with quota_exceeded before any byte is sent", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 1000, 29)
      sb.exhaustQuota("vimeo")
      const error = yield* Effect.flip(host.upload(yield* context(file.media, meta, yield* recorder)))
      assert.strictEqual(error._tag, "QuotaExceeded")
      assert.strictEqual(error.reason, "quota_exceeded")
      assert.lengthOf(requests(sb, "vimeo", "PATCH"), 0)
    }))

  it.scopedLive("waits for transcoding when asked", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup({
        host: { waitForProcessing: true, processing: { interval: "5 millis", timeout: "5 seconds" } }
      })
      const file = mediaFile(dir, 1000, 30)
      const ctx = yield* context(file.media, meta, yield* recorder)
      const video = yield* host.upload(ctx)
      yield* host.afterUpload(video, meta, ctx.taskId)
      assert.isAbove(requests(sb, "vimeo", "GET", `/videos/${video.videoId}`).length, 0)
    }))
})

describe("Vimeo after a crash while creating", () => {
  it.scopedLive(
    "a resume that finds a creation intent adopts the video the lost creation made (no orphan, no second video)",
    () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* setup()
        const file = mediaFile(dir, 300 * KiB, 41)
        // The first process saved its intent, sent the creation, and died before the answer.
        const intents: Array<UploadSession> = []
        const first = yield* context(file.media, meta, {
          onSession: (s) => s.uri === "" ? Effect.sync(() => void intents.push(s)) : Effect.never,
          onProgress: () => Effect.void
        })
        const fiber = yield* Effect.fork(host.upload(first))
        yield* Effect.promise(() =>
          (async () => {
            for (let i = 0; i < 500 && requests(sb, "vimeo", "POST").length === 0; i++) {
              await new Promise((r) => setImmediate(r))
            }
          })()
        )
        yield* Fiber.interrupt(fiber)
        assert.lengthOf(intents, 1)
        const rec = yield* recorder
        const video = yield* host.upload(yield* context(file.media, meta, rec, Option.some(intents[0]!)))
        assert.deepStrictEqual(sb.state().orphans.vimeo, [])
        assert.strictEqual(videoOf(sb, video.videoId)?.complete, true)
        assert.isAtMost(requests(sb, "vimeo", "POST").length, 2)
      }),
    20_000
  )
})

describe("Vimeo under a cancelled task", () => {
  it.scopedLive(
    "cancelling an in-memory task mid-upload deletes its unfinished video (no orphan)",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const sb = yield* sandbox()
        const file = mediaFile(dir, 600 * KiB, 43)
        // An MP4 signature, so that the request's media check accepts the file.
        const data = readFileSync(file.media.path)
        Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]).copy(data)
        writeFileSync(file.media.path, data)
        // Every PATCH is slow to be handled: the cancel lands while the upload runs.
        sb.inject({
          platform: "vimeo",
          route: "tus.patch",
          times: Infinity,
          action: { kind: "latency", millis: 2_000 }
        })
        const vimeo = Vimeo.layer({
          accessToken: Redacted.make(sb.credentials.vimeo.accessToken),
          baseUrl: sb.urls.vimeo,
          retry: fastRetry
        }).pipe(Layer.provide(platform))
        const ctx = yield* Layer.build(Medusa.layerMemory().pipe(Layer.provide(vimeo)))
        yield* Effect.gen(function*() {
          const id = yield* Medusa.submit({
            mediaFile: file.media.path,
            platforms: ["vimeo"],
            metadata: { vimeo: { title: "Launch day" } }
          })
          // Bounded polling: the video exists and its bytes are on the way.
          for (let i = 0; i < 1_000 && requests(sb, "vimeo", "PATCH").length === 0; i++) {
            yield* Effect.sleep("5 millis")
          }
          assert.lengthOf(requests(sb, "vimeo", "POST", "/me/videos"), 1)
          assert.strictEqual((yield* Medusa.cancel(id)).state, "cancelled")
          assert.lengthOf(requests(sb, "vimeo", "DELETE", "/videos/"), 1)
          assert.deepStrictEqual(sb.state().orphans.vimeo, [])
        }).pipe(Effect.provide(ctx))
      }),
    20_000
  )
})
