/**
 * In-process implementations of the five platform services, for engine
 * tests, examples and benchmarks: no network, configurable delay (driven by
 * `Clock`, so `TestClock` controls it), failure at a given point with a given
 * `PlatformError`, progress events, call recording, and hooks (`started`,
 * `interrupted`, gates) that let a test observe what happened instead of
 * assuming it.
 *
 * ```ts
 * const layer = Medusa.layerMemory().pipe(Layer.provideMerge(TestPlatforms.layer({
 *   youtube: { delay: "2 seconds", progressEvents: 4 },
 *   vimeo: { fail: { at: "upload", error: new QuotaExceeded({ platform: "vimeo", reason: "quota_exceeded" }) } }
 * })))
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { FindContext, Host, Platforms, PostContext, Publisher, UploadContext } from "./Platform.js"
import {
  Accounts,
  FacebookPublisher,
  LinkedInPublisher,
  madeAfter,
  PublishedPost,
  UploadedVideo,
  UploadProgress,
  UploadSession,
  VimeoHost,
  XPublisher,
  YouTubeHost
} from "./Platform.js"
import type { HostId, HostTarget, PlatformId, PublisherId, PublisherTarget, Target } from "./PlatformId.js"
import { all as allPlatforms, isHost, moduleOf, platformOf } from "./PlatformId.js"
import type { Issue, PlatformError } from "./PublishError.js"
import { PostOutcomeUnknown } from "./PublishError.js"
import type { TaskId } from "./TaskId.js"

// =============================================================================
// Options
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface HostOptions {
  /** Total upload time (default 0: instant). */
  readonly delay?: Duration.DurationInput | undefined
  /** Progress reports during the upload, evenly spaced (default 4; 0 for none). */
  readonly progressEvents?: number | undefined
  /** Fail with `error` during `upload` (after `afterProgress` progress reports, default 0) or in `afterUpload`. */
  readonly fail?: {
    readonly at: "upload" | "afterUpload"
    readonly error: PlatformError
    readonly afterProgress?: number | undefined
  } | undefined
  /** Default 256 GB. */
  readonly maxFileBytes?: number | undefined
  /** Problems `validate` reports (paths relative to the metadata). */
  readonly issues?: ReadonlyArray<Issue> | undefined
  /** Hold each upload until `release(host)` is called. */
  readonly gated?: boolean | undefined
  /** A daily allowance of uploads (one per task), as YouTube's quota: `used` of `limit`, reset at `resetsAt`. */
  readonly allowance?: {
    readonly used: number
    readonly limit: number
    readonly resetsAt: number
  } | undefined
  /**
   * The host has `abandon` (as Vimeo, which deletes the video it created):
   * recorded as an `abandon` call whose metadata is the session's URI.
   */
  readonly abandons?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PublisherOptions {
  /** Time each post takes (default 0). */
  readonly delay?: Duration.DurationInput | undefined
  readonly fail?: { readonly at: "post" | "find"; readonly error: PlatformError } | undefined
  readonly issues?: ReadonlyArray<Issue> | undefined
  /**
   * Whether `find` searches the posts made (default true). It matches as the
   * real publishers do: the same (filled) metadata, dated no earlier than the
   * intent less `Platform.findClockSkewMillis`.
   */
  readonly canFind?: boolean | undefined
  /** Hold each post until `release(publisher)` is called. */
  readonly gated?: boolean | undefined
  /** Announce a wait through the context's `onWait` (as a rate-limited publisher does), then sleep it, before posting. */
  readonly wait?: { readonly reason: string; readonly duration: Duration.DurationInput } | undefined
  /**
   * The first post's outcome is unknown: it fails with `PostOutcomeUnknown`,
   * as a lost answer does, after making the post when `landed` (a later
   * `find` sees it) or without making it.
   */
  readonly unknownOutcome?: { readonly landed: boolean } | undefined
  /** `Publisher.settleMillis` (default 0: `find` sees a post as soon as it is made). */
  readonly settleTime?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type Options =
  & {
    readonly [H in HostId]?: HostOptions | undefined
  }
  & {
    readonly [P in PublisherId]?: PublisherOptions | undefined
  }
  & {
    /** Record every call (default true; the benchmark turns it off). */
    readonly record?: boolean | undefined
  }

// =============================================================================
// Control
// =============================================================================

/**
 * One recorded call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly platform: Target
  readonly operation: "validate" | "upload" | "afterUpload" | "abandon" | "post" | "find" | "retract" | "remove"
  readonly taskId?: TaskId | undefined
  /** The metadata passed (for `post`: with templates filled). */
  readonly metadata?: unknown
  /** For `upload`: whether a saved session was passed to resume. */
  readonly resumed?: boolean | undefined
  /** Epoch ms, from `Clock`. */
  readonly at: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Control {
  /** Every call, in order. */
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
  readonly callsTo: (platform: Target) => Effect.Effect<ReadonlyArray<Call>>
  /** Completes once an upload or post on `platform` has started. */
  readonly started: (platform: Target) => Effect.Effect<void>
  /** Completes once an upload or post on `platform` has been interrupted. */
  readonly interrupted: (platform: Target) => Effect.Effect<void>
  readonly wasInterrupted: (platform: Target) => Effect.Effect<boolean>
  /** Opens the gate of a `gated` platform (for good). */
  readonly release: (platform: Target) => Effect.Effect<void>
  /** Uploads or posts running now on `platform`. */
  readonly inFlight: (platform: Target) => Effect.Effect<number>
  /** The most that ever ran at once on `platform`. */
  readonly maxInFlight: (platform: Target) => Effect.Effect<number>
  /** Waits until at least `n` uploads or posts run at once on `platform`. */
  readonly awaitInFlight: (platform: Target, n: number) => Effect.Effect<void>
  /** Posts made, per publisher. */
  readonly posts: (publisher: PublisherTarget) => Effect.Effect<ReadonlyArray<PublishedPost>>
  /** Forgets a post, so `find` cannot see it (to test `PostOutcomeUnknown`). */
  readonly forgetPosts: (publisher: PublisherTarget) => Effect.Effect<void>
  /**
   * Puts a post with this (filled) metadata on the platform, dated `at`
   * (epoch ms): a post made outside Medusa, such as an older identical one.
   */
  readonly seedPost: (publisher: PublisherTarget, metadata: unknown, at: number) => Effect.Effect<PublishedPost>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TestPlatforms extends Context.Tag("@medusa/TestPlatforms")<TestPlatforms, Control>() {}

interface Internal extends Control {
  readonly record: (call: Omit<Call, "at">) => Effect.Effect<void>
  readonly track: <A, E>(platform: Target, effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
  readonly gate: (platform: Target) => Effect.Effect<void>
  readonly addPost: (
    taskId: TaskId,
    account: PublisherTarget,
    post: PublishedPost,
    metadata: unknown
  ) => Effect.Effect<void>
  readonly findPost: (
    publisher: PublisherTarget,
    metadata: unknown,
    intentAt: number
  ) => Effect.Effect<Option.Option<PublishedPost>>
  readonly next: () => number
}

const makeControl = (recordCalls: boolean): Effect.Effect<Internal> =>
  Effect.gen(function*() {
    const calls: Array<Call> = []
    // Per target: every platform's default account, and the named accounts as they are first used.
    const started: Partial<Record<Target, Deferred.Deferred<void>>> = {}
    const interrupted: Partial<Record<Target, Deferred.Deferred<void>>> = {}
    const gates: Partial<Record<Target, Effect.Latch>> = {}
    const inFlight: Partial<Record<Target, number>> = {}
    const maxInFlight: Partial<Record<Target, number>> = {}
    const ensure = (target: Target): void => {
      if (started[target] !== undefined) return
      started[target] = Deferred.unsafeMake<void>(FiberId.none)
      interrupted[target] = Deferred.unsafeMake<void>(FiberId.none)
      gates[target] = Effect.unsafeMakeLatch(false)
      inFlight[target] = 0
      maxInFlight[target] = 0
    }
    for (const id of allPlatforms) ensure(id)
    // Plain counters (cheap enough for the benchmark); waiters are woken when a count rises.
    const waiters = new Set<{ readonly platform: Target; readonly n: number; readonly wake: Effect.Latch }>()
    // Keyed by task (or seed) and publisher's target; the metadata is serialised only when searched.
    const posts = new Map<
      string,
      {
        readonly post: PublishedPost
        readonly account: PublisherTarget
        readonly metadata: unknown
        readonly at: number
      }
    >()
    let counter = 0

    const record = (call: Omit<Call, "at">) =>
      recordCalls ?
        Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.sync(() => void calls.push({ ...call, at }))) :
        Effect.void

    // One synchronous step: this runs around every test upload and post, so
    // it is on the engine benchmark's path.
    const enter = (platform: Target): void => {
      ensure(platform)
      const n = ++inFlight[platform]!
      if (n > maxInFlight[platform]!) maxInFlight[platform] = n
      for (const waiter of waiters) {
        if (waiter.platform === platform && n >= waiter.n) {
          waiters.delete(waiter)
          waiter.wake.unsafeOpen()
        }
      }
      Deferred.unsafeDone(started[platform]!, Effect.void)
    }

    // acquireUseRelease + onInterrupt, folded into one uninterruptible region
    // with a single exit handler (half the run-loop steps, on every call).
    const track = <A, E>(platform: Target, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.uninterruptibleMask((restore) => {
        enter(platform)
        return Effect.matchCauseEffect(restore(effect), {
          onFailure: (cause) => {
            inFlight[platform]!--
            if (Cause.isInterruptedOnly(cause)) Deferred.unsafeDone(interrupted[platform]!, Effect.void)
            return Effect.failCause(cause)
          },
          onSuccess: (a) => {
            inFlight[platform]!--
            return Effect.succeed(a)
          }
        })
      })

    const awaitInFlight = (platform: Target, n: number) =>
      Effect.gen(function*() {
        ensure(platform)
        if (inFlight[platform]! >= n) return
        const wake = yield* Effect.makeLatch(false)
        waiters.add({ platform, n, wake })
        yield* wake.await
      })

    const control: Internal = {
      calls: Effect.sync(() => [...calls]),
      callsTo: (platform) => Effect.sync(() => calls.filter((c) => c.platform === platform)),
      started: (platform) => Effect.suspend(() => (ensure(platform), Deferred.await(started[platform]!))),
      interrupted: (platform) => Effect.suspend(() => (ensure(platform), Deferred.await(interrupted[platform]!))),
      wasInterrupted: (platform) => Effect.suspend(() => (ensure(platform), Deferred.isDone(interrupted[platform]!))),
      release: (platform) => Effect.suspend(() => (ensure(platform), gates[platform]!.open)),
      inFlight: (platform) => Effect.sync(() => inFlight[platform] ?? 0),
      maxInFlight: (platform) => Effect.sync(() => maxInFlight[platform] ?? 0),
      awaitInFlight,
      posts: (publisher) =>
        Effect.sync(() => [...posts.values()].flatMap((p) => p.account === publisher ? [p.post] : [])),
      forgetPosts: (publisher) =>
        Effect.sync(() => {
          for (const [key, entry] of posts) if (entry.account === publisher) posts.delete(key)
        }),
      seedPost: (publisher, metadata, at) =>
        Effect.sync(() => {
          const post = postOf(platformOf(publisher), ++counter)
          posts.set(`seed-${counter}/${publisher}`, { post, account: publisher, metadata, at })
          return post
        }),
      record,
      track,
      gate: (platform) => Effect.suspend(() => (ensure(platform), gates[platform]!.await)),
      addPost: (taskId, account, post, metadata) =>
        Effect.clockWith((clock) =>
          Effect.sync(() =>
            void posts.set(`${taskId}/${account}`, {
              post,
              account,
              metadata,
              at: clock.unsafeCurrentTimeMillis()
            })
          )
        ),
      findPost: (publisher, metadata, intentAt) =>
        Effect.sync(() => {
          const text = JSON.stringify(metadata)
          let found: { readonly post: PublishedPost; readonly at: number } | undefined
          for (const entry of posts.values()) {
            if (
              entry.account === publisher && madeAfter(entry.at, intentAt) &&
              JSON.stringify(entry.metadata) === text && (found === undefined || entry.at >= found.at)
            ) found = entry
          }
          return Option.fromNullable(found?.post)
        }),
      next: () => ++counter
    }
    return control
  })

class InternalControl extends Context.Tag("@medusa/TestPlatforms/Internal")<InternalControl, Internal>() {}

/**
 * The control service alone (the platform layers below need it).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerControl = (options: { readonly record?: boolean | undefined } = {}): Layer.Layer<
  TestPlatforms | InternalControl
> =>
  Layer.effectContext(
    Effect.map(
      makeControl(options.record ?? true),
      (control) => Context.make(TestPlatforms, control as Control).pipe(Context.add(InternalControl, control))
    )
  )

// =============================================================================
// Hosts
// =============================================================================

const videoOf = (host: HostId, n: number): UploadedVideo => {
  if (host === "youtube") {
    const videoId = `vid${String(n).padStart(8, "0")}`
    return new UploadedVideo({ host, videoId, url: `https://youtube.com/watch?v=${videoId}` }, true)
  }
  const videoId = String(100_000_000 + n)
  return new UploadedVideo({ host, videoId, url: `https://vimeo.com/${videoId}` }, true)
}

const makeHost = <M>(
  id: HostId,
  options: HostOptions,
  key: HostTarget = id
): Effect.Effect<Host<M>, never, InternalControl> =>
  Effect.map(InternalControl, (control) => {
    const delay = Duration.decode(options.delay ?? 0)
    const events = Math.max(0, options.progressEvents ?? 4)
    const fail = options.fail

    const upload = (context: UploadContext<M>): Effect.Effect<UploadedVideo, PlatformError> =>
      control.track(
        key,
        Effect.gen(function*() {
          yield* control.record({
            platform: key,
            operation: "upload",
            taskId: context.taskId,
            metadata: context.metadata,
            resumed: Option.isSome(context.resume)
          })
          if (options.gated) yield* control.gate(key)
          const total = context.media.size
          const createdAt = yield* Clock.currentTimeMillis
          let session = Option.getOrElse(context.resume, () =>
            new UploadSession({
              host: id,
              uri: `test://${id}/upload/${context.taskId}`,
              totalBytes: total,
              acknowledged: 0,
              createdAt
            }, true))
          yield* context.onSession(session)
          const start = session.acknowledged
          const steps = Math.max(events, 1)
          const stepDelay = Duration.isZero(delay) ? undefined : Duration.times(delay, 1 / steps)
          for (let k = 1; k <= steps; k++) {
            if (fail?.at === "upload" && (fail.afterProgress ?? 0) === k - 1) return yield* fail.error
            if (stepDelay !== undefined) yield* Effect.sleep(stepDelay)
            const sent = Math.round(start + ((total - start) * k) / steps)
            if (events > 0) {
              session = new UploadSession({ ...session, acknowledged: sent }, true)
              yield* context.onSession(session)
              yield* context.onProgress(
                new UploadProgress({ host: id, bytesSent: sent, bytesAcknowledged: sent, totalBytes: total }, true)
              )
            }
          }
          if (fail?.at === "upload") return yield* fail.error
          return videoOf(id, control.next())
        })
      )

    const afterUpload = (video: UploadedVideo, metadata: M, taskId: TaskId): Effect.Effect<void, PlatformError> =>
      Effect.gen(function*() {
        yield* control.record({ platform: key, operation: "afterUpload", taskId, metadata: { video, metadata } })
        if (fail?.at === "afterUpload") return yield* fail.error
      })

    return {
      id,
      maxFileBytes: options.maxFileBytes ?? 256 * 1024 ** 3,
      ...(options.allowance !== undefined ?
        {
          allowances: Effect.succeed(() => [{
            bucket: "uploads",
            needs: 1,
            windowMillis: 24 * 60 * 60 * 1000,
            ...options.allowance!
          }])
        } :
        {}),
      validate: (metadata: M) =>
        Effect.as(control.record({ platform: key, operation: "validate", metadata }), options.issues ?? []),
      upload,
      afterUpload,
      remove: (video: UploadedVideo) =>
        Effect.as(control.record({ platform: key, operation: "remove", metadata: video }), "deleted" as const),
      ...(options.abandons ?
        {
          abandon: (session: UploadSession) =>
            Effect.as(control.record({ platform: key, operation: "abandon", metadata: session.uri }), "abandoned")
        } :
        {})
    }
  })

// =============================================================================
// Publishers
// =============================================================================

const postOf = (publisher: PublisherId, n: number): PublishedPost => {
  switch (publisher) {
    case "facebook":
      return new PublishedPost(
        { publisher, postId: `1234567890_${n}`, url: `https://www.facebook.com/1234567890_${n}` },
        true
      )
    case "x": {
      const postId = String(1_900_000_000_000_000_000n + BigInt(n))
      return new PublishedPost({ publisher, postId, url: `https://x.com/i/web/status/${postId}` }, true)
    }
    case "linkedin":
      return new PublishedPost(
        { publisher, postId: `urn:li:share:${7000000000000000000n + BigInt(n)}` },
        true
      )
    case "bluesky": {
      const rkey = `3m${n.toString(32).padStart(11, "2")}`
      return new PublishedPost(
        {
          publisher,
          postId: `at://did:plc:testplatforms/app.bsky.feed.post/${rkey}`,
          url: `https://bsky.app/profile/test.bsky.social/post/${rkey}`
        },
        true
      )
    }
    default:
      return new PublishedPost({ publisher, postId: `${publisher}_post_${n}` }, true)
  }
}

const makePublisher = <M>(
  id: PublisherId,
  options: PublisherOptions,
  key: PublisherTarget = id
): Effect.Effect<Publisher<M>, never, InternalControl> =>
  Effect.map(InternalControl, (control) => {
    const delay = Duration.decode(options.delay ?? 0)
    const fail = options.fail
    const canFind = options.canFind ?? true
    let unknownLeft = true
    const unknownError = new PostOutcomeUnknown({
      platform: id,
      reason: "post_outcome_unknown",
      description: "the answer to the post was lost (test platform)"
    })

    const post = (context: PostContext<M>): Effect.Effect<PublishedPost, PlatformError> =>
      control.track(
        key,
        Effect.gen(function*() {
          yield* control.record({
            platform: key,
            operation: "post",
            taskId: context.taskId,
            metadata: context.metadata
          })
          if (options.gated) yield* control.gate(key)
          if (options.wait !== undefined) {
            const wait = Duration.toMillis(options.wait.duration)
            const now = yield* Clock.currentTimeMillis
            if (context.onWait !== undefined) yield* context.onWait({ reason: options.wait.reason, until: now + wait })
            yield* Effect.sleep(Duration.millis(wait))
          }
          if (!Duration.isZero(delay)) yield* Effect.sleep(delay)
          if (fail?.at === "post") return yield* fail.error
          const lose = options.unknownOutcome !== undefined && unknownLeft
          unknownLeft = false
          if (lose && !options.unknownOutcome!.landed) return yield* unknownError
          const made = postOf(id, control.next())
          yield* control.addPost(context.taskId, key, made, context.metadata)
          if (lose) return yield* unknownError
          return made
        })
      )

    const find = (context: FindContext<M>): Effect.Effect<Option.Option<PublishedPost>, PlatformError> =>
      Effect.gen(function*() {
        yield* control.record({ platform: key, operation: "find", taskId: context.taskId, metadata: context.metadata })
        if (fail?.at === "find") return yield* fail.error
        return canFind ? yield* control.findPost(key, context.metadata, context.intentAt) : Option.none()
      })

    return {
      id,
      validate: (metadata: M) =>
        Effect.as(control.record({ platform: key, operation: "validate", metadata }), options.issues ?? []),
      post,
      find,
      canFind,
      retract: (published: PublishedPost) =>
        Effect.as(control.record({ platform: key, operation: "retract", metadata: published }), "deleted" as const),
      settleMillis: Duration.toMillis(Duration.decode(options.settleTime ?? 0))
    }
  })

// =============================================================================
// Layers
// =============================================================================

/** Vimeo's own limit (500 GiB) is kept by its double; other hosts take `makeHost`'s default. */
const defaultHostOptions: Readonly<Partial<Record<HostId, HostOptions>>> = { vimeo: { maxFileBytes: 500 * 1024 ** 3 } }

/**
 * The test double of any registered platform, under its module's tag.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOf = (
  id: PlatformId,
  options: HostOptions | PublisherOptions = {}
): Layer.Layer<unknown, never, InternalControl> => {
  const module = moduleOf(id)
  return module.kind === "host" ?
    Layer.effect(
      module.tag,
      makeHost(id as HostId, { ...defaultHostOptions[id as HostId], ...(options as HostOptions) })
    ) :
    Layer.effect(module.tag, makePublisher(id as PublisherId, options as PublisherOptions))
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerYouTube = (options: HostOptions = {}): Layer.Layer<YouTubeHost, never, InternalControl> =>
  layerOf("youtube", options) as Layer.Layer<YouTubeHost, never, InternalControl>

/**
 * @since 0.1.0
 * @category layers
 */
export const layerVimeo = (options: HostOptions = {}): Layer.Layer<VimeoHost, never, InternalControl> =>
  layerOf("vimeo", options) as Layer.Layer<VimeoHost, never, InternalControl>

/**
 * @since 0.1.0
 * @category layers
 */
export const layerFacebook = (options: PublisherOptions = {}): Layer.Layer<FacebookPublisher, never, InternalControl> =>
  layerOf("facebook", options) as Layer.Layer<FacebookPublisher, never, InternalControl>

/**
 * @since 0.1.0
 * @category layers
 */
export const layerX = (options: PublisherOptions = {}): Layer.Layer<XPublisher, never, InternalControl> =>
  layerOf("x", options) as Layer.Layer<XPublisher, never, InternalControl>

/**
 * @since 0.1.0
 * @category layers
 */
export const layerLinkedIn = (options: PublisherOptions = {}): Layer.Layer<LinkedInPublisher, never, InternalControl> =>
  layerOf("linkedin", options) as Layer.Layer<LinkedInPublisher, never, InternalControl>

/**
 * All five test platforms and their `TestPlatforms` control.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Platforms | TestPlatforms> =>
  layerFor(allPlatforms, options) as Layer.Layer<Platforms | TestPlatforms>

/**
 * Only the given platforms (the others stay unconfigured, as when a config
 * file has no section for them), and the `TestPlatforms` control. The
 * platform tags are in the context (the engine finds them) but not in the
 * type, since which ones depends on `platforms`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFor = (
  platforms: ReadonlyArray<PlatformId>,
  options: Options = {}
): Layer.Layer<TestPlatforms> => {
  // A layer that provides more is usable where less is expected, so each part widens to `never`.
  const parts: Array<Layer.Layer<never, never, InternalControl>> = platforms.map((id) =>
    layerOf(id, (options as Record<string, HostOptions | PublisherOptions | undefined>)[id]) as Layer.Layer<
      never,
      never,
      InternalControl
    >
  )
  const merged = parts.reduce<Layer.Layer<never, never, InternalControl>>(
    (acc, part) => Layer.merge(acc, part),
    Layer.empty as Layer.Layer<never, never, InternalControl>
  )
  return merged.pipe(Layer.provideMerge(layerControl({ record: options.record })))
}

/**
 * Test doubles of named accounts (`"facebook:brand"`, `"youtube:studio"`),
 * each with its own options, provided as `Accounts` beside the platform
 * layers (`layer`, `layerFor`), whose `TestPlatforms` control they share:
 * calls, gates and posts are keyed by the target.
 *
 * ```ts
 * TestPlatforms.layerFor(["youtube"]).pipe(Layer.provideMerge(
 *   TestPlatforms.layerAccounts({ "facebook:brand": {}, "facebook:studio": { gated: true } })
 * ))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAccounts = (
  accounts: Readonly<Record<`${PlatformId}:${string}`, HostOptions | PublisherOptions>>
): Layer.Layer<Accounts, never, TestPlatforms> =>
  Layer.effect(
    Accounts,
    Effect.gen(function*() {
      const hosts: Record<string, Host<any>> = {}
      const publishers: Record<string, Publisher<any>> = {}
      for (const [target, options] of Object.entries(accounts) as Array<[Target, HostOptions | PublisherOptions]>) {
        const id = platformOf(target)
        if (isHost(id)) {
          hosts[target] = yield* makeHost(
            id,
            { ...defaultHostOptions[id], ...(options as HostOptions) },
            target as HostTarget
          )
        } else {
          publishers[target] = yield* makePublisher(
            id as PublisherId,
            options as PublisherOptions,
            target as PublisherTarget
          )
        }
      }
      return { hosts, publishers } as Context.Tag.Service<Accounts>
    })
  ).pipe(
    // `layerControl` provides one object under both tags: the accounts share the platforms' control.
    Layer.provide(Layer.effect(InternalControl, Effect.map(TestPlatforms, (c) => c as Internal)))
  )
