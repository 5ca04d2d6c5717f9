/**
 * A Page video through Graph's chunked upload phases (`POST /{page-id}/videos`):
 *
 * 1. `upload_phase=start` with `file_size` → `upload_session_id`, `video_id`
 *    and the first chunk's `start_offset` / `end_offset`;
 * 2. `upload_phase=transfer` with `start_offset` and the chunk as the
 *    multipart file `video_file_chunk` → the next offsets, until
 *    `start_offset` equals `end_offset`;
 * 3. `upload_phase=finish` with the `description`, which publishes the video.
 *
 * The bytes go through the shared resumable loop (`../http/resumable.ts`):
 * streamed from disk, only the server's offsets count, a dropped connection
 * asks the server where to go on. Graph has no status request for a session,
 * so asking is a transfer of an empty chunk at the offset last acknowledged:
 * the server answers the offsets it expects (as its answer, or as error
 * 1363037 with them in `error_data` when the offset is not its own).
 *
 * @internal
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import * as Resumable from "../../../internal/http/resumable.js"
import type { MediaFile, MediaUpload, UploadSession } from "../../../Platform.js"
import { Issue, type PlatformError, PlatformRejected } from "../../../PublishError.js"
import { classifyGraphFailure, graphError, parseGraphError, parseUsage } from "./graph.js"

/** One answer of Graph. @internal */
export interface Answer {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: unknown
}

/** What the video upload needs from the Facebook publisher's client. @internal */
export interface VideoClient {
  readonly pageId: string
  /** Sends a request to `${base}/${version}${path}` with the Page token. */
  readonly send: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<Answer, HttpClientError.HttpClientError>
  readonly fallbackWaitMillis: number
}

/**
 * Graph's video limits (error codes 1363022 / 1363023): more than 1 KB, at
 * most 2 GB by the publishing guide's text.
 *
 * @internal
 */
export const videoLimits = { minBytes: 1024, maxBytes: 2 * 1024 * 1024 * 1024 } as const

/**
 * Checks the file before any byte is sent: its size within Graph's limits,
 * its type a video. Paths are relative to `metadata.facebook`.
 *
 * @internal
 */
export const validateFile = (media: MediaFile): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  if (media.size <= videoLimits.minBytes) {
    issues.push(
      new Issue({
        path: ["video"],
        message: `${media.name} is ${media.size} bytes; Facebook refuses videos of 1 KB or less ` +
          "(use a real video file, or post a link: remove video: true)"
      })
    )
  }
  if (media.size > videoLimits.maxBytes) {
    issues.push(
      new Issue({
        path: ["video"],
        message: `${media.name} is ${media.size} bytes; Facebook's resumable upload takes at most 2 GB ` +
          "(compress the video, or post a link: remove video: true)"
      })
    )
  }
  if (!media.mimeType.startsWith("video/")) {
    issues.push(
      new Issue({
        path: ["video"],
        message: `${media.name} is ${media.mimeType}, not a video Facebook accepts; use an MP4 or MOV file`
      })
    )
  }
  return issues
}

/** The uploaded, not yet published video. @internal */
export interface Uploaded {
  readonly sessionId: string
  readonly videoId: string
}

const offsetOf = (u: unknown): number | undefined => {
  const n = typeof u === "string" && u.trim() !== "" ? Number(u) : typeof u === "number" ? u : NaN
  return Number.isInteger(n) && n >= 0 ? n : undefined
}

const offsetsOf = (body: unknown): { readonly start: number; readonly end: number } | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  const b = body as Record<string, unknown>
  const start = offsetOf(b.start_offset)
  const end = offsetOf(b.end_offset)
  return start === undefined || end === undefined ? undefined : { start, end }
}

const errorData = (body: unknown): unknown => {
  const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined
  return typeof error === "object" && error !== null ? (error as { error_data?: unknown }).error_data : undefined
}

/** Graph's codes that mean "slow down" (see `graph.ts`). */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 341, 613, 80001])

const transport = (what: string) => (error: HttpClientError.HttpClientError): Resumable.Transient =>
  new Resumable.Transient({
    reason: "transport",
    description: `${what}: connection failed or dropped (${error.reason})`
  })

/**
 * Sorts a failed answer of the upload phases: a transient failure (5xx,
 * Graph's transient codes and subcode 1363019 "retry", rate limits), an
 * expired session (subcode 1363030), a refused token, or a final error.
 */
const probeFailure = (
  client: VideoClient,
  answer: Answer,
  now: number,
  what: string
): Effect.Effect<Resumable.Probe<Uploaded>, PlatformError | Resumable.Transient> => {
  const error = parseGraphError(answer.body)
  const retryAfter = Resumable.parseRetryAfter(answer.headers["retry-after"], now) ??
    parseUsage(answer.headers)?.regainMillis
  const common = {
    status: answer.status,
    code: error?.code === undefined ? undefined : String(error.code),
    platformMessage: error?.message
  }
  if (error?.subcode === 1363030 || (error?.code === 100 && error.subcode === 33)) {
    return Effect.succeed({ _tag: "Expired" })
  }
  if (answer.status === 429 || (error?.code !== undefined && RATE_LIMIT_CODES.has(error.code))) {
    return Effect.fail(
      new Resumable.Transient({
        ...common,
        reason: "rate_limited",
        retryAfterMillis: retryAfter ?? client.fallbackWaitMillis,
        description: `${what}: Facebook asked to slow down`
      })
    )
  }
  if (answer.status >= 500 || error?.code === 1 || error?.code === 2 || error?.subcode === 1363019) {
    return Effect.fail(
      new Resumable.Transient({
        ...common,
        reason: "server_error",
        retryAfterMillis: retryAfter,
        description: `${what} answered ${answer.status}`
      })
    )
  }
  const mapped = graphError({
    ...answer,
    permission: "publish_video",
    now,
    fallbackWaitMillis: client.fallbackWaitMillis
  })
  if (error?.code === 190) return Effect.succeed({ _tag: "Unauthorized", error: mapped })
  return Effect.fail(mapped)
}

/**
 * A multipart body whose file part streams `body` (bytes `[offset, end)`
 * of the media file) between the form fields.
 */
const multipart = (fields: Record<string, string>, body: HttpBody.HttpBody, length: number): HttpBody.HttpBody => {
  const boundary = `----medusa${randomBytes(12).toString("hex")}`
  const encoder = new TextEncoder()
  const head = encoder.encode(
    Object.entries(fields).map(([k, v]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`
    ).join("") +
      `--${boundary}\r\nContent-Disposition: form-data; name="video_file_chunk"; filename="chunk"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n"
  )
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`)
  const file = body._tag === "Stream" ? body.stream : body._tag === "Uint8Array" ? Stream.make(body.body) : Stream.empty
  return HttpBody.stream(
    Stream.concat(Stream.make(head), Stream.concat(file, Stream.make(tail))),
    `multipart/form-data; boundary=${boundary}`,
    head.length + length + tail.length
  )
}

/** @internal */
export type UploadOptions = Resumable.NativeUploadOptions

/**
 * Uploads the media file into a Page video session (resuming the saved one
 * when it matches the file), and returns the session, ready for `finish`.
 * A session that cannot be resumed (expired, another file) is abandoned:
 * its unfinished video is deleted, so that no orphan stays on the Page.
 *
 * @internal
 */
export const upload = (
  client: VideoClient,
  options: UploadOptions
): Effect.Effect<Uploaded, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const { media } = options
    const saved = yield* options.upload.saved
    /** The offsets the server last asked for. */
    let known = Option.isSome(saved) && saved.value.host === "facebook" && saved.value.totalBytes === media.size ?
      saved.value.acknowledged :
      0
    let serverEnd = known

    const videosPath = `/${client.pageId}/videos`

    const probe = (answer: Answer, target: Resumable.Target, what: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const offsets = answer.status < 300 && parseGraphError(answer.body) === undefined ?
          offsetsOf(answer.body) :
          parseGraphError(answer.body)?.subcode === 1363037 ?
          offsetsOf(errorData(answer.body)) :
          undefined
        if (offsets === undefined) {
          if (answer.status < 300) {
            return yield* new Resumable.Transient({
              reason: "server_error",
              status: answer.status,
              description: `${what}: Facebook's answer carried no offsets`
            })
          }
          return yield* probeFailure(client, answer, now, what)
        }
        known = offsets.start
        serverEnd = offsets.end
        if (offsets.start === offsets.end && offsets.start === media.size) {
          return { _tag: "Complete", result: { sessionId: target.uri, videoId: target.videoId ?? "" } } as const
        }
        return { _tag: "Incomplete", acknowledged: offsets.start } as const
      })

    const create = Effect.gen(function*() {
      const answer = yield* client.send(
        HttpClientRequest.post(videosPath).pipe(
          HttpClientRequest.bodyUrlParams({ upload_phase: "start", file_size: String(media.size) })
        )
      ).pipe(Effect.mapError(transport("starting the Facebook video upload")))
      const body = answer.body as Record<string, unknown> | null
      const sessionId = typeof body?.upload_session_id === "string" ? body.upload_session_id : undefined
      const videoId = typeof body?.video_id === "string" ? body.video_id : undefined
      const offsets = offsetsOf(answer.body)
      if (answer.status >= 300 || parseGraphError(answer.body) !== undefined || sessionId === undefined) {
        const now = yield* Clock.currentTimeMillis
        const verdict = yield* probeFailure(client, answer, now, "starting the Facebook video upload")
        return yield* Effect.fail(
          verdict._tag === "Unauthorized" ?
            verdict.error :
            answer.status < 300 ?
            new PlatformRejected({
              platform: "facebook",
              reason: "rejected",
              status: answer.status,
              description: "Facebook started the video upload but its answer carried no upload_session_id"
            }) :
            graphError({
              ...answer,
              permission: "publish_video",
              now,
              fallbackWaitMillis: client.fallbackWaitMillis
            })
        )
      }
      known = offsets?.start ?? 0
      serverEnd = offsets?.end ?? media.size
      return { uri: sessionId, videoId } satisfies Resumable.Target
    })

    const transfer = (target: Resumable.Target, offset: number, body: HttpBody.HttpBody, length: number) =>
      client.send(
        HttpClientRequest.post(videosPath).pipe(
          HttpClientRequest.setBody(
            multipart(
              { upload_phase: "transfer", upload_session_id: target.uri, start_offset: String(offset) },
              body,
              length
            )
          )
        )
      )

    const query = (target: Resumable.Target) =>
      transfer(target, known, HttpBody.empty, 0).pipe(
        Effect.mapError(transport("asking Facebook where the upload stands")),
        Effect.flatMap((answer) => probe(answer, target, "the upload status query"))
      )

    const send = (target: Resumable.Target, offset: number, end: number, body: HttpBody.HttpBody) =>
      transfer(target, offset, body, end - offset).pipe(
        Effect.mapError(transport("uploading the video to Facebook")),
        Effect.flatMap((answer) => probe(answer, target, "the video transfer"))
      )

    return yield* Resumable.run<Uploaded>({
      protocol: {
        host: "facebook",
        create,
        query,
        send,
        abandon: (target) => abandon(client, target.videoId),
        // A Page token is not refreshed: a refused one is final.
        refreshAuth: Effect.succeed(false)
      },
      path: media.path,
      size: media.size,
      contentType: "application/octet-stream",
      nextEnd: (offset) => serverEnd > offset ? serverEnd : media.size,
      resume: Option.filter(saved, (s) => s.host === "facebook"),
      onSession: options.upload.onSession,
      onProgress: options.upload.onProgress,
      onWait: options.onWait,
      retryPolicy: options.retryPolicy,
      limits: options.limits,
      progressIntervalMillis: options.progressIntervalMillis
    })
  })

/**
 * Deletes the unfinished video of an abandoned session. Never fails: what
 * happened is said in the returned note.
 *
 * @internal
 */
export const abandon = (client: VideoClient, videoId: string | undefined): Effect.Effect<string | undefined> =>
  videoId === undefined ? Effect.succeed(undefined) : client.send(HttpClientRequest.del(`/${videoId}`)).pipe(
    Effect.map((answer) =>
      answer.status < 300 ?
        `deleted the unfinished Facebook video ${videoId}` :
        parseGraphError(answer.body)?.subcode === 33 ?
        undefined :
        `could not delete the unfinished Facebook video ${videoId} (answer ${answer.status})`
    ),
    Effect.catchAll((e) => Effect.succeed(`could not delete the unfinished Facebook video ${videoId} (${e.reason})`))
  )

/**
 * `upload_phase=finish`: publishes the uploaded video with the filled
 * description. One post attempt for `postOnce`.
 *
 * @internal
 */
export const finish = (
  client: VideoClient,
  uploaded: Uploaded,
  description: string,
  classifyTransport: (e: HttpClientError.HttpClientError) => import("../../../internal/http/postOnce.js").AttemptFailed
) =>
  Effect.gen(function*() {
    const answer = yield* client.send(
      HttpClientRequest.post(`/${client.pageId}/videos`).pipe(
        HttpClientRequest.bodyUrlParams({
          upload_phase: "finish",
          upload_session_id: uploaded.sessionId,
          description
        })
      )
    ).pipe(Effect.mapError(classifyTransport))
    const body = answer.body as { readonly success?: unknown } | null
    if (answer.status < 300 && parseGraphError(answer.body) === undefined && body?.success === true) {
      return uploaded.videoId
    }
    const now = yield* Clock.currentTimeMillis
    return yield* Effect.fail(
      classifyGraphFailure({
        ...answer,
        permission: "publish_video",
        now,
        fallbackWaitMillis: client.fallbackWaitMillis
      })
    )
  })

/**
 * Whether the video is published with this description: what a search for
 * a video post that may have been made looks at (Graph's `published` and
 * `description` of the video).
 *
 * @internal
 */
export const published = (
  client: VideoClient,
  videoId: string,
  sameText: (a: string) => boolean
): Effect.Effect<boolean, PlatformError> =>
  Effect.gen(function*() {
    const answer = yield* client.send(
      HttpClientRequest.get(`/${videoId}`).pipe(
        HttpClientRequest.setUrlParams({ fields: "id,description,published,created_time" })
      )
    ).pipe(
      Effect.mapError((e) =>
        new PlatformRejected({
          platform: "facebook",
          reason: "rejected",
          description: `reading the Facebook video ${videoId}: ${e.reason}`
        })
      )
    )
    const error = parseGraphError(answer.body)
    if (error?.code === 100 && error.subcode === 33) return false
    if (answer.status >= 300 || error !== undefined) {
      const now = yield* Clock.currentTimeMillis
      return yield* Effect.fail(
        graphError({
          ...answer,
          permission: "pages_read_engagement",
          now,
          fallbackWaitMillis: client.fallbackWaitMillis
        })
      )
    }
    const body = answer.body as Record<string, unknown>
    return body.published === true && typeof body.description === "string" && sameText(body.description)
  })

/** The saved Facebook session, if any. @internal */
export const savedSession = (upload: MediaUpload | undefined): Effect.Effect<Option.Option<UploadSession>> =>
  upload === undefined ?
    Effect.succeed(Option.none()) :
    Effect.map(upload.saved, Option.filter((s) => s.host === "facebook" && s.videoId !== undefined))

/** The post URL of a Page video. @internal */
export const videoUrl = (pageId: string, videoId: string): string =>
  `https://www.facebook.com/${pageId}/videos/${videoId}`
