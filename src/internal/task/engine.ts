/**
 * The task, as separately callable steps so that a durable executor can wrap
 * each one as an activity:
 *
 * - `validateRequest(input, platforms)` → `{ request, media }` (re-exported)
 * - `makeTask(id, request, media, now)` → a pending `Task`
 * - `uploadStep(engine, taskId, host)` → the uploaded video, recorded on the task
 * - `postStep(engine, taskId, publisher, videos)` → the post, recorded (intent → done)
 *
 * Steps do not take platform permits themselves: `./steps.ts` wraps them into
 * the units every runner executes, `./orchestrate.ts` composes those.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { randomUUID } from "node:crypto"
import type {
  Host,
  MediaFile,
  MediaUpload,
  PostContext,
  PostWait,
  PublishedPost,
  Publisher,
  UploadedVideo,
  UploadProgress,
  UploadSession
} from "../../Platform.js"
import type { HostTarget, PlatformId, PublisherTarget, Target } from "../../PlatformId.js"
import { all as allPlatforms, isHost, platformOf, sortTargets, targetName } from "../../PlatformId.js"
import {
  AuthExpired,
  InvalidTransition,
  PlatformRejected,
  PlatformUnavailable,
  PostOutcomeUnknown,
  QuotaExceeded,
  StoreError
} from "../../PublishError.js"
import type { PlatformError, TaskNotFound } from "../../PublishError.js"
import type { PublishRequest } from "../../PublishRequest.js"
import { metadataFor } from "../../PublishRequest.js"
import { Abandonment, canTransition, HistoryEntry, PlatformWait, Task, TaskFailure } from "../../Task.js"
import type { TaskState } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import { percentOf } from "../../TaskStatus.js"
import type { Service as StoreService } from "../../TaskStore.js"
import * as Template from "../../Template.js"
import type { ResolvedPlatforms } from "../request/validation.js"
import * as Metrics from "../telemetry/metrics.js"
import * as Spans from "../telemetry/spans.js"

export {
  /** @internal */
  MediaCache,
  /** @internal */
  type ResolvedPlatforms,
  /** @internal */
  resolvePlatforms,
  /** @internal */
  validateRequest
} from "../request/validation.js"

// =============================================================================
// Engine context
// =============================================================================

/**
 * What the steps need: the store, the platform services and the
 * per-platform bounds.
 *
 * @internal
 */
export interface Engine {
  readonly store: StoreService
  readonly platforms: ResolvedPlatforms
  /** One bound per account: a platform's default account under its id, a named one under its target. */
  readonly permits: Readonly<Record<Target, Effect.Semaphore>>
  /**
   * A cancel interrupts the task's fiber in this process (the in-memory
   * runner), so a step need not watch the store for it. A durable runner's
   * task may be cancelled from another process: its steps watch.
   */
  readonly cancelInterrupts: boolean
}

/** @internal */
export const makeEngine = (
  store: StoreService,
  platforms: ResolvedPlatforms,
  perPlatformConcurrency: Readonly<Record<PlatformId, number>>,
  options: { readonly cancelInterrupts?: boolean | undefined } = {}
): Effect.Effect<Engine> =>
  Effect.gen(function*() {
    const permits = {} as Record<Target, Effect.Semaphore>
    // Each account has its platform's bound; two targets of one adapter (a default account that is also named) share it.
    const byAdapter = new Map<object, Effect.Semaphore>()
    const targets: ReadonlyArray<Target> = [
      ...allPlatforms,
      ...(Object.keys(platforms.hosts) as Array<Target>),
      ...(Object.keys(platforms.publishers) as Array<Target>)
    ]
    for (const target of targets) {
      if (permits[target] !== undefined) continue
      const adapter: object | undefined = adapterOf(platforms, target)
      const shared = adapter === undefined ? undefined : byAdapter.get(adapter)
      const semaphore = shared ?? (yield* Effect.makeSemaphore(Math.max(1, perPlatformConcurrency[platformOf(target)])))
      if (adapter !== undefined) byAdapter.set(adapter, semaphore)
      permits[target] = semaphore
    }
    return { store, platforms, permits, cancelInterrupts: options.cancelInterrupts ?? false }
  })

/** The adapter of a target, when it is configured. @internal */
export const adapterOf = (platforms: ResolvedPlatforms, target: Target): Host<any> | Publisher<any> | undefined =>
  isHost(platformOf(target)) ?
    platforms.hosts[target as HostTarget] :
    platforms.publishers[target as PublisherTarget]

/**
 * The error as the task records it: keyed by the target that failed, so that
 * a named account's failure says which account (`Facebook (brand) API error: …`).
 *
 * @internal
 */
export const retarget = <E extends PlatformError>(error: E, target: Target): E =>
  error.platform === target ? error : Object.assign(Object.create(Object.getPrototypeOf(error)), error, {
    platform: target
  })

/**
 * Runs `effect` holding one permit of the platform's bound.
 *
 * @internal
 */
export const withPlatformPermit = <A, E, R>(
  engine: Engine,
  platform: Target,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => withPermit(engine.permits[platform], effect)

/**
 * `semaphore.withPermits(1)(effect)`, taking a free permit synchronously.
 * `withPermits` always goes through an async step, even when a permit is
 * free (~32 run-loop steps, four times per task); `withPermitsIfAvailable`
 * does not, and only a task that finds no free permit waits in
 * `withPermits`. Same semantics: `withPermits` also takes a free permit at
 * once, whether or not others are waiting.
 *
 * @internal
 */
export const withPermit = <A, E, R>(
  semaphore: Effect.Semaphore,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    semaphore.withPermitsIfAvailable(1)(effect),
    (taken) => taken._tag === "Some" ? Effect.succeed(taken.value) : semaphore.withPermits(1)(effect)
  )

/**
 * Like `withPermit`, but gives up waiting for the permit when `giveUp`
 * resolves first (`None`: `effect` did not run). Once the permit is held,
 * `effect` runs to its end; `giveUp` no longer matters.
 *
 * @internal
 */
export const withPermitUnless = <A, E, R>(
  semaphore: Effect.Semaphore,
  giveUp: Effect.Effect<unknown, E, R>,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<Option.Option<A>, E, R> =>
  Effect.flatMap(
    semaphore.withPermitsIfAvailable(1)(effect),
    (taken) =>
      Option.isSome(taken) ?
        Effect.succeed(taken) :
        Effect.uninterruptibleMask((restore) =>
          Effect.raceWith(restore(semaphore.take(1)), restore(giveUp), {
            onSelfDone: (took, waiting) =>
              Effect.zipRight(
                Fiber.interrupt(waiting),
                Exit.isSuccess(took) ?
                  Effect.asSome(Effect.ensuring(restore(effect), semaphore.release(1))) :
                  Effect.failCause(took.cause)
              ),
            onOtherDone: (gaveUp, taking) =>
              // The permit may have been granted as the wait ended: hand it back.
              Effect.flatMap(Fiber.interrupt(taking), (took) =>
                Effect.zipRight(
                  Exit.isSuccess(took) ? semaphore.release(1) : Effect.void,
                  Exit.isSuccess(gaveUp) ? Effect.succeedNone : Effect.failCause(gaveUp.cause)
                ))
          })
        )
  )

// =============================================================================
// Task updates
// =============================================================================

/**
 * An instance of a Schema class from fields that are valid by construction:
 * what `new C(fields, true)` builds (the `Data.Class` base copies the fields
 * onto the instance) without its default-merging pass. Only for classes
 * whose fields have no defaults (`Task`, `HistoryEntry`, `PostRecord`, …).
 *
 * @internal
 */
export const unsafeMake = <C extends new(props: any, options?: boolean) => any>(
  klass: C,
  fields: ConstructorParameters<C>[0]
): InstanceType<C> => Object.assign(Object.create(klass.prototype), fields)

/**
 * A new task id. `randomUUID` is a v4 UUID, so the id is valid by
 * construction and skips the schema check.
 *
 * @internal
 */
export const makeTaskId: Effect.Effect<TaskId> = Effect.sync(() => `medusa_task_${randomUUID()}` as TaskId)

/**
 * Builds the pending task for a validated request.
 *
 * @internal
 */
export const makeTask = (id: TaskId, request: PublishRequest, media: MediaFile, now: number): Task => {
  const runAt = request.runAt !== undefined ? Date.parse(request.runAt) : undefined
  return unsafeMake(Task, {
    id,
    request,
    media,
    state: "pending",
    createdAt: now,
    updatedAt: now,
    history: [unsafeMake(HistoryEntry, { state: "pending", at: now })],
    progress: [],
    videos: [],
    posts: [],
    failures: [],
    skipped: [],
    ...(runAt !== undefined && runAt > now ? { runAt } : {})
  })
}

/**
 * The task with `changes` applied. Tasks are rebuilt on every change; their
 * fields were validated when the request was decoded, so the constructor's
 * validation is skipped. The Schema.Class constructor (even unvalidated)
 * merges defaults field by field; on the hot path a plain copy onto the
 * prototype is several times cheaper.
 *
 * @internal
 */
export const rebuild = (task: Task, changes: Partial<Task>): Task =>
  Object.assign(Object.create(Task.prototype) as Task, task, changes)

/**
 * Runs `f` with the time from `Clock` (`TestClock` in tests). One step
 * cheaper than `flatMap(Clock.currentTimeMillis, f)`, and it runs several
 * times per task.
 *
 * @internal
 */
export const withNow = <A, E, R>(f: (now: number) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.clockWith((clock) => f(clock.unsafeCurrentTimeMillis()))

const vanished = (id: TaskId) =>
  new StoreError({ reason: "conflict", description: `task ${id} disappeared from the store while it was running` })

/**
 * Applies a change that cannot be refused.
 *
 * @internal
 */
export const modify = (
  engine: Engine,
  id: TaskId,
  f: (task: Task) => Task
): Effect.Effect<Task, StoreError> =>
  engine.store.update(id, (task) => Either.right(f(task))).pipe(
    Effect.catchTags({
      TaskNotFound: () => Effect.fail(vanished(id)),
      InvalidTransition: (e) => Effect.die(e)
    })
  )

/**
 * `Task.transition` (same rules) without revalidating the whole task, and
 * applying other changes in the same step.
 *
 * @internal
 */
export const transition = (
  task: Task,
  to: TaskState,
  at: number,
  changes?: Partial<Task>
): Either.Either<Task, InvalidTransition> => {
  if (!canTransition(task.state, to)) {
    return Either.left(new InvalidTransition({ taskId: task.id, from: task.state, to }))
  }
  const message = changes?.message
  return Either.right(
    rebuild(task, {
      ...changes,
      state: to,
      updatedAt: at,
      message,
      history: [
        ...task.history,
        unsafeMake(HistoryEntry, message === undefined ? { state: to, at } : { state: to, at, message })
      ]
    })
  )
}

/**
 * Moves a task to `to`, recording the time from `Clock`.
 *
 * @internal
 */
export const transitionTo = (
  engine: Engine,
  id: TaskId,
  to: TaskState,
  changes?: Partial<Task>
): Effect.Effect<Task, TaskNotFound | InvalidTransition | StoreError> =>
  Effect.map(
    withNow((now) => engine.store.update(id, (task) => transition(task, to, now, changes))),
    (task) => {
      Metrics.countTransition(task)
      return task
    }
  )

/**
 * The task's record of a platform error (data only, no cause).
 *
 * @internal
 */
export const failureOf = (error: PlatformError): TaskFailure =>
  new TaskFailure(
    {
      platform: error.platform,
      code: error.reason,
      message: error.message,
      tag: error._tag,
      ...(error.status !== undefined ? { status: error.status } : {}),
      ...(error.code !== undefined ? { platformCode: error.code } : {}),
      ...(error.platformMessage !== undefined ? { platformMessage: error.platformMessage } : {}),
      ...(error.description !== undefined ? { description: error.description } : {})
    },
    true
  )

/**
 * Rebuilds the typed error from a recorded failure (for `publish` / `await`,
 * which may read a task another process ran). `undefined` for failures that
 * were not platform errors (an internal defect).
 *
 * @internal
 */
export const errorOf = (failure: TaskFailure): PlatformError | undefined => {
  if (failure.platform === undefined) return undefined
  const fields = {
    platform: failure.platform,
    ...(failure.status !== undefined ? { status: failure.status } : {}),
    ...(failure.platformCode !== undefined ? { code: failure.platformCode } : {}),
    ...(failure.platformMessage !== undefined ? { platformMessage: failure.platformMessage } : {}),
    ...(failure.description !== undefined ? { description: failure.description } : {})
  }
  const code = failure.code as any
  switch (failure.code) {
    case "auth_expired":
    case "auth_invalid":
    case "permission_missing":
      return new AuthExpired({ ...fields, reason: code })
    case "quota_exceeded":
    case "upload_limit_exceeded":
    case "rate_limited":
      return new QuotaExceeded({ ...fields, reason: code })
    case "transport":
    case "server_error":
    case "session_expired":
    case "timeout":
      return new PlatformUnavailable({ ...fields, reason: code })
    case "post_outcome_unknown":
      return new PostOutcomeUnknown({ ...fields, reason: "post_outcome_unknown" })
    case "invalid_metadata":
    case "duplicate_post":
    case "version_sunset":
    case "blocked":
    case "not_found":
    case "processing_failed":
    case "rejected":
      return new PlatformRejected({ ...fields, reason: code })
    default:
      return undefined
  }
}

// =============================================================================
// Messages
// =============================================================================

/** The request's hosts, each account once, in the canonical order. @internal */
export const hostsOf = (request: PublishRequest): ReadonlyArray<HostTarget> =>
  sortTargets(request.platforms.filter((t): t is HostTarget => isHost(platformOf(t))))

/** The request's publishers, each account once, in the canonical order. @internal */
export const publishersOf = (request: PublishRequest): ReadonlyArray<PublisherTarget> =>
  sortTargets(request.platforms.filter((t): t is PublisherTarget => !isHost(platformOf(t))))

const names = (ids: ReadonlyArray<Target>): string => ids.map(targetName).join(", ")

/**
 * `"Uploading to YouTube... 42%"`, `"Uploading to YouTube... 42%, Vimeo... 7%"`.
 *
 * @internal
 */
export const uploadMessage = (hosts: ReadonlyArray<HostTarget>, progress: ReadonlyArray<UploadProgress>): string =>
  "Uploading to " + hosts.map((h) => {
    const p = progress.find((x) => x.host === h)
    const percent = p === undefined ? 0 : percentOf(p.bytesSent, p.totalBytes)
    return `${targetName(h)}... ${percent}%`
  }).join(", ")

/**
 * `"Posting to Facebook, X..."`.
 *
 * @internal
 */
export const postMessage = (publishers: ReadonlyArray<PublisherTarget>): string => `Posting to ${names(publishers)}...`

/**
 * The task's waits with `platform`'s set to `wait` (or removed).
 *
 * @internal
 */
export const withWait = (
  waits: ReadonlyArray<PlatformWait> | undefined,
  platform: Target,
  wait: PostWait | undefined
): ReadonlyArray<PlatformWait> | undefined => {
  const others = (waits ?? []).filter((w) => w.platform !== platform)
  const all = wait === undefined ?
    others :
    [...others, unsafeMake(PlatformWait, { platform, reason: wait.reason, until: wait.until })]
  return all.length > 0 ? all : undefined
}

/**
 * Template values from the uploaded videos: `youtube_url` for the default
 * account, `youtube:studio_url` for a named one.
 *
 * @internal
 */
export const templateValues = (videos: ReadonlyArray<UploadedVideo>): Record<string, string> => {
  const values: Record<string, string> = {}
  for (const v of videos) {
    values[`${v.host}_url`] = v.url
    values[`${v.host}_video_id`] = v.videoId
  }
  return values
}

// =============================================================================
// Steps
// =============================================================================

const logStoreFailure = (what: string) => (error: StoreError) =>
  Effect.logWarning(`Medusa could not ${what}: ${error.message}`)

/**
 * Uploads the media file to one host, or reuses the video already recorded
 * on the task. Resumes a saved session; saves each new session and
 * acknowledged offset; reports progress on the task; then runs `afterUpload`.
 *
 * @internal
 */
export const uploadStep = (
  engine: Engine,
  taskId: TaskId,
  hostId: HostTarget
): Effect.Effect<UploadedVideo, PlatformError | StoreError> =>
  Effect.gen(function*() {
    const host = engine.platforms.hosts[hostId]
    if (host === undefined) return yield* Effect.dieMessage(`${hostId} is not configured`)
    const task = yield* Effect.catchTag(engine.store.get(taskId), "TaskNotFound", () => Effect.fail(vanished(taskId)))
    const metadata = metadataFor(task.request.metadata, hostId)
    const hosts = hostsOf(task.request)
    yield* Effect.annotateCurrentSpan(Spans.Attr.bytes, task.media.size)
    const recorded = task.videos.find((v) => v.host === hostId)
    const video = recorded ?? (yield* Effect.gen(function*() {
      const resume = Option.map(yield* engine.store.loadUploadSession(taskId, hostId), (s) =>
        keyed(s, platformOf(hostId)))
      const onSession = (session: UploadSession) =>
        engine.store.saveUploadSession(taskId, keyed(session, hostId)).pipe(
          Effect.catchAll(logStoreFailure(`save the ${targetName(hostId)} upload session`))
        )
      const onProgress = (reported: UploadProgress) =>
        withNow((now) =>
          modify(engine, taskId, (t) => {
            if (t.state !== "in_progress") {
              return t
            }
            const progress = keyed(reported, hostId)
            const all = [
              ...t.progress.filter((p) =>
                p.host !== progress.host
              ),
              progress
            ]
            // Progress means the upload goes on: a wait it announced is over.
            const waits = t.waits?.some((w) => w.platform === hostId) ? withWait(t.waits, hostId, undefined) : t.waits
            return rebuild(t, { progress: all, message: uploadMessage(hosts, all), waits, updatedAt: now })
          })
        ).pipe(Effect.asVoid, Effect.catchAll(logStoreFailure("record upload progress")))
      const onWait = (wait: PostWait) =>
        withNow((now) =>
          modify(engine, taskId, (t) =>
            t.state !== "in_progress" ? t : rebuild(t, { waits: withWait(t.waits, hostId, wait), updatedAt: now }))
        ).pipe(Effect.asVoid, Effect.catchAll(logStoreFailure("record an upload's wait")))
      const uploaded = keyed(
        yield* host.upload({
          taskId,
          media: task.media,
          metadata,
          resume,
          onSession,
          onProgress,
          onWait
        }),
        hostId
      )
      yield* withNow((now) =>
        modify(engine, taskId, (t) =>
          rebuild(t, {
            videos: [
              ...t.videos.filter((v) =>
                v.host !== hostId
              ),
              uploaded
            ],
            waits: withWait(t.waits, hostId, undefined),
            updatedAt: now
          }))
      )
      return uploaded
    }))
    yield* host.afterUpload(keyed(video, platformOf(hostId)), metadata, taskId)
    return video
  })

/**
 * Sends of one post in one run of its step: the first, and one more after
 * reconciliation found that an unknown outcome made no post. A second
 * unknown outcome ends the step with `PostOutcomeUnknown`.
 */
const maxPostSends = 2

/** Retries of a reconciliation search the platform could not answer: 0.5 s, then 1 s. */
const searchRetry = Schedule.exponential("500 millis", 2).pipe(Schedule.intersect(Schedule.recurs(2)))

/**
 * Reconciliation, the one rule for every publisher: looks for the post an
 * earlier request may have made (its intent recorded at `intentAt`). A post
 * found is adopted. A search that finds nothing is authoritative once the
 * intent is older than the publisher's settle time (`settleMillis`, the
 * time within which the platform's listing shows a post made): `None`, the
 * post was not made. A younger intent first waits out the rest of the
 * settle time (a wait the task's status shows), then searches again. A
 * publisher that cannot search, or a search that keeps failing, leaves the
 * outcome unknown (`PostOutcomeUnknown`).
 */
const reconcile = (
  publisher: Publisher<unknown>,
  publisherId: PublisherTarget,
  context: PostContext<unknown>,
  intentAt: number,
  onWait: (wait: PostWait) => Effect.Effect<void>
): Effect.Effect<Option.Option<PublishedPost>, PostOutcomeUnknown> =>
  Effect.gen(function*() {
    const name = targetName(publisherId)
    const unknown = (why: string) =>
      new PostOutcomeUnknown({
        platform: publisherId,
        reason: "post_outcome_unknown",
        description: `a post request to ${name} may have made the post (its outcome is unknown) and ${why}; ` +
          "check the account before posting again"
      })
    if (!publisher.canFind) return yield* unknown(`${name} cannot be searched for it`)
    const search = publisher.find({ ...context, intentAt }).pipe(
      Effect.map(Option.map((post) => keyed(post, publisherId))),
      // A search is a read: safe to repeat when the platform is briefly unreachable.
      Effect.retry({ schedule: searchRetry, while: (error) => error._tag === "PlatformUnavailable" }),
      Effect.mapError((error) => unknown(`looking for it failed (${error.message})`))
    )
    const counted = Effect.tap(search, (found) =>
      Effect.sync(() =>
        Metrics.unsafeIncrement(
          Metrics.postReconciliations[platformOf(publisherId)][Option.isSome(found) ? "found" : "not_found"]
        )
      ))
    const found = yield* counted
    if (Option.isSome(found)) {
      return found
    }
    const settledAt = intentAt + publisher.settleMillis
    const now = yield* Clock.currentTimeMillis
    if (now >= settledAt) {
      return Option.none()
    }
    yield* onWait({ reason: `confirming whether an earlier ${name} post was made`, until: settledAt })
    yield* Effect.sleep(settledAt - now)
    return yield* counted
  })

/**
 * Posts to one publisher with the templates filled from `videos`, through
 * the store's post record: `intent` before each request, `done` after.
 * When the outcome of a request is unknown (the store holds an `intent`
 * without `done` after a crash or an interruption, or the publisher's
 * request ended `PostOutcomeUnknown`), `reconcile` decides: the post found
 * is adopted; a post certainly not made is made now, at most `maxPostSends`
 * requests in one run. It never re-posts while a post may exist.
 *
 * @internal
 */
export const postStep = (
  engine: Engine,
  taskId: TaskId,
  publisherId: PublisherTarget,
  videos: ReadonlyArray<UploadedVideo>
): Effect.Effect<PublishedPost, PlatformError | StoreError> =>
  Effect.gen(function*() {
    const publisher = engine.platforms.publishers[publisherId]
    if (publisher === undefined) return yield* Effect.dieMessage(`${publisherId} is not configured`)
    const task = yield* Effect.catchTag(engine.store.get(taskId), "TaskNotFound", () => Effect.fail(vanished(taskId)))
    const metadata = Template.fillMetadata(
      platformOf(publisherId),
      metadataFor(task.request.metadata, publisherId) as object,
      templateValues(videos)
    )
    const name = targetName(publisherId)
    const onWait = (wait: PostWait) =>
      withNow((now) =>
        modify(engine, taskId, (t) =>
          t.state !== "in_progress" ? t : rebuild(t, { waits: withWait(t.waits, publisherId, wait), updatedAt: now }))
      ).pipe(Effect.asVoid, Effect.catchAll(logStoreFailure("record a post's wait")))
    // A publisher that uploads the file itself (a native video) saves its session like a host.
    const upload: MediaUpload = {
      saved: engine.store.loadUploadSession(taskId, publisherId).pipe(
        Effect.map(Option.map((session) =>
          keyed(session, platformOf(publisherId))
        )),
        Effect.catchAll((error) =>
          Effect.as(logStoreFailure(`read the ${name} upload session`)(error), Option.none())
        )
      ),
      onSession: (session) =>
        engine.store.saveUploadSession(taskId, keyed(session, publisherId)).pipe(
          Effect.catchAll(logStoreFailure(`save the ${name} upload session`))
        ),
      onProgress: (reported) =>
        withNow((now) =>
          modify(engine, taskId, (t) =>
            t.state !== "in_progress" ?
              t :
              rebuild(t, {
                progress: [
                  ...t.progress.filter((p) => p.host !== publisherId),
                  keyed(reported, publisherId)
                ],
                updatedAt: now
              }))
        ).pipe(Effect.asVoid, Effect.catchAll(logStoreFailure("record upload progress")))
    }
    // What a publisher prepares before the request that posts (a Threads container) is kept with the intent.
    const stage = engine.store.recordPostStaged
    const onStaged = stage === undefined ? undefined : (ref: string) => Effect.orDie(stage(taskId, publisherId, ref))
    const context = {
      taskId,
      taskCreatedAt: task.createdAt,
      metadata,
      media: task.media,
      // The publisher sees the videos as hosts made them; a named account's has its target as `host`.
      videos,
      onWait,
      onStaged,
      upload
    }
    const record = yield* engine.store.loadPostRecord(taskId, publisherId)
    let post: PublishedPost
    if (Option.isSome(record) && record.value.state === "done" && record.value.post !== undefined) {
      post = record.value.post
    } else {
      // An intent left by an earlier run: its request's outcome is unknown.
      let unknownSince = Option.isSome(record) ? record.value.at : undefined
      let staged = Option.isSome(record) ? record.value.staged : undefined
      let made: PublishedPost | undefined
      for (let sends = 0; made === undefined;) {
        if (unknownSince !== undefined) {
          const found = yield* reconcile(
            publisher as Publisher<unknown>,
            publisherId,
            { ...context, staged },
            unknownSince,
            onWait
          )
          if (Option.isSome(found)) {
            made = found.value
            break
          }
          yield* Effect.logInfo(
            `${name}: no post found once the settle time had passed; it was not made, posting`
          )
        }
        yield* engine.store.recordPostIntent(taskId, publisherId)
        sends += 1
        const sent = yield* Effect.either(publisher.post({ ...context, staged }))
        if (Either.isRight(sent)) {
          made = keyed(sent.right, publisherId)
        } else if (sent.left._tag !== "PostOutcomeUnknown" || sends >= maxPostSends) {
          return yield* sent.left
        } else {
          const intent = yield* engine.store.loadPostRecord(taskId, publisherId)
          unknownSince = Option.isSome(intent) ? intent.value.at : yield* Clock.currentTimeMillis
          staged = Option.isSome(intent) ? intent.value.staged : undefined
        }
      }
      yield* engine.store.recordPostDone(taskId, made!)
      post = made!
    }
    yield* withNow((now) =>
      modify(engine, taskId, (t) =>
        rebuild(t, {
          posts: [
            ...t.posts.filter((p) => p.publisher !== publisherId),
            post
          ],
          waits: withWait(t.waits, publisherId, undefined),
          updatedAt: now
        }))
    )
    return post
  })

/**
 * A session, progress report, video or post keyed by `target`: the engine
 * keys what an adapter reports by the account's target on the task and in
 * the store, and gives an adapter back its own key (the platform id).
 *
 * @internal
 */
export const keyed: {
  (value: UploadSession, target: Target): UploadSession
  (value: UploadProgress, target: Target): UploadProgress
  (value: UploadedVideo, target: HostTarget): UploadedVideo
  (value: PublishedPost, target: PublisherTarget): PublishedPost
} = ((value: UploadSession | UploadProgress | UploadedVideo | PublishedPost, target: Target) => {
  const field = "publisher" in value ? "publisher" : "host"
  return (value as any)[field] === target ?
    value :
    Object.assign(Object.create(Object.getPrototypeOf(value)), value, { [field]: target })
}) as any

const ignoreRefused = <A>(
  effect: Effect.Effect<A, TaskNotFound | InvalidTransition | StoreError>
): Effect.Effect<A | undefined, StoreError> =>
  effect.pipe(
    Effect.catchTags({
      TaskNotFound: () => Effect.succeed(undefined),
      InvalidTransition: () => Effect.succeed(undefined)
    })
  )

/**
 * Abandons the unfinished upload of a task that will not resume it (the
 * upload failed, was stopped by a sibling's failure, or the task ended): a
 * host's (`Host.abandon`), or a publisher's native video
 * (`Publisher.abandonUpload`). A platform that created a resource for it
 * deletes it (Vimeo's video, Facebook's started video), so that no orphan
 * stays in the user's library; what was done is logged and kept on the task
 * (`abandoned`, an event of its history). Best effort: a failure is logged.
 *
 * A publisher's upload whose every byte the platform acknowledged is left
 * alone: the request that publishes it may have gone out (an unknown
 * outcome), and a video that may be a post is never deleted here.
 *
 * @internal
 */
export const abandonUpload = (engine: Engine, taskId: TaskId, target: Target): Effect.Effect<void> =>
  Effect.gen(function*() {
    const hosting = isHost(platformOf(target))
    const host = hosting ? engine.platforms.hosts[target as HostTarget] : undefined
    const publisher = hosting ? undefined : engine.platforms.publishers[target as PublisherTarget]
    const abandon = host?.abandon ?? publisher?.abandonUpload
    if (abandon === undefined) return
    const task = yield* engine.store.get(taskId)
    if (task.videos.some((v) => v.host === target) || task.posts.some((p) => p.publisher === target)) return
    const session = yield* engine.store.loadUploadSession(taskId, target)
    if (Option.isNone(session)) return
    if (publisher !== undefined && session.value.acknowledged >= session.value.totalBytes) return
    const done = yield* abandon(keyed(session.value, platformOf(target)))
    if (done === undefined) return
    yield* Effect.logInfo(`${targetName(target)}: ${done}`)
    // Kept on the task, where its history shows it (as a retraction is).
    yield* withNow((now) =>
      modify(engine, taskId, (t) =>
        rebuild(t, {
          abandoned: [...(t.abandoned ?? []), new Abandonment({ platform: target, note: done, at: now })]
        }))
    )
  }).pipe(
    Effect.catchAllCause((cause) =>
      Effect.logWarning(`Medusa could not abandon the ${targetName(target)} upload of ${taskId}`, cause)
    )
  )

/**
 * Records an unexpected defect as the task's failure, so that it never stays
 * `in_progress` forever.
 *
 * @internal
 */
export const failWithDefect = (
  engine: Engine,
  taskId: TaskId,
  description: string
): Effect.Effect<void, StoreError> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const failure = new TaskFailure({ code: "internal_error", message: `Internal error: ${description}` }, true)
    const failed = yield* ignoreRefused(engine.store.update(taskId, (t) => {
      const withFailure = rebuild(t, { failures: [...t.failures, failure] })
      return transition(withFailure, "failed", now, { message: failure.message })
    }))
    if (failed !== undefined) Metrics.countTransition(failed)
  })
