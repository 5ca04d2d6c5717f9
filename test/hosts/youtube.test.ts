import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { MediaFile, YouTubeHost } from "../../src/Platform.js"
import * as YouTube from "../../src/platforms/youtube/YouTube.js"
import { YouTubeMetadata } from "../../src/PublishRequest.js"
import type { SandboxOptions } from "../../src/sandbox/Sandbox.js"
import { hostContract } from "../contract/host.js"
import {
  buildHost,
  context,
  fastRetry,
  mediaFile,
  once,
  platform,
  platformUndici,
  recorder,
  requests,
  sandbox,
  tempDir
} from "./helpers.js"

const KiB = 1024
const MiB = 1024 * KiB

const setup = (options: { sandbox?: SandboxOptions; host?: Partial<YouTube.Options>; undici?: boolean } = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const sb = yield* sandbox(options.sandbox)
    yield* Effect.promise(() => sb.writeConfig(dir))
    const files = {
      clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
      credentialsFile: path.join(dir, "youtube-credentials.json")
    }
    const host = yield* buildHost(
      YouTubeHost,
      YouTube.layer({ ...files, baseUrl: sb.urls.youtube, retry: fastRetry, ...options.host }),
      options.undici ? platformUndici : platform
    )
    return { dir, sb, files, host }
  })

const meta = new YouTubeMetadata({
  title: "Launch day",
  description: "A video",
  privacy: "private",
  tags: ["a", "b c"]
})

/** Sandbox view of the stored upload of a session URI. */
const stored = (
  sb: { raw: { uploads: Map<string, { sha256: string; bytes: number; complete: boolean }> } },
  uri: string
) => {
  const id = new URL(uri).searchParams.get("upload_id") ?? ""
  return sb.raw.uploads.get(id)
}

const uploadedBytes = (sb: Parameters<typeof requests>[0]) =>
  requests(sb, "youtube", "PUT").filter((e) =>
    e.headers["content-range"] !== undefined && !e.headers["content-range"].includes("*")
  )

describe("YouTube host", () => {
  hostContract<YouTubeMetadata>({
    id: "youtube",
    setup,
    metadata: meta,
    byteRoute: "upload",
    byteMethod: "PUT",
    keepsCutBytes: true,
    partialAck: true,
    // The creation's JSON metadata.
    framingBytes: 256,
    findsLostCreation: true,
    createRoute: "upload.initiate",
    serverErrorBurst: [{ route: "upload", status: 503, times: 4 }],
    creations: (sb) => requests(sb, "youtube", "POST", "/upload/youtube/v3/videos"),
    offsetQuery: {
      route: "upload",
      // A status query is a PUT without a body: Content-Range "bytes */<size>".
      requests: (sb) => requests(sb, "youtube", "PUT").filter((e) => e.headers["content-range"]?.includes("*"))
    },
    stored: (sb, session) => stored(sb, session.uri),
    videoUrl: (videoId) => `https://youtube.com/watch?v=${videoId}`,
    sessionNamesVideo: false,
    invalidMetadata: (dir) => {
      const thumbnail = path.join(dir, "thumb.gif")
      writeFileSync(thumbnail, Buffer.from("GIF89a........"))
      return {
        metadata: new YouTubeMetadata({
          title: "x".repeat(99) + "<>",
          description: "é".repeat(2501),
          tags: ["ok", "has space", "t".repeat(490)],
          privacy: "public",
          publishAt: "2020-01-01T00:00:00Z",
          categoryId: "music",
          thumbnail
        }),
        // The title is too long and has angle brackets; publishAt is in the past and needs private.
        locations: ["title", "title", "description", "tags", "publishAt", "publishAt", "categoryId", "thumbnail"],
        check: (issues) => {
          assert.isTrue(issues.some((i) => i.location === "title" && i.message.includes("101 characters")))
          assert.isTrue(issues.some((i) => i.location === "publishAt" && i.message.includes("private")))
          assert.isTrue(issues.some((i) => i.location === "publishAt" && i.message.includes("future")))
        }
      }
    },
    errorCases: [
      { route: "upload.initiate", status: 403, code: "quotaExceeded", tag: "QuotaExceeded", reason: "quota_exceeded" },
      {
        route: "upload.initiate",
        status: 400,
        code: "uploadLimitExceeded",
        tag: "QuotaExceeded",
        reason: "upload_limit_exceeded"
      },
      { route: "upload.initiate", status: 429, tag: "QuotaExceeded", reason: "rate_limited" }
    ],
    expireSession: {
      sandbox: { youtube: { sessionLifetimeMillis: 60_000 } },
      expire: (sb) => sb.clock.advance(61_000)
    }
  })
})

describe("YouTube resumable protocol", () => {
  it.scopedLive("a partial 308 resumes from the byte after the acknowledged range", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 2 * MiB + 5, 2)
      const holdBack = 300_001
      sb.inject({ platform: "youtube", route: "upload", action: { kind: "partialAck", bytes: holdBack } })
      const rec = yield* recorder
      yield* host.upload(yield* context(file.media, meta, rec))
      const sessions = yield* Ref.get(rec.sessions)
      assert.strictEqual(stored(sb, sessions[0]!.uri)?.sha256, file.sha256)
      const puts = uploadedBytes(sb)
      assert.strictEqual(puts.length, 2)
      const resumedAt = file.media.size - holdBack
      assert.strictEqual(
        puts[1]!.headers["content-range"],
        `bytes ${resumedAt}-${file.media.size - 1}/${file.media.size}`
      )
      assert.strictEqual(puts[1]!.headers["content-length"], String(holdBack))
      // The partial acknowledgement was reported through the session hook.
      assert.isTrue(sessions.some((s) => s.acknowledged === resumedAt))
    }))

  it.scopedLive("503s that never stop end in PlatformUnavailable after the policy's retries, session kept", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 64 * KiB, 4)
      sb.inject({ platform: "youtube", route: "upload", times: Infinity, action: { kind: "status", status: 503 } })
      const rec = yield* recorder
      const error = yield* Effect.flip(host.upload(yield* context(file.media, meta, rec)))
      assert.strictEqual(error._tag, "PlatformUnavailable")
      assert.strictEqual(error.reason, "server_error")
      assert.strictEqual(error.status, 503)
      // 1 send + 6 retries (fastRetry.maxRetries), each a status query.
      assert.strictEqual(requests(sb, "youtube", "PUT").length, 1 + fastRetry.maxRetries)
      assert.strictEqual((yield* Ref.get(rec.sessions)).length, 1)
    }))

  it.scopedLive("a 401 mid-upload refreshes the token once, rewrites the credentials file atomically (0600) and resumes", () =>
    Effect.gen(function*() {
      const { dir, files, host, sb } = yield* setup()
      const file = mediaFile(dir, 700 * KiB, 5)
      const before = JSON.parse(readFileSync(files.credentialsFile, "utf8"))
      const inodeBefore = statSync(files.credentialsFile).ino
      const rec = yield* recorder
      // The session exists; the token dies before the first byte is sent.
      const ctx = yield* context(file.media, meta, rec.afterSession(once(() => sb.expireToken("youtube"))))
      yield* host.upload(ctx)
      const sessions = yield* Ref.get(rec.sessions)
      assert.strictEqual(new Set(sessions.map((s) => s.uri)).size, 1)
      assert.strictEqual(stored(sb, sessions[0]!.uri)?.sha256, file.sha256)
      assert.isTrue(requests(sb, "youtube", "PUT").some((e) => e.status === 401))
      assert.strictEqual(requests(sb, "youtube", "POST", "/token").length, 1)

      const after = JSON.parse(readFileSync(files.credentialsFile, "utf8"))
      assert.notStrictEqual(after.access_token, before.access_token)
      assert.strictEqual(after.refresh_token, before.refresh_token)
      assert.isAbove(after.expiry_date, Date.now())
      const st = statSync(files.credentialsFile)
      assert.strictEqual(st.mode & 0o777, 0o600)
      assert.notStrictEqual(st.ino, inodeBefore, "written to a new file and renamed over the old one")
    }))

  it.scopedLive("a token close to expiry is refreshed before the upload starts", () =>
    Effect.gen(function*() {
      const { dir, files, host, sb } = yield* setup()
      const creds = JSON.parse(readFileSync(files.credentialsFile, "utf8"))
      writeFileSync(files.credentialsFile, JSON.stringify({ ...creds, expiry_date: Date.now() + 60_000 }))
      const file = mediaFile(dir, 10 * KiB, 6)
      const rec = yield* recorder
      yield* host.upload(yield* context(file.media, meta, rec))
      const log = sb.state().requestLog.filter((e) => e.platform === "youtube")
      assert.strictEqual(log[0]?.path, "/token", "refreshed ahead of the first API call")
      assert.isFalse(log.some((e) => e.status === 401))
    }))

  it.scopedLive("chunked upload (multiples of 256 KiB) stores the file; an invalid chunk size sends nothing", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup({ host: { chunkSize: 512 * KiB } })
      const file = mediaFile(dir, 1300 * KiB, 9)
      const rec = yield* recorder
      yield* host.upload(yield* context(file.media, meta, rec))
      const sessions = yield* Ref.get(rec.sessions)
      assert.strictEqual(stored(sb, sessions[0]!.uri)?.sha256, file.sha256)
      assert.strictEqual(uploadedBytes(sb).length, 3)

      const bad = yield* setup({ host: { chunkSize: 100_000 } })
      const error = yield* Effect.flip(bad.host.upload(yield* context(file.media, meta, rec)))
      assert.strictEqual(error._tag, "PlatformRejected")
      assert.include(error.message, "262144")
      assert.lengthOf(bad.sb.state().requestLog, 0)
    }))
})

describe("YouTube metadata and quota", () => {
  it.scopedLive("an unreadable media file fails with a typed error naming it, before any session is created", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 1000, 16)
      const missing = new MediaFile({ ...file.media, path: path.join(dir, "gone.mp4") })
      const error = yield* Effect.flip(host.upload(yield* context(missing, meta, yield* recorder)))
      assert.strictEqual(error._tag, "PlatformRejected")
      assert.include(error.message, "gone.mp4")
      assert.lengthOf(requests(sb, "youtube", "POST", "/upload"), 0)
    }))

  it.scopedLive("an exhausted quota: YouTube's 429 is recorded, and the next task fails before uploading", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 1000, 11)
      sb.exhaustQuota("youtube")
      const first = yield* Effect.flip(host.upload(yield* context(file.media, meta, yield* recorder)))
      assert.strictEqual(first._tag, "QuotaExceeded")
      assert.strictEqual(first.reason, "rate_limited")
      assert.strictEqual(first.code, "rateLimitExceeded")
      const seen = sb.state().requestLog.length

      const second = yield* Effect.flip(host.upload(yield* context(file.media, meta, yield* recorder)))
      assert.strictEqual(second._tag, "QuotaExceeded")
      assert.strictEqual(second.reason, "quota_exceeded")
      assert.isNumber(second._tag === "QuotaExceeded" ? second.resetsAt : undefined)
      const resetsAt = second._tag === "QuotaExceeded" ? second.resetsAt! : 0
      assert.include(second.message, new Date(resetsAt).toISOString())
      assert.include(second.message, "midnight Pacific")
      assert.strictEqual(sb.state().requestLog.length, seen, "nothing sent for the second task")
    }))

  it.scopedLive("the local ledger stops a task that would exceed the daily uploads, before any request", () =>
    Effect.gen(function*() {
      const { dir, files, host, sb } = yield* setup({ host: { quota: { uploadsPerDay: 1 } } })
      const file = mediaFile(dir, 1000, 12)
      yield* host.upload(yield* context(file.media, meta, yield* recorder))
      const seen = sb.state().requestLog.length
      const error = yield* Effect.flip(host.upload(yield* context(file.media, meta, yield* recorder)))
      assert.strictEqual(error._tag, "QuotaExceeded")
      assert.strictEqual(error.reason, "quota_exceeded")
      assert.include(error.message, "1/1 uploads")
      assert.strictEqual(sb.state().requestLog.length, seen)
      // Persisted beside the credentials file.
      const ledger = JSON.parse(
        readFileSync(path.join(path.dirname(files.credentialsFile), "youtube-quota.json"), "utf8")
      )
      const entry = Object.values(ledger.entries)[0] as { uploads: number }
      assert.strictEqual(entry.uploads, 1)
    }))

  it.scopedLive("a 429 on session creation is not quota: the ledger counts nothing for it, and the next publish succeeds", () =>
    Effect.gen(function*() {
      // A Retry-After longer than max_wait fails the first upload as rate-limited.
      const { dir, files, host, sb } = yield* setup({ host: { maxWait: "100 millis" } })
      const file = mediaFile(dir, 1000, 13)
      const ledgerFile = path.join(path.dirname(files.credentialsFile), "youtube-quota.json")
      const ledgerEntry = () =>
        existsSync(ledgerFile) ?
          Object.values(JSON.parse(readFileSync(ledgerFile, "utf8")).entries)[0] as { uploads: number } | undefined :
          undefined
      sb.inject({ platform: "youtube", route: "upload.initiate", action: { kind: "rateLimit", retryAfterSeconds: 1 } })
      const error = yield* Effect.flip(host.upload(yield* context(file.media, meta, yield* recorder)))
      assert.strictEqual(error._tag, "QuotaExceeded")
      assert.strictEqual(error.reason, "rate_limited")
      assert.strictEqual(error._tag === "QuotaExceeded" ? error.retryAfter : 0, 1000)
      assert.strictEqual(ledgerEntry()?.uploads ?? 0, 0, "the 429 used no quota")
      const video = yield* host.upload(yield* context(file.media, meta, yield* recorder))
      assert.isString(video.videoId)
      assert.strictEqual(ledgerEntry()?.uploads, 1, "only the accepted session is counted")
      assert.strictEqual(requests(sb, "youtube", "POST", "/upload/youtube/v3/videos").length, 2)
    }))
})

describe("YouTube after the upload", () => {
  it.scopedLive("sets the thumbnail, adds to the playlist once (also when re-run) and waits for processing", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup({
        host: { waitForProcessing: true, processing: { interval: "5 millis", timeout: "10 seconds" } }
      })
      const file = mediaFile(dir, 2000, 14)
      const thumb = path.join(dir, "thumb.png")
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 7)])
      writeFileSync(thumb, png)
      const metadata = new YouTubeMetadata({ title: "With extras", thumbnail: thumb, playlistId: "PLsandbox01" })
      const video = yield* host.upload(yield* context(file.media, metadata, yield* recorder))
      const taskId = (yield* context(file.media, metadata, yield* recorder)).taskId
      yield* host.afterUpload(video, metadata, taskId)
      // A re-run of the step (a crash inside it, then a resume) finds the video in the playlist.
      yield* host.afterUpload(video, metadata, taskId)
      assert.strictEqual(requests(sb, "youtube", "GET", "/youtube/v3/playlistItems").length, 2)
      assert.strictEqual(requests(sb, "youtube", "POST", "/youtube/v3/playlistItems").length, 1)
      const snapshot = sb.state().platforms.youtube as {
        thumbnails: Array<{ videoId: string; bytes: number }>
        playlistItems: Array<{ videoId: string; playlistId: string }>
      }
      assert.deepStrictEqual(snapshot.thumbnails.map((t) => [t.videoId, t.bytes]), [[video.videoId, png.length]])
      // thumbnails.set replaces: setting it again leaves one thumbnail.
      assert.deepStrictEqual(snapshot.playlistItems.map((p) => [p.videoId, p.playlistId]), [[
        video.videoId,
        "PLsandbox01"
      ]])
      assert.isAbove(requests(sb, "youtube", "GET", "/youtube/v3/videos").length, 1, "polled until processed")
    }))

  it.scopedLive("a failing after-upload step fails with a typed error (the video id is already known)", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup({ sandbox: { youtube: { playlists: ["PLexists"] } } })
      const file = mediaFile(dir, 2000, 15)
      const metadata = new YouTubeMetadata({ title: "Missing playlist", playlistId: "PLmissing" })
      const video = yield* host.upload(yield* context(file.media, metadata, yield* recorder))
      const error = yield* Effect.flip(
        host.afterUpload(video, metadata, (yield* context(file.media, metadata, yield* recorder)).taskId)
      )
      assert.strictEqual(error._tag, "PlatformRejected")
      assert.strictEqual(error.reason, "not_found")
      assert.strictEqual(error.code, "playlistNotFound")
      const uploads = (sb.state().platforms.youtube as { uploads: Array<{ videoId: string }> }).uploads
      assert.deepStrictEqual(uploads.map((u) => u.videoId), [video.videoId], "the upload itself stands")
    }))
})
