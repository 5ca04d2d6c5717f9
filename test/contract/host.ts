/**
 * The resumable-upload scenarios every host must pass, written once and run
 * per host (in the style of Effect's KeyValueStore contract suite). A host's
 * test file calls `hostContract` with a small descriptor: how to wire the host
 * to a sandbox, which route carries the bytes, how to read what the sandbox
 * stored, and how a session expires on that host. Protocol details that only
 * one host has stay in that host's file.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as fc from "fast-check"
import type { Host, PostWait, UploadSession } from "../../src/Platform.js"
import type { HostId } from "../../src/PlatformId.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { context, mediaFile, once, recorder, requests } from "../hosts/helpers.js"

type LogEntry = ReturnType<Sandbox.Sandbox["state"]>["requestLog"][number]

/** What the sandbox holds of one upload. */
export interface StoredUpload {
  readonly sha256: string
  readonly bytes: number
  readonly complete: boolean
}

/** What the contract needs to know about one host. */
export interface HostCase<M> {
  readonly id: HostId
  /** A fresh sandbox, a temporary directory, and the host wired to both. */
  readonly setup: (
    options?: {
      readonly sandbox?: Sandbox.SandboxOptions
      readonly undici?: boolean
      readonly host?: HostLimits
    }
  ) => Effect.Effect<
    { readonly dir: string; readonly sb: Sandbox.Sandbox; readonly host: Host<M> },
    unknown,
    Scope.Scope
  >
  readonly metadata: M
  /** The sandbox route and HTTP method of the requests that carry the file's bytes. */
  readonly byteRoute: string
  readonly byteMethod: string
  /** A burst of four 5xx answers on the upload's routes (one fault list per route: the sandbox keeps one per route). */
  readonly serverErrorBurst: ReadonlyArray<
    { readonly route: string; readonly status: 502 | 503; readonly times: number }
  >
  /** The route that creates an upload session (a new video on Vimeo). */
  readonly createRoute: string
  /** The route that asks how many bytes the server holds, and its method. */
  readonly queryRoute: string
  /** The requests that create an upload session (a new video on Vimeo). */
  readonly creations: (sb: Sandbox.Sandbox) => ReadonlyArray<LogEntry>
  /** The requests that ask the server how many bytes it holds. */
  readonly offsetQueries: (sb: Sandbox.Sandbox) => ReadonlyArray<LogEntry>
  /** What the sandbox stored for a session. */
  readonly stored: (sb: Sandbox.Sandbox, session: UploadSession) => StoredUpload | undefined
  readonly videoUrl: (videoId: string) => string
  /** Whether the session names the video from the start (Vimeo) or only the finished upload does (YouTube). */
  readonly sessionNamesVideo: boolean
  /** Metadata breaking several rules (files it names are written under `dir`), the field of each issue (a field twice when it breaks two rules), and host-specific checks of the issues. */
  readonly invalidMetadata: (dir: string) => {
    readonly metadata: M
    readonly locations: ReadonlyArray<string>
    readonly check?: (issues: ReadonlyArray<{ readonly location: string; readonly message: string }>) => void
  }
  /** How the host maps its error answers: the route answering, and the typed error expected. */
  readonly errorCases: ReadonlyArray<{
    readonly route: string
    readonly status: number
    /** The platform's error code; absent for a 429 carrying Retry-After. */
    readonly code?: string
    readonly tag: "AuthExpired" | "QuotaExceeded" | "PlatformRejected"
    readonly reason: string
  }>
  /** How a session expires on this host: sandbox settings, and what to do once the session exists. */
  readonly expireSession: {
    readonly sandbox?: Sandbox.SandboxOptions
    readonly expire: (sb: Sandbox.Sandbox) => void
  }
}

/** The deadlines and bounds every host takes as options. */
export interface HostLimits {
  readonly requestTimeout?: Duration.DurationInput
  readonly idleTimeout?: Duration.DurationInput
  readonly maxWait?: Duration.DurationInput
  readonly stallTimeout?: Duration.DurationInput
  readonly retry?: {
    readonly baseDelay?: Duration.DurationInput
    readonly maxDelay?: Duration.DurationInput
    readonly maxRetries?: number
  }
}

/** Videos the sandbox holds that were created and neither completed nor deleted. */
export const orphans = (sb: Sandbox.Sandbox, id: HostId): ReadonlyArray<string> => sb.state().orphans[id]

const KiB = 1024
const MiB = 1024 * KiB

/** Runs the host contract for one host (inside that host's `describe`). */
export const hostContract = <M>(platform: HostCase<M>): void => {
  const meta = platform.metadata

  describe("contract", () => {
    it.scopedLive("uploads a file in one request; the stored sha256 equals the file's", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const file = mediaFile(dir, 3 * MiB + 17, 21)
        const rec = yield* recorder
        const video = yield* host.upload(yield* context(file.media, meta, rec))
        assert.strictEqual(video.host, platform.id)
        assert.strictEqual(video.url, platform.videoUrl(video.videoId))
        const sessions = yield* Ref.get(rec.sessions)
        assert.isAbove(sessions.length, 0)
        if (platform.sessionNamesVideo) assert.strictEqual(sessions[0]?.videoId, video.videoId)
        const upload = platform.stored(sb, sessions[0]!)
        assert.strictEqual(upload?.sha256, file.sha256)
        assert.isTrue(upload?.complete)
        // One session and exactly one request carrying bytes.
        assert.strictEqual(platform.creations(sb).length, 1)
        assert.strictEqual(requests(sb, platform.id, platform.byteMethod).length, 1)
        const last = (yield* Ref.get(rec.progress)).at(-1)
        assert.strictEqual(last?.bytesAcknowledged, file.media.size)
        assert.strictEqual(last?.bytesSent, file.media.size)
        assert.strictEqual(sessions.at(-1)?.acknowledged, file.media.size)
      }), 10_000)

    it.scopedLive(
      "connection drops at any offsets (node and undici clients): one offset query after each, the same session resumed, the stored sha256 always equals the file's",
      () =>
        Effect.gen(function*() {
          const size = 1 * MiB + 333
          const property = fc.asyncProperty(
            fc.uniqueArray(fc.integer({ min: 1, max: size - 1 }), { minLength: 1, maxLength: 3 }),
            fc.integer({ min: 1, max: 1000 }),
            fc.boolean(),
            (offsets, seed, undici) =>
              Effect.runPromise(Effect.scoped(Effect.gen(function*() {
                const drops = [...offsets].sort((a, b) => a - b)
                const { dir, host, sb } = yield* platform.setup({ undici })
                const file = mediaFile(dir, size, seed)
                let next = 0
                const injectNext = (acknowledged: number) => {
                  while (next < drops.length && drops[next]! <= acknowledged) next++
                  if (next < drops.length) {
                    sb.inject({
                      platform: platform.id,
                      route: platform.byteRoute,
                      action: { kind: "drop", afterBytes: drops[next]! - acknowledged }
                    })
                    next++
                  }
                }
                const rec = yield* recorder
                // Each drop is armed when the server has acknowledged the bytes before it, so that
                // offset queries never consume it.
                const ctx = yield* context(file.media, meta, rec.afterSession((s) => injectNext(s.acknowledged)))
                const video = yield* host.upload(ctx)
                const sessions = yield* Ref.get(rec.sessions)
                assert.strictEqual(new Set(sessions.map((s) => s.uri)).size, 1, "one session, resumed")
                if (platform.sessionNamesVideo) assert.strictEqual(sessions[0]!.videoId, video.videoId)
                const upload = platform.stored(sb, sessions[0]!)
                assert.strictEqual(upload?.sha256, file.sha256)
                assert.strictEqual(upload?.bytes, size)
                assert.strictEqual(sb.state().requestLog.filter((e) => e.status === "dropped").length, drops.length)
                assert.strictEqual(platform.offsetQueries(sb).length, drops.length, "one offset query after each drop")
                assert.strictEqual(platform.creations(sb).length, 1, "one session")
              })))
          )
          yield* Effect.promise(() => fc.assert(property, { numRuns: 6 }))
        }),
      60_000
    )

    it.scopedLive("a burst of 5xx answers is retried with back-off, then the upload resumes", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const file = mediaFile(dir, 512 * KiB + 1, 3)
        for (const fault of platform.serverErrorBurst) {
          sb.inject({
            platform: platform.id,
            route: fault.route,
            times: fault.times,
            action: { kind: "status", status: fault.status }
          })
        }
        const rec = yield* recorder
        yield* host.upload(yield* context(file.media, meta, rec))
        const sessions = yield* Ref.get(rec.sessions)
        assert.strictEqual(new Set(sessions.map((s) => s.uri)).size, 1, "the same session throughout")
        assert.strictEqual(platform.stored(sb, sessions[0]!)?.sha256, file.sha256)
        assert.strictEqual(requests(sb, platform.id).filter((e) => e.status === 503 || e.status === 502).length, 4)
      }))

    it.scopedLive("an expired session (404) starts a new session from byte 0 and says so in the progress", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup(
          platform.expireSession.sandbox === undefined ? {} : { sandbox: platform.expireSession.sandbox }
        )
        const file = mediaFile(dir, 400 * KiB, 7)
        const rec = yield* recorder
        const expire = once(() => platform.expireSession.expire(sb))
        const ctx = yield* context(file.media, meta, rec.afterSession(expire))
        yield* host.upload(ctx)
        const sessions = yield* Ref.get(rec.sessions)
        const uris = [...new Set(sessions.map((s) => s.uri))]
        assert.strictEqual(uris.length, 2)
        const second = sessions.find((s) => s.uri === uris[1])!
        assert.strictEqual(second.acknowledged, 0)
        assert.strictEqual(platform.stored(sb, second)?.sha256, file.sha256)
        assert.strictEqual(platform.creations(sb).length, 2)
        assert.isTrue(requests(sb, platform.id, platform.byteMethod).some((e) => e.status === 404))
        const notes = (yield* Ref.get(rec.progress)).flatMap((p) => p.note ? [p.note] : [])
        assert.isTrue(notes.some((n) => n.includes("expired")))
        // The first session's resource is reused or deleted, and the note says so when deleted.
        assert.deepStrictEqual(orphans(sb, platform.id), [])
        if (platform.sessionNamesVideo) {
          assert.isTrue(notes.some((n) => n.includes(`deleted the unfinished video ${sessions[0]!.videoId}`)))
        }
      }))

    it.scopedLive("invalid metadata names every violation and sends nothing", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const file = mediaFile(dir, 1000, 10)
        const bad = platform.invalidMetadata(dir)
        const issues = yield* host.validate(bad.metadata, file.media)
        assert.deepStrictEqual(issues.map((i) => i.location).sort(), [...bad.locations].sort())
        bad.check?.(issues)
        // Validation is a pure check: the same answer twice, and nothing for good metadata.
        assert.lengthOf(yield* host.validate(bad.metadata, file.media), issues.length)
        assert.lengthOf(yield* host.validate(meta, file.media), 0)
        const error = yield* Effect.flip(host.upload(yield* context(file.media, bad.metadata, yield* recorder)))
        assert.strictEqual(error._tag, "PlatformRejected")
        assert.strictEqual(error.reason, "invalid_metadata")
        assert.lengthOf(sb.state().requestLog, 0, "the sandbox saw no request at all")
      }))

    for (const c of platform.errorCases) {
      it.scopedLive(`${c.route} answering ${c.status} ${c.code ?? "with Retry-After"} → ${c.tag} ${c.reason}`, () =>
        Effect.gen(function*() {
          const { dir, host, sb } = yield* platform.setup()
          const file = mediaFile(dir, 1000, 28)
          sb.inject({
            platform: platform.id,
            route: c.route,
            action: c.code === undefined ?
              // Longer than the default `maxWait` (5 minutes): failing at once beats waiting that long.
              { kind: "rateLimit", retryAfterSeconds: 600 } :
              { kind: "status", status: c.status, code: c.code }
          })
          const error = yield* Effect.flip(host.upload(yield* context(file.media, meta, yield* recorder)))
          assert.strictEqual(error._tag, c.tag)
          assert.strictEqual(error.reason, c.reason)
          assert.strictEqual(error.status, c.status)
          if (c.code === undefined) {
            assert.strictEqual(error._tag === "QuotaExceeded" ? error.retryAfter : 0, 600_000)
            assert.include(error.message, "max_wait")
          } else assert.strictEqual(error.code, c.code)
          assert.lengthOf(requests(sb, platform.id, platform.byteMethod), 0, "no byte was sent")
          assert.deepStrictEqual(orphans(sb, platform.id), [])
        }))
    }

    it.scopedLive("a 429 with a short Retry-After on session creation is announced as a wait, waited out, and the upload completes", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const file = mediaFile(dir, 2000, 29)
        sb.inject({
          platform: platform.id,
          route: platform.createRoute,
          action: { kind: "rateLimit", retryAfterSeconds: 1 }
        })
        const waits = yield* Ref.make<ReadonlyArray<PostWait>>([])
        const rec = yield* recorder
        const started = Date.now()
        const ctx = {
          ...(yield* context(file.media, meta, rec)),
          onWait: (w: PostWait) => Ref.update(waits, (all) => [...all, w])
        }
        const video = yield* host.upload(ctx)
        assert.isString(video.videoId)
        const announced = yield* Ref.get(waits)
        assert.lengthOf(announced, 1)
        assert.strictEqual(announced[0]!.reason, "rate limited")
        assert.approximately(announced[0]!.until, started + 1000, 1000)
        assert.isAtLeast(Date.now() - started, 1000, "the Retry-After was waited out")
        assert.strictEqual(platform.creations(sb).filter((e) => e.status === 429).length, 1)
        assert.deepStrictEqual(orphans(sb, platform.id), [])
      }))

    it.scopedLive("a server that stores the bytes but never answers is cut by the idle deadline; the upload is asked about and completes", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup({
          host: { idleTimeout: "300 millis", requestTimeout: "300 millis" }
        })
        const file = mediaFile(dir, 700 * KiB + 3, 30)
        sb.inject({
          platform: platform.id,
          route: platform.byteRoute,
          method: platform.byteMethod,
          action: { kind: "stall" }
        })
        const rec = yield* recorder
        const video = yield* host.upload(yield* context(file.media, meta, rec))
        const sessions = yield* Ref.get(rec.sessions)
        assert.strictEqual(new Set(sessions.map((s) => s.uri)).size, 1, "the same session throughout")
        if (platform.sessionNamesVideo) assert.strictEqual(sessions[0]!.videoId, video.videoId)
        assert.strictEqual(platform.stored(sb, sessions[0]!)?.sha256, file.sha256)
        assert.strictEqual(sb.state().counters[platform.id].stalls, 1)
        // The stalled request stored the whole file: the query after it finds it complete, nothing is sent twice.
        const queries = new Set(platform.offsetQueries(sb))
        assert.lengthOf(requests(sb, platform.id, platform.byteMethod).filter((e) => !queries.has(e)), 1)
        assert.deepStrictEqual(orphans(sb, platform.id), [])
      }))

    it.scopedLive(
      "a stalled session creation and a stalled offset query end at their deadline; nothing hangs and no video is orphaned",
      () =>
        Effect.gen(function*() {
          const { dir, host, sb } = yield* platform.setup({
            host: { idleTimeout: "300 millis", requestTimeout: "300 millis" }
          })
          const file = mediaFile(dir, 300 * KiB + 5, 31)
          // The creation is handled (a video may exist) but its answer never comes; then the request
          // carrying the whole file is stored but not answered, and so is the offset query after it.
          sb.inject({ platform: platform.id, route: platform.createRoute, action: { kind: "stall" } })
          sb.inject({
            platform: platform.id,
            route: platform.byteRoute,
            method: platform.byteMethod,
            action: { kind: "stall" }
          })
          sb.inject({ platform: platform.id, route: platform.queryRoute, action: { kind: "stall" } })
          const rec = yield* recorder
          const ctx = yield* context(file.media, meta, rec)
          yield* host.upload(ctx)
          const sessions = yield* Ref.get(rec.sessions)
          assert.strictEqual(platform.stored(sb, sessions.at(-1)!)?.sha256, file.sha256)
          assert.strictEqual(sb.state().counters[platform.id].stalls, 3)
          assert.deepStrictEqual(orphans(sb, platform.id), [])
        }),
      20_000
    )

    it.scopedLive("a server that keeps failing fails the upload after the stall timeout, saying what failed and since when", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup({
          host: {
            stallTimeout: "400 millis",
            retry: { baseDelay: "40 millis", maxDelay: "40 millis", maxRetries: 1000 }
          }
        })
        const file = mediaFile(dir, 100 * KiB, 33)
        for (const route of new Set([platform.byteRoute, platform.queryRoute])) {
          sb.inject({ platform: platform.id, route, times: Infinity, action: { kind: "status", status: 503 } })
        }
        const started = Date.now()
        const error = yield* Effect.flip(host.upload(yield* context(file.media, meta, yield* recorder)))
        assert.strictEqual(error._tag, "PlatformUnavailable")
        assert.strictEqual(error.reason, "timeout")
        assert.include(error.message, "503")
        assert.match(error.message, /since \d{4}-\d\d-\d\dT/)
        assert.include(error.message, "stall timeout")
        assert.isBelow(Date.now() - started, 5_000)
      }))

    it.scopedLive("a creation answer lost on a dropped connection leaves no orphan", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const file = mediaFile(dir, 200 * KiB, 32)
        // The body is shorter than the threshold: the platform creates, then the answer is lost.
        sb.inject({
          platform: platform.id,
          route: platform.createRoute,
          action: { kind: "drop", afterBytes: 1_000_000 }
        })
        const video = yield* host.upload(yield* context(file.media, meta, yield* recorder))
        assert.isString(video.videoId)
        assert.deepStrictEqual(orphans(sb, platform.id), [])
      }))

    it.scopedLive("resumes a saved session after the uploading fiber was interrupted", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const size = 900 * KiB
        const file = mediaFile(dir, size, 8)
        const dropAt = 333_333
        sb.inject({ platform: platform.id, route: platform.byteRoute, action: { kind: "drop", afterBytes: dropAt } })
        const saved = yield* Deferred.make<UploadSession>()
        // The first attempt stops (hangs in the hook) as soon as the server holds part of the file.
        const first = yield* context(file.media, meta, {
          onSession: (s) =>
            s.acknowledged > 0 ? Effect.zipRight(Deferred.succeed(saved, s), Effect.never) : Effect.void,
          onProgress: () => Effect.void
        })
        const fiber = yield* Effect.fork(host.upload(first))
        const session = yield* Deferred.await(saved)
        yield* Fiber.interrupt(fiber)
        assert.strictEqual(session.acknowledged, dropAt)

        const rec = yield* recorder
        const video = yield* host.upload(yield* context(file.media, meta, rec, Option.some(session)))
        assert.isString(video.videoId)
        if (platform.sessionNamesVideo) assert.strictEqual(video.videoId, session.videoId)
        assert.strictEqual(platform.creations(sb).length, 1, "no new session")
        assert.strictEqual(platform.stored(sb, session)?.sha256, file.sha256)
        const last = (yield* Ref.get(rec.progress)).at(-1)
        assert.strictEqual(last?.bytesSent, size - dropAt, "only the missing bytes were sent again")
      }))
  })
}
