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
import { UploadProgress, UploadSession } from "../../Platform.js"
import type { HostId } from "../../PlatformId.js"
import { PlatformRejected, PlatformUnavailable } from "../../PublishError.js"
import type { PlatformError } from "../../PublishError.js"

// =============================================================================
// Protocol
// =============================================================================

/**
 * A failure worth retrying: a dropped connection, or `500/502/503/504`.
 *
 * @internal
 */
export class Transient extends Data.TaggedError("Transient")<{
  readonly reason: "transport" | "server_error"
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
  readonly host: HostId
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
  readonly resume: Option.Option<UploadSession>
  readonly onSession: (session: UploadSession) => Effect.Effect<void>
  readonly onProgress: (progress: UploadProgress) => Effect.Effect<void>
  readonly retryPolicy: Schedule.Schedule<unknown, Transient>
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
 * upload flat (8 MiB per request) instead of leaving garbage for the GC.
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
    const ring = Array.from({ length: ringSize }, () => new Uint8Array(readChunkBytes))
    let index = 0
    let remaining = length
    const next: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<unknown>> = Effect.suspend(() => {
      if (remaining <= 0) return Effect.fail(Option.none())
      const buffer = ring[index++ % ringSize]!
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

const unavailable = (host: HostId, failure: Transient): PlatformUnavailable =>
  new PlatformUnavailable({
    platform: host,
    reason: failure.reason,
    status: failure.status,
    code: failure.code,
    platformMessage: failure.platformMessage,
    description:
      `${failure.description}; gave up after repeated retries. The upload session is kept: run the task again to resume it.`
  })

/**
 * Runs a resumable upload to completion.
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
    const interval = options.progressIntervalMillis ?? 250
    const driver = yield* Schedule.driver(options.retryPolicy)

    let target: Target
    let createdAt: number
    let acknowledged = 0
    let bytesSent = 0
    let lastEmit = 0
    let note: string | undefined
    let needQuery: boolean
    let refreshed = false

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
          uri: target.uri,
          videoId: target.videoId,
          videoUrl: target.videoUrl,
          totalBytes: size,
          acknowledged,
          createdAt
        })
      )
    )

    /** Retries transient failures of one step with the policy (without reporting progress). */
    const retrying = <B>(step: Effect.Effect<B, PlatformError | Transient>): Effect.Effect<B, PlatformError> =>
      Effect.catchTag(step, "Transient", (failure) =>
        driver.next(failure).pipe(
          Effect.mapError(() => unavailable(host, failure)),
          Effect.zipRight(Effect.suspend(() => retrying(step)))
        ))

    const createSession = Effect.gen(function*() {
      target = yield* retrying(protocol.create)
      createdAt = yield* Clock.currentTimeMillis
      acknowledged = 0
      bytesSent = 0
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
      if (Option.isSome(options.resume)) {
        note = options.restartNote ?? "saved session does not match this file, starting a new session"
      }
      yield* createSession
      needQuery = false
    }

    const body = (offset: number, end: number): HttpBody.HttpBody =>
      HttpBody.stream(
        fileRange(file, options.path, offset, end - offset).pipe(
          Stream.tap((piece) => {
            bytesSent += piece.length
            return progress(false)
          })
        ),
        options.contentType,
        end - offset
      )

    while (true) {
      const offset = acknowledged
      const end = options.chunkSize !== undefined ? Math.min(size, offset + options.chunkSize) : size
      const step = needQuery ? protocol.query(target!) : protocol.send(target!, offset, end, body(offset, end))
      const outcome = yield* Effect.either(step)
      if (outcome._tag === "Left") {
        const error = outcome.left
        if (error._tag !== "Transient") return yield* Effect.fail(error)
        // Never assume what was sent arrived: back off, then ask the server.
        yield* driver.next(error).pipe(Effect.mapError(() => unavailable(host, error)))
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
            yield* driver.reset
          } else if (!needQuery) {
            // A request that moved nothing: count it against the policy so a
            // server that never makes progress cannot keep us looping.
            yield* driver.next(
              new Transient({
                reason: "server_error",
                description: `the server acknowledged no new bytes at ${offset}`
              })
            ).pipe(
              Effect.mapError(() =>
                new PlatformUnavailable({
                  platform: host,
                  reason: "server_error",
                  description:
                    `the server stopped acknowledging bytes at offset ${acknowledged} of ${size}; run the task again to resume`
                })
              )
            )
          }
          if (probe.retryAfterMillis !== undefined && probe.retryAfterMillis > 0) {
            yield* Effect.sleep(Duration.millis(probe.retryAfterMillis))
          }
          needQuery = false
          continue
        }
        case "Expired": {
          note = "upload session expired, restarting from byte 0 with a new session"
          yield* createSession
          needQuery = false
          continue
        }
        case "Conflict": {
          yield* driver.next(
            new Transient({
              reason: "server_error",
              status: 409,
              description: "the server reported an offset conflict"
            })
          ).pipe(
            Effect.mapError(() =>
              new PlatformUnavailable({
                platform: host,
                reason: "server_error",
                status: 409,
                description: "the server kept reporting offset conflicts; run the task again to resume"
              })
            )
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
