/**
 * The shape YouTube's resumable protocol and tus (Vimeo) share: create a
 * session, stream the file from an offset, ask the server what it holds after
 * anything goes wrong, resume from the byte after the acknowledged range.
 *
 * Only the server's word counts: bytes written to a socket that broke are
 * never assumed to have arrived. The file is streamed from disk at an offset
 * (never buffered), so memory stays flat whatever the file size.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpBody from "@effect/platform/HttpBody"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { MediaFile, MediaUpload, PostWait } from "../../Platform.js"
import { UploadProgress, UploadSession } from "../../Platform.js"
import type { PlatformId } from "../../PlatformId.js"
import { displayName } from "../../PlatformId.js"
import { PlatformRejected, PlatformUnavailable, QuotaExceeded } from "../../PublishError.js"
import type { PlatformError } from "../../PublishError.js"
import * as Metrics from "../telemetry/metrics.js"
import * as Spans from "../telemetry/spans.js"

// =============================================================================
// Protocol
// =============================================================================

/**
 * A failure worth retrying: a dropped connection, or `500/502/503/504`.
 *
 * @internal
 */
export class Transient extends Data.TaggedError("Transient")<{
  readonly reason: "transport" | "server_error" | "timeout" | "rate_limited"
  readonly status?: number | undefined
  /** The server's `Retry-After`, in milliseconds. */
  readonly retryAfterMillis?: number | undefined
  readonly code?: string | undefined
  readonly platformMessage?: string | undefined
  readonly description: string
}> {}

/** Where a session lives, as the host created it. @internal */
export interface Target {
  readonly uri: string
  readonly videoId?: string | undefined
  readonly videoUrl?: string | undefined
}

/** What the server says after a request on the session. @internal */
export type Probe<A> =
  /** The server holds bytes `[0, acknowledged)`. */
  | { readonly _tag: "Incomplete"; readonly acknowledged: number; readonly retryAfterMillis?: number | undefined }
  | { readonly _tag: "Complete"; readonly result: A }
  /** `404`/`410`: the session is gone; start a new one from byte 0. */
  | { readonly _tag: "Expired" }
  /** tus `409`: our offset was wrong; ask again. */
  | { readonly _tag: "Conflict" }
  /** `401`: the access token was refused (refreshed once, then asked again). */
  | { readonly _tag: "Unauthorized"; readonly error: PlatformError }

/** @internal */
export interface Protocol<A> {
  readonly host: PlatformId
  readonly create: Effect.Effect<Target, PlatformError | Transient>
  /** Asks the server how many bytes it holds. */
  readonly query: (target: Target) => Effect.Effect<Probe<A>, PlatformError | Transient>
  /** Sends bytes `[offset, end)` as `body`. */
  readonly send: (
    target: Target,
    offset: number,
    end: number,
    body: HttpBody.HttpBody
  ) => Effect.Effect<Probe<A>, PlatformError | Transient>
  /**
   * Removes a resource the host created for a session that is abandoned
   * (Vimeo deletes the video it created, so that a restart leaves no orphan).
   * Returns what was done, for the progress note; `undefined` when nothing
   * was needed. Never fails: a failed clean-up is said in the note.
   */
  readonly abandon?: ((target: Target) => Effect.Effect<string | undefined>) | undefined
  /**
   * The session's `uri` as saved, when the protocol keeps state that grows
   * during the upload (LinkedIn's part ETags); `target.uri` otherwise.
   */
  readonly sessionUri?: ((target: Target) => string) | undefined
  /**
   * Refreshes the credentials after a `401`. Returns `false` when that is not
   * possible (the `Unauthorized` error is then final).
   */
  readonly refreshAuth: Effect.Effect<boolean, PlatformError>
}

// =============================================================================
// Retry policy
// =============================================================================

/** @internal */
export interface RetryOptions {
  /** First delay (default 1 second); doubles each time, jittered. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** Cap of one delay, before `Retry-After` (default 60 seconds). */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** Retries without progress before giving up (default 8). */
  readonly maxRetries?: number | undefined
}

/**
 * The upload retry policy: jittered exponential back-off, capped, never
 * shorter than the server's `Retry-After`, for a bounded number of retries in
 * a row without progress (the driver is reset whenever the server
 * acknowledges more bytes).
 *
 * @internal
 */
export const makeUploadRetryPolicy = (
  options: RetryOptions = {}
): Schedule.Schedule<[[Duration.Duration, Transient], number], Transient> => {
  const maxDelay = Duration.decode(options.maxDelay ?? "60 seconds")
  return Schedule.exponential(options.baseDelay ?? "1 second", 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, maxDelay)),
    Schedule.intersect(Schedule.identity<Transient>()),
    Schedule.modifyDelay(([, failure], delay) =>
      failure.retryAfterMillis !== undefined ? Duration.max(delay, Duration.millis(failure.retryAfterMillis)) : delay
    ),
    Schedule.intersect(Schedule.recurs(options.maxRetries ?? 8))
  )
}

/** Deadlines and bounds of an upload (the hosts' options). @internal */
export interface Limits {
  /** Longest wait for the answer of a request that carries no file bytes (default 30 seconds). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /**
   * Longest time an upload request may go without the client writing a byte
   * or, once the body is written, without an answer (default 60 seconds). A
   * slow link keeps writing and is not cut; a dead one is.
   */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Longest `Retry-After` waited out (default 5 minutes); a longer one fails the upload. */
  readonly maxWait?: Duration.DurationInput | undefined
  /** Longest time without the server acknowledging a new byte before the upload fails (default 10 minutes). */
  readonly stallTimeout?: Duration.DurationInput | undefined
}

/** How a publisher uploads a native video: the hosts' limits, retry policy and progress rate. @internal */
export interface VideoUploadOptions extends Limits {
  readonly retry?: RetryOptions | undefined
  readonly progressIntervalMillis?: number | undefined
}

/** What a publisher's native video upload runs with: the file, the task's upload hooks, and its policy. @internal */
export interface NativeUploadOptions {
  readonly media: MediaFile
  readonly upload: MediaUpload
  readonly onWait?: ((wait: PostWait) => Effect.Effect<void>) | undefined
  readonly retryPolicy: Schedule.Schedule<unknown, Transient>
  readonly limits?: Limits | undefined
  readonly progressIntervalMillis?: number | undefined
}

/** @internal */
export const defaultLimits = {
  requestTimeout: Duration.seconds(30),
  idleTimeout: Duration.seconds(60),
  maxWait: Duration.minutes(5),
  stallTimeout: Duration.minutes(10)
} as const

/** The default policy. @internal */
export const uploadRetryPolicy: Schedule.Schedule<[[Duration.Duration, Transient], number], Transient> =
  makeUploadRetryPolicy()

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. @internal */
export { parseRetryAfter } from "./retryAfter.js"

// =============================================================================
// The upload loop
// =============================================================================

/** @internal */
export interface RunOptions<A> {
  readonly protocol: Protocol<A>
  readonly path: string
  readonly size: number
  readonly contentType: string
  /** Bytes per request (a multiple of 256 KiB for YouTube); the rest of the file in one request when absent. */
  readonly chunkSize?: number | undefined
  /**
   * Where the request starting at `offset` ends, when the server chooses it
   * (Graph's `end_offset`, LinkedIn's part ranges); wins over `chunkSize`.
   */
  readonly nextEnd?: ((offset: number) => number) | undefined
  readonly resume: Option.Option<UploadSession>
  readonly onSession: (session: UploadSession) => Effect.Effect<void>
  readonly onProgress: (progress: UploadProgress) => Effect.Effect<void>
  /** Told before the upload waits out a platform's `Retry-After`. */
  readonly onWait?: ((wait: PostWait) => Effect.Effect<void>) | undefined
  readonly retryPolicy: Schedule.Schedule<unknown, Transient>
  readonly limits?: Limits | undefined
  /** Smallest interval between two byte-progress events (default 250 ms). */
  readonly progressIntervalMillis?: number | undefined
  /** Called when a saved session cannot be used and why (for the progress note). */
  readonly restartNote?: string | undefined
}

/** Bytes read from the file at a time. */
const readChunkBytes = 512 * 1024

/**
 * Buffers a body cycles through. A buffer is refilled only after this many
 * later reads, long after the HTTP client has written it out: with
 * back-pressure (below) at most a few reads are in flight in either Node
 * client, so the margin is wide. Reusing buffers keeps the memory of an
 * upload flat (at most 8 MiB per request) instead of leaving garbage for the GC.
 */
const ringSize = 16

/**
 * `NodeSink.fromWritable` (used by `NodeHttpClient.layer`) waits for `drain`
 * between the items of one stream chunk, but not after the last one: a stream
 * of one-buffer chunks is written with no back-pressure at all, so the whole
 * file would be read into the socket's buffer as fast as the disk allows
 * (memory grows with the file, and a dropped connection is noticed only after
 * the whole file was read). Emitting every read as two halves (views, no copy)
 * in one chunk restores back-pressure: the writer waits for `drain` before the
 * second half.
 */
const halves = (buffer: Uint8Array): Chunk.Chunk<Uint8Array> => {
  if (buffer.length < 2) return Chunk.of(buffer)
  const half = buffer.length >>> 1
  return Chunk.make(buffer.subarray(0, half), buffer.subarray(half))
}

class FileChanged extends Data.TaggedError("FileChanged")<{ readonly path: string }> {
  override get message(): string {
    return `${this.path} became shorter while it was being uploaded`
  }
}

/**
 * Streams `[offset, offset + length)` of an open file through a ring of reused
 * buffers. The file is opened once per upload (an unreadable file fails before
 * a session is created).
 */
const fileRange = (
  file: FileSystem.File,
  path: string,
  offset: number,
  length: number
): Stream.Stream<Uint8Array, unknown> =>
  Stream.unwrap(Effect.sync(() => {
    // Each buffer is made on first use and no larger than the range: a small
    // file's request allocates its size once, not the whole ring (8 MiB).
    const ring: Array<Uint8Array | undefined> = new Array(ringSize)
    const bufferBytes = Math.max(1, Math.min(readChunkBytes, length))
    let index = 0
    let remaining = length
    const next: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<unknown>> = Effect.suspend(() => {
      if (remaining <= 0) return Effect.fail(Option.none())
      const buffer = ring[index % ringSize] ??= new Uint8Array(bufferBytes)
      index++
      const view = buffer.subarray(0, Math.min(buffer.length, remaining))
      return file.read(view).pipe(
        Effect.mapError((e) => Option.some<unknown>(e)),
        Effect.flatMap((size) => {
          const got = Number(size)
          if (got === 0) return Effect.fail(Option.some<unknown>(new FileChanged({ path })))
          remaining -= got
          return Effect.succeed(halves(view.subarray(0, got)))
        })
      )
    })
    return Stream.repeatEffectChunkOption(next).pipe(
      // Requests on one session run one after the other, so they can share the handle.
      Stream.onStart(file.seek(offset, "start"))
    )
  }))

const iso = (millis: number): string => new Date(millis).toISOString()

const seconds = (millis: number): string => `${Math.round(millis / 100) / 10} s`

/**
 * Runs a resumable upload to completion.
 *
 * Every request has a deadline: a request without file bytes must be
 * answered within `requestTimeout`; a request carrying bytes may go at most
 * `idleTimeout` without the client writing a byte or, once written, without an
 * answer. A request past its deadline is abandoned like a dropped connection:
 * the server is asked what it holds and the upload goes on from there.
 *
 * Waiting is bounded too: a `Retry-After` longer than `maxWait` fails the
 * upload at once (a `rate_limited` error saying how long the platform asked
 * for), and so does `stallTimeout` without a newly acknowledged byte (a
 * `timeout` error naming the last failure and since when it failed).
 *
 * @internal
 */
export const run = <A>(options: RunOptions<A>): Effect.Effect<A, PlatformError, FileSystem.FileSystem> =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = yield* fs.open(options.path, { flag: "r" }).pipe(
      Effect.mapError((e) =>
        new PlatformRejected({
          platform: options.protocol.host,
          reason: "rejected",
          description: `cannot read the media file ${options.path}: ${e.message}`
        })
      )
    )
    const { protocol, size } = options
    const host = protocol.host
    const name = displayName[host]
    const interval = options.progressIntervalMillis ?? 250
    const driver = yield* Schedule.driver(options.retryPolicy)
    const limits = options.limits ?? {}
    const requestTimeout = Duration.decode(limits.requestTimeout ?? defaultLimits.requestTimeout)
    const idleMillis = Duration.toMillis(limits.idleTimeout ?? defaultLimits.idleTimeout)
    const maxWaitMillis = Duration.toMillis(limits.maxWait ?? defaultLimits.maxWait)
    const stallMillis = Duration.toMillis(limits.stallTimeout ?? defaultLimits.stallTimeout)

    let target: Target
    let createdAt: number
    let acknowledged = 0
    let bytesSent = 0
    let lastEmit = 0
    let note: string | undefined
    let needQuery: boolean
    let refreshed = false
    /** When the server last acknowledged a new byte (or the upload started). */
    let progressAt = yield* Clock.currentTimeMillis
    /** When the current run of failures began. */
    let failingSince: number | undefined
    /** When the client last wrote a byte of the request in flight. */
    let activity = 0
    /** Retries so far: the next request is attempt `retried + 1`. */
    let retried = 0
    const startedAt = yield* Clock.currentTimeMillis
    const bytesCounter = Metrics.uploadBytes[host]

    const progress = (force: boolean) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        if (!force && now - lastEmit < interval) return
        lastEmit = now
        yield* options.onProgress(
          new UploadProgress({ host, bytesSent, bytesAcknowledged: acknowledged, totalBytes: size, note })
        )
      })

    const report = Effect.suspend(() =>
      options.onSession(
        new UploadSession({
          host,
          uri: protocol.sessionUri?.(target) ?? target.uri,
          videoId: target.videoId,
          videoUrl: target.videoUrl,
          totalBytes: size,
          acknowledged,
          createdAt
        })
      )
    )

    const advanced = Effect.map(Clock.currentTimeMillis, (now) => {
      progressAt = now
      failingSince = undefined
    })

    const failingFor = (now: number): string =>
      failingSince === undefined ? "" : `; failing since ${iso(failingSince)} (${seconds(now - failingSince)})`

    const gaveUp = (failure: Transient) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        new PlatformUnavailable({
          platform: host,
          reason: failure.reason === "timeout"
            ? "timeout"
            : failure.reason === "transport"
            ? "transport"
            : "server_error",
          status: failure.status,
          code: failure.code,
          platformMessage: failure.platformMessage,
          description: `${failure.description}; gave up after repeated retries${
            failingFor(now)
          }. The upload session is kept: run the task again to resume it.`
        }))

    /**
     * Waits before the next attempt: the policy's back-off, never shorter than
     * the platform's `Retry-After`, which is announced through `onWait` and
     * bounded by `maxWait`; fails once nothing moved for `stallTimeout`.
     */
    const pause = (failure: Transient): Effect.Effect<void, PlatformError> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        failingSince ??= now
        if (now - progressAt >= stallMillis) {
          return yield* new PlatformUnavailable({
            platform: host,
            reason: "timeout",
            status: failure.status,
            code: failure.code,
            platformMessage: failure.platformMessage,
            description: `no byte acknowledged by ${name} since ${iso(progressAt)} (${
              seconds(now - progressAt)
            }, the stall timeout is ${seconds(stallMillis)}): ${failure.description}${
              failingFor(now)
            }. The upload session is kept: run the task again to resume it.`
          })
        }
        const retryAfter = failure.retryAfterMillis
        if (retryAfter !== undefined && retryAfter > maxWaitMillis) {
          return yield* new QuotaExceeded({
            platform: host,
            reason: "rate_limited",
            status: failure.status,
            code: failure.code,
            platformMessage: failure.platformMessage,
            retryAfter,
            description: `${failure.description}: ${name} asked to wait ${
              seconds(retryAfter)
            } (Retry-After), longer than ${seconds(maxWaitMillis)} (max_wait)${
              failingFor(now)
            }. The upload session is kept: run the task again later to resume it.`
          })
        }
        if (retryAfter !== undefined && retryAfter > 0) {
          Metrics.unsafeIncrement(Metrics.rateLimitWaits[host])
          Metrics.unsafeIncrement(Metrics.rateLimitWaitSeconds[host], retryAfter / 1000)
          yield* Spans.event("rate_limit_wait", { "medusa.wait_ms": retryAfter, "medusa.reason": failure.reason })
          if (options.onWait !== undefined) {
            yield* options.onWait({
              reason: failure.reason === "rate_limited" ? "rate limited" : `${name} asked to retry later`,
              until: now + retryAfter
            })
          }
        }
        yield* driver.next(failure).pipe(
          Effect.catchAll(() => Effect.flatMap(gaveUp(failure), (error) => Effect.fail(error))),
          Effect.asVoid
        )
        retried++
        Metrics.unsafeIncrement(Metrics.retries[host].upload)
        yield* Spans.event("retry", {
          [Spans.Attr.attempt]: retried + 1,
          "medusa.reason": failure.reason,
          ...(failure.status !== undefined ? { "http.response.status_code": failure.status } : {}),
          "medusa.description": failure.description
        })
        yield* Effect.logInfo(
          `${name}: ${failure.reason.replace(/_/g, " ")}${
            failure.status !== undefined ? ` (HTTP ${failure.status})` : ""
          }, resuming the upload (attempt ${retried + 1})`
        )
      })

    /** Retries transient failures of one step with the policy (without reporting progress). */
    const retrying = <B>(step: Effect.Effect<B, PlatformError | Transient>): Effect.Effect<B, PlatformError> =>
      Effect.catchTag(
        Effect.suspend(() => Spans.attempt(retried + 1)(step)),
        "Transient",
        (failure) => Effect.zipRight(pause(failure), Effect.suspend(() => retrying(step)))
      )

    /** A request without file bytes, answered within `requestTimeout`. */
    const bounded = <B>(step: Effect.Effect<B, PlatformError | Transient>, what: string) =>
      Effect.timeoutFail(step, {
        duration: requestTimeout,
        onTimeout: () =>
          new Transient({
            reason: "timeout",
            description: `${what}: no answer from ${name} within ${Duration.format(requestTimeout)}`
          })
      })

    /**
     * Removes the resource of an abandoned session within `requestTimeout`: an unanswered removal must not
     * hold the upload (the host may still have done it; if not, the note says so).
     */
    const abandonSession = (target: Target): Effect.Effect<string | undefined> =>
      protocol.abandon === undefined ? Effect.succeed(undefined) : protocol.abandon(target).pipe(
        Effect.timeoutTo({
          duration: requestTimeout,
          onSuccess: (note) => note,
          onTimeout: () =>
            `${name} did not answer the removal of the abandoned upload${
              target.videoId === undefined ? "" : ` (video ${target.videoId})`
            } within ${Duration.format(requestTimeout)}`
        })
      )

    /** A request carrying bytes, abandoned after `idleTimeout` without a byte written or an answer. */
    const watched = <B>(step: Effect.Effect<B, PlatformError | Transient>) =>
      Effect.gen(function*() {
        activity = yield* Clock.currentTimeMillis
        const watchdog = Effect.gen(function*() {
          while (true) {
            const now = yield* Clock.currentTimeMillis
            const left = activity + idleMillis - now
            if (left <= 0) {
              return yield* new Transient({
                reason: "timeout",
                description: `uploading to ${name}: nothing moved for ${
                  seconds(idleMillis)
                } (no byte written and no answer)`
              })
            }
            yield* Effect.sleep(Duration.millis(left))
          }
        })
        return yield* Effect.raceFirst(step, watchdog)
      })

    const createSession = Effect.gen(function*() {
      target = yield* retrying(bounded(protocol.create, "creating the upload session"))
      createdAt = yield* Clock.currentTimeMillis
      acknowledged = 0
      bytesSent = 0
      yield* advanced
      yield* report
      yield* progress(true)
    })

    const saved = Option.filter(
      options.resume,
      (s) => s.host === host && s.totalBytes === size && s.uri.length > 0
    )
    if (Option.isSome(saved)) {
      target = { uri: saved.value.uri, videoId: saved.value.videoId, videoUrl: saved.value.videoUrl }
      createdAt = saved.value.createdAt
      acknowledged = saved.value.acknowledged
      needQuery = true
    } else {
      // A session without a link is a creation intent (see the host), not a session to restart.
      if (Option.isSome(options.resume) && options.resume.value.uri.length > 0) {
        note = options.restartNote ?? "saved session does not match this file, starting a new session"
        const previous = options.resume.value
        if (previous.host === host && previous.uri.length > 0) {
          const done = yield* abandonSession({
            uri: previous.uri,
            videoId: previous.videoId,
            videoUrl: previous.videoUrl
          })
          if (done !== undefined) note = `${note}; ${done}`
        }
      }
      yield* createSession
      needQuery = false
    }
    /** What the server held when this run began (bytes acknowledged before it do not count for throughput). */
    const resumedAt = acknowledged

    const body = (offset: number, end: number): HttpBody.HttpBody =>
      HttpBody.stream(
        fileRange(file, options.path, offset, end - offset).pipe(
          Stream.tap((piece) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              activity = now
              bytesSent += piece.length
              bytesCounter.unsafeUpdate(piece.length, [])
              return progress(false)
            })
          )
        ),
        options.contentType,
        end - offset
      )

    while (true) {
      const offset = acknowledged
      const end = options.nextEnd !== undefined ?
        Math.max(offset, Math.min(size, options.nextEnd(offset))) :
        options.chunkSize !== undefined ?
        Math.min(size, offset + options.chunkSize) :
        size
      const step = needQuery ?
        bounded(protocol.query(target!), "asking how much of the upload the server holds") :
        watched(protocol.send(target!, offset, end, body(offset, end)))
      const outcome = yield* Effect.either(Spans.attempt(retried + 1)(step))
      if (outcome._tag === "Left") {
        const error = outcome.left
        if (error._tag !== "Transient") return yield* Effect.fail(error)
        // Never assume what was sent arrived: back off, then ask the server.
        yield* pause(error)
        needQuery = true
        continue
      }
      const probe = outcome.right
      switch (probe._tag) {
        case "Complete": {
          if (acknowledged !== size) {
            acknowledged = size
            yield* report
          }
          yield* progress(true)
          const seconds = ((yield* Clock.currentTimeMillis) - startedAt) / 1000
          if (seconds > 0 && size > resumedAt) {
            Metrics.uploadThroughput[host].unsafeUpdate((size - resumedAt) / seconds, [])
          }
          return probe.result
        }
        case "Incomplete": {
          refreshed = false
          const previous = acknowledged
          // The server is the only truth, even when it holds less than before.
          acknowledged = Math.max(0, Math.min(size, probe.acknowledged))
          if (acknowledged !== previous) yield* report
          yield* progress(true)
          if (acknowledged > previous) {
            yield* advanced
            yield* driver.reset
          } else if (!needQuery) {
            // A request that moved nothing: count it against the policy so a
            // server that never makes progress cannot keep us looping.
            yield* pause(
              new Transient({
                reason: "server_error",
                retryAfterMillis: probe.retryAfterMillis,
                description: `${name} acknowledged no new bytes at offset ${acknowledged} of ${size}`
              })
            )
            needQuery = false
            continue
          }
          if (probe.retryAfterMillis !== undefined && probe.retryAfterMillis > 0) {
            yield* pause(
              new Transient({
                reason: "server_error",
                retryAfterMillis: probe.retryAfterMillis,
                description: `${name} asked to wait before the next request`
              })
            )
          }
          needQuery = false
          continue
        }
        case "Expired": {
          note = "upload session expired, restarting from byte 0 with a new session"
          const done = yield* abandonSession(target!)
          if (done !== undefined) note = `${note}; ${done}`
          yield* createSession
          needQuery = false
          continue
        }
        case "Conflict": {
          yield* pause(
            new Transient({
              reason: "server_error",
              status: 409,
              description: `${name} kept reporting offset conflicts`
            })
          )
          needQuery = true
          continue
        }
        case "Unauthorized": {
          if (refreshed) return yield* Effect.fail(probe.error)
          refreshed = true
          const ok = yield* protocol.refreshAuth
          if (!ok) return yield* Effect.fail(probe.error)
          needQuery = true
          continue
        }
      }
    }
  }))
