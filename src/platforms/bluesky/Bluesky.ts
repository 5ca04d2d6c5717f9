/**
 * The Bluesky publisher: writes an `app.bsky.feed.post` record to the
 * account's repository on its PDS through `@atproto/api`, with links and
 * hashtags as rich-text facets and a link card to the upload
 * (`app.bsky.embed.external`), or with `attachVideo` the video itself: the
 * media file uploaded as a blob (`com.atproto.repo.uploadBlob`) and embedded
 * with `app.bsky.embed.video`.
 *
 * Idempotent the AT Protocol way: the record key (`rkey`, a TID) is derived
 * from the task before anything is sent, and `com.atproto.repo.createRecord`
 * writes under that key. A repository holds one record per key, so a re-sent
 * request (after a lost answer, a timeout, a crash) can never make a second
 * post; whether the post exists is one `getRecord` by that key.
 *
 * ```ts
 * const BlueskyLive = Bluesky.layer({
 *   identifier: "medusa.bsky.social",
 *   appPassword // Redacted, from config
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { AtpAgent } from "@atproto/api"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { openAsBlob } from "node:fs"
import * as Mp4 from "../../internal/files/mp4.js"
import { fillPlaceholders } from "../../internal/http/postOnce.js"
import { parseRetryAfter } from "../../internal/http/retryAfter.js"
import * as Metrics from "../../internal/telemetry/metrics.js"
import * as Spans from "../../internal/telemetry/spans.js"
import {
  BlueskyPublisher,
  type FindContext,
  type MediaFile,
  type PostContext,
  PublishedPost,
  type Publisher,
  UploadProgress
} from "../../Platform.js"
import {
  AuthExpired,
  Issue,
  type PlatformError,
  PlatformRejected,
  PlatformUnavailable,
  PostOutcomeUnknown,
  QuotaExceeded
} from "../../PublishError.js"
import type { BlueskyMetadata } from "../../PublishRequest.js"
import * as BskyRecord from "./internal/record.js"

// =============================================================================
// Options
// =============================================================================

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultService: string = "https://bsky.social"

/**
 * The settle time of Bluesky posts (`Publisher.settleMillis`): zero.
 *
 * Other platforms need minutes before a search that finds nothing is
 * trusted, because a request still on its way could make a post after the
 * search. Here every request of a task writes the same record key, and the
 * repository refuses a second record under a key: a late request can only
 * fail. So a `getRecord` that finds nothing is authoritative at once.
 *
 * @since 0.1.0
 * @category constants
 */
export const settleTime: Duration.Duration = Duration.zero

/**
 * Graphemes a post may have once filled.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxGraphemes: number = BskyRecord.MAX_GRAPHEMES

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The account's handle (`medusa.bsky.social`) or DID. */
  readonly identifier: string
  /** An app password (Settings → Privacy and security → App passwords), never the account password. */
  readonly appPassword: Redacted.Redacted<string>
  /** The account's PDS (default `https://bsky.social`; a self-hosted PDS, the sandbox). */
  readonly service?: string | undefined
  /** Attempts of one post in all (default 4). */
  readonly maxAttempts?: number | undefined
  /** A rate-limit wait longer than this fails the task with `rate_limited` instead (default 16 minutes). */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
  /** A request unanswered for this long is given up and checked (default 60 seconds). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** See `settleTime` (default zero). */
  readonly settleTime?: Duration.DurationInput | undefined
}

// =============================================================================
// Internals
// =============================================================================

type Api = Pick<typeof import("@atproto/api"), "AtpAgent" | "RichText">

/**
 * `@atproto/api` takes over a second to load: only a publisher that posts
 * loads it. It is CommonJS: a bundler's import of it may hold the exports
 * under `default` only.
 */
const loadApi: Effect.Effect<Api> = Effect.promise(() =>
  import("@atproto/api").then((loaded): Api =>
    typeof loaded.RichText === "function" ? loaded : (loaded as unknown as { readonly default: Api }).default
  )
)

/**
 * The slowest upload a video blob's deadline allows for: the blob is one
 * request, so its deadline is the request timeout plus the file at this speed
 * (100 MB: 13 minutes).
 */
const minUploadBytesPerSecond = 128 * 1024

/** How often a video blob's upload reports the bytes sent. */
const progressInterval = Duration.millis(500)

/**
 * The media file as a `Blob` look-alike for `uploadBlob`'s body, read from
 * disk as fetch sends it, counting the bytes fetch takes: fetch sends a
 * Blob-like body from its `size`, `type` and `stream()` (with a
 * `Content-Length`), and reads it again from the start when the client
 * re-sends the request (a refreshed session), which starts the count over.
 */
const countingBody = (file: Blob, onBytes: (sent: number) => void): Blob => {
  const body = {
    size: file.size,
    type: file.type,
    [Symbol.toStringTag]: "Blob",
    stream: () => {
      let sent = 0
      onBytes(0)
      const reader = file.stream().getReader()
      return new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          const { done, value } = await reader.read()
          if (done) return controller.close()
          sent += value.byteLength
          onBytes(sent)
          controller.enqueue(value)
        },
        cancel: (reason) => reader.cancel(reason)
      })
    },
    arrayBuffer: () => file.arrayBuffer(),
    slice: (start?: number, end?: number, type?: string) => file.slice(start, end, type),
    text: () => file.text()
  }
  return body as unknown as Blob
}

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(input ?? fallback))

/** Backoff before the n-th re-send nobody timed (a 5xx, a dropped connection): 1 s, 2 s, 4 s…, at most 30 s. */
const resendDelay = (attempt: number): Duration.Duration => Duration.millis(Math.min(30_000, 1000 * 2 ** (attempt - 1)))

/** The PDS's rate-limit wait: `ratelimit-reset` (epoch seconds), else `Retry-After`. */
const rateLimitWait = (headers: Readonly<Record<string, string>>, now: number): number | undefined => {
  const reset = Number(headers["ratelimit-reset"])
  if (headers["ratelimit-reset"] !== undefined && Number.isFinite(reset)) return Math.max(1000, reset * 1000 - now)
  return parseRetryAfter(headers["retry-after"], now)
}

const detail = (failure: BskyRecord.CallFailure): string =>
  failure.status === 0 ?
    `no answer (${[failure.codes[0], failure.message].filter(Boolean).join(": ") || "connection failed"})` :
    `${failure.status}${failure.error === undefined ? "" : ` ${failure.error}`}`

const platformFields = (failure: BskyRecord.CallFailure) => ({
  platform: "bluesky" as const,
  ...(failure.status === 0 ? {} : { status: failure.status }),
  ...(failure.error === undefined ? {} : { code: failure.error }),
  ...(failure.message === undefined || failure.status === 0 ? {} : { platformMessage: failure.message })
})

const isAuthFailure = (failure: BskyRecord.CallFailure): boolean =>
  failure.status === 401 ||
  (failure.status === 400 && (failure.error === "ExpiredToken" || failure.error === "InvalidToken"))

/** The error of a request that creates nothing (a session, a search, a delete). */
const readError = (failure: BskyRecord.CallFailure, what: string, now: number): PlatformError => {
  if (failure.status === 0) {
    return new PlatformUnavailable({
      platform: "bluesky",
      reason: "transport",
      description: `${what} failed: ${detail(failure)}`
    })
  }
  if (isAuthFailure(failure)) {
    return new AuthExpired({
      ...platformFields(failure),
      reason: "auth_invalid",
      description: "the PDS refused the handle and app password; check bluesky.identifier and create a new app " +
        "password (Settings → Privacy and security → App passwords) for bluesky.app_password"
    })
  }
  if (failure.status === 429) {
    const wait = rateLimitWait(failure.headers, now) ?? 60_000
    return new QuotaExceeded({
      ...platformFields(failure),
      reason: "rate_limited",
      description: `${what}: rate limited; the PDS can be tried again in ${Math.ceil(wait / 1000)} s`,
      retryAfter: wait,
      resetsAt: now + wait
    })
  }
  if (failure.status >= 500) {
    return new PlatformUnavailable({
      ...platformFields(failure),
      reason: "server_error",
      description: `${what}: the PDS answered ${failure.status}`
    })
  }
  return new PlatformRejected({
    ...platformFields(failure),
    reason: failure.status === 404 ? "not_found" : "rejected",
    description: `${what}: the PDS answered ${detail(failure)}`
  })
}

interface Session {
  readonly agent: AtpAgent
  readonly did: string
  readonly handle: string
}

// =============================================================================
// Constructor
// =============================================================================

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Publisher<BlueskyMetadata>> =>
  Effect.gen(function*() {
    const service = (options.service ?? defaultService).replace(/\/+$/, "")
    const maxAttempts = Math.max(1, options.maxAttempts ?? 4)
    const maxWaitMillis = millis(options.maxRateLimitWait, "16 minutes")
    const timeoutMillis = millis(options.requestTimeout, "60 seconds")
    const session = yield* Ref.make(Option.none<Session>())

    /** One call of the client, with the request deadline and interruption wired to its fetch. */
    const call = <A>(
      run: (signal: AbortSignal) => Promise<A>,
      deadlineMillis: number = timeoutMillis
    ): Effect.Effect<A, BskyRecord.CallFailure> =>
      Effect.tryPromise({ try: run, catch: BskyRecord.readFailure }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(deadlineMillis),
          onTimeout: (): BskyRecord.CallFailure => ({
            status: 0,
            error: undefined,
            message: `no answer within ${Math.round(deadlineMillis / 1000)} s`,
            headers: {},
            codes: ["TIMEOUT"]
          })
        })
      )

    /** `com.atproto.server.createSession` with the app password; the agent keeps (and refreshes) the session. */
    const login = Effect.gen(function*() {
      const api = yield* loadApi
      const agent = new api.AtpAgent({ service })
      const now = yield* Clock.currentTimeMillis
      const answer = yield* call(() =>
        agent.login({ identifier: options.identifier, password: Redacted.value(options.appPassword) })
      ).pipe(Effect.mapError((failure) => readError(failure, "signing in (createSession)", now)))
      const opened: Session = { agent, did: answer.data.did, handle: answer.data.handle }
      yield* Ref.set(session, Option.some(opened))
      return opened
    })

    const current = Effect.flatMap(Ref.get(session), Option.match({ onNone: () => login, onSome: Effect.succeed }))

    /** Runs a call in the session, signing in again once when the PDS no longer takes it. */
    const withSession = <A>(
      what: string,
      run: (s: Session, signal: AbortSignal) => Promise<A>,
      deadlineMillis: number = timeoutMillis
    ): Effect.Effect<A, PlatformError> =>
      Effect.gen(function*() {
        const s = yield* current
        const first = yield* Effect.either(call((signal) => run(s, signal), deadlineMillis))
        if (first._tag === "Right") return first.right
        const now = yield* Clock.currentTimeMillis
        if (!isAuthFailure(first.left)) return yield* Effect.fail(readError(first.left, what, now))
        const fresh = yield* login
        return yield* call((signal) => run(fresh, signal), deadlineMillis).pipe(
          Effect.mapError((failure) => readError(failure, what, now))
        )
      })

    /** The post under `rkey`, if the repository has it. */
    const lookup = (rkey: string) =>
      withSession("looking for the post (getRecord)", (s, signal) =>
        s.agent.com.atproto.repo.getRecord({ repo: s.did, collection: BskyRecord.POST_COLLECTION, rkey }, { signal })
          .then(
            (res) => ({ found: true as const, uri: res.data.uri, handle: s.handle }),
            (error: unknown) => {
              const failure = BskyRecord.readFailure(error)
              if (failure.status === 400 && failure.error === "RecordNotFound") {
                return { found: false as const }
              }
              throw error
            }
          ))

    const toPost = (uri: string, handle: string): PublishedPost => {
      const parsed = BskyRecord.parsePostUri(uri)
      return new PublishedPost({
        publisher: "bluesky",
        postId: uri,
        ...(parsed === undefined ? {} : { url: BskyRecord.webUrl(handle, parsed.rkey) })
      })
    }

    const validate = (metadata: BlueskyMetadata, media: MediaFile) =>
      Effect.map(
        metadata.attachVideo === true ? readHeader(media) : Effect.succeed(undefined),
        (header) =>
          checkMetadata(metadata, media, header)
      )

    const checkMetadata = (metadata: BlueskyMetadata, media: MediaFile, header: Mp4.HeaderResult | undefined) => {
      const issues: Array<Issue> = []
      const text = fillPlaceholders(metadata.text)
      const video = metadata.attachVideo === true
      if (text.trim() === "" && !video) {
        issues.push(new Issue({ path: ["text"], message: "the Bluesky text is empty; write the post text" }))
      }
      if (video) {
        issues.push(...videoIssues(metadata, media, header))
      }
      if (!video && metadata.alt !== undefined) {
        issues.push(
          new Issue({
            path: ["alt"],
            message: "alt is the alt text of an attached video: add attachVideo: true, or remove alt"
          })
        )
      }
      const graphemes = BskyRecord.graphemeLength(text)
      if (graphemes > BskyRecord.MAX_GRAPHEMES) {
        issues.push(
          new Issue({
            path: ["text"],
            message: `the Bluesky text is ${graphemes} graphemes once filled (an emoji counts 1); Bluesky ` +
              `allows ${BskyRecord.MAX_GRAPHEMES}: remove ${graphemes - BskyRecord.MAX_GRAPHEMES}`
          })
        )
      } else if (BskyRecord.utf8Length(text) > BskyRecord.MAX_TEXT_BYTES) {
        issues.push(
          new Issue({
            path: ["text"],
            message: `the Bluesky text is ${BskyRecord.utf8Length(text)} bytes of UTF-8 once filled; Bluesky allows ` +
              `${BskyRecord.MAX_TEXT_BYTES}: shorten it`
          })
        )
      }
      if (metadata.link !== undefined && metadata.link !== "") {
        const link = fillPlaceholders(metadata.link)
        if (!/^https?:\/\/\S+$/.test(link)) {
          issues.push(
            new Issue({
              path: ["link"],
              message: `the Bluesky link card needs an http(s) URL, got ${JSON.stringify(metadata.link)}; ` +
                `use a URL or a template such as "{youtube_url}", or "" for no card`
            })
          )
        }
      }
      ;(metadata.langs ?? []).forEach((lang, i) => {
        if (!/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$/.test(lang)) {
          issues.push(
            new Issue({
              path: ["langs", i],
              message: `${JSON.stringify(lang)} is not a BCP-47 language tag; use e.g. "en" or "pt-BR"`
            })
          )
        }
      })
      if ((metadata.langs ?? []).length > 3) {
        issues.push(new Issue({ path: ["langs"], message: "Bluesky takes at most 3 languages per post" }))
      }
      return issues as ReadonlyArray<Issue>
    }

    // Reading a video's header needs a file system: the application's, else Node's.
    const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
    /** The MP4 header's duration and display size (`moov`, without reading the media). */
    const readHeader = (media: MediaFile): Effect.Effect<Mp4.HeaderResult> =>
      Option.isSome(fs) ?
        Effect.provideService(Mp4.read(media.path), FileSystem.FileSystem, fs.value) :
        Effect.provide(Mp4.read(media.path), NodeFileSystem.layer)

    /** The rules of a video post (`attachVideo`), checked at submit before any byte is sent. */
    const videoIssues = (
      metadata: BlueskyMetadata,
      media: MediaFile,
      header: Mp4.HeaderResult | undefined
    ): Array<Issue> => {
      const issues: Array<Issue> = []
      const { maxAltGraphemes, maxBytes, maxSeconds, mimeType } = BskyRecord.videoLimits
      if (media.mimeType === mimeType && header?._tag === "Unreadable") {
        issues.push(
          new Issue({
            path: ["attachVideo"],
            message: `cannot read the duration of ${media.path} from its MP4 header (${header.reason}); Bluesky ` +
              `takes videos of at most ${maxSeconds / 60} minutes: re-encode it as MP4, or post a link card ` +
              "instead (remove attachVideo)"
          })
        )
      }
      if (header?._tag === "Ok" && header.header.durationSeconds > maxSeconds) {
        issues.push(
          new Issue({
            path: ["attachVideo"],
            message: `${media.name} is ${Math.round(header.header.durationSeconds * 10) / 10} s long; Bluesky ` +
              `takes videos of at most ${maxSeconds} s (${maxSeconds / 60} minutes): trim it, or post a link ` +
              "card instead (remove attachVideo)"
          })
        )
      }
      if (media.mimeType !== mimeType) {
        issues.push(
          new Issue({
            path: ["attachVideo"],
            message: `${media.name} is ${media.mimeType}; Bluesky embeds ${mimeType} videos only: convert it ` +
              "to MP4, or post a link card instead (remove attachVideo)"
          })
        )
      }
      if (media.size > maxBytes) {
        issues.push(
          new Issue({
            path: ["attachVideo"],
            message: `${media.name} is ${media.size} bytes; Bluesky takes videos of at most ${maxBytes} bytes ` +
              "(100 MB): compress it, or post a link card instead (remove attachVideo)"
          })
        )
      }
      if (metadata.link !== undefined && metadata.link !== "") {
        issues.push(
          new Issue({
            path: ["link"],
            message: "a Bluesky post has one embed, and the attached video takes the link card's place: " +
              "remove link (or attachVideo); links in the text still become rich text"
          })
        )
      }
      if (metadata.alt !== undefined) {
        const alt = fillPlaceholders(metadata.alt)
        const length = BskyRecord.graphemeLength(alt)
        if (length > maxAltGraphemes) {
          issues.push(
            new Issue({
              path: ["alt"],
              message: `the video's alt text is ${length} graphemes once filled; Bluesky allows ` +
                `${maxAltGraphemes}: remove ${length - maxAltGraphemes}`
            })
          )
        }
      }
      return issues
    }

    /** Whether a rate-limited call may wait and go again: the wait announced and slept; `false` when too long. */
    const waitOut = (
      error: QuotaExceeded,
      attempt: number,
      context: PostContext<BlueskyMetadata>
    ): Effect.Effect<boolean> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        // A 429 answers before the write: nothing was created.
        const wait = error.retryAfter ?? 60_000
        if (wait > maxWaitMillis || attempt >= maxAttempts) {
          return false
        }
        Metrics.unsafeIncrement(Metrics.rateLimitWaits.bluesky)
        Metrics.unsafeIncrement(Metrics.rateLimitWaitSeconds.bluesky, wait / 1000)
        yield* Spans.event("rate_limit_wait", { "medusa.wait_ms": wait, "medusa.reason": "rate limited" })
        if (context.onWait !== undefined) {
          yield* context.onWait({ reason: "rate limited", until: now + wait })
        }
        yield* Effect.sleep(Duration.millis(wait))
        return true
      })

    /**
     * Uploads the media file as a blob (`com.atproto.repo.uploadBlob`, one
     * request) and returns the `BlobRef` the PDS answered, for the video embed.
     * Progress is the bytes fetch has taken from the file, reported every
     * `progressInterval`; the PDS acknowledges them all at once by answering.
     *
     * Re-sending is safe: the same bytes are the same blob (its CID is their
     * hash). A blob no record references is harmless: the PDS keeps an upload
     * as a temporary blob until a record refers to it, and garbage-collects it
     * otherwise, so a post that fails or is cancelled after the upload leaves
     * nothing in the account (nothing to abandon).
     */
    const uploadVideo = (context: PostContext<BlueskyMetadata>): Effect.Effect<unknown, PlatformError> =>
      Effect.gen(function*() {
        const { media } = context
        const file = yield* Effect.tryPromise({
          try: () =>
            openAsBlob(media.path, { type: BskyRecord.videoLimits.mimeType }),
          catch: (cause) =>
            new PlatformRejected({
              platform: "bluesky",
              reason: "invalid_metadata",
              description: `could not read ${media.path} for the Bluesky video: ${String(cause)}`
            })
        })
        let sent = 0
        const report = (acknowledged: number, note?: string) =>
          context.upload === undefined ? Effect.void : context.upload.onProgress(
            new UploadProgress({
              host: "bluesky",
              bytesSent: sent,
              bytesAcknowledged: acknowledged,
              totalBytes: media.size,
              ...(note === undefined ? {} : { note })
            })
          )
        const reporting: Effect.Effect<never> = Effect.forever(
          Effect.zipRight(Effect.sleep(progressInterval), Effect.suspend(() => report(0)))
        )
        const deadline = timeoutMillis + Math.ceil((media.size / minUploadBytesPerSecond) * 1000)
        const send = withSession(
          "uploading the video (uploadBlob)",
          (s, signal) =>
            s.agent.com.atproto.repo.uploadBlob(
              countingBody(file, (n) => {
                sent = n
              }),
              { signal, encoding: BskyRecord.videoLimits.mimeType }
            ).then((res) => res.data.blob),
          deadline
        )
        yield* report(0)
        for (let attempt = 1;; attempt++) {
          const answer = yield* Effect.either(Effect.raceFirst(Spans.attempt(attempt)(send), reporting))
          if (answer._tag === "Right") {
            sent = media.size
            yield* report(media.size)
            return answer.right
          }
          const error = answer.left
          if (error._tag === "QuotaExceeded" && (yield* waitOut(error, attempt, context))) continue
          if (error._tag === "PlatformRejected") {
            return yield* Effect.fail(
              new PlatformRejected({
                platform: "bluesky",
                reason: "rejected",
                ...(error.status === undefined ? {} : { status: error.status }),
                ...(error.code === undefined ? {} : { code: error.code }),
                ...(error.platformMessage === undefined ? {} : { platformMessage: error.platformMessage }),
                description: `the PDS refused the video (${media.size} bytes) as a blob; a PDS may take less than ` +
                  "Bluesky's 100 MB: compress the video, or post a link card instead (remove attachVideo)"
              })
            )
          }
          if (error._tag !== "PlatformUnavailable" || attempt >= maxAttempts) return yield* Effect.fail(error)
          Metrics.unsafeIncrement(Metrics.retries.bluesky.upload)
          yield* Spans.event("retry", { [Spans.Attr.attempt]: attempt + 1, "medusa.reason": error.reason })
          yield* report(0, `the video upload failed (${error.description ?? error.reason}); sending it again`)
          yield* Effect.sleep(resendDelay(attempt))
        }
      })

    /** The link card: the request's `link`, else the first uploaded video; none for `link: ""`. */
    const cardOf = (context: PostContext<BlueskyMetadata>): BskyRecord.LinkCard | undefined => {
      const { metadata, videos } = context
      const video = videos[0]
      const uri = metadata.link ?? video?.url
      if (uri === undefined || uri === "") {
        return undefined
      }
      const sameVideo = videos.find((v) => v.url === uri)
      return {
        uri,
        title: metadata.title ?? sameVideo?.title ?? context.media.name,
        description: metadata.description ?? ""
      }
    }

    const post = Effect.fn("Bluesky.post")(function*(context: PostContext<BlueskyMetadata>) {
      const text = context.metadata.text
      const graphemes = BskyRecord.graphemeLength(text)
      if (graphemes > BskyRecord.MAX_GRAPHEMES || BskyRecord.utf8Length(text) > BskyRecord.MAX_TEXT_BYTES) {
        // Checked at submit with placeholders; the real links may still differ.
        return yield* Effect.fail(
          new PlatformRejected({
            platform: "bluesky",
            reason: "invalid_metadata",
            description: `metadata.bluesky.text is ${graphemes} graphemes once filled; Bluesky allows ` +
              `${BskyRecord.MAX_GRAPHEMES} (and ${BskyRecord.MAX_TEXT_BYTES} bytes)`
          })
        )
      }
      const api = yield* loadApi
      const rich = new api.RichText({ text })
      rich.detectFacetsWithoutResolution()
      const rkey = BskyRecord.recordKey(context.taskId, context.taskCreatedAt)
      let video: BskyRecord.VideoEmbed | undefined
      if (context.metadata.attachVideo === true) {
        // A run after a crash finds the post made before it, and sends no video again.
        const found = yield* lookup(rkey)
        if (found.found) return toPost(found.uri, found.handle)
        const header = yield* readHeader(context.media)
        video = {
          blob: yield* uploadVideo(context),
          alt: context.metadata.alt,
          aspectRatio: header._tag === "Ok" ? { width: header.header.width, height: header.header.height } : undefined
        }
      }
      const record = BskyRecord.postRecord({
        text: rich.text,
        facets: BskyRecord.linkAndTagFacets(rich.facets as ReadonlyArray<BskyRecord.Facet> | undefined),
        card: video === undefined ? cardOf(context) : undefined,
        video,
        langs: context.metadata.langs,
        createdAt: new Date(yield* Clock.currentTimeMillis).toISOString()
      })
      const create = withSession("the post (createRecord)", (s, signal) =>
        s.agent.com.atproto.repo.createRecord({
          repo: s.did,
          collection: BskyRecord.POST_COLLECTION,
          rkey,
          record
        }, { signal }).then((res) => ({ uri: res.data.uri, handle: s.handle })))

      // Signing in first: a PDS that cannot be reached or refuses the password fails the post before any write.
      yield* current
      let lastUnknown: PlatformError | undefined
      for (let attempt = 1;; attempt++) {
        const sent = yield* Effect.either(Spans.attempt(attempt)(create))
        if (sent._tag === "Right") return toPost(sent.right.uri, sent.right.handle)
        const error = sent.left
        if (error._tag === "AuthExpired") return yield* Effect.fail(error)
        if (error._tag === "QuotaExceeded") {
          if (yield* waitOut(error, attempt, context)) continue
          return yield* Effect.fail(error)
        }
        // Anything else may or may not have written the record (a lost answer, a 5xx, a refusal of the key
        // because an earlier attempt wrote it): the key says which.
        const found = yield* Effect.either(lookup(rkey))
        if (found._tag === "Right" && found.right.found) {
          yield* Effect.logInfo(
            "Bluesky: the post is in the repository under the task's record key (an earlier attempt wrote it)"
          )
          Metrics.unsafeIncrement(Metrics.postReconciliations.bluesky.found)
          return toPost(found.right.uri, found.right.handle)
        }
        if (found._tag === "Right") Metrics.unsafeIncrement(Metrics.postReconciliations.bluesky.not_found)
        if (error._tag === "PlatformRejected" && found._tag === "Right") {
          // The PDS refused the record itself (lexicon validation): it is not there, and a re-send is refused too.
          return yield* Effect.fail(
            new PlatformRejected({
              platform: "bluesky",
              reason: "invalid_metadata",
              ...(error.status === undefined ? {} : { status: error.status }),
              ...(error.code === undefined ? {} : { code: error.code }),
              ...(error.platformMessage === undefined ? {} : { platformMessage: error.platformMessage }),
              description: "the PDS refused the post record; check metadata.bluesky"
            })
          )
        }
        lastUnknown = found._tag === "Left" ? error : undefined
        if (attempt >= maxAttempts) {
          if (lastUnknown === undefined) return yield* Effect.fail(error)
          return yield* Effect.fail(
            new PostOutcomeUnknown({
              platform: "bluesky",
              reason: "post_outcome_unknown",
              ...(error.status === undefined ? {} : { status: error.status }),
              platformMessage: `the post may or may not have been written (${error.description ?? error.reason})`,
              description: `Looking for it under its record key ${rkey} failed too ` +
                `(${found._tag === "Left" ? found.left.description ?? found.left.reason : ""}). A re-run writes ` +
                "the same record key, so it cannot post twice."
            })
          )
        }
        // Not in the repository: a re-send under the same key is safe whatever became of the first.
        Metrics.unsafeIncrement(Metrics.retries.bluesky.post)
        yield* Spans.event("retry", { [Spans.Attr.attempt]: attempt + 1, "medusa.reason": error.reason })
        // A server in trouble gets a backoff; a lost connection, once the record is known absent, does not.
        if (error.status !== undefined && error.status >= 500) yield* Effect.sleep(resendDelay(attempt))
      }
    })

    const find = Effect.fn("Bluesky.find")(function*(context: FindContext<BlueskyMetadata>) {
      const found = yield* lookup(BskyRecord.recordKey(context.taskId, context.taskCreatedAt))
      return found.found ? Option.some(toPost(found.uri, found.handle)) : Option.none()
    })

    const retract = Effect.fn("Bluesky.retract")(function*(published: PublishedPost) {
      const parsed = BskyRecord.parsePostUri(published.postId)
      if (parsed === undefined) {
        return yield* Effect.fail(
          new PlatformRejected({
            platform: "bluesky",
            reason: "not_found",
            description: `${published.postId} is not the at:// URI of a Bluesky post`
          })
        )
      }
      const found = yield* lookup(parsed.rkey)
      if (!found.found) return "gone" as const
      yield* withSession("deleting the post (deleteRecord)", (s, signal) =>
        s.agent.com.atproto.repo.deleteRecord(
          { repo: s.did, collection: BskyRecord.POST_COLLECTION, rkey: parsed.rkey },
          { signal }
        ))
      return "deleted" as const
    })

    return BlueskyPublisher.of({
      id: "bluesky",
      account: options.identifier,
      validate,
      post,
      find,
      canFind: true,
      settleMillis: millis(options.settleTime, settleTime),
      retract
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<BlueskyPublisher> => Layer.effect(BlueskyPublisher, make(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<BlueskyPublisher, ConfigError.ConfigError> =>
  Layer.effect(BlueskyPublisher, Effect.flatMap(Config.unwrap(options), make))

// =============================================================================
// Credential check
// =============================================================================

/**
 * What `medusa auth check` reports about the Bluesky credentials.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly platform: "bluesky"
  /** The credentials work. */
  readonly ok: boolean
  /** The PDS accepted the identifier and app password. */
  readonly valid: boolean
  readonly did: string | undefined
  readonly handle: string | undefined
  /** Human-readable problems, each with what to do. Never contains a credential. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Checks the identifier and app password with `createSession` on the PDS.
 * Refused credentials are a report with `valid: false`; the effect fails
 * only when the PDS cannot be asked.
 *
 * @since 0.1.0
 * @category credentials
 */
export const checkCredentials = (options: Options): Effect.Effect<CredentialReport, PlatformError> =>
  Effect.gen(function*() {
    const service = (options.service ?? defaultService).replace(/\/+$/, "")
    const api = yield* loadApi
    const agent = new api.AtpAgent({ service })
    const now = yield* Clock.currentTimeMillis
    const answer = yield* Effect.either(Effect.tryPromise({
      try: (signal) =>
        agent.com.atproto.server.createSession(
          { identifier: options.identifier, password: Redacted.value(options.appPassword) },
          { signal }
        ),
      catch: BskyRecord.readFailure
    }))
    if (answer._tag === "Right") {
      return {
        platform: "bluesky",
        ok: true,
        valid: true,
        did: answer.right.data.did,
        handle: answer.right.data.handle,
        problems: []
      } satisfies CredentialReport
    }
    if (!isAuthFailure(answer.left)) {
      return yield* Effect.fail(readError(answer.left, "signing in (createSession)", now))
    }
    return {
      platform: "bluesky",
      ok: false,
      valid: false,
      did: undefined,
      handle: undefined,
      problems: [
        `the PDS at ${service} refused ${options.identifier} with this app password: check bluesky.identifier ` +
        "and create a new app password (Settings → Privacy and security → App passwords) for bluesky.app_password"
      ]
    } satisfies CredentialReport
  })
