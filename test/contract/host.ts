/**
 * The resumable-upload scenarios every uploader must pass, written once and
 * run per platform (in the style of Effect's KeyValueStore contract suite).
 * An uploader is a host, or a publisher that uploads the file itself (a
 * native Facebook or LinkedIn video) seen through the same context. A test
 * file calls `hostContract` with a small descriptor: how to wire the uploader
 * to a sandbox, which route carries the bytes, how to read what the sandbox
 * stored, and how a session expires on that platform. Protocol details that
 * only one platform has stay in that platform's file.
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
import type { MediaFile, PostWait, Publisher, UploadContext, UploadSession } from "../../src/Platform.js"
import type { PlatformId, Target } from "../../src/PlatformId.js"
import { type Issue, type PlatformError, PlatformRejected } from "../../src/PublishError.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { context, mediaFile, once, recorder, requests } from "../hosts/helpers.js"

type LogEntry = ReturnType<Sandbox.Sandbox["state"]>["requestLog"][number]

/** What the sandbox holds of one upload. */
export interface StoredUpload {
  /** Null while the sandbox is still hashing a large upload. */
  readonly sha256: string | null
  readonly bytes: number
  readonly complete: boolean
}

/** What the contract drives: a `Host`, or a publisher's native upload adapted to a host's shape. */
export interface Uploader<M> {
  /** Every problem of the metadata and file, before anything is sent. */
  readonly validate: (metadata: M, media: MediaFile) => Effect.Effect<ReadonlyArray<Issue>>
  /** Uploads the file (resuming `context.resume` when given). */
  readonly upload: (
    context: UploadContext<M>
  ) => Effect.Effect<
    { readonly host: Target; readonly videoId: string; readonly url: string },
    PlatformError
  >
}

/**
 * A publisher that uploads the file itself (`video: true`), driven as the
 * engine drives it: the request's metadata validated (at submit, before any
 * step runs), then the post with the upload hooks of its step (the saved
 * session to resume, the session and progress hooks). The result names the
 * published post.
 */
export const nativeVideoUploader = <M>(publisher: Publisher<M>): Uploader<M> => ({
  validate: publisher.validate,
  upload: (context) =>
    Effect.gen(function*() {
      const issues = yield* publisher.validate(context.metadata, context.media)
      if (issues.length > 0) {
        return yield* new PlatformRejected({
          platform: publisher.id,
          reason: "invalid_metadata",
          description: issues.map((i) => `${i.location}: ${i.message}`).join("; ")
        })
      }
      const post = yield* publisher.post({
        taskId: context.taskId,
        metadata: context.metadata,
        media: context.media,
        videos: [],
        onWait: context.onWait,
        upload: { saved: Effect.succeed(context.resume), onSession: context.onSession, onProgress: context.onProgress }
      })
      return { host: post.publisher, videoId: post.postId, url: post.url ?? "" }
    })
})

/** What the contract needs to know about one uploader. */
export interface HostCase<M> {
  readonly id: PlatformId
  /** A fresh sandbox, a temporary directory, and the uploader (`host`) wired to both. */
  readonly setup: (
    options?: {
      readonly sandbox?: Sandbox.SandboxOptions
      readonly undici?: boolean
      readonly host?: HostLimits
    }
  ) => Effect.Effect<
    { readonly dir: string; readonly sb: Sandbox.Sandbox; readonly host: Uploader<M> },
    unknown,
    Scope.Scope
  >
  readonly metadata: M
  /** The sandbox route and HTTP method of the requests that carry the file's bytes. */
  readonly byteRoute: string
  readonly byteMethod: string
  /**
   * The requests that carry the file's bytes, offset queries included when
   * they share the route (YouTube's, Facebook's); by default every request
   * of `byteMethod` (Facebook's start and finish are POSTs too).
   */
  readonly byteRequests?: ((sb: Sandbox.Sandbox) => ReadonlyArray<LogEntry>) | undefined
  /**
   * Whether the server keeps what a cut request delivered (YouTube, Vimeo
   * commit bytes as they arrive), or keeps a request's chunk whole or not at
   * all (Facebook's transfers, LinkedIn's parts).
   */
  readonly keepsCutBytes: boolean
  /**
   * Whether the server may acknowledge part of a request (the `partialAck`
   * fault): not on LinkedIn, whose parts are stored whole or not at all.
   */
  readonly partialAck: boolean
  /**
   * How many requests carry a file of `size` bytes without faults: one on a
   * host, one per server-chosen chunk or part on Facebook and LinkedIn.
   */
  readonly requestsFor?: ((size: number) => number) | undefined
  /** Body bytes the protocol adds per request around the file's (creation bodies, multipart framing). */
  readonly framingBytes: number
  /** The smallest file the platform takes (LinkedIn: 75 KB); the small-file scenarios use at least this. */
  readonly minFileBytes?: number | undefined
  /** A burst of four 5xx answers on the upload's routes (one fault list per route: the sandbox keeps one per route). */
  readonly serverErrorBurst: ReadonlyArray<
    { readonly route: string; readonly status: 502 | 503; readonly times: number }
  >
  /** The route that creates an upload session (a new video on Vimeo). */
  readonly createRoute: string
  /** The requests that create an upload session (a new video on Vimeo). */
  readonly creations: (sb: Sandbox.Sandbox) => ReadonlyArray<LogEntry>
  /**
   * How the uploader asks the server how many bytes it holds: the route,
   * and the requests doing so. Absent when the protocol has no such request
   * (LinkedIn: the parts whose ETag came back are what the server holds).
   */
  readonly offsetQuery?: {
    readonly route: string
    readonly requests: (sb: Sandbox.Sandbox) => ReadonlyArray<LogEntry>
  } | undefined
  /**
   * Whether a video whose creation answer was lost is found again and
   * completed or deleted (Vimeo lists its videos; YouTube creates none before
   * the bytes), or stays until the platform expires it because nothing in
   * the protocol names it but that answer (Facebook's start, LinkedIn's
   * initializeUpload): then the scenarios count exactly those.
   */
  readonly findsLostCreation: boolean
  /**
   * Whether the unfinished video of an expired session is deleted (or
   * reused); false when the protocol has no way to (LinkedIn has no delete
   * for an upload that was never finalized: it stays until its URLs expire).
   */
  readonly deletesExpired?: boolean | undefined
  /**
   * What names a session across its saves: its link by default; the video
   * when the link carries the upload's state (LinkedIn's parts and ETags).
   */
  readonly sessionKey?: ((session: UploadSession) => string) | undefined
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
  /** How a session expires on this host: sandbox settings, what to do once the session exists, and the status the byte route then answers (404 by default). */
  readonly expireSession: {
    readonly sandbox?: Sandbox.SandboxOptions
    readonly expire: (sb: Sandbox.Sandbox) => void
    readonly status?: number | undefined
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
export const orphans = (sb: Sandbox.Sandbox, id: PlatformId): ReadonlyArray<string> => sb.state().orphans[id]

/**
 * Unfinished videos no request named after their creation (the sandbox's
 * `unannounced`: Facebook's and LinkedIn's, whose creation answer a client
 * can lose with no way to find the video again).
 */
export const unannounced = (sb: Sandbox.Sandbox, id: PlatformId): ReadonlyArray<string> =>
  sb.state().unannounced[id] ?? []

const KiB = 1024
const MiB = 1024 * KiB

/** Runs the host contract for one uploader (inside that platform's `describe`). */
export const hostContract = <M>(platform: HostCase<M>): void => {
  const meta = platform.metadata
  const sessionKey = platform.sessionKey ?? ((s: UploadSession) => s.uri)
  const byteRequests = (sb: Sandbox.Sandbox) =>
    platform.byteRequests?.(sb) ?? requests(sb, platform.id, platform.byteMethod)
  const offsetQueries = (sb: Sandbox.Sandbox) => platform.offsetQuery?.requests(sb) ?? []
  /** A small file the platform takes. */
  const small = (size: number) => Math.max(size, platform.minFileBytes ?? 0)
  /**
   * Bytes the server received beyond the file, what it threw away (and asked
   * for again), and the protocol's framing: what the uploader sent again of
   * its own accord.
   */
  const resentBeyondDiscards = (sb: Sandbox.Sandbox, size: number) => {
    const counters = sb.state().counters[platform.id]
    return Math.max(
      0,
      counters.bodyBytes - counters.discardedBytes - size - platform.framingBytes * requests(sb, platform.id).length
    )
  }
  /** Videos whose creation answer was lost and that the protocol cannot name again (see `findsLostCreation`). */
  const expectedOrphans = (lostCreations: number) => platform.findsLostCreation ? 0 : lostCreations

  describe("contract", () => {
    it.scopedLive(
      "uploads a file in one request (or one per server-chosen chunk); the stored sha256 equals the file's",
      () =>
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
          // One session and exactly one request carrying bytes (per chunk the server chose).
          assert.strictEqual(platform.creations(sb).length, 1)
          assert.strictEqual(byteRequests(sb).length, platform.requestsFor?.(file.media.size) ?? 1)
          const last = (yield* Ref.get(rec.progress)).at(-1)
          assert.strictEqual(last?.bytesAcknowledged, file.media.size)
          assert.strictEqual(last?.bytesSent, file.media.size)
          assert.strictEqual(sessions.at(-1)?.acknowledged, file.media.size)
          assert.strictEqual(resentBeyondDiscards(sb, file.media.size), 0)
          assert.deepStrictEqual(orphans(sb, platform.id), [])
        }),
      10_000
    )

    it.scopedLive(
      "connection drops at any offsets (node and undici clients): one offset query after each, the same session resumed, the stored sha256 always equals the file's, nothing sent again beyond what the server threw away",
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
                let armed = 0
                const injectNext = (acknowledged: number) => {
                  while (next < drops.length && drops[next]! <= acknowledged) next++
                  if (next < drops.length) {
                    sb.inject({
                      platform: platform.id,
                      route: platform.byteRoute,
                      action: { kind: "drop", afterBytes: drops[next]! - acknowledged }
                    })
                    next++
                    armed++
                  }
                }
                const rec = yield* recorder
                // Each drop is armed when the server has acknowledged the bytes before it, so that
                // offset queries never consume it. A server that keeps a cut chunk whole or not at all
                // acknowledges the chunk's end next, past any later drop inside the same chunk: those
                // are never armed.
                const ctx = yield* context(file.media, meta, rec.afterSession((s) => injectNext(s.acknowledged)))
                const video = yield* host.upload(ctx)
                const sessions = yield* Ref.get(rec.sessions)
                assert.strictEqual(new Set(sessions.map(sessionKey)).size, 1, "one session, resumed")
                if (platform.sessionNamesVideo) assert.strictEqual(sessions[0]!.videoId, video.videoId)
                const upload = platform.stored(sb, sessions[0]!)
                assert.strictEqual(upload?.sha256, file.sha256)
                assert.strictEqual(upload?.bytes, size)
                if (platform.keepsCutBytes) assert.strictEqual(armed, drops.length)
                assert.isAtLeast(armed, 1)
                assert.strictEqual(sb.state().requestLog.filter((e) => e.status === "dropped").length, armed)
                if (platform.offsetQuery !== undefined) {
                  assert.strictEqual(offsetQueries(sb).length, armed, "one offset query after each drop")
                }
                assert.strictEqual(platform.creations(sb).length, 1, "one session")
                assert.strictEqual(resentBeyondDiscards(sb, size), 0, "nothing sent again beyond the discards")
                assert.deepStrictEqual(orphans(sb, platform.id), [])
              })))
          )
          yield* Effect.promise(() => fc.assert(property, { numRuns: 6 }))
        }),
      60_000
    )

    if (platform.partialAck) {
      it.scopedLive("a partial acknowledgement resumes from the server's offset; only the bytes it held back are sent again", () =>
        Effect.gen(function*() {
          const { dir, host, sb } = yield* platform.setup()
          const file = mediaFile(dir, 600 * KiB + 11, 34)
          const holdBack = 123_457
          const rec = yield* recorder
          // Armed once the session exists, so that it falls on the first request carrying bytes.
          const arm = once(() =>
            sb.inject({
              platform: platform.id,
              route: platform.byteRoute,
              action: { kind: "partialAck", bytes: holdBack }
            })
          )
          yield* host.upload(yield* context(file.media, meta, rec.afterSession(arm)))
          const sessions = yield* Ref.get(rec.sessions)
          assert.strictEqual(new Set(sessions.map(sessionKey)).size, 1, "the same session throughout")
          assert.strictEqual(platform.stored(sb, sessions[0]!)?.sha256, file.sha256)
          // The partial acknowledgement was reported through the session hook, short of a whole request.
          const acks = sessions.map((s) => s.acknowledged).filter((a) => a > 0)
          assert.isTrue(acks.some((a) => a < file.media.size))
          assert.strictEqual(sb.state().counters[platform.id].discardedBytes, holdBack)
          const last = (yield* Ref.get(rec.progress)).at(-1)
          assert.strictEqual(last?.bytesSent, file.media.size + holdBack)
          assert.strictEqual(resentBeyondDiscards(sb, file.media.size), 0)
        }))
    }

    it.scopedLive("a burst of 5xx answers is retried with back-off, then the upload resumes", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const file = mediaFile(dir, 512 * KiB + 1, 3)
        // Armed once the session exists, for platforms whose creation shares the byte route.
        const arm = once(() => {
          for (const fault of platform.serverErrorBurst) {
            sb.inject({
              platform: platform.id,
              route: fault.route,
              times: fault.times,
              action: { kind: "status", status: fault.status }
            })
          }
        })
        const rec = yield* recorder
        yield* host.upload(yield* context(file.media, meta, rec.afterSession(arm)))
        const sessions = yield* Ref.get(rec.sessions)
        assert.strictEqual(new Set(sessions.map(sessionKey)).size, 1, "the same session throughout")
        assert.strictEqual(platform.stored(sb, sessions[0]!)?.sha256, file.sha256)
        assert.strictEqual(requests(sb, platform.id).filter((e) => e.status === 503 || e.status === 502).length, 4)
        assert.deepStrictEqual(orphans(sb, platform.id), [])
      }))

    it.scopedLive("an expired session starts a new session from byte 0 and says so in the progress", () =>
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
        const keys = [...new Set(sessions.map(sessionKey))]
        assert.strictEqual(keys.length, 2)
        const second = sessions.find((s) => sessionKey(s) === keys[1])!
        assert.strictEqual(second.acknowledged, 0)
        assert.strictEqual(platform.stored(sb, sessions.at(-1)!)?.sha256, file.sha256)
        assert.strictEqual(platform.creations(sb).length, 2)
        const expired = platform.expireSession.status ?? 404
        assert.isTrue(byteRequests(sb).some((e) => e.status === expired))
        const notes = (yield* Ref.get(rec.progress)).flatMap((p) => p.note ? [p.note] : [])
        assert.isTrue(notes.some((n) => n.includes("expired")))
        // The first session's resource is reused or deleted, and the note says so when deleted.
        // (An expiry injected before the first byte request leaves the first video unnamed after its creation.)
        assert.lengthOf(
          [...orphans(sb, platform.id), ...unannounced(sb, platform.id)],
          platform.deletesExpired === false ? 1 : 0
        )
        if (platform.sessionNamesVideo) {
          assert.isTrue(notes.some((n) => n.includes(`deleted the unfinished`) && n.includes(sessions[0]!.videoId!)))
        }
      }))

    it.scopedLive("invalid metadata names every violation and sends nothing", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const file = mediaFile(dir, small(1000), 10)
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
          const file = mediaFile(dir, small(1000), 28)
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
          assert.lengthOf(byteRequests(sb), 0, "no byte was sent")
          assert.deepStrictEqual(orphans(sb, platform.id), [])
        }))
    }

    it.scopedLive("a 429 with a short Retry-After on session creation is announced as a wait, waited out, and the upload completes", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const file = mediaFile(dir, small(2000), 29)
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
        const rec = yield* recorder
        // Armed once the session exists, so that it falls on the first request carrying bytes.
        const arm = once(() =>
          sb.inject({
            platform: platform.id,
            route: platform.byteRoute,
            method: platform.byteMethod,
            action: { kind: "stall" }
          })
        )
        const video = yield* host.upload(yield* context(file.media, meta, rec.afterSession(arm)))
        const sessions = yield* Ref.get(rec.sessions)
        assert.strictEqual(new Set(sessions.map(sessionKey)).size, 1, "the same session throughout")
        if (platform.sessionNamesVideo) assert.strictEqual(sessions[0]!.videoId, video.videoId)
        assert.strictEqual(platform.stored(sb, sessions[0]!)?.sha256, file.sha256)
        assert.strictEqual(sb.state().counters[platform.id].stalls, 1)
        // The stalled request stored its bytes: the query after it finds them, nothing is sent twice.
        const queries = new Set(offsetQueries(sb))
        const sent = byteRequests(sb).filter((e) => !queries.has(e))
        if (platform.keepsCutBytes) assert.lengthOf(sent, 1)
        assert.strictEqual(resentBeyondDiscards(sb, file.media.size), 0)
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
          // The later two are armed once a session exists, for platforms whose routes are shared.
          sb.inject({ platform: platform.id, route: platform.createRoute, action: { kind: "stall" } })
          const arm = once(() => {
            sb.inject({
              platform: platform.id,
              route: platform.byteRoute,
              method: platform.byteMethod,
              action: { kind: "stall" }
            })
            if (platform.offsetQuery !== undefined) {
              sb.inject({ platform: platform.id, route: platform.offsetQuery.route, action: { kind: "stall" } })
            }
          })
          const rec = yield* recorder
          const ctx = yield* context(file.media, meta, rec.afterSession(arm))
          yield* host.upload(ctx)
          const sessions = yield* Ref.get(rec.sessions)
          assert.strictEqual(platform.stored(sb, sessions.at(-1)!)?.sha256, file.sha256)
          assert.strictEqual(sb.state().counters[platform.id].stalls, platform.offsetQuery === undefined ? 2 : 3)
          assert.deepStrictEqual(orphans(sb, platform.id), [])
          assert.lengthOf(unannounced(sb, platform.id), expectedOrphans(1))
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
        // Armed once the session exists, for platforms whose creation shares the byte route.
        const arm = once(() => {
          for (const route of new Set([platform.byteRoute, platform.offsetQuery?.route ?? platform.byteRoute])) {
            sb.inject({ platform: platform.id, route, times: Infinity, action: { kind: "status", status: 503 } })
          }
        })
        const started = Date.now()
        const rec = yield* recorder
        const error = yield* Effect.flip(host.upload(yield* context(file.media, meta, rec.afterSession(arm))))
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
        const rec = yield* recorder
        const video = yield* host.upload(yield* context(file.media, meta, rec))
        assert.isString(video.videoId)
        assert.strictEqual(platform.stored(sb, (yield* Ref.get(rec.sessions)).at(-1)!)?.sha256, file.sha256)
        assert.deepStrictEqual(orphans(sb, platform.id), [])
        assert.lengthOf(unannounced(sb, platform.id), expectedOrphans(1))
      }))

    it.scopedLive("resumes a saved session after the uploading fiber was interrupted", () =>
      Effect.gen(function*() {
        const { dir, host, sb } = yield* platform.setup()
        const size = 900 * KiB
        const file = mediaFile(dir, size, 8)
        const dropAt = 333_333
        const saved = yield* Deferred.make<UploadSession>()
        // The first attempt stops (hangs in the hook) as soon as the server holds part of the file; its
        // first request carrying bytes is cut on the way.
        const arm = once(() =>
          sb.inject({ platform: platform.id, route: platform.byteRoute, action: { kind: "drop", afterBytes: dropAt } })
        )
        const first = yield* context(file.media, meta, {
          onSession: (s) => {
            if (s.uri !== "") arm()
            return s.acknowledged > 0 ? Effect.zipRight(Deferred.succeed(saved, s), Effect.never) : Effect.void
          },
          onProgress: () => Effect.void
        })
        const fiber = yield* Effect.fork(host.upload(first))
        const session = yield* Deferred.await(saved)
        yield* Fiber.interrupt(fiber)
        if (platform.keepsCutBytes) assert.strictEqual(session.acknowledged, dropAt)
        assert.isAbove(session.acknowledged, 0)
        assert.isBelow(session.acknowledged, size)

        const rec = yield* recorder
        const video = yield* host.upload(yield* context(file.media, meta, rec, Option.some(session)))
        assert.isString(video.videoId)
        if (platform.sessionNamesVideo) assert.strictEqual(video.videoId, session.videoId)
        assert.strictEqual(platform.creations(sb).length, 1, "no new session")
        assert.strictEqual(platform.stored(sb, session)?.sha256, file.sha256)
        const last = (yield* Ref.get(rec.progress)).at(-1)
        assert.strictEqual(last?.bytesSent, size - session.acknowledged, "only the missing bytes were sent again")
        assert.strictEqual(resentBeyondDiscards(sb, size), 0)
        assert.deepStrictEqual(orphans(sb, platform.id), [])
      }))
  })
}
