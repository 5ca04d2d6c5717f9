/**
 * A LinkedIn video through the Videos API:
 *
 * 1. `POST /rest/videos?action=initializeUpload` with the owner and
 *    `fileSizeBytes` → the video URN, an `uploadToken` and the
 *    `uploadInstructions` (a pre-signed `uploadUrl` per byte range);
 * 2. a `PUT` of each range to its URL, keeping the answer's `ETag`;
 * 3. `POST /rest/videos?action=finalizeUpload` with the ETags in part order.
 *
 * The parts go through the shared resumable loop (`../http/resumable.ts`)
 * in order, streamed from disk. A part is stored whole or not at all, so
 * what the server holds is the parts whose ETag came back: those are saved
 * with the session (its `uri` is this state as JSON), and a resumed upload
 * sends the first part without one. A part sent again answers the same
 * ETag. Upload URLs are pre-signed: the access token is never sent to them.
 *
 * @internal
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Resumable from "../../../internal/http/resumable.js"
import type { MediaFile } from "../../../Platform.js"
import { AuthExpired, Issue, type PlatformError, PlatformRejected } from "../../../PublishError.js"

/** One answer of LinkedIn. @internal */
export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** What the video upload needs from the LinkedIn publisher's client. @internal */
export interface VideoClient {
  readonly owner: string
  /** Sends a request to the REST API (base URL, token, version headers). */
  readonly send: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<Answer, HttpClientError.HttpClientError>
}

/**
 * LinkedIn's video limits (Videos API notes): 75 KB to 500 MB, MP4.
 *
 * @internal
 */
export const videoLimits = { minBytes: 75 * 1024, maxBytes: 500 * 1024 * 1024 } as const

/**
 * Checks the file before any byte is sent. Paths are relative to `metadata.linkedin`.
 *
 * @internal
 */
export const validateFile = (media: MediaFile): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  if (media.size < videoLimits.minBytes || media.size > videoLimits.maxBytes) {
    issues.push(
      new Issue({
        path: ["video"],
        message: `${media.name} is ${media.size} bytes; LinkedIn takes videos of 75 KB to 500 MB ` +
          "(use another file, or post a link to the upload: remove video: true)"
      })
    )
  }
  if (media.mimeType !== "video/mp4") {
    issues.push(
      new Issue({
        path: ["video"],
        message: `${media.name} is ${media.mimeType}; LinkedIn's Videos API takes MP4 only ` +
          "(convert it to MP4, or remove video: true)"
      })
    )
  }
  return issues
}

interface Part {
  readonly url: string
  readonly first: number
  readonly last: number
  etag?: string | undefined
}

interface State {
  readonly video: string
  readonly token: string
  readonly parts: Array<Part>
}

const parseState = (uri: string): State | undefined => {
  try {
    const s = JSON.parse(uri) as State
    return typeof s.video === "string" && Array.isArray(s.parts) ? s : undefined
  } catch {
    return undefined
  }
}

const record = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>) : undefined

const transport = (what: string) => (error: HttpClientError.HttpClientError): Resumable.Transient =>
  new Resumable.Transient({
    reason: "transport",
    description: `${what}: connection failed or dropped (${error.reason})`
  })

const failure = (
  answer: Answer,
  now: number,
  what: string
): Resumable.Transient | PlatformError => {
  const body = record(answer.body)
  const message = typeof body?.message === "string" ? body.message : undefined
  // LinkedIn's `serviceErrorCode`, as the publisher's other requests report it.
  const code = body?.serviceErrorCode !== undefined ? String(body.serviceErrorCode) : undefined
  const common = { platform: "linkedin" as const, status: answer.status, code, platformMessage: message }
  if (answer.status === 429 || answer.status >= 500) {
    return new Resumable.Transient({
      reason: answer.status === 429 ? "rate_limited" : "server_error",
      status: answer.status,
      retryAfterMillis: Resumable.parseRetryAfter(answer.headers["retry-after"], now),
      code,
      platformMessage: message,
      description: `${what} answered ${answer.status}`
    })
  }
  if (answer.status === 401) {
    return new AuthExpired({
      ...common,
      reason: "auth_expired",
      description: "the LinkedIn access token is expired or invalid; get a new one and update linkedin.access_token"
    })
  }
  if (answer.status === 403) {
    return new AuthExpired({
      ...common,
      reason: "permission_missing",
      description: `${what}: LinkedIn refused (403); the token needs w_member_social or w_organization_social ` +
        "for the author"
    })
  }
  return new PlatformRejected({
    ...common,
    reason: "rejected",
    description: `${what}: LinkedIn answered ${answer.status}`
  })
}

/** @internal */
export type UploadOptions = Resumable.NativeUploadOptions

/**
 * Uploads the media file (resuming the saved upload when it matches the
 * file) and finalizes it: the video URN, ready to post.
 *
 * @internal
 */
export const upload = (
  client: VideoClient,
  options: UploadOptions
): Effect.Effect<string, PlatformError, FileSystem.FileSystem | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { media } = options
    const http = yield* HttpClient.HttpClient
    const saved = Option.filter(
      yield* options.upload.saved,
      (s) => s.host === "linkedin" && s.totalBytes === media.size && parseState(s.uri) !== undefined
    )
    let state: State | undefined = Option.isSome(saved) ? parseState(saved.value.uri) : undefined

    const held = (s: State): number => {
      const missing = s.parts.find((p) => p.etag === undefined)
      return missing === undefined ? media.size : missing.first
    }

    const create = Effect.gen(function*() {
      const answer = yield* client.send(
        HttpClientRequest.post("/rest/videos").pipe(
          HttpClientRequest.setUrlParam("action", "initializeUpload"),
          HttpClientRequest.bodyUnsafeJson({
            initializeUploadRequest: {
              owner: client.owner,
              fileSizeBytes: media.size,
              uploadCaptions: false,
              uploadThumbnail: false
            }
          })
        )
      ).pipe(Effect.mapError(transport("initializing the LinkedIn video upload")))
      const now = yield* Clock.currentTimeMillis
      if (answer.status >= 300) return yield* Effect.fail(failure(answer, now, "initializeUpload"))
      const value = record(record(answer.body)?.value)
      const instructions = Array.isArray(value?.uploadInstructions) ? value.uploadInstructions.map(record) : []
      const parts = instructions.flatMap((i): Array<Part> =>
        typeof i?.uploadUrl === "string" && typeof i.firstByte === "number" && typeof i.lastByte === "number" ?
          [{ url: i.uploadUrl, first: i.firstByte, last: i.lastByte }] :
          []
      ).sort((a, b) => a.first - b.first)
      const covered = parts.every((p, i) => p.first === (i === 0 ? 0 : parts[i - 1]!.last + 1)) &&
        parts.at(-1)?.last === media.size - 1
      if (typeof value?.video !== "string" || parts.length === 0 || !covered) {
        return yield* new PlatformRejected({
          platform: "linkedin",
          reason: "rejected",
          status: answer.status,
          description: "LinkedIn's initializeUpload answer carried no video or no upload instructions covering the file"
        })
      }
      state = { video: value.video, token: typeof value.uploadToken === "string" ? value.uploadToken : "", parts }
      return { uri: JSON.stringify(state), videoId: state.video } satisfies Resumable.Target
    })

    const finalize = (s: State) =>
      Effect.gen(function*() {
        const answer = yield* client.send(
          HttpClientRequest.post("/rest/videos").pipe(
            HttpClientRequest.setUrlParam("action", "finalizeUpload"),
            HttpClientRequest.bodyUnsafeJson({
              finalizeUploadRequest: {
                video: s.video,
                uploadToken: s.token,
                uploadedPartIds: s.parts.map((p) => p.etag)
              }
            })
          )
        ).pipe(Effect.mapError(transport("finalizing the LinkedIn video upload")))
        if (answer.status >= 300) {
          return yield* Effect.fail(failure(answer, yield* Clock.currentTimeMillis, "finalizeUpload"))
        }
        return { _tag: "Complete", result: s.video } as const
      })

    /** What the server holds: every part with an ETag; once all have one, the upload is finalized. */
    const probe = (s: State): Effect.Effect<Resumable.Probe<string>, PlatformError | Resumable.Transient> =>
      held(s) === media.size ? finalize(s) : Effect.succeed({ _tag: "Incomplete", acknowledged: held(s) })

    const send = (_target: Resumable.Target, offset: number, end: number, body: HttpBody.HttpBody) =>
      Effect.gen(function*() {
        const s = state!
        const part = s.parts.find((p) => p.first === offset && p.last === end - 1)
        if (part === undefined) return yield* probe(s)
        const answer = yield* http.execute(HttpClientRequest.put(part.url).pipe(HttpClientRequest.setBody(body))).pipe(
          Effect.flatMap((response) =>
            Effect.map(
              Effect.orElseSucceed(response.text, () => ""),
              (text): Answer => ({ status: response.status, headers: response.headers, body: text })
            )
          ),
          Effect.scoped,
          Effect.mapError(transport("uploading a part of the video to LinkedIn"))
        )
        if (answer.status >= 300) {
          const now = yield* Clock.currentTimeMillis
          // An upload URL that no longer works (expired, 403/404 from the storage): a new upload.
          if (answer.status === 403 || answer.status === 404) return { _tag: "Expired" } as const
          return yield* Effect.fail(failure(answer, now, "the part upload"))
        }
        const etag = answer.headers["etag"]
        if (etag === undefined || etag === "") {
          return yield* new Resumable.Transient({
            reason: "server_error",
            status: answer.status,
            description: "LinkedIn's upload answer carried no ETag"
          })
        }
        part.etag = etag
        return yield* probe(s)
      })

    return yield* Resumable.run<string>({
      protocol: {
        host: "linkedin",
        create,
        query: () => probe(state!),
        send,
        sessionUri: () => JSON.stringify(state),
        refreshAuth: Effect.succeed(false)
      },
      path: media.path,
      size: media.size,
      contentType: "application/octet-stream",
      nextEnd: (offset) => (state?.parts.find((p) => p.first === offset)?.last ?? media.size - 1) + 1,
      resume: saved,
      onSession: options.upload.onSession,
      onProgress: options.upload.onProgress,
      onWait: options.onWait,
      retryPolicy: options.retryPolicy,
      limits: options.limits,
      progressIntervalMillis: options.progressIntervalMillis
    })
  })
