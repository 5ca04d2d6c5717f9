/**
 * The LinkedIn publisher: posts the filled text as commentary with the first
 * host's link as an article, through the versioned REST Posts API.
 *
 * ```ts
 * const LinkedInLive = LinkedIn.layer({
 *   accessToken: Redacted.make(token), authorUrn: "urn:li:person:abc123"
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as PostOnce from "../../internal/http/postOnce.js"
import * as Resumable from "../../internal/http/resumable.js"
import * as Ledger from "../../internal/quota/ledger.js"
import * as PostLimit from "../../internal/quota/posts.js"
import {
  type FindContext,
  LinkedInPublisher,
  madeAfter,
  type MediaFile,
  type MediaUpload,
  type PostContext,
  PublishedPost,
  type Publisher,
  type UploadedVideo
} from "../../Platform.js"
import { AuthExpired, Issue, PlatformRejected, PlatformUnavailable } from "../../PublishError.js"
import type { LinkedInMetadata } from "../../PublishRequest.js"
import * as LittleText from "./internal/littleText.js"
import * as Video from "./internal/video.js"

// =============================================================================
// Options
// =============================================================================

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl: string = "https://api.linkedin.com"

/**
 * The settle time of LinkedIn posts (`Publisher.settleMillis`): 5 minutes
 * after a post's intent, a post its request made is taken to show in
 * the posts finder (`GET /rest/posts?q=author`). LinkedIn documents no delay before a new post is in the author finder, so the figure is conservative: the post
 * request's own deadline (60 s by default) and minutes of listing delay.
 * After it, a search that finds nothing means the request made no post, and
 * the engine posts. Platforms that list a post at once (the sandbox) can
 * set a shorter one (`settleTime`, config `settle_time`).
 *
 * @since 0.1.0
 * @category constants
 */
export const settleTime: Duration.Duration = Duration.minutes(5)

/**
 * The `LinkedIn-Version` sent when none is configured (latest in the fact
 * sheet). LinkedIn supports a version for at least a year, then answers
 * `426`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultApiVersion: string = "202607"

/**
 * Longest commentary, in characters. Counted on the escaped text (what is
 * sent), the stricter reading of an undocumented detail.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxCommentaryLength: number = 3000

/**
 * Posts a member or an organization may make a day (UTC) before the quota
 * plan holds the next task until midnight UTC: 150. LinkedIn documents
 * daily limits per member and per application, reset at midnight UTC, but
 * publishes no figure; 150 posts a day per member is a third-party reading,
 * not verified. Organizations are given the same figure, the conservative
 * reading (none is known for them). Set `dailyPostLimit` (config
 * `linkedin.daily_post_limit`) to the app's figure from the Developer Portal.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultDailyPostLimit: number = 150

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly accessToken: Redacted.Redacted<string>
  /** `urn:li:person:{id}` or `urn:li:organization:{id}`. */
  readonly authorUrn: string
  /** Replaces `https://api.linkedin.com` (the sandbox, a proxy). */
  readonly baseUrl?: string | undefined
  /** `LinkedIn-Version` (`YYYYMM`), default `202607`. */
  readonly apiVersion?: string | undefined
  /** Attempts of one post in all, when LinkedIn says nothing was created (default 4). */
  readonly maxAttempts?: number | undefined
  /** A rate-limit wait longer than this fails the task with `rate_limited` instead (default 16 minutes). */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
  /** A post request unanswered for this long has an unknown outcome (default 60 seconds). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /**
   * How long after a post's intent its post is certain to show in the
   * platform's listing (default `settleTime`, 5 minutes); see `Publisher.settleMillis`.
   */
  readonly settleTime?: Duration.DurationInput | undefined
  /** Deadlines and bounds of a native video's upload (`video: true`); the hosts' defaults. */
  readonly videoUpload?: Resumable.VideoUploadOptions | undefined
  /** Posts the author may make a UTC day, as the quota plan counts them (default `defaultDailyPostLimit`). */
  readonly dailyPostLimit?: number | undefined
  /**
   * The ledger of accepted posts the plan reads (shared by every process
   * naming it); absent: kept in this process's memory. The config's default
   * is `.medusa/linkedin-posts.json` beside the config file.
   */
  readonly ledgerFile?: string | undefined
}

// =============================================================================
// Internals
// =============================================================================

type Answer = PostOnce.Answer

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(input ?? fallback))

const asRecord = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>) : undefined

const postUrl = (urn: string): string => `https://www.linkedin.com/feed/update/${urn}/`

const toPost = (urn: string): PublishedPost =>
  new PublishedPost({ publisher: "linkedin", postId: urn, url: postUrl(urn) })

/** Next midnight UTC: LinkedIn's daily limits reset then. */
const nextMidnightUtc = Ledger.dailyUtc.nextReset

/** The article card's title when the video has none recorded: the file name without its extension. */
const articleTitle = (media: MediaFile): string => media.name.replace(/\.[^.]+$/, "") || media.name

const DUPLICATE = /duplicate/i

const AUTHOR_URN = /^urn:li:(person|organization):[^:\s]+$/

// =============================================================================
// Constructor
// =============================================================================

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Publisher<LinkedInMetadata>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")
    const version = options.apiVersion ?? defaultApiVersion
    const http = yield* HttpClient.HttpClient
    const policy: PostOnce.PostPolicy = {
      maxAttempts: options.maxAttempts ?? PostOnce.defaultPolicy.maxAttempts,
      maxWaitMillis: millis(options.maxRateLimitWait, Duration.millis(PostOnce.defaultPolicy.maxWaitMillis)),
      timeoutMillis: millis(options.requestTimeout, Duration.millis(PostOnce.defaultPolicy.timeoutMillis))
    }
    const postLimit = yield* PostLimit.make({
      file: options.ledgerFile,
      key: options.authorUrn,
      limit: options.dailyPostLimit ?? defaultDailyPostLimit,
      window: Ledger.dailyUtc,
      windowMillis: 24 * 60 * 60 * 1000,
      waitReason: "LinkedIn daily limit",
      what: "LinkedIn post ledger"
    })
    const permission = options.authorUrn.startsWith("urn:li:organization:") ?
      "w_organization_social" :
      "w_member_social"

    const send = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<Answer, HttpClientError.HttpClientError> =>
      http.execute(
        request.pipe(
          HttpClientRequest.prependUrl(base),
          HttpClientRequest.bearerToken(options.accessToken),
          HttpClientRequest.setHeaders({ "LinkedIn-Version": version, "X-Restli-Protocol-Version": "2.0.0" }),
          HttpClientRequest.acceptJson
        )
      ).pipe(
        Effect.flatMap(PostOnce.readAnswer),
        Effect.scoped
      )

    const classify = (answer: Answer, now: number, what: string): PostOnce.AttemptFailed => {
      const body = asRecord(answer.body)
      const message = typeof body?.message === "string" ? body.message : undefined
      const code = body?.serviceErrorCode !== undefined ? String(body.serviceErrorCode) : undefined
      const common = {
        platform: "linkedin" as const,
        status: answer.status,
        ...(code !== undefined ? { code } : {}),
        ...(message !== undefined ? { platformMessage: message } : {})
      }
      switch (answer.status) {
        case 401:
          return PostOnce.fail(
            new AuthExpired({
              ...common,
              reason: "auth_expired",
              description: "the LinkedIn access token is expired or revoked (they last 60 days); authorize the app " +
                "again and update linkedin.access_token"
            })
          )
        case 403:
          return PostOnce.fail(
            new AuthExpired({
              ...common,
              reason: "permission_missing",
              description: `LinkedIn refused ${what}: the token needs the ${permission} scope for ` +
                `${options.authorUrn}; authorize the app with it and update linkedin.access_token`
            })
          )
        case 426:
          return PostOnce.fail(
            new PlatformRejected({
              ...common,
              reason: "version_sunset",
              description: `LinkedIn no longer serves API version ${version}; raise linkedin.api_version to a ` +
                `current YYYYMM version (e.g. ${defaultApiVersion} or later)`
            })
          )
        case 429: {
          const wait = PostOnce.retryAfterMillis(answer.headers["retry-after"], now)
          if (wait !== undefined) {
            return PostOnce.rateLimited({
              platform: "linkedin",
              status: answer.status,
              code,
              platformMessage: message,
              waitMillis: wait,
              fallbackMillis: wait,
              now
            })
          }
          // No hint: LinkedIn's limits are daily and reset at midnight UTC.
          const resetsAt = nextMidnightUtc(now)
          return PostOnce.rateLimited({
            platform: "linkedin",
            status: answer.status,
            code,
            platformMessage: message,
            waitMillis: resetsAt - now,
            fallbackMillis: resetsAt - now,
            now,
            description: `LinkedIn's daily limit for this app or member is reached; it resets at ${
              new Date(resetsAt).toISOString()
            }`
          })
        }
      }
      if ((answer.status === 400 || answer.status === 409 || answer.status === 422) && DUPLICATE.test(message ?? "")) {
        return PostOnce.fail(
          new PlatformRejected({
            ...common,
            reason: "duplicate_post",
            description: "LinkedIn already has this post; change metadata.linkedin.text"
          })
        )
      }
      if (answer.status === 400 || answer.status === 422) {
        return PostOnce.fail(
          new PlatformRejected({ ...common, reason: "invalid_metadata", description: `LinkedIn rejected ${what}` })
        )
      }
      if (answer.status === 404) {
        return PostOnce.fail(
          new PlatformRejected({
            ...common,
            reason: "not_found",
            description: `LinkedIn does not know ${options.authorUrn} or the route; check linkedin.author_urn`
          })
        )
      }
      if (answer.status >= 500) {
        return PostOnce.unknown(
          new PlatformUnavailable({
            ...common,
            reason: "server_error",
            description: `LinkedIn answered ${answer.status}`
          })
        )
      }
      return PostOnce.fail(
        new PlatformRejected({ ...common, reason: "rejected", description: `LinkedIn answered ${answer.status}` })
      )
    }

    const validate = (metadata: LinkedInMetadata, media: MediaFile) =>
      Effect.sync(() => {
        const issues: Array<Issue> = metadata.video === true ? [...Video.validateFile(media)] : []
        const text = PostOnce.fillPlaceholders(metadata.text)
        if (text.trim() === "") {
          issues.push(new Issue({ path: ["text"], message: "the LinkedIn text is empty; write the post text" }))
        }
        const escaped = LittleText.escape(text)
        if (escaped.length > maxCommentaryLength) {
          issues.push(
            new Issue({
              path: ["text"],
              message: `the LinkedIn text is ${escaped.length} characters once filled and escaped (each of ` +
                `\\ | { } @ [ ] ( ) < > # * _ ~ takes 2); LinkedIn allows ${maxCommentaryLength}: remove ${
                  escaped.length - maxCommentaryLength
                }`
            })
          )
        }
        return issues as ReadonlyArray<Issue>
      })

    /** Looks for a post with the same text, created after `sentAfter`, among the author's recent posts. */
    const search = (text: string, sentAfter: number) =>
      Effect.gen(function*() {
        const answer = yield* send(
          HttpClientRequest.get("/rest/posts").pipe(
            HttpClientRequest.setUrlParams({
              q: "author",
              author: options.authorUrn,
              count: "20",
              sortBy: "LAST_MODIFIED"
            })
          )
        ).pipe(Effect.mapError((e) => PostOnce.transportError("linkedin", e, "searching the author's posts")))
        if (answer.status >= 400) {
          return yield* Effect.fail(classify(answer, yield* Clock.currentTimeMillis, "the post search").error)
        }
        const elements = asRecord(answer.body)?.elements
        const found = (Array.isArray(elements) ? elements : []).map(asRecord).find((p) =>
          typeof p?.id === "string" && typeof p.commentary === "string" &&
          PostOnce.sameText(LittleText.unescape(p.commentary), text) &&
          madeAfter(PostOnce.parseTime(p.createdAt), sentAfter)
        )
        return found === undefined ? Option.none() : Option.some(toPost(found.id as string))
      })

    const requestBody = (
      text: string,
      videos: ReadonlyArray<UploadedVideo>,
      media: MediaFile,
      videoUrn: string | undefined
    ) => {
      const first = videos[0]
      return {
        author: options.authorUrn,
        commentary: LittleText.escape(text),
        visibility: "PUBLIC",
        distribution: { feedDistribution: "MAIN_FEED", targetEntities: [], thirdPartyDistributionChannels: [] },
        lifecycleState: "PUBLISHED",
        isReshareDisabledByAuthor: false,
        ...(videoUrn !== undefined ?
          { content: { media: { id: videoUrn, title: first?.title ?? articleTitle(media) } } } :
          first === undefined ?
          {} :
          { content: { article: { source: first.url, title: first.title ?? articleTitle(media) } } })
      }
    }

    const attempt = (context: PostContext<LinkedInMetadata>, videoUrn: string | undefined) =>
      Effect.gen(function*() {
        const answer = yield* send(
          HttpClientRequest.post("/rest/posts").pipe(
            HttpClientRequest.bodyUnsafeJson(
              requestBody(context.metadata.text, context.videos, context.media, videoUrn)
            )
          )
        ).pipe(Effect.mapError((e) => PostOnce.classifyPostTransport("linkedin", e)))
        const now = yield* Clock.currentTimeMillis
        if (answer.status >= 200 && answer.status < 300) {
          const id = answer.headers["x-restli-id"] ?? asRecord(answer.body)?.id
          if (typeof id === "string" && id !== "") return toPost(id)
          return yield* Effect.fail(
            PostOnce.unknown(
              new PlatformUnavailable({
                platform: "linkedin",
                reason: "server_error",
                status: answer.status,
                description: "LinkedIn accepted the post but its answer carried no x-restli-id"
              })
            )
          )
        }
        return yield* Effect.fail(classify(answer, now, "the post"))
      })

    const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
    const provideFs = <A, E>(
      effect: Effect.Effect<A, E, FileSystem.FileSystem | HttpClient.HttpClient>
    ): Effect.Effect<A, E> =>
      effect.pipe(
        Effect.provideService(HttpClient.HttpClient, http),
        (e) =>
          Option.isSome(fs)
            ? Effect.provideService(e, FileSystem.FileSystem, fs.value)
            : Effect.provide(e, NodeFileSystem.layer)
      )
    const videoClient: Video.VideoClient = { owner: options.authorUrn, send }
    const videoRetry = Resumable.makeUploadRetryPolicy(options.videoUpload?.retry)
    const noUpload: MediaUpload = {
      saved: Effect.succeedNone,
      onSession: () => Effect.void,
      onProgress: () => Effect.void
    }

    const post = Effect.fn("LinkedIn.post")(function*(context: PostContext<LinkedInMetadata>) {
      if (!AUTHOR_URN.test(options.authorUrn)) {
        return yield* Effect.fail(
          new PlatformRejected({
            platform: "linkedin",
            reason: "invalid_metadata",
            description: `linkedin.author_urn "${options.authorUrn}" is not a member or organization URN; ` +
              "use urn:li:person:<id> or urn:li:organization:<id>"
          })
        )
      }
      const escaped = LittleText.escape(context.metadata.text)
      if (escaped.length > maxCommentaryLength) {
        return yield* Effect.fail(
          new PlatformRejected({
            platform: "linkedin",
            reason: "invalid_metadata",
            description: `metadata.linkedin.text is ${escaped.length} characters once filled and escaped; ` +
              `LinkedIn allows ${maxCommentaryLength}`
          })
        )
      }
      // Native video: the file through the Videos API first; the post carries its URN.
      const videoUrn = context.metadata.video === true ?
        yield* provideFs(Video.upload(videoClient, {
          media: context.media,
          upload: context.upload ?? noUpload,
          onWait: context.onWait,
          retryPolicy: videoRetry,
          limits: options.videoUpload,
          progressIntervalMillis: options.videoUpload?.progressIntervalMillis
        })) :
        undefined
      return yield* PostOnce.postOnce({
        platform: "linkedin",
        policy,
        onWait: context.onWait,
        attempt: attempt(context, videoUrn),
        find: (sentAfter) => search(context.metadata.text, sentAfter),
        hint: `Check the recent activity of ${options.authorUrn} on https://www.linkedin.com for this text ` +
          "before running the task again."
      }).pipe(
        // The ledger counts what LinkedIn made (a 429 fails before this).
        Effect.tap(() => postLimit.count)
      )
    })

    const find = Effect.fn("LinkedIn.find")(function*(context: FindContext<LinkedInMetadata>) {
      return yield* search(context.metadata.text, context.intentAt)
    })

    const retract = Effect.fn("LinkedIn.retract")(function*(published: PublishedPost) {
      const answer = yield* send(HttpClientRequest.del(`/rest/posts/${encodeURIComponent(published.postId)}`)).pipe(
        Effect.mapError((e) => PostOnce.transportError("linkedin", e, "deleting the post"))
      )
      if (answer.status === 404) return "gone" as const
      if (answer.status >= 400) {
        return yield* Effect.fail(classify(answer, yield* Clock.currentTimeMillis, "deleting the post").error)
      }
      return "deleted" as const
    })

    return LinkedInPublisher.of({
      id: "linkedin",
      account: options.authorUrn,
      validate,
      allowances: Effect.map(postLimit.allowances, (allowances) => () => allowances),
      post,
      find,
      canFind: true,
      settleMillis: millis(options.settleTime, settleTime),
      retract,
      // LinkedIn documents no delete for a video whose upload was never finalized: it is left,
      // in no post, and the task's history says so.
      abandonUpload: (session) =>
        Effect.succeed(
          session.host === "linkedin" ?
            `left the unfinished video upload${session.videoId === undefined ? "" : ` ${session.videoId}`}: ` +
            "LinkedIn documents no way to delete a video whose upload was never finalized; it is in no post" :
            undefined
        )
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<LinkedInPublisher, never, HttpClient.HttpClient> =>
  Layer.effect(LinkedInPublisher, make(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<LinkedInPublisher, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(LinkedInPublisher, Effect.flatMap(Config.unwrap(options), make))

// =============================================================================
// Credential check
// =============================================================================

/**
 * What `medusa auth check` reports about the LinkedIn token.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly platform: "linkedin"
  /** The token works with this version and can search the author's posts. */
  readonly ok: boolean
  /** LinkedIn accepted the token. */
  readonly valid: boolean
  readonly authorUrn: string
  readonly apiVersion: string
  /** Human-readable problems, each with what to do. Never contains the token. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Checks the token, the API version and the author with one read of the
 * author finder (`GET /rest/posts?q=author`), which is also what Medusa uses
 * to confirm a post whose answer was lost. An invalid token or a retired
 * version is a report; the effect fails only when LinkedIn cannot be asked.
 *
 * @since 0.1.0
 * @category credentials
 */
export const checkCredentials = (
  options: Options
): Effect.Effect<CredentialReport, PlatformUnavailable, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")
    const version = options.apiVersion ?? defaultApiVersion
    const http = yield* HttpClient.HttpClient
    const report = (valid: boolean, problems: ReadonlyArray<string>): CredentialReport => ({
      platform: "linkedin",
      ok: problems.length === 0,
      valid,
      authorUrn: options.authorUrn,
      apiVersion: version,
      problems
    })
    if (!AUTHOR_URN.test(options.authorUrn)) {
      return report(false, [
        `linkedin.author_urn "${options.authorUrn}" is not a member or organization URN; use ` +
        "urn:li:person:<id> or urn:li:organization:<id>"
      ])
    }
    const response = yield* http.execute(
      HttpClientRequest.get(`${base}/rest/posts`).pipe(
        HttpClientRequest.setUrlParams({ q: "author", author: options.authorUrn, count: "1" }),
        HttpClientRequest.bearerToken(options.accessToken),
        HttpClientRequest.setHeaders({ "LinkedIn-Version": version, "X-Restli-Protocol-Version": "2.0.0" }),
        HttpClientRequest.acceptJson
      )
    ).pipe(
      Effect.map((r) => r.status),
      Effect.scoped,
      Effect.mapError((e) => PostOnce.transportError("linkedin", e, "reading the author's posts"))
    )
    switch (response) {
      case 401:
        return report(false, [
          "LinkedIn rejected the access token (expired or revoked; they last 60 days): authorize the app again " +
          "and update linkedin.access_token"
        ])
      case 403:
        return report(true, [
          `The token may not read the posts of ${options.authorUrn}: Medusa can post but cannot confirm a post ` +
          "whose answer was lost (such a task ends post_outcome_unknown); check the author and the app's scopes"
        ])
      case 426:
        return report(true, [
          `LinkedIn no longer serves API version ${version}: raise linkedin.api_version to a current YYYYMM version`
        ])
    }
    if (response >= 400) {
      return report(true, [`LinkedIn answered ${response} to a read of the author's posts`])
    }
    return report(true, [])
  })
