/**
 * The Vimeo host: `POST /me/videos` with `upload.approach = "tus"`, then the
 * tus upload of the file (one `PATCH` streamed from the current offset,
 * `HEAD` to learn the offset after a failure, `409` answered by asking again),
 * with the same back-off, session hook and progress events as YouTube (the
 * loop is shared, see `internal/resumable.ts`).
 *
 * ```ts
 * const VimeoLive = Vimeo.layer({ accessToken: Redacted.make(process.env.VIMEO_TOKEN!) }).pipe(
 *   Layer.provide(NodeHttpClient.layerUndici),
 *   Layer.provide(NodeFileSystem.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Resumable from "../../internal/http/resumable.js"
import type { Host, MediaFile, UploadContext } from "../../Platform.js"
import { UploadedVideo, UploadSession, VimeoHost } from "../../Platform.js"
import { AuthExpired, Issue, PlatformRejected, PlatformUnavailable, QuotaExceeded } from "../../PublishError.js"
import type { PlatformError } from "../../PublishError.js"
import type { VimeoMetadata } from "../../PublishRequest.js"
import type { TaskId } from "../../TaskId.js"

export {
  /**
   * @since 0.1.0
   * @category tags
   */
  VimeoHost
} from "../../Platform.js"

// =============================================================================
// Options
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A personal access token with the `upload` scope. */
  readonly accessToken: Redacted.Redacted<string>
  /** Replaces `https://api.vimeo.com`. */
  readonly baseUrl?: string | undefined
  /** Back-off of the upload (defaults: 1 s doubling, jittered, capped at 60 s, 8 retries without progress). */
  readonly retry?: Resumable.RetryOptions | undefined
  /** Longest `Retry-After` waited out before the upload fails as rate-limited (default 5 minutes; config `medusa.max_wait`). */
  readonly maxWait?: Duration.DurationInput | undefined
  /** Longest time without a newly acknowledged byte before the upload fails (default 10 minutes; config `medusa.stall_timeout`). */
  readonly stallTimeout?: Duration.DurationInput | undefined
  /** Deadline of a request without file bytes: session creation, offset query (default 30 seconds). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Longest time a request carrying bytes may go without writing a byte or, once written, without an answer (default 60 seconds). */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Smallest interval between two progress events (default 250 ms). */
  readonly progressIntervalMillis?: number | undefined
  /** Wait for Vimeo to transcode the video after upload (default false). */
  readonly waitForProcessing?: boolean | undefined
  readonly processing?: {
    readonly interval?: Duration.DurationInput | undefined
    readonly timeout?: Duration.DurationInput | undefined
  } | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL = "https://api.vimeo.com"

const ACCEPT = "application/vnd.vimeo.*+json;version=3.4"
const TUS_VERSION = "1.0.0"
const tokenHint = "create a personal access token with the upload scope at https://developer.vimeo.com/apps"

/**
 * Limits checked before upload. Vimeo does not publish the name and
 * description limits in the API reference; these are the conservative values
 * its web editor enforces (unverified).
 *
 * @since 0.1.0
 * @category constants
 */
export const limits = {
  titleCharacters: 128,
  descriptionCharacters: 5000
} as const

/**
 * The URL of a video when Vimeo gave no `link`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const videoUrl = (videoId: string): string => `https://vimeo.com/${videoId}`

// =============================================================================
// Validation
// =============================================================================

const privacyValues: ReadonlyArray<string> = ["anybody", "nobody", "unlisted", "password", "disable"]

/**
 * @since 0.1.0
 * @category validation
 */
export const validateMetadata = (metadata: VimeoMetadata, media: MediaFile): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  const add = (path: ReadonlyArray<string | number>, message: string) =>
    issues.push(new Issue({ path: [...path], message }))
  if (metadata.title.trim().length === 0) add(["title"], "must not be empty")
  const titleLength = [...metadata.title].length
  if (titleLength > limits.titleCharacters) {
    add(["title"], `is ${titleLength} characters; Vimeo allows at most ${limits.titleCharacters}`)
  }
  if (metadata.description !== undefined) {
    const length = [...metadata.description].length
    if (length > limits.descriptionCharacters) {
      add(["description"], `is ${length} characters; Medusa allows at most ${limits.descriptionCharacters} on Vimeo`)
    }
  }
  if (metadata.privacy !== undefined && !privacyValues.includes(metadata.privacy)) {
    add(
      ["privacy"],
      `must be one of ${privacyValues.map((v) => `"${v}"`).join(", ")} (got ${JSON.stringify(metadata.privacy)})`
    )
  }
  if (metadata.privacy === "password" && (metadata.password === undefined || metadata.password.length === 0)) {
    add(["password"], `is required when privacy is "password"`)
  }
  if (metadata.password !== undefined && metadata.privacy !== "password") {
    add(["password"], `is only used with privacy "password"; set privacy to "password" or remove it`)
  }
  if (media.size === 0) add([], `the media file ${media.path} is empty`)
  return issues
}

// =============================================================================
// Errors
// =============================================================================

interface VimeoErrorBody {
  readonly code: string | undefined
  readonly message: string | undefined
}

const parseError = (text: string): VimeoErrorBody => {
  try {
    const json = JSON.parse(text) as { error?: unknown; error_code?: unknown; developer_message?: unknown }
    return {
      code: typeof json.error_code === "number" || typeof json.error_code === "string" ?
        String(json.error_code) :
        undefined,
      message: typeof json.error === "string" ?
        json.error :
        typeof json.developer_message === "string" ?
        json.developer_message :
        undefined
    }
  } catch {
    return { code: undefined, message: undefined }
  }
}

/**
 * Maps a non-retryable Vimeo answer from its status and `error_code`.
 *
 * @since 0.1.0
 * @category errors
 */
export const fromResponse = (
  status: number,
  body: { readonly code: string | undefined; readonly message: string | undefined },
  what: string,
  retryAfterMillis?: number
): PlatformError => {
  const common = { platform: "vimeo" as const, status, code: body.code, platformMessage: body.message }
  if (status === 401) {
    return new AuthExpired({
      ...common,
      reason: "auth_invalid",
      description: `Vimeo refused the access token during ${what}; ${tokenHint}`
    })
  }
  if (body.code === "4102") {
    return new QuotaExceeded({
      ...common,
      reason: "quota_exceeded",
      description: "the account's Vimeo upload quota is reached; wait for it to renew or upgrade the plan"
    })
  }
  if (body.code === "4101") {
    return new QuotaExceeded({
      ...common,
      reason: "quota_exceeded",
      description: "the account's Vimeo storage is full; delete videos or upgrade the plan"
    })
  }
  if (status === 429) {
    return new QuotaExceeded({
      ...common,
      reason: "rate_limited",
      retryAfter: retryAfterMillis,
      description: `Vimeo rate-limited ${what}`
    })
  }
  if (status === 403) {
    return new AuthExpired({
      ...common,
      reason: "permission_missing",
      description: `the token may not ${what}; ${tokenHint}`
    })
  }
  if (status === 400 || status === 422) {
    return new PlatformRejected({
      ...common,
      reason: body.code === "2204" || body.code === "2205" || body.code === "2230" || body.code === "3116" ?
        "invalid_metadata" :
        "rejected",
      description: `Vimeo rejected ${what}`
    })
  }
  if (status === 404) return new PlatformRejected({ ...common, reason: "not_found", description: `${what}: not found` })
  if (status >= 500) {
    return new PlatformUnavailable({ ...common, reason: "server_error", description: `${what} failed` })
  }
  return new PlatformRejected({ ...common, reason: "rejected", description: `Vimeo refused ${what}` })
}

const isRetryableStatus = (status: number): boolean =>
  status === 500 || status === 502 || status === 503 || status === 504

const transport = (what: string) => (error: HttpClientError.HttpClientError): Resumable.Transient =>
  new Resumable.Transient({
    reason: "transport",
    description: `${what}: connection failed or dropped (${error.reason})`
  })

const parseJsonSafe = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** `/videos/123` → `123`. */
const idFromUri = (uri: string): string | undefined => /\/videos\/(\d+|[A-Za-z0-9]+)/.exec(uri)?.[1]

// =============================================================================
// Constructor
// =============================================================================

/** A transient failure that outlasted its retries: Vimeo is unavailable (a rate limit included, once waited out). */
const unavailableOf = (t: Resumable.Transient): PlatformUnavailable =>
  new PlatformUnavailable({
    platform: "vimeo",
    reason: t.reason === "rate_limited" ? "server_error" : t.reason,
    status: t.status,
    code: t.code,
    platformMessage: t.platformMessage,
    description: t.description
  })

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Host<VimeoMetadata>, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const http = yield* HttpClient.HttpClient
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "")
    const retryPolicy = Resumable.makeUploadRetryPolicy(options.retry)

    const execute = (request: HttpClientRequest.HttpClientRequest, what: string) =>
      http.execute(request).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => ({ response, text }))),
        Effect.catchTags({
          RequestError: (e) => Effect.fail(transport(what)(e)),
          ResponseError: (e) => Effect.fail(transport(what)(e))
        })
      )

    const api = (request: HttpClientRequest.HttpClientRequest) =>
      request.pipe(HttpClientRequest.setHeader("accept", ACCEPT), HttpClientRequest.bearerToken(options.accessToken))

    const failure = (response: HttpClientResponse.HttpClientResponse, text: string, what: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const body = parseError(text)
        const retryAfterMillis = Resumable.parseRetryAfter(response.headers["retry-after"], now)
        if (
          isRetryableStatus(response.status) || response.status === 423 || response.status === 460 ||
          (response.status === 429 && body.code !== "4101" && body.code !== "4102")
        ) {
          // A rate limit is waited out (up to `maxWait`), like a busy server.
          return yield* new Resumable.Transient({
            reason: response.status === 429 ? "rate_limited" : "server_error",
            status: response.status,
            retryAfterMillis,
            code: body.code,
            platformMessage: body.message,
            description: `${what} answered ${response.status}`
          })
        }
        return yield* Effect.fail(fromResponse(response.status, body, what, retryAfterMillis))
      })

    /** Videos being uploaded by this host (never adopted by another upload after a lost creation). */
    const claimed = new Set<string>()
    const requestTimeout = options.requestTimeout ?? Resumable.defaultLimits.requestTimeout

    /** `DELETE /videos/{id}` (a video already gone counts as deleted), retried a few times. */
    const deleteVideo = (id: string): Effect.Effect<void, PlatformError> => {
      const what = `deleting the unfinished video ${id}`
      return execute(api(HttpClientRequest.del(`${base}/videos/${id}`)), what).pipe(
        Effect.timeoutFail({
          duration: requestTimeout,
          onTimeout: () => new Resumable.Transient({ reason: "timeout", description: `${what}: no answer` })
        }),
        Effect.flatMap(({ response, text }) =>
          response.status === 204 || response.status === 200 || response.status === 404 ?
            Effect.void :
            failure(response, text, what)
        ),
        Effect.retry({
          schedule: Schedule.exponential("200 millis"),
          times: 4,
          while: (e) => e._tag === "Transient"
        }),
        Effect.catchTag("Transient", (t) => Effect.fail(unavailableOf(t)))
      )
    }

    const upload = Effect.fn("Vimeo.upload")(function*(context: UploadContext<VimeoMetadata>) {
      const { media, metadata } = context
      const issues = validateMetadata(metadata, media)
      if (issues.length > 0) {
        return yield* new PlatformRejected({
          platform: "vimeo",
          reason: "invalid_metadata",
          description: issues.map((i) => `${i.location}: ${i.message}`).join("; ")
        })
      }

      /** Creation requests whose answer never came: Vimeo may have created a video for each. */
      let lost = 0
      let firstAttemptAt: number | undefined
      // A saved creation intent without a link: the process stopped while creating.
      const intent = Option.filter(context.resume, (s) => s.host === "vimeo" && s.uri.length === 0)
      if (Option.isSome(intent)) {
        lost = 1
        firstAttemptAt = intent.value.createdAt
      }

      type Listed = {
        readonly uri?: unknown
        readonly name?: unknown
        readonly link?: unknown
        readonly created_time?: unknown
        readonly upload?: { readonly upload_link?: unknown; readonly size?: unknown; readonly status?: unknown }
      }

      /**
       * After a creation whose answer was lost, finds the video it made: the
       * newest videos of the account with this title and size, unfinished,
       * created since the first attempt (a minute of clock skew allowed) and
       * not claimed by another upload of this process. The first is adopted;
       * the others made by this upload's lost attempts are deleted.
       */
      const lostVideos = Effect.gen(function*() {
        const what = "looking for the video a lost creation request made"
        const { response, text } = yield* execute(
          api(HttpClientRequest.get(`${base}/me/videos`)).pipe(
            HttpClientRequest.setUrlParams({
              per_page: "50",
              sort: "date",
              direction: "desc",
              fields: "uri,name,link,created_time,upload"
            })
          ),
          what
        )
        if (response.status !== 200) return yield* failure(response, text, what)
        const data = (parseJsonSafe(text) as { data?: ReadonlyArray<Listed> } | undefined)?.data ?? []
        const since = (firstAttemptAt ?? 0) - 60_000
        const matches = data.filter((v) => {
          const id = typeof v.uri === "string" ? idFromUri(v.uri) : undefined
          const created = typeof v.created_time === "string" ? Date.parse(v.created_time) : Number.NaN
          return id !== undefined && !claimed.has(id) && v.name === metadata.title &&
            Number(v.upload?.size) === media.size && v.upload?.status !== "complete" &&
            typeof v.upload?.upload_link === "string" && !(created < since)
        }).reverse()
        return matches
      })

      const adopt = Effect.gen(function*() {
        const [first, ...rest] = yield* lostVideos
        if (first === undefined) return undefined
        for (const extra of rest.slice(0, Math.max(0, lost - 1))) {
          yield* deleteVideo(idFromUri(extra.uri as string)!)
        }
        const videoId = idFromUri(first.uri as string)!
        return {
          uri: first.upload!.upload_link as string,
          videoId,
          videoUrl: typeof first.link === "string" && first.link.length > 0 ? first.link : videoUrl(videoId)
        } satisfies Resumable.Target
      })

      const created = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        firstAttemptAt ??= now
        // Saved before the request: after a crash the resume sees that a creation may have
        // happened (a session without a link) and looks for its video instead of orphaning it.
        yield* context.onSession(
          new UploadSession({
            host: "vimeo",
            uri: "",
            totalBytes: media.size,
            acknowledged: 0,
            createdAt: firstAttemptAt
          })
        )
        if (lost > 0) {
          const found = yield* adopt
          if (found !== undefined) {
            lost = 0
            return found
          }
        }
        // Counted as lost until an answer arrives (a dropped connection, a
        // deadline that interrupts the request).
        lost += 1
        const target = yield* create
        lost = 0
        return target
      }).pipe(Effect.tap((target) => Effect.sync(() => claimed.add(target.videoId!))))

      const create = Effect.gen(function*() {
        const body: Record<string, unknown> = {
          upload: { approach: "tus", size: String(media.size) },
          name: metadata.title
        }
        if (metadata.description !== undefined) body.description = metadata.description
        if (metadata.privacy !== undefined) body.privacy = { view: metadata.privacy }
        if (metadata.password !== undefined) body.password = metadata.password
        const { response, text } = yield* execute(
          api(HttpClientRequest.post(`${base}/me/videos`)).pipe(
            HttpClientRequest.setUrlParams({ fields: "uri,name,link,upload" }),
            HttpClientRequest.setBody(HttpBody.text(JSON.stringify(body), "application/json"))
          ),
          "creating the video"
        ).pipe(
          // A transport failure may hide a created video; an answer does not.
          Effect.tapError((e) =>
            e._tag === "Transient" && e.reason === "transport" ? Effect.void : Effect.sync(() => {
              lost = Math.max(0, lost - 1)
            })
          )
        )
        if (response.status !== 200 && response.status !== 201) {
          lost = Math.max(0, lost - 1)
          return yield* failure(response, text, "creating the video")
        }
        const video = yield* Effect.try({
          try: () => JSON.parse(text) as { uri?: unknown; link?: unknown; upload?: { upload_link?: unknown } },
          catch: () =>
            new PlatformUnavailable({
              platform: "vimeo",
              reason: "server_error",
              status: response.status,
              description: "Vimeo created the video but its answer was not JSON"
            })
        })
        const uploadLink = video.upload?.upload_link
        const videoId = typeof video.uri === "string" ? idFromUri(video.uri) : undefined
        if (typeof uploadLink !== "string" || uploadLink.length === 0 || videoId === undefined) {
          return yield* new PlatformUnavailable({
            platform: "vimeo",
            reason: "server_error",
            status: response.status,
            description: "Vimeo created the video without a tus upload_link or video uri; try again"
          })
        }
        return {
          uri: uploadLink,
          videoId,
          videoUrl: typeof video.link === "string" && video.link.length > 0 ? video.link : videoUrl(videoId)
        } satisfies Resumable.Target
      })

      const done = (target: Resumable.Target): Resumable.Probe<UploadedVideo> => {
        const videoId = target.videoId ?? "unknown"
        return {
          _tag: "Complete",
          result: new UploadedVideo({
            host: "vimeo",
            videoId,
            url: target.videoUrl ?? videoUrl(videoId),
            title: metadata.title
          })
        }
      }

      const offsetOf = (response: HttpClientResponse.HttpClientResponse): number | undefined => {
        const value = response.headers["upload-offset"]
        const n = value === undefined ? Number.NaN : Number(value)
        return Number.isInteger(n) && n >= 0 ? n : undefined
      }

      const answer = (
        target: Resumable.Target,
        response: HttpClientResponse.HttpClientResponse,
        text: string,
        what: string
      ): Effect.Effect<Resumable.Probe<UploadedVideo>, PlatformError | Resumable.Transient> => {
        const status = response.status
        if (status === 200 || status === 204) {
          const offset = offsetOf(response)
          if (offset === undefined) {
            return Effect.fail(
              new Resumable.Transient({
                reason: "server_error",
                status,
                description: `${what}: no Upload-Offset header`
              })
            )
          }
          return Effect.succeed(offset >= media.size ? done(target) : { _tag: "Incomplete", acknowledged: offset })
        }
        if (status === 409) return Effect.succeed({ _tag: "Conflict" })
        if (status === 404 || status === 410) return Effect.succeed({ _tag: "Expired" })
        return failure(response, text, what)
      }

      const query = (target: Resumable.Target) =>
        execute(
          HttpClientRequest.head(target.uri).pipe(HttpClientRequest.setHeader("tus-resumable", TUS_VERSION)),
          "asking Vimeo how much of the upload it holds"
        ).pipe(
          // A tus server answers HEAD for a missing upload with 403, 404 or 410.
          Effect.flatMap(({ response, text }) =>
            response.status === 403 ?
              Effect.succeed<Resumable.Probe<UploadedVideo>>({ _tag: "Expired" }) :
              answer(target, response, text, "the tus offset query")
          )
        )

      const send = (target: Resumable.Target, offset: number, _end: number, body: HttpBody.HttpBody) =>
        execute(
          // The upload link is pre-signed: the access token is not sent to it.
          HttpClientRequest.patch(target.uri).pipe(
            HttpClientRequest.setBody(body),
            HttpClientRequest.setHeaders({ "tus-resumable": TUS_VERSION, "upload-offset": String(offset) })
          ),
          "uploading the video"
        ).pipe(Effect.flatMap(({ response, text }) => answer(target, response, text, "the tus upload")))

      /**
       * When the upload is interrupted (another host failed, Ctrl+C) while a
       * creation's answer is outstanding, the video it may have made is looked
       * for and deleted: no saved session names it, so nothing could resume it.
       */
      const cleanUpLost = Effect.gen(function*() {
        if (lost === 0) return
        const found = yield* lostVideos
        for (const video of found.slice(0, lost)) yield* deleteVideo(idFromUri(video.uri as string)!)
      }).pipe(
        Effect.timeout(Duration.times(Duration.decode(requestTimeout), 3)),
        Effect.catchAllCause((cause) =>
          Effect.logWarning("Vimeo: could not look for the video of an interrupted creation", cause)
        )
      )

      return yield* Resumable.run<UploadedVideo>({
        protocol: {
          host: "vimeo",
          create: created,
          query,
          send,
          abandon: (target) => abandonVideo(target.videoId),
          refreshAuth: Effect.succeed(false)
        },
        path: media.path,
        size: media.size,
        contentType: "application/offset+octet-stream",
        resume: context.resume,
        onSession: context.onSession,
        onProgress: context.onProgress,
        onWait: context.onWait,
        retryPolicy,
        limits: {
          maxWait: options.maxWait,
          stallTimeout: options.stallTimeout,
          requestTimeout: options.requestTimeout,
          idleTimeout: options.idleTimeout
        },
        progressIntervalMillis: options.progressIntervalMillis
      }).pipe(
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.onInterrupt(() => cleanUpLost)
      )
    })

    const processingPoll = Schedule.spaced(options.processing?.interval ?? "10 seconds")
    const processingTimeout = options.processing?.timeout ?? "30 minutes"

    const afterUpload = Effect.fn("Vimeo.afterUpload")(
      function*(video: UploadedVideo, _metadata: VimeoMetadata, _taskId: TaskId) {
        if (!options.waitForProcessing) return
        const check = Effect.gen(function*() {
          const what = `checking the transcoding of video ${video.videoId}`
          const { response, text } = yield* execute(
            api(HttpClientRequest.get(`${base}/videos/${video.videoId}`)).pipe(
              HttpClientRequest.setUrlParams({ fields: "uri,status,transcode.status" })
            ),
            what
          )
          if (response.status !== 200) return yield* failure(response, text, what)
          const json = yield* Effect.try({
            try: () => JSON.parse(text) as { transcode?: { status?: unknown }; status?: unknown },
            catch: () =>
              new PlatformUnavailable({ platform: "vimeo", reason: "server_error", description: `${what}: not JSON` })
          })
          const status = json.transcode?.status ?? json.status
          if (status === "error" || status === "transcode_error" || status === "upload_error") {
            return yield* new PlatformRejected({
              platform: "vimeo",
              reason: "processing_failed",
              code: String(status),
              description: `Vimeo could not transcode video ${video.videoId}`
            })
          }
          return status === "complete" || status === "available"
        }).pipe(
          Effect.catchTag("Transient", (t) => Effect.fail(unavailableOf(t)))
        )
        const result = yield* check.pipe(
          Effect.repeat({ schedule: processingPoll, until: (ready) => ready }),
          Effect.timeoutOption(processingTimeout)
        )
        if (Option.isNone(result)) {
          return yield* new PlatformUnavailable({
            platform: "vimeo",
            reason: "timeout",
            description: `video ${video.videoId} was still transcoding after ${
              Duration.format(Duration.decode(processingTimeout))
            }; it is uploaded, check it on Vimeo`
          })
        }
      }
    )

    /** Deletes the unfinished video of a session nobody will resume; says what was done. */
    const abandonVideo = (videoId: string | undefined): Effect.Effect<string | undefined> =>
      videoId === undefined ? Effect.succeed(undefined) : Effect.gen(function*() {
        const id = videoId
        claimed.delete(id)
        const outcome = yield* Effect.either(deleteVideo(id))
        return outcome._tag === "Right" ?
          `deleted the unfinished video ${id} on Vimeo` :
          `could not delete the unfinished video ${id} on Vimeo (${outcome.left.message}); delete it in the Vimeo library`
      })

    return {
      id: "vimeo",
      abandon: (session: UploadSession) => abandonVideo(session.videoId),
      // Vimeo answers 404 for a video deleted already; both are done.
      remove: (video) => Effect.as(deleteVideo(video.videoId), "deleted" as const),
      // Vimeo's limit depends on the account's plan; it answers 4101/4102 when over.
      maxFileBytes: Number.MAX_SAFE_INTEGER,
      validate: (metadata, media) => Effect.succeed(validateMetadata(metadata, media)),
      upload,
      afterUpload
    } satisfies Host<VimeoMetadata>
  })

// =============================================================================
// Layers
// =============================================================================

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<VimeoHost, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.effect(VimeoHost, make(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<VimeoHost, ConfigError.ConfigError, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.effect(VimeoHost, Effect.flatMap(Config.unwrap(config), make))

// =============================================================================
// Credential check
// =============================================================================

/**
 * What `medusa auth check` reports about the Vimeo token.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly platform: "vimeo"
  /** The token is valid and has the `upload` scope. */
  readonly ok: boolean
  /** Vimeo accepted the token. */
  readonly valid: boolean
  /** The account the token belongs to. */
  readonly accountName: string | undefined
  /** `/users/<id>`. */
  readonly accountUri: string | undefined
  readonly scopes: ReadonlyArray<string>
  readonly hasUploadScope: boolean
  /** Human-readable problems, each with what to do. Never contains the token. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Checks the token with `GET /oauth/verify`, which answers the token's
 * `scope` (space-separated) and its `user`. ⚠️ Unverified: the fact sheet does
 * not cover this endpoint; this follows Vimeo's API reference, and a missing
 * `scope` is reported as no scope at all (the conservative reading). A
 * refused token is a report with `valid: false`; the effect fails only when
 * Vimeo cannot be asked.
 *
 * @since 0.1.0
 * @category credentials
 */
export const checkCredentials = (
  options: Options
): Effect.Effect<CredentialReport, PlatformError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "")
    const answer = yield* http.execute(
      HttpClientRequest.get(`${base}/oauth/verify`).pipe(
        HttpClientRequest.setHeader("accept", ACCEPT),
        HttpClientRequest.bearerToken(options.accessToken)
      )
    ).pipe(
      Effect.flatMap((response) =>
        Effect.map(response.text, (text) => ({ status: response.status, headers: response.headers, text }))
      ),
      Effect.scoped,
      Effect.mapError(() =>
        new PlatformUnavailable({
          platform: "vimeo",
          reason: "transport",
          description: "reading /oauth/verify: could not reach Vimeo"
        })
      )
    )
    if (answer.status === 401) {
      const body = parseError(answer.text)
      return {
        platform: "vimeo",
        ok: false,
        valid: false,
        accountName: undefined,
        accountUri: undefined,
        scopes: [],
        hasUploadScope: false,
        problems: [
          `Vimeo refused the access token${body.message ? ` (${body.message})` : ""}: ${tokenHint}, then update ` +
          "vimeo.access_token"
        ]
      } satisfies CredentialReport
    }
    if (answer.status >= 400) {
      const now = yield* Clock.currentTimeMillis
      return yield* Effect.fail(
        fromResponse(
          answer.status,
          parseError(answer.text),
          "reading /oauth/verify",
          Resumable.parseRetryAfter(answer.headers["retry-after"], now)
        )
      )
    }
    let json: { scope?: unknown; user?: { name?: unknown; uri?: unknown } } | undefined
    try {
      json = JSON.parse(answer.text) as typeof json
    } catch {
      json = undefined
    }
    const scopes = typeof json?.scope === "string" ? json.scope.split(/\s+/).filter((s) => s.length > 0) : []
    const hasUploadScope = scopes.includes("upload")
    const problems: Array<string> = []
    if (!hasUploadScope) {
      problems.push(`The token lacks the upload scope (it has: ${scopes.join(" ") || "none"}): ${tokenHint}`)
    }
    return {
      platform: "vimeo",
      ok: problems.length === 0,
      valid: true,
      accountName: typeof json?.user?.name === "string" ? json.user.name : undefined,
      accountUri: typeof json?.user?.uri === "string" ? json.user.uri : undefined,
      scopes,
      hasUploadScope,
      problems
    } satisfies CredentialReport
  })
