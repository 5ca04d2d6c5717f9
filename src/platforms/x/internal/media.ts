/**
 * X's v2 chunked media upload for native video: initialize, append ~1 MiB
 * segments read one at a time from the file, finalize, then poll STATUS
 * until processing ends.
 *
 * Unlike the post itself, none of these steps is visible to anyone: an
 * append can be sent again (same `segment_index`) and a failed upload leaves
 * at most an orphan media id that X expires, so transient failures here are
 * retried.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { randomBytes } from "node:crypto"
import { open } from "node:fs/promises"
import { transportError } from "../../../internal/http/postOnce.js"
import type { MediaFile } from "../../../Platform.js"
import { type PlatformError, PlatformRejected, PlatformUnavailable } from "../../../PublishError.js"

/** Segment size of an append: 1 MiB, as X's own Node client uses. @internal */
export const SEGMENT_BYTES = 1024 * 1024

/** Largest `tweet_video` X accepts (512 MB). @internal */
export const MAX_VIDEO_BYTES = 512 * 1024 * 1024

/** Containers X takes for video. @internal */
export const VIDEO_TYPES: ReadonlySet<string> = new Set(["video/mp4", "video/quicktime"])

/** @internal */
export interface Answer {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: unknown
}

/** @internal */
export interface MediaDeps {
  /** Sends an OAuth-signed request (`path` relative to the base URL). */
  readonly send: (
    method: "GET" | "POST",
    path: string,
    options: {
      readonly query?: Record<string, string> | undefined
      readonly body?: HttpBody.HttpBody | undefined
    }
  ) => Effect.Effect<Answer, HttpClientError.HttpClientError>
  /** Maps a non-2xx answer of a media request. */
  readonly failure: (answer: Answer, what: string) => PlatformError
  /** Longest time to wait for X to process the video. */
  readonly processingTimeoutMillis: number
  /** Upper bound of one wait between STATUS polls (X's `check_after_secs` is used when shorter). */
  readonly maxPollIntervalMillis: number
}

/** Retry of an append or STATUS call that failed in transit or with a 5xx. */
const segmentRetryPolicy = Schedule.exponential("500 millis", 2).pipe(Schedule.intersect(Schedule.recurs(4)))

class Transient {
  readonly _tag = "Transient"
  constructor(readonly error: PlatformError) {}
}

const dataOf = (body: unknown): Record<string, unknown> | undefined => {
  const data = typeof body === "object" && body !== null ? (body as { readonly data?: unknown }).data : undefined
  return typeof data === "object" && data !== null ? (data as Record<string, unknown>) : undefined
}

const call = (
  deps: MediaDeps,
  what: string,
  request: Effect.Effect<Answer, HttpClientError.HttpClientError>
): Effect.Effect<Answer, PlatformError> =>
  request.pipe(
    Effect.mapError((e): PlatformError | Transient => new Transient(transportError("x", e, what))),
    Effect.flatMap((answer): Effect.Effect<Answer, PlatformError | Transient> =>
      answer.status >= 500 ?
        Effect.fail(new Transient(deps.failure(answer, what))) :
        answer.status >= 400 ?
        Effect.fail(deps.failure(answer, what)) :
        Effect.succeed(answer)
    ),
    Effect.retry({ schedule: segmentRetryPolicy, while: (e) => e instanceof Transient }),
    Effect.mapError((e) => (e instanceof Transient ? e.error : e))
  )

/**
 * One APPEND body, `multipart/form-data` built by hand: undici's fetch body
 * handling rejects Node's global `FormData`/`Blob` ("action is not a
 * function"), and a segment is small enough to frame in memory.
 */
const multipart = (index: number, bytes: Uint8Array, fileName: string): HttpBody.HttpBody => {
  const boundary = `medusa-${randomBytes(12).toString("hex")}`
  const safeName = fileName.replace(/["\r\n]/g, "_")
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="segment_index"\r\n\r\n${index}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="${safeName}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return HttpBody.uint8Array(
    Buffer.concat([head, bytes, tail]),
    `multipart/form-data; boundary=${boundary}`
  )
}

const readSegment = (path: string, offset: number, length: number) =>
  Effect.acquireUseRelease(
    Effect.tryPromise(() => open(path, "r")),
    (handle) =>
      Effect.tryPromise(async () => {
        const buffer = Buffer.alloc(length)
        const { bytesRead } = await handle.read(buffer, 0, length, offset)
        return buffer.subarray(0, bytesRead)
      }),
    (handle) => Effect.promise(() => handle.close())
  ).pipe(
    Effect.mapError((cause) =>
      new PlatformRejected({
        platform: "x",
        reason: "invalid_metadata",
        description: `could not read ${path} at byte ${offset} for the X upload: ${String(cause.error)}`
      })
    )
  )

/**
 * Uploads the media file and waits until X has processed it; returns the
 * media id to attach.
 *
 * @internal
 */
export const uploadVideo = (deps: MediaDeps, media: MediaFile): Effect.Effect<string, PlatformError> =>
  Effect.gen(function*() {
    const init = yield* call(
      deps,
      "initializing the X media upload",
      deps.send("POST", "/2/media/upload/initialize", {
        body: HttpBody.unsafeJson({
          media_type: media.mimeType,
          total_bytes: media.size,
          media_category: "tweet_video"
        })
      })
    )
    const mediaId = dataOf(init.body)?.id ?? (init.body as { media_id_string?: unknown } | undefined)?.media_id_string
    if (typeof mediaId !== "string" || mediaId === "") {
      return yield* Effect.fail(
        new PlatformUnavailable({
          platform: "x",
          reason: "server_error",
          status: init.status,
          description: "X's media initialize answer carried no media id"
        })
      )
    }

    const segments = Math.max(1, Math.ceil(media.size / SEGMENT_BYTES))
    for (let index = 0; index < segments; index++) {
      const bytes = yield* readSegment(media.path, index * SEGMENT_BYTES, SEGMENT_BYTES)
      const body = multipart(index, bytes, media.name)
      yield* call(
        deps,
        `appending segment ${index + 1}/${segments} of the X media upload`,
        Effect.suspend(() =>
          deps.send("POST", `/2/media/upload/${encodeURIComponent(mediaId)}/append`, {
            body
          })
        )
      )
    }

    const finalized = yield* call(
      deps,
      "finalizing the X media upload",
      deps.send("POST", `/2/media/upload/${encodeURIComponent(mediaId)}/finalize`, {})
    )
    let info = processingInfo(finalized.body)
    const started = yield* Clock.currentTimeMillis
    while (info !== undefined && (info.state === "pending" || info.state === "in_progress")) {
      const elapsed = (yield* Clock.currentTimeMillis) - started
      if (elapsed > deps.processingTimeoutMillis) {
        return yield* Effect.fail(
          new PlatformUnavailable({
            platform: "x",
            reason: "timeout",
            description: `X was still processing the video after ${
              Math.round(elapsed / 1000)
            } s; nothing was posted, run the task again later`
          })
        )
      }
      const wait = Math.min(deps.maxPollIntervalMillis, Math.max(0, info.checkAfterSecs ?? 1) * 1000)
      yield* Effect.sleep(Duration.millis(wait))
      const status = yield* call(
        deps,
        "checking the X media status",
        deps.send("GET", "/2/media/upload", { query: { command: "STATUS", media_id: mediaId } })
      )
      info = processingInfo(status.body)
    }
    if (info?.state === "failed") {
      return yield* Effect.fail(
        new PlatformRejected({
          platform: "x",
          reason: "processing_failed",
          ...(info.error !== undefined ? { platformMessage: info.error } : {}),
          description: "X could not process the video; nothing was posted (check the file's codec and length: " +
            "X takes H.264/AAC MP4 or MOV up to 140 s)"
        })
      )
    }
    return mediaId
  })

interface ProcessingInfo {
  readonly state: string
  readonly checkAfterSecs: number | undefined
  readonly error: string | undefined
}

const processingInfo = (body: unknown): ProcessingInfo | undefined => {
  const data = dataOf(body) ?? (typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {})
  const info = data.processing_info
  if (typeof info !== "object" || info === null) return undefined
  const i = info as Record<string, unknown>
  const error = typeof i.error === "object" && i.error !== null ? (i.error as Record<string, unknown>) : undefined
  return {
    state: typeof i.state === "string" ? i.state : "succeeded",
    checkAfterSecs: typeof i.check_after_secs === "number" ? i.check_after_secs : undefined,
    error: typeof error?.message === "string" ?
      error.message :
      typeof error?.name === "string" ?
      error.name :
      undefined
  }
}
