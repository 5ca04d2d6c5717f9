/**
 * The YouTube host: OAuth credentials refreshed with `google-auth-library`,
 * Google's resumable upload protocol implemented here (streamed from disk,
 * resumed from what the server acknowledges), metadata validated before a
 * byte is sent, a local quota ledger, and the thumbnail, playlist and
 * processing steps through `@googleapis/youtube`.
 *
 * ```ts
 * const YouTubeLive = YouTube.layer({
 *   clientSecretsFile: "~/.config/medusa/youtube-client-secrets.json",
 *   credentialsFile: "~/.config/medusa/youtube-credentials.json"
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici), Layer.provide(NodeFileSystem.layer))
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
import type { youtube_v3 } from "@googleapis/youtube"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { createReadStream } from "node:fs"
import * as path from "node:path"
import * as Resumable from "../../internal/http/resumable.js"
import type { Allowance, Host, UploadContext } from "../../Platform.js"
import { UploadedVideo, YouTubeHost } from "../../Platform.js"
import { PlatformRejected, PlatformUnavailable } from "../../PublishError.js"
import type { AuthExpired, Issue, PlatformError } from "../../PublishError.js"
import type { YouTubeCaption, YouTubeMetadata } from "../../PublishRequest.js"
import * as Auth from "./internal/auth.js"
import * as Captions from "./internal/captions.js"
import { fromResponse, isRetryableStatus, parseErrorBody, parseErrorValue } from "./internal/errors.js"
import * as Metadata from "./internal/metadata.js"
import * as Quota from "./internal/quota.js"

export {
  /**
   * @since 0.1.0
   * @category tags
   */
  YouTubeHost
} from "../../Platform.js"

// =============================================================================
// Options
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Google's OAuth client JSON (the `installed` file the Cloud Console downloads). */
  readonly clientSecretsFile: string
  /** Refresh token, access token and expiry, as written by `medusa auth youtube`. */
  readonly credentialsFile: string
  /** Replaces `https://www.googleapis.com` (uploads, API, `/token`, `/o/oauth2/v2/auth`). */
  readonly baseUrl?: string | undefined
  /** Bytes per PUT, a multiple of 256 KiB. The whole file in one PUT when absent (Google's advice). */
  readonly chunkSize?: number | undefined
  /** Wait for YouTube to process the video after upload (default false). */
  readonly waitForProcessing?: boolean | undefined
  /** The quota ledger; default `youtube-quota.json` beside the credentials file. */
  readonly quotaFile?: string | undefined
  /** Daily limits of the Google project (defaults: 100 uploads, 10,000 units). */
  readonly quota?: Partial<Quota.Limits> | undefined
  /** Channel the ledger is kept for; default the credentials file's `channel_id`, else `default`. */
  readonly channelId?: string | undefined
  /** Largest thumbnail accepted (default 2 MiB, the conservative reading of YouTube's docs). */
  readonly thumbnailMaxBytes?: number | undefined
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
  /** Polling of `videos.list` when `waitForProcessing` is on. */
  readonly processing?: {
    readonly interval?: Duration.DurationInput | undefined
    readonly timeout?: Duration.DurationInput | undefined
  } | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL = "https://www.googleapis.com"

/**
 * @since 0.1.0
 * @category constants
 */
export const CHUNK_GRANULARITY = 256 * 1024

/**
 * The URL YouTube shows a video at.
 *
 * @since 0.1.0
 * @category constructors
 */
export const videoUrl = (videoId: string): string => `https://youtube.com/watch?v=${videoId}`

// =============================================================================
// Constructor
// =============================================================================

/**
 * YouTube's answer when the daily "Video Uploads" bucket is used up: a `429
 * rateLimitExceeded` whose message names a per-day quota metric.
 */
const isDailyBucket = (message: string | undefined): boolean =>
  message !== undefined && /quota metric/i.test(message) && /per day/i.test(message)

/** A rate limit, waited out like a busy server (never a used-up quota). */
const isRateLimit = (
  status: number,
  body: { readonly reason: string | undefined; readonly message: string | undefined }
) =>
  (status === 429 || body.reason === "rateLimitExceeded" || body.reason === "userRateLimitExceeded") &&
  !isDailyBucket(body.message)

const parseRange = (header: string | undefined): number => {
  // `Range: bytes=0-N` → the server holds N + 1 bytes; no header → none.
  const m = header === undefined ? null : /bytes=(\d+)-(\d+)/.exec(header)
  return m === null ? 0 : Number(m[2]) + 1
}

const transport = (what: string) => (error: HttpClientError.HttpClientError): Resumable.Transient =>
  new Resumable.Transient({
    reason: "transport",
    // The error's message names the method and URL only; never its headers.
    description: `${what}: connection failed or dropped (${error.reason})`
  })

/** The ledger's key: one quota per Google project and channel. */
const quotaKeyOf = (options: Options, auth: Auth.Auth): string =>
  `project ${auth.secrets.projectId ?? auth.secrets.clientId} / channel ${
    options.channelId ?? (typeof auth.stored.channel_id === "string" ? auth.stored.channel_id : "default")
  }`

const ledgerFileOf = (options: Options): string =>
  options.quotaFile ?? path.join(path.dirname(options.credentialsFile), "youtube-quota.json")

const parseJson = <A>(text: string): A | undefined => {
  try {
    return JSON.parse(text) as A
  } catch {
    return undefined
  }
}

const limitsOf = (options: Options): Quota.Limits => ({ ...Quota.defaultLimits, ...options.quota })

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Host<YouTubeMetadata>, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const http = yield* HttpClient.HttpClient
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "")
    const getAuth = yield* Auth.makeLazy({ ...options, tokenTimeout: options.requestTimeout })
    const ledger = yield* Quota.make(ledgerFileOf(options), limitsOf(options))
    const retryPolicy = Resumable.makeUploadRetryPolicy(options.retry)
    const thumbnailMaxBytes = options.thumbnailMaxBytes ?? Metadata.limits.thumbnailBytes
    const provideFs = Effect.provideService(FileSystem.FileSystem, fs)

    const quotaKey = (auth: Auth.Auth): string => quotaKeyOf(options, auth)

    /**
     * Records what YouTube said about the quota so the next task fails early.
     * Only a used-up quota is recorded: a rate limit (`429`,
     * `rateLimitExceeded`) says "slow down", not "come back tomorrow".
     */
    const noteQuota = (key: string, error: PlatformError) =>
      error._tag === "QuotaExceeded" && error.reason === "quota_exceeded" ?
        ledger.exhaust(key, "units") :
        error._tag === "QuotaExceeded" && error.reason === "rate_limited" && isDailyBucket(error.platformMessage) ?
        ledger.exhaust(key, "uploads") :
        Effect.void

    const failWith = (response: HttpClientResponse.HttpClientResponse, text: string, what: string, key: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const error = fromResponse(response.status, parseErrorBody(text), {
          what,
          now,
          retryAfterMillis: Resumable.parseRetryAfter(response.headers["retry-after"], now)
        })
        yield* noteQuota(key, error)
        return yield* Effect.fail(error)
      })

    const transient = (response: HttpClientResponse.HttpClientResponse, text: string, what: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const body = parseErrorBody(text)
        return yield* new Resumable.Transient({
          reason: isRateLimit(response.status, body) ? "rate_limited" : "server_error",
          status: response.status,
          retryAfterMillis: Resumable.parseRetryAfter(response.headers["retry-after"], now),
          code: body.reason,
          platformMessage: body.message,
          description: `${what} answered ${response.status}`
        })
      })

    const validate = (metadata: YouTubeMetadata, media: import("../../Platform.js").MediaFile) =>
      Metadata.validate(metadata, media, { thumbnailMaxBytes }).pipe(provideFs)

    const plannedUnits = (metadata: YouTubeMetadata): number =>
      (metadata.thumbnail !== undefined ? Quota.costs["thumbnails.set"] : 0) +
      (metadata.playlistId !== undefined
        ? Quota.costs["playlistItems.list"] + Quota.costs["playlistItems.insert"]
        : 0) +
      (options.waitForProcessing ? Quota.costs["videos.list"] : 0) +
      ((metadata.captions ?? []).length > 0
        ? Quota.costs["captions.list"] + (metadata.captions ?? []).length * Quota.costs["captions.insert"]
        : 0)

    const limits = limitsOf(options)
    // Read from the local ledger, without a request; no allowance when the credentials cannot be read.
    const allowances = Effect.gen(function*() {
      const auth = yield* Effect.option(getAuth)
      if (Option.isNone(auth)) return (): ReadonlyArray<Allowance> => []
      const entry = yield* ledger.usage(quotaKey(auth.value))
      const resetsAt = Quota.nextPacificMidnight(yield* Clock.currentTimeMillis)
      const day = 24 * 60 * 60 * 1000
      return (metadata: YouTubeMetadata): ReadonlyArray<Allowance> => [
        {
          bucket: "uploads",
          used: entry.uploads,
          limit: limits.uploadsPerDay,
          needs: Quota.costs["videos.insert"],
          resetsAt,
          windowMillis: day
        },
        {
          bucket: "units",
          used: entry.units,
          limit: limits.unitsPerDay,
          needs: plannedUnits(metadata),
          resetsAt,
          windowMillis: day
        }
      ]
    })

    const upload = Effect.fn("YouTube.upload")(function*(context: UploadContext<YouTubeMetadata>) {
      const { media, metadata } = context
      if (
        options.chunkSize !== undefined &&
        (!Number.isInteger(options.chunkSize) || options.chunkSize <= 0 || options.chunkSize % CHUNK_GRANULARITY !== 0)
      ) {
        return yield* new PlatformRejected({
          platform: "youtube",
          reason: "rejected",
          description: `chunk size ${options.chunkSize} is not a positive multiple of 262144 (256 KiB); use e.g. ${
            32 * CHUNK_GRANULARITY
          } (8 MiB) or leave it unset to send the file in one request`
        })
      }
      const issues = yield* validate(metadata, media)
      if (issues.length > 0) return yield* invalidMetadata(issues)

      const auth = yield* getAuth
      const key = quotaKey(auth)
      // A usable saved session costs no new `videos.insert`; anything else is a new upload.
      const resumable = Option.filter(context.resume, (s) => s.host === "youtube" && s.totalBytes === media.size)
      if (Option.isNone(resumable)) yield* ledger.check(key, plannedUnits(metadata))

      const authorize = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.map(auth.accessToken, (token) => HttpClientRequest.bearerToken(request, token))

      const execute = (request: HttpClientRequest.HttpClientRequest, what: string) =>
        authorize(request).pipe(
          // An unreachable or slow token endpoint is retried like the upload's own requests.
          Effect.catchTag("PlatformUnavailable", (e) =>
            Effect.fail(
              new Resumable.Transient({
                reason: e.reason === "timeout" ? "timeout" : "transport",
                status: e.status,
                description: `${what}: ${e.description ?? "the access-token refresh failed"}`
              })
            )),
          Effect.flatMap((r) => http.execute(r)),
          Effect.flatMap((response) => Effect.map(response.text, (text) => ({ response, text }))),
          Effect.catchTags({
            RequestError: (e) => Effect.fail(transport(what)(e)),
            ResponseError: (e) => Effect.fail(transport(what)(e))
          })
        )

      const initiate = HttpClientRequest.post(`${base}/upload/youtube/v3/videos`).pipe(
        HttpClientRequest.setUrlParams({
          uploadType: "resumable",
          part: "snippet,status",
          ...(metadata.notifySubscribers !== undefined ?
            { notifySubscribers: String(metadata.notifySubscribers) } :
            {})
        }),
        HttpClientRequest.setHeaders({
          "x-upload-content-length": String(media.size),
          "x-upload-content-type": media.mimeType.startsWith("video/") ? media.mimeType : "application/octet-stream"
        }),
        HttpClientRequest.setBody(
          HttpBody.text(JSON.stringify(Metadata.toResource(metadata)), "application/json; charset=UTF-8")
        )
      )

      const create = Effect.gen(function*() {
        let attempt = yield* execute(initiate, "creating the upload session")
        if (attempt.response.status === 401) {
          yield* auth.forceRefresh.pipe(
            Effect.catchTag("PlatformUnavailable", (e) =>
              Effect.fail(
                new Resumable.Transient({
                  reason: e.reason === "timeout" ? "timeout" : "transport",
                  description: `creating the upload session: ${e.description ?? "the access-token refresh failed"}`
                })
              ))
          )
          attempt = yield* execute(initiate, "creating the upload session")
        }
        const { response, text } = attempt
        if (isRetryableStatus(response.status) || isRateLimit(response.status, parseErrorBody(text))) {
          return yield* transient(response, text, "creating the upload session")
        }
        if (response.status !== 200 && response.status !== 201) {
          return yield* failWith(response, text, "creating the upload session", key)
        }
        // The ledger counts what YouTube accepted.
        yield* ledger.spend(key, { uploads: Quota.costs["videos.insert"] })
        const location = response.headers["location"]
        if (location === undefined || location.length === 0) {
          return yield* new PlatformUnavailable({
            platform: "youtube",
            reason: "server_error",
            status: response.status,
            description: "YouTube created no upload session (no Location header); try again"
          })
        }
        return { uri: new URL(location, `${base}/`).toString() } satisfies Resumable.Target
      })

      const answer = (
        response: HttpClientResponse.HttpClientResponse,
        text: string,
        what: string
      ): Effect.Effect<Resumable.Probe<UploadedVideo>, PlatformError | Resumable.Transient> =>
        Effect.gen(function*() {
          const status = response.status
          if (status === 200 || status === 201) {
            const video = yield* Effect.try({
              try: () => JSON.parse(text) as { id?: unknown },
              catch: () =>
                new PlatformUnavailable({
                  platform: "youtube",
                  reason: "server_error",
                  status,
                  description: "YouTube finished the upload but its answer was not JSON"
                })
            })
            if (typeof video.id !== "string" || video.id.length === 0) {
              return yield* new PlatformUnavailable({
                platform: "youtube",
                reason: "server_error",
                status,
                description: "YouTube finished the upload but returned no video id"
              })
            }
            return {
              _tag: "Complete",
              result: new UploadedVideo({
                host: "youtube",
                videoId: video.id,
                url: videoUrl(video.id),
                title: metadata.title
              })
            } as const
          }
          if (status === 308) {
            const now = yield* Clock.currentTimeMillis
            return {
              _tag: "Incomplete",
              acknowledged: parseRange(response.headers["range"]),
              retryAfterMillis: Resumable.parseRetryAfter(response.headers["retry-after"], now)
            } as const
          }
          if (status === 404 || status === 410) return { _tag: "Expired" } as const
          if (status === 401) {
            const now = yield* Clock.currentTimeMillis
            return {
              _tag: "Unauthorized",
              error: fromResponse(401, parseErrorBody(text), { what, now })
            } as const
          }
          if (isRetryableStatus(status) || isRateLimit(status, parseErrorBody(text))) {
            return yield* transient(response, text, what)
          }
          return yield* failWith(response, text, what, key)
        })

      const query = (target: Resumable.Target) =>
        execute(
          HttpClientRequest.put(target.uri).pipe(
            HttpClientRequest.setHeaders({ "content-range": `bytes */${media.size}`, "content-length": "0" })
          ),
          "asking YouTube how much of the upload it holds"
        ).pipe(Effect.flatMap(({ response, text }) => answer(response, text, "the upload status query")))

      const send = (target: Resumable.Target, offset: number, end: number, body: HttpBody.HttpBody) =>
        execute(
          HttpClientRequest.put(target.uri).pipe(
            HttpClientRequest.setBody(body),
            HttpClientRequest.setHeader("content-range", `bytes ${offset}-${end - 1}/${media.size}`)
          ),
          "uploading the video"
        ).pipe(Effect.flatMap(({ response, text }) => answer(response, text, "the upload")))

      const video = yield* Resumable.run<UploadedVideo>({
        protocol: {
          host: "youtube",
          create,
          query,
          send,
          refreshAuth: Effect.as(auth.forceRefresh, true)
        },
        path: media.path,
        size: media.size,
        contentType: media.mimeType.startsWith("video/") ? media.mimeType : "application/octet-stream",
        chunkSize: options.chunkSize,
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
      }).pipe(provideFs)
      return video
    })

    // =========================================================================
    // After the upload: thumbnail, playlist, processing (googleapis)
    // =========================================================================

    const callOptions = options.baseUrl !== undefined ? { rootUrl: `${base}/` } : {}

    const loadYouTube = Effect.promise(() => import("@googleapis/youtube"))

    // Steps retried by Medusa (`stepRetryPolicy`) do not let the client retry
    // too, and a request that never answers is cut like an upload's.
    const stepCallOptions = {
      ...callOptions,
      retry: false,
      timeout: Duration.toMillis(Duration.decode(options.idleTimeout ?? "60 seconds"))
    }

    // The upload's back-off (`retry`), fed with the step's failures.
    const stepRetryPolicy = Schedule.mapInput(
      retryPolicy,
      (error: PlatformError) =>
        new Resumable.Transient({
          reason: error._tag === "PlatformUnavailable" && error.reason === "transport" ? "transport" : "server_error",
          status: error.status,
          description: error.message
        })
    )

    const google = <A>(what: string, key: string, units: number, f: () => Promise<A>) =>
      Effect.tryPromise({
        try: f,
        catch: (cause) => cause
      }).pipe(
        // The ledger counts what YouTube accepted.
        Effect.tap(() => ledger.spend(key, { units })),
        Effect.catchAll((cause) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            // Keep only the status and YouTube's body: the GaxiosError holds the request headers.
            const e = cause as { response?: { status?: number; data?: unknown; headers?: unknown } }
            const status = e.response?.status
            if (status === undefined) {
              return yield* new PlatformUnavailable({
                platform: "youtube",
                reason: "transport",
                description: `${what}: could not reach YouTube`
              })
            }
            const error = fromResponse(status, parseErrorValue(e.response?.data), { what, now })
            yield* noteQuota(key, error)
            return yield* Effect.fail(error)
          })
        )
      )

    const remove = Effect.fn("YouTube.remove")(function*(video: UploadedVideo) {
      const auth = yield* getAuth
      const key = quotaKey(auth)
      const { youtube } = yield* loadYouTube
      const yt = youtube({ version: "v3", auth: auth.client })
      return yield* google(
        `deleting video ${video.videoId}`,
        key,
        Quota.costs["videos.delete"],
        () => yt.videos.delete({ id: video.videoId }, callOptions)
      ).pipe(
        Effect.as("deleted" as const),
        // Deleted already (by an earlier retract, or by hand).
        Effect.catchIf((e) => e.status === 404, () => Effect.succeed("gone" as const))
      )
    })

    /**
     * Inserts the caption tracks the video does not have yet. The video's
     * tracks are listed first, and again on every retry, so that neither a
     * re-run of the step (a crash, then a resume) nor a retry after a lost
     * answer inserts a track twice; a track is the same when its language
     * and name are.
     */
    const insertCaptions = (
      yt: YouTubeApi,
      key: string,
      videoId: string,
      captions: ReadonlyArray<YouTubeCaption>
    ) =>
      Effect.gen(function*() {
        const listed = yield* google(
          `listing the caption tracks of video ${videoId}`,
          key,
          Quota.costs["captions.list"],
          () => yt.captions.list({ part: ["snippet"], videoId }, stepCallOptions)
        )
        const present = new Set(
          (listed.data.items ?? []).map((item) => captionKey(item.snippet?.language ?? "", item.snippet?.name ?? ""))
        )
        for (const caption of captions) {
          const name = caption.name ?? ""
          if (present.has(captionKey(caption.language, name))) continue
          yield* google(
            `inserting the caption track ${caption.language}${name ? ` "${name}"` : ""} (${
              path.basename(caption.file)
            }) of video ${videoId}`,
            key,
            Quota.costs["captions.insert"],
            () =>
              yt.captions.insert(
                {
                  part: ["snippet"],
                  requestBody: { snippet: { videoId, language: caption.language, name, isDraft: false } },
                  media: { mimeType: "application/octet-stream", body: createReadStream(caption.file) }
                },
                stepCallOptions
              )
          )
          present.add(captionKey(caption.language, name))
        }
      }).pipe(Effect.retry({ schedule: stepRetryPolicy, while: isTransientFailure }))

    const processingPoll = Schedule.spaced(options.processing?.interval ?? "10 seconds")
    const processingTimeout = options.processing?.timeout ?? "30 minutes"

    const afterUpload = Effect.fn("YouTube.afterUpload")(
      function*(video: UploadedVideo, metadata: YouTubeMetadata, _taskId: import("../../TaskId.js").TaskId) {
        if (
          metadata.thumbnail === undefined && metadata.playlistId === undefined &&
          (metadata.captions ?? []).length === 0 && !options.waitForProcessing
        ) return
        const auth = yield* getAuth
        const key = quotaKey(auth)
        const { youtube } = yield* loadYouTube
        const yt = youtube({ version: "v3", auth: auth.client })

        if (metadata.thumbnail !== undefined) {
          const file = metadata.thumbnail
          const head = yield* Effect.scoped(Effect.flatMap(fs.open(file), (f) => f.readAlloc(8))).pipe(
            Effect.orElseSucceed(() => Option.none<Uint8Array>())
          )
          const mimeType = Option.isSome(head) ? Metadata.sniffImage(head.value) ?? "image/jpeg" : "image/jpeg"
          yield* google(
            `setting the thumbnail of video ${video.videoId}`,
            key,
            Quota.costs["thumbnails.set"],
            () =>
              yt.thumbnails.set(
                { videoId: video.videoId, media: { mimeType, body: createReadStream(file) } },
                callOptions
              )
          )
        }

        if (metadata.playlistId !== undefined) {
          const playlistId = metadata.playlistId
          // Asked first, so that a re-run (a crash inside this step, then a
          // resume) does not add the video twice; one unit against fifty.
          const listed = yield* google(
            `looking for video ${video.videoId} in playlist ${playlistId}`,
            key,
            Quota.costs["playlistItems.list"],
            () =>
              yt.playlistItems.list(
                { part: ["id"], playlistId, videoId: video.videoId, maxResults: 1 },
                callOptions
              )
          )
          if ((listed.data.items ?? []).length === 0) {
            yield* google(
              `adding video ${video.videoId} to playlist ${playlistId}`,
              key,
              Quota.costs["playlistItems.insert"],
              () =>
                yt.playlistItems.insert(
                  {
                    part: ["snippet"],
                    requestBody: {
                      snippet: { playlistId, resourceId: { kind: "youtube#video", videoId: video.videoId } }
                    }
                  },
                  callOptions
                )
            )
          }
        }

        if (metadata.captions !== undefined && metadata.captions.length > 0) {
          yield* insertCaptions(yt, key, video.videoId, metadata.captions)
        }

        if (options.waitForProcessing) {
          const poll = google(
            `checking the processing of video ${video.videoId}`,
            key,
            Quota.costs["videos.list"],
            () => yt.videos.list({ part: ["status", "processingDetails"], id: [video.videoId] }, callOptions)
          ).pipe(
            Effect.flatMap((response) => {
              const item = response.data.items?.[0]
              const upload = item?.status?.uploadStatus
              const processing = item?.processingDetails?.processingStatus
              if (item === undefined) {
                return Effect.fail(
                  new PlatformRejected({
                    platform: "youtube",
                    reason: "not_found",
                    description: `video ${video.videoId} is not listed by videos.list`
                  })
                )
              }
              if (upload === "failed" || upload === "rejected" || upload === "deleted" || processing === "failed") {
                const why = item.status?.failureReason ?? item.status?.rejectionReason ?? processing ?? upload
                return Effect.fail(
                  new PlatformRejected({
                    platform: "youtube",
                    reason: "processing_failed",
                    code: why ?? undefined,
                    description: `YouTube could not process video ${video.videoId} (${upload}${why ? `: ${why}` : ""})`
                  })
                )
              }
              return Effect.succeed(upload === "processed" || processing === "succeeded")
            })
          )
          const done = yield* poll.pipe(
            Effect.repeat({ schedule: processingPoll, until: (processed) => processed }),
            Effect.timeoutOption(processingTimeout)
          )
          if (Option.isNone(done)) {
            return yield* new PlatformUnavailable({
              platform: "youtube",
              reason: "timeout",
              description: `video ${video.videoId} was still processing after ${
                Duration.format(Duration.decode(processingTimeout))
              }; it is uploaded, check it in YouTube Studio`
            })
          }
        }
        yield* auth.persist
      }
    )

    // Files readable by others are said once per process, not at every submit.
    let warned = false
    const checkSetup = Effect.gen(function*() {
      const found = yield* Auth.checkFiles(fs, options)
      if (!warned && found.warnings.length > 0) {
        warned = true
        for (const warning of found.warnings) yield* Effect.logWarning(warning)
      }
      return found.problems.map((p) => p.message)
    })

    return {
      id: "youtube",
      account: options.channelId,
      maxFileBytes: Metadata.limits.fileBytes,
      validate,
      checkSetup,
      allowances,
      remove,
      upload,
      afterUpload
    } satisfies Host<YouTubeMetadata>
  })

/** A dropped connection or a `5xx`: worth another attempt. */
const isTransientFailure = (error: PlatformError): boolean =>
  error._tag === "PlatformUnavailable" && (error.reason === "transport" || error.reason === "server_error")

/** One track per language and name: the language compared in its canonical form. */
const captionKey = (language: string, name: string): string =>
  `${(Captions.canonicalLanguage(language) ?? language).toLowerCase()}\u0000${name}`

type YouTubeApi = youtube_v3.Youtube

const invalidMetadata = (issues: ReadonlyArray<Issue>): Effect.Effect<never, PlatformRejected> =>
  Effect.fail(
    new PlatformRejected({
      platform: "youtube",
      reason: "invalid_metadata",
      description: issues.map((i) => `${i.location}: ${i.message}`).join("; ")
    })
  )

/**
 * Reads and checks the client secrets and credentials files the options name
 * (exists, parses, has the fields) without contacting Google, and warns about
 * files other users can read. Used at submit and by `medusa config validate`.
 *
 * @since 0.1.0
 * @category diagnostics
 */
export const checkFiles = (options: Pick<Options, "clientSecretsFile" | "credentialsFile">): Effect.Effect<
  {
    readonly problems: ReadonlyArray<{ readonly key: string; readonly file: string; readonly message: string }>
    readonly warnings: ReadonlyArray<string>
  },
  never,
  FileSystem.FileSystem
> => Effect.flatMap(FileSystem.FileSystem, (fs) => Auth.checkFiles(fs, options))

// =============================================================================
// Layers
// =============================================================================

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<YouTubeHost, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.effect(YouTubeHost, make(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<YouTubeHost, ConfigError.ConfigError, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.effect(YouTubeHost, Effect.flatMap(Config.unwrap(config), make))

/**
 * The upload retry policy with its defaults (1 s doubling, jittered, capped at
 * 60 s, never shorter than `Retry-After`, 8 retries without progress).
 *
 * @since 0.1.0
 * @category constants
 */
export const retryPolicy: Schedule.Schedule<unknown, Resumable.Transient> = Resumable.uploadRetryPolicy

// =============================================================================
// Credential check
// =============================================================================

/**
 * The scope Medusa needs to upload; `youtube` alone also allows uploads but
 * Google's docs name `youtube.upload` for `videos.insert`, so its absence is
 * reported (the conservative reading).
 *
 * @since 0.1.0
 * @category constants
 */
export const UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"

/**
 * What `medusa auth check` reports about the YouTube credentials.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly platform: "youtube"
  /** The credentials can upload and the local ledger has quota left for one upload. */
  readonly ok: boolean
  /** Google refreshed the access token with the stored refresh token. */
  readonly valid: boolean
  /** Why the refresh failed (expired or revoked refresh token, refused client, unreadable files). */
  readonly error: AuthExpired | undefined
  readonly channelId: string | undefined
  readonly channelTitle: string | undefined
  /** From the token response, else the credentials file. */
  readonly scopes: ReadonlyArray<string>
  readonly hasUploadScope: boolean
  /** Epoch milliseconds of the access token's expiry. */
  readonly expiresAt: number | undefined
  /** What the local ledger says is left today. */
  readonly quota: {
    /** The ledger key (`project … / channel …`). */
    readonly key: string
    readonly uploadsLeft: number
    readonly uploadsPerDay: number
    readonly unitsLeft: number
    readonly unitsPerDay: number
    /** Epoch milliseconds of the next midnight Pacific time. */
    readonly resetsAt: number
  } | undefined
  /** Human-readable problems, each with what to do. Never contains a token. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Checks the YouTube credentials the way an upload uses them: the stored
 * refresh token is exchanged for a fresh access token through the same
 * `OAuth2Client` (and the new token written back), then `channels.list
 * ?mine=true` names the channel (1 unit, recorded in the ledger), and the
 * ledger tells what is left today. An expired or revoked refresh token is a
 * report with `valid: false` and the `AuthExpired` error; the effect fails
 * only when Google cannot be asked.
 *
 * @since 0.1.0
 * @category credentials
 */
export const checkCredentials = (
  options: Options
): Effect.Effect<CredentialReport, PlatformError, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "")
    const limits = limitsOf(options)
    const ledger = yield* Quota.make(ledgerFileOf(options), limits)
    const getAuth = yield* Auth.makeLazy({ ...options, tokenTimeout: options.requestTimeout })
    const invalid = (error: AuthExpired): CredentialReport => ({
      platform: "youtube",
      ok: false,
      valid: false,
      error,
      channelId: undefined,
      channelTitle: undefined,
      scopes: [],
      hasUploadScope: false,
      expiresAt: undefined,
      quota: undefined,
      problems: [error.description ?? error.message]
    })
    const refreshed = yield* getAuth.pipe(
      // Force the refresh: a still-valid access token would hide a revoked refresh token.
      Effect.tap((auth) => auth.forceRefresh),
      Effect.map((auth) => ({ _tag: "Valid" as const, auth })),
      Effect.catchTag("AuthExpired", (error) => Effect.succeed({ _tag: "Invalid" as const, error }))
    )
    if (refreshed._tag === "Invalid") return invalid(refreshed.error)
    const auth = refreshed.auth
    const problems: Array<string> = []
    const credentials = auth.client.credentials
    const scopeText = credentials.scope ?? auth.stored.scope ?? ""
    const scopes = scopeText.split(/\s+/).filter((s) => s.length > 0)
    const hasUploadScope = scopes.includes(UPLOAD_SCOPE)
    if (!hasUploadScope) {
      problems.push(
        `The token lacks the youtube.upload scope${
          scopes.length === 0 ? " (Google reported no scopes)" : ""
        }: ${Auth.loginHint}`
      )
    }
    const expiresAt = typeof credentials.expiry_date === "number" ? credentials.expiry_date : undefined

    const key = quotaKeyOf(options, auth)
    const token = yield* auth.accessToken
    const channel = yield* http.execute(
      HttpClientRequest.get(`${base}/youtube/v3/channels`).pipe(
        HttpClientRequest.setUrlParams({ part: "snippet", mine: "true" }),
        HttpClientRequest.bearerToken(token),
        HttpClientRequest.acceptJson
      )
    ).pipe(
      Effect.flatMap((response) => Effect.map(response.text, (text) => ({ status: response.status, text }))),
      Effect.scoped,
      Effect.mapError(() =>
        new PlatformUnavailable({
          platform: "youtube",
          reason: "transport",
          description: "reading the channel (channels.list): could not reach YouTube"
        })
      ),
      Effect.tap(() => ledger.spend(key, { units: 1 }))
    )
    let channelId: string | undefined = typeof auth.stored.channel_id === "string" ? auth.stored.channel_id : undefined
    let channelTitle: string | undefined
    if (channel.status === 200) {
      const item = parseJson<{ items?: Array<{ id?: unknown; snippet?: { title?: unknown } }> }>(channel.text)
        ?.items?.[0]
      if (typeof item?.id === "string") channelId = item.id
      if (typeof item?.snippet?.title === "string") channelTitle = item.snippet.title
      if (item === undefined) problems.push("The account has no YouTube channel: create one before uploading")
    } else {
      const body = parseErrorBody(channel.text)
      problems.push(
        `Reading the channel failed (${channel.status}${body.message ? `: ${body.message}` : ""}); uploads may fail too`
      )
    }

    const now = yield* Clock.currentTimeMillis
    const used = yield* ledger.usage(key)
    const quota = {
      key,
      uploadsLeft: Math.max(0, limits.uploadsPerDay - used.uploads),
      uploadsPerDay: limits.uploadsPerDay,
      unitsLeft: Math.max(0, limits.unitsPerDay - used.units),
      unitsPerDay: limits.unitsPerDay,
      resetsAt: Quota.nextPacificMidnight(now)
    }
    if (quota.uploadsLeft === 0) {
      problems.push(
        `The daily "Video Uploads" quota is used up; it resets at ${new Date(quota.resetsAt).toISOString()}`
      )
    }
    return {
      platform: "youtube",
      ok: problems.length === 0,
      valid: true,
      error: undefined,
      channelId,
      channelTitle,
      scopes,
      hasUploadScope,
      expiresAt,
      quota,
      problems
    } satisfies CredentialReport
  })
