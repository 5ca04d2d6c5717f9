import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as fc from "fast-check"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import * as Durable from "../../src/Durable.js"
import * as Mp4 from "../../src/internal/files/mp4.js"
import * as Medusa from "../../src/Medusa.js"
import { MediaFile, YouTubeHost } from "../../src/Platform.js"
import * as Captions from "../../src/platforms/youtube/internal/captions.js"
import * as YouTube from "../../src/platforms/youtube/YouTube.js"
import { YouTubeCaption, YouTubeMetadata } from "../../src/PublishRequest.js"
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
  sha256,
  tempDir
} from "./helpers.js"
import { mp4 } from "./mp4.js"

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

// =============================================================================
// Captions and Shorts
// =============================================================================

const SRT = "1\n00:00:00,000 --> 00:00:02,000\nHello\n\n2\n00:00:02,000 --> 00:00:04,000\nWorld\n"
const VTT = "WEBVTT\n\n00:00.000 --> 00:02.000\nBonjour\n\nintro\n00:00:02.000 --> 00:00:04.000 align:start\nle monde\n"

interface SandboxCaption {
  videoId: string
  language: string
  name: string
  format: string
  sha256: string
}
const captionsOf = (sb: { state: () => { platforms: Record<string, unknown> } }) =>
  (sb.state().platforms.youtube as { captions: Array<SandboxCaption> }).captions

const writeCaptions = (dir: string) => {
  const srt = path.join(dir, "talk.en.srt")
  const vtt = path.join(dir, "talk.fr.vtt")
  writeFileSync(srt, SRT)
  writeFileSync(vtt, VTT)
  return { srt, vtt }
}

const withCaptions = (files: { srt: string; vtt: string }) =>
  new YouTubeMetadata({
    title: "Captioned",
    captions: [
      new YouTubeCaption({ file: files.srt, language: "en" }),
      new YouTubeCaption({ file: files.vtt, language: "fr-FR", name: "Français (auto)" })
    ]
  })

describe("YouTube caption files", () => {
  it("SRT and WebVTT are told apart by content; anything else is refused with the line that is wrong", () => {
    const parse = (text: string) => Captions.parse(Buffer.from(text))
    assert.deepStrictEqual(parse(SRT), { _tag: "Ok", format: "srt", cues: 2 })
    assert.deepStrictEqual(parse(VTT), { _tag: "Ok", format: "vtt", cues: 2 })
    assert.deepStrictEqual(parse("\uFEFF" + SRT.replace(/\n/g, "\r\n")), { _tag: "Ok", format: "srt", cues: 2 })
    // A WebVTT file named .srt is WebVTT: the content decides.
    const wrongTiming = parse("1\n00:00:00.000 --> 00:00:02.000\nHello\n")
    assert.strictEqual(wrongTiming._tag, "Invalid")
    assert.include(wrongTiming._tag === "Invalid" ? wrongTiming.message : "", "line 2")
    assert.include(wrongTiming._tag === "Invalid" ? wrongTiming.message : "", "00:00:01,000 --> 00:00:04,000")
    const noNumber = parse("Hello\n00:00:00,000 --> 00:00:02,000\n")
    assert.include(noNumber._tag === "Invalid" ? noNumber.message : "", "line 1: an SRT cue starts with its number")
    const backwards = parse("1\n00:00:05,000 --> 00:00:02,000\nx\n")
    assert.include(backwards._tag === "Invalid" ? backwards.message : "", "ends before it starts")
    assert.strictEqual(parse("WEBVTT\n\n")._tag, "Invalid")
    assert.include((parse("WEBVTTX\n\n00:00.000 --> 00:01.000\nx") as { message: string }).message, "line 1")
    const vttBadCue = parse("WEBVTT\n\nNOTE hi\n\n00:00.000 -> 00:01.000\nx\n")
    assert.include((vttBadCue as { message: string }).message, "line 5")
    assert.include((parse("") as { message: string }).message, "neither WebVTT")
    assert.include((Captions.parse(Buffer.from([0xff, 0xfe, 0x00, 0x41])) as { message: string }).message, "UTF-8")
  })

  it("language tags are BCP-47 (Intl's grammar), canonicalised", () => {
    assert.strictEqual(Captions.canonicalLanguage("en-us"), "en-US")
    assert.strictEqual(Captions.canonicalLanguage("pt-BR"), "pt-BR")
    assert.strictEqual(Captions.canonicalLanguage("zh-Hant-TW"), "zh-Hant-TW")
    assert.isUndefined(Captions.canonicalLanguage("en_US"))
    assert.isUndefined(Captions.canonicalLanguage("english please"))
    assert.isUndefined(Captions.canonicalLanguage(""))
  })
})

describe("YouTube header and caption properties", () => {
  const pad = (n: number, width: number) => String(n).padStart(width, "0")
  const srtTime = (ms: number) =>
    `${pad(Math.floor(ms / 3_600_000), 2)}:${pad(Math.floor(ms / 60_000) % 60, 2)}:${
      pad(Math.floor(ms / 1000) % 60, 2)
    },${pad(ms % 1000, 3)}`
  const cue = fc.tuple(fc.nat(10 * 3_600_000), fc.nat(60_000), fc.stringMatching(/^[A-Za-zé ,.!?]{1,30}$/))

  it("any well-formed SRT or WebVTT parses with its cue count (any line ending)", () => {
    fc.assert(
      fc.property(fc.array(cue, { minLength: 1, maxLength: 20 }), fc.constantFrom("\n", "\r\n"), (cues, eol) => {
        const srt = cues.map(([start, length, text], i) =>
          [String(i + 1), `${srtTime(start)} --> ${srtTime(start + length)}`, text.trim() || "x"].join(eol)
        ).join(eol + eol)
        const vtt = [
          "WEBVTT",
          "",
          ...cues.map(([start, length, text]) =>
            [
              `${srtTime(start).replace(",", ".")} --> ${srtTime(start + length).replace(",", ".")}`,
              text.trim() || "x",
              ""
            ]
              .join(eol)
          )
        ].join(eol)
        assert.deepStrictEqual(Captions.parse(Buffer.from(srt)), { _tag: "Ok", format: "srt", cues: cues.length })
        assert.deepStrictEqual(Captions.parse(Buffer.from(vtt)), { _tag: "Ok", format: "vtt", cues: cues.length })
      })
    )
  })

  it("the header read back from a generated MP4 is what was written (size, rotation, duration, box layout)", () => {
    fc.assert(fc.property(
      fc.record({
        width: fc.integer({ min: 16, max: 7680 }),
        height: fc.integer({ min: 16, max: 7680 }),
        rotation: fc.constantFrom(0, 90, 180, 270),
        durationMs: fc.integer({ min: 1, max: 10 * 3_600_000 }),
        timescale: fc.constantFrom(600, 1000, 30_000, 90_000),
        version1: fc.boolean(),
        moovAtEnd: fc.boolean(),
        audioFirst: fc.boolean()
      }),
      (spec) => {
        const video = { handler: "vide", width: spec.width, height: spec.height, rotation: spec.rotation } as const
        const audio = { handler: "soun", width: 0, height: 0 } as const
        const bytes = mp4({
          durationSeconds: spec.durationMs / 1000,
          timescale: spec.timescale,
          version1: spec.version1,
          moovAtEnd: spec.moovAtEnd,
          mdatBytes: 64,
          tracks: spec.audioFirst ? [audio, video] : [video, audio]
        })
        const moovAt = bytes.indexOf("moov") - 4
        const result = Mp4.parseMoov(bytes.subarray(moovAt + 8, moovAt + bytes.readUInt32BE(moovAt)))
        assert.strictEqual(result._tag, "Ok")
        const header = result._tag === "Ok" ? result.header : undefined
        const turned = spec.rotation === 90 || spec.rotation === 270
        assert.strictEqual(header?.width, turned ? spec.height : spec.width)
        assert.strictEqual(header?.height, turned ? spec.width : spec.height)
        assert.strictEqual(header?.rotation, spec.rotation)
        const expected = Math.round((spec.durationMs / 1000) * spec.timescale) / spec.timescale
        assert.closeTo(header?.durationSeconds ?? -1, expected, 1e-9)
      }
    ))
  })
})

describe("YouTube captions", () => {
  it.scopedLive("bad caption tracks are refused before any byte, each issue at its path under captions", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const files = writeCaptions(dir)
      const notCaptions = path.join(dir, "notes.srt")
      writeFileSync(notCaptions, "These are my notes.\nNothing timed here.\n")
      const badTiming = path.join(dir, "bad.srt")
      writeFileSync(badTiming, "1\n00:00:00.000 --> 00:00:02.000\nHello\n")
      const metadata = new YouTubeMetadata({
        title: "Bad captions",
        captions: [
          new YouTubeCaption({ file: files.srt, language: "en" }),
          new YouTubeCaption({ file: path.join(dir, "missing.vtt"), language: "de" }),
          new YouTubeCaption({ file: notCaptions, language: "es" }),
          new YouTubeCaption({ file: badTiming, language: "it" }),
          new YouTubeCaption({ file: files.vtt, language: "english_US" }),
          new YouTubeCaption({ file: files.vtt, language: "fr", name: "n".repeat(151) }),
          new YouTubeCaption({ file: files.srt, language: "EN" })
        ]
      })
      const file = mediaFile(dir, 2000, 31)
      const issues = yield* host.validate(metadata, file.media)
      assert.deepStrictEqual(issues.map((i) => i.location), [
        "captions[1].file",
        "captions[2].file",
        "captions[3].file",
        "captions[4].language",
        "captions[5].name",
        "captions[6]"
      ])
      const [missing, notes, timing, language, name, duplicate] = issues.map((i) => i.message)
      assert.include(missing, "missing.vtt")
      assert.include(notes, "notes.srt is neither WebVTT")
      assert.include(timing, "bad.srt")
      assert.include(timing, "line 2")
      assert.include(language, "BCP-47")
      assert.include(language, "\"english_US\"")
      assert.include(name, "151 characters")
      assert.include(duplicate, "captions[0]")

      const error = yield* Effect.flip(host.upload(yield* context(file.media, metadata, yield* recorder)))
      assert.strictEqual(error._tag, "PlatformRejected")
      assert.include(error.message, "captions[1].file")
      assert.lengthOf(sb.state().requestLog, 0, "nothing sent")
    }))

  it.scopedLive("inserted after the upload (multipart, through googleapis), once per track also when the step is re-run", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const files = writeCaptions(dir)
      const metadata = withCaptions(files)
      const file = mediaFile(dir, 3000, 32)
      const video = yield* host.upload(yield* context(file.media, metadata, yield* recorder))
      const taskId = (yield* context(file.media, metadata, yield* recorder)).taskId
      yield* host.afterUpload(video, metadata, taskId)
      // The step again (a crash after it, then a resume): the tracks are listed and none is inserted.
      yield* host.afterUpload(video, metadata, taskId)
      const stored = captionsOf(sb)
      assert.deepStrictEqual(
        stored.map((c) => [c.videoId, c.language, c.name, c.format, c.sha256]),
        [
          [video.videoId, "en", "", "srt", sha256(Buffer.from(SRT))],
          [video.videoId, "fr-FR", "Français (auto)", "vtt", sha256(Buffer.from(VTT))]
        ]
      )
      assert.lengthOf(requests(sb, "youtube", "GET", "/youtube/v3/captions"), 2)
      assert.lengthOf(requests(sb, "youtube", "POST", "/upload/youtube/v3/captions"), 2)
      const insert = requests(sb, "youtube", "POST", "/upload/youtube/v3/captions")[0]!
      assert.include(insert.path, "uploadType=multipart")
      assert.match(insert.headers["content-type"] ?? "", /^multipart\/related/)
    }))

  it.scopedLive("503s and dropped connections on the caption routes are retried; a lost answer inserts no duplicate", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const files = writeCaptions(dir)
      const metadata = withCaptions(files)
      const file = mediaFile(dir, 3000, 33)
      const video = yield* host.upload(yield* context(file.media, metadata, yield* recorder))
      const taskId = (yield* context(file.media, metadata, yield* recorder)).taskId
      sb.inject({ platform: "youtube", route: "captions.list", times: 2, action: { kind: "status", status: 503 } })
      // The first insert lands but its answer is lost (the connection drops after the whole body).
      sb.inject({
        platform: "youtube",
        route: "captions.insert",
        action: { kind: "drop", afterBytes: 10_000_000 }
      })
      yield* host.afterUpload(video, metadata, taskId)
      assert.deepStrictEqual(captionsOf(sb).map((c) => c.language), ["en", "fr-FR"], "one track each")
      const inserts = requests(sb, "youtube", "POST", "/upload/youtube/v3/captions")
      assert.strictEqual(inserts[0]!.status, "dropped")
      assert.lengthOf(inserts, 2, "the retry listed the tracks and found the first")
      assert.deepStrictEqual(
        requests(sb, "youtube", "GET", "/youtube/v3/captions").map((e) => e.status),
        [503, 503, 200, 200]
      )

      // 503s on insert, then a drop before any byte arrives: retried too.
      const second = yield* host.upload(yield* context(file.media, metadata, yield* recorder))
      sb.inject({ platform: "youtube", route: "captions.insert", times: 2, action: { kind: "status", status: 503 } })
      yield* host.afterUpload(second, metadata, taskId)
      sb.inject({ platform: "youtube", route: "captions.insert", action: { kind: "drop", afterBytes: 0 } })
      const third = yield* host.upload(yield* context(file.media, metadata, yield* recorder))
      yield* host.afterUpload(third, metadata, taskId)
      for (const v of [second, third]) {
        assert.deepStrictEqual(
          captionsOf(sb).filter((c) => c.videoId === v.videoId).map((c) => c.language),
          ["en", "fr-FR"]
        )
      }
    }))

  it.scopedLive("503s that never stop fail the step with PlatformUnavailable after the retry policy", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const files = writeCaptions(dir)
      const metadata = withCaptions(files)
      const file = mediaFile(dir, 3000, 34)
      const video = yield* host.upload(yield* context(file.media, metadata, yield* recorder))
      sb.inject({
        platform: "youtube",
        route: "captions.insert",
        times: Infinity,
        action: { kind: "status", status: 503 }
      })
      const error = yield* Effect.flip(
        host.afterUpload(video, metadata, (yield* context(file.media, metadata, yield* recorder)).taskId)
      )
      assert.strictEqual(error._tag, "PlatformUnavailable")
      assert.strictEqual(error.status, 503)
      assert.include(error.message, "talk.en.srt")
      assert.lengthOf(requests(sb, "youtube", "POST", "/upload/youtube/v3/captions"), 1 + fastRetry.maxRetries)
      assert.lengthOf(captionsOf(sb), 0)
    }))
})

describe("YouTube Shorts", () => {
  const vertical = { handler: "vide", width: 1080, height: 1920 } as const
  const sound = { handler: "soun", width: 0, height: 0 } as const
  const short = (title = "A Short") => new YouTubeMetadata({ title, short: true })
  const write = (dir: string, name: string, bytes: Buffer) => {
    const file = path.join(dir, name)
    writeFileSync(file, bytes)
    return new MediaFile({ path: file, name, size: bytes.length, mimeType: "video/mp4" })
  }

  it.scopedLive("vertical or square and at most 3 minutes passes, read from the header (moov first or last, v0 or v1 boxes, rotation)", () =>
    Effect.gen(function*() {
      const { dir, host } = yield* setup()
      const ok = [
        mp4({ durationSeconds: 59, tracks: [sound, vertical] }),
        mp4({ durationSeconds: 180, tracks: [{ handler: "vide", width: 1080, height: 1080 }], moovAtEnd: true }),
        // Recorded landscape, turned a quarter by its matrix: vertical on screen.
        mp4({
          durationSeconds: 30,
          version1: true,
          timescale: 90_000,
          tracks: [{ handler: "vide", width: 1920, height: 1080, rotation: 90 }],
          brand: "qt  "
        })
      ]
      for (const [i, bytes] of ok.entries()) {
        const issues = yield* host.validate(short(), write(dir, `ok${i}.mp4`, bytes))
        assert.deepStrictEqual(issues.map((x) => x.message), [], `ok${i}.mp4`)
      }
    }))

  it.scopedLive("landscape or too long: an issue at short naming what was measured and the limit, before any byte", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const landscape = write(
        dir,
        "wide.mp4",
        mp4({ durationSeconds: 20, tracks: [{ ...vertical, width: 1920, height: 1080 }] })
      )
      const long = write(dir, "long.mp4", mp4({ durationSeconds: 181.5, tracks: [vertical], moovAtEnd: true }))
      const turned = write(
        dir,
        "turned.mp4",
        mp4({ durationSeconds: 20, tracks: [{ ...vertical, rotation: 270 }] })
      )
      const wide = yield* host.validate(short(), landscape)
      assert.deepStrictEqual(wide.map((i) => i.location), ["short"])
      assert.include(wide[0]!.message, "1920x1080")
      assert.include(wide[0]!.message, "vertical or square")
      const tooLong = yield* host.validate(short(), long)
      assert.deepStrictEqual(tooLong.map((i) => i.location), ["short"])
      assert.include(tooLong[0]!.message, "3:01.5 long")
      assert.include(tooLong[0]!.message, "at most 3:00")
      const rotated = yield* host.validate(short(), turned)
      assert.include(rotated[0]!.message, "1920x1080 (rotated 270°)")
      // The repository's sample video is 320x240.
      const sample = path.resolve(import.meta.dirname, "../../examples/media/sample.mp4")
      const sampleIssues = yield* host.validate(
        short(),
        new MediaFile({ path: sample, name: "sample.mp4", size: statSync(sample).size, mimeType: "video/mp4" })
      )
      assert.deepStrictEqual(sampleIssues.map((i) => i.location), ["short"])
      assert.include(sampleIssues[0]!.message, "320x240, landscape")
      // Without short: true nothing is measured.
      assert.lengthOf(yield* host.validate(new YouTubeMetadata({ title: "Wide" }), landscape), 0)

      const error = yield* Effect.flip(host.upload(yield* context(landscape, short(), yield* recorder)))
      assert.strictEqual(error._tag, "PlatformRejected")
      assert.include(error.message, "short: ")
      assert.lengthOf(sb.state().requestLog, 0, "nothing sent")
    }))

  it.scopedLive("a file whose header cannot be read is named in the issue", () =>
    Effect.gen(function*() {
      const { dir, host } = yield* setup()
      const random = mediaFile(dir, 5000, 35, "noise.mp4").media
      const [noise] = yield* host.validate(short(), random)
      assert.strictEqual(noise!.location, "short")
      assert.include(noise!.message, "noise.mp4")
      assert.include(noise!.message, "MP4/MOV header")
      const bytes = mp4({ durationSeconds: 10, tracks: [vertical] })
      const cut = write(dir, "cut.mp4", bytes.subarray(0, 60))
      const [cutIssue] = yield* host.validate(short(), cut)
      assert.include(cutIssue!.message, "cut.mp4")
      const audio = write(dir, "audio.m4a", mp4({ durationSeconds: 10, tracks: [sound] }))
      const [audioIssue] = yield* host.validate(short(), audio)
      assert.include(audioIssue!.message, "no video track")
    }))

  it.scopedLive("a Short uploads with the title and description as given (no #Shorts added)", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const media = write(dir, "short.mp4", mp4({ durationSeconds: 45, tracks: [vertical], mdatBytes: 50_000 }))
      const metadata = new YouTubeMetadata({ title: "Quick tip", description: "Watch this", short: true })
      const video = yield* host.upload(yield* context(media, metadata, yield* recorder))
      const upload = (sb.state().platforms.youtube as {
        uploads: Array<{ videoId: string; metadata: { title: string; description: string } }>
      }).uploads.find((u) => u.videoId === video.videoId)!
      assert.strictEqual(upload.metadata.title, "Quick tip")
      assert.strictEqual(upload.metadata.description, "Watch this")
    }))
})

/** A small MP4 (a real header, then filler media) the engine's media sniffing accepts. */
const mp4File = (dir: string, name: string, mdatBytes: number) => {
  const file = path.join(dir, name)
  const bytes = mp4({ durationSeconds: 10, tracks: [{ handler: "vide", width: 720, height: 1280 }], mdatBytes })
  writeFileSync(file, bytes)
  return { media: new MediaFile({ path: file, name, size: bytes.length, mimeType: "video/mp4" }) }
}

describe("YouTube captions through the engine", () => {
  const engineLayer = (
    sb: { urls: { youtube: string } },
    dir: string,
    store: "memory" | { readonly sqlite: string }
  ) => {
    const youtube = YouTube.layer({
      clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
      credentialsFile: path.join(dir, "youtube-credentials.json"),
      baseUrl: sb.urls.youtube,
      retry: fastRetry
    }).pipe(Layer.provide(platform))
    return store === "memory"
      ? Medusa.layerMemory().pipe(Layer.provide(youtube))
      : Durable.layerDurable({ sqlite: store.sqlite }).pipe(Layer.provide(youtube))
  }

  it.scopedLive("a bad caption file is refused at submit with its field path; nothing is sent", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sb = yield* sandbox()
      yield* Effect.promise(() => sb.writeConfig(dir))
      const files = writeCaptions(dir)
      const video = mp4File(dir, "talk.mp4", 4000)
      const error = yield* Effect.flip(
        Medusa.publish({
          mediaFile: video.media.path,
          platforms: ["youtube"],
          metadata: {
            youtube: {
              title: "Captions",
              captions: [{ file: files.srt, language: "en" }, { file: path.join(dir, "nope.vtt"), language: "de" }]
            }
          }
        }).pipe(Effect.provide(engineLayer(sb, dir, "memory")))
      )
      assert.strictEqual(error._tag, "InvalidRequest")
      const issues = (error as unknown as { issues: ReadonlyArray<{ location: string; message: string }> }).issues
      assert.deepStrictEqual(issues.map((i) => i.location), ["metadata.youtube.captions[1].file"])
      assert.include(issues[0]!.message, "nope.vtt")
      assert.lengthOf(sb.state().requestLog, 0)
    }))

  it.scopedLive("short: true on the landscape sample video is refused at submit at metadata.youtube.short", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sb = yield* sandbox()
      yield* Effect.promise(() => sb.writeConfig(dir))
      const error = yield* Effect.flip(
        Medusa.publish({
          mediaFile: path.resolve(import.meta.dirname, "../../examples/media/sample.mp4"),
          platforms: ["youtube"],
          metadata: { youtube: { title: "Not a Short", short: true } }
        }).pipe(Effect.provide(engineLayer(sb, dir, "memory")))
      )
      const issues = (error as unknown as { issues: ReadonlyArray<{ location: string; message: string }> }).issues
      assert.deepStrictEqual(issues.map((i) => i.location), ["metadata.youtube.short"])
      assert.include(issues[0]!.message, "320x240, landscape")
      assert.lengthOf(sb.state().requestLog, 0)
    }))

  it.scopedLive(
    "a crash while a track is being inserted: the resumed task lists the tracks and inserts only the missing one",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const sb = yield* sandbox()
        yield* Effect.promise(() => sb.writeConfig(dir))
        const files = writeCaptions(dir)
        const video = mp4File(dir, "talk.mp4", 300 * KiB)
        const sqlite = path.join(dir, "medusa.db")
        // The first insert is stored, and its answer never leaves: the process dies waiting for it.
        sb.inject({ platform: "youtube", route: "captions.insert", action: { kind: "stall" } })
        const first = yield* Scope.make()
        const before = yield* Layer.buildWithScope(engineLayer(sb, dir, { sqlite }), first)
        const id = yield* Medusa.submit({
          mediaFile: video.media.path,
          platforms: ["youtube"],
          metadata: { youtube: withCaptions(files) }
        }).pipe(Effect.provide(before))
        yield* Effect.sync(() => captionsOf(sb).length).pipe(
          Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (n) => n === 1 }),
          Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("the first track never landed") })
        )
        yield* Scope.close(first, Exit.void)
        assert.lengthOf(requests(sb, "youtube", "POST", "/upload/youtube/v3/captions"), 1)

        const after = yield* Layer.build(engineLayer(sb, dir, { sqlite }))
        const task = yield* Medusa.await(id).pipe(Effect.provide(after))
        assert.strictEqual(task.state, "completed")
        const videoId = task.videos[0]!.videoId
        assert.lengthOf(sb.state().uploads.filter((u) => u.platform === "youtube" && u.complete), 1, "one upload")
        assert.deepStrictEqual(
          captionsOf(sb).map((c) => [c.videoId, c.language, c.name]),
          [[videoId, "en", ""], [videoId, "fr-FR", "Français (auto)"]],
          "each track once"
        )
        assert.lengthOf(requests(sb, "youtube", "POST", "/upload/youtube/v3/captions"), 2)
      }),
    90_000
  )
})
