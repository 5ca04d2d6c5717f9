/**
 * The `Medusa` service: submit publish requests, follow them as tasks, wait
 * for them, cancel them.
 *
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Medusa, TestPlatforms } from "medusa"
 *
 * const program = Effect.gen(function*() {
 *   const task = yield* Medusa.publish({
 *     mediaFile: "video.mp4",
 *     platforms: ["youtube", "facebook"],
 *     metadata: { youtube: { title: "Launch" }, facebook: { message: "Watch: {youtube_url}" } }
 *   })
 *   console.log(task.state)
 * })
 *
 * program.pipe(Effect.provide(Medusa.layerMemory().pipe(Layer.provide(TestPlatforms.layer()))), Effect.runPromise)
 * ```
 *
 * Tasks run on fibers owned by the service's scope (a `FiberMap` keyed by
 * task id), bounded by `maxConcurrentTasks` and by a per-platform bound.
 * Platforms are whichever of the tags in `Platform` are provided when the
 * layer is built.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Shared from "./internal/runner/shared.js"
import * as Engine from "./internal/task/engine.js"
import * as Orchestrate from "./internal/task/orchestrate.js"
import * as Retract from "./internal/task/retract.js"
import * as Config from "./MedusaConfig.js"
import type { MedusaConfig } from "./MedusaConfig.js"
import type { Batch, BatchManifest, Validation } from "./Planning.js"
import type { PlatformId } from "./PlatformId.js"
import type { InvalidBatch, InvalidRequest, PlatformError, StoreError, TaskNotReady } from "./PublishError.js"
import { ConfigError, InvalidTransition, Issue, TaskCancelled, TaskNotFound } from "./PublishError.js"
import type { PublishRequestInput } from "./PublishRequest.js"
import type { Task, TaskState } from "./Task.js"
import { isFinal } from "./Task.js"
import * as TaskId from "./TaskId.js"
import type { ListOptions, TaskChange } from "./TaskStore.js"
import { layerMemory as storeLayerMemory, TaskStore } from "./TaskStore.js"

// =============================================================================
// Service
// =============================================================================

/**
 * The errors of `publish` and `await`: the failed platform's typed error, or
 * the task was cancelled.
 *
 * @since 0.1.0
 * @category errors
 */
export type TaskError = PlatformError | TaskCancelled

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Validates the request (every problem at once, with field paths), stores
   * a pending task and starts it. Returns as soon as the task is stored.
   */
  readonly submit: (request: PublishRequestInput) => Effect.Effect<TaskId.TaskId, InvalidRequest | StoreError>
  /**
   * Submits, then waits for the final state. Fails with the typed error of
   * the (first) failed platform, or `TaskCancelled`.
   */
  readonly publish: (request: PublishRequestInput) => Effect.Effect<Task, InvalidRequest | TaskError | StoreError>
  /** The task as it is now. The status JSON is `TaskStatus.toJSON(task)`. */
  readonly status: (id: string) => Effect.Effect<Task, TaskNotFound | StoreError>
  /** Waits for the final state; like `publish`'s second half. */
  readonly await: (id: string) => Effect.Effect<Task, TaskError | TaskNotFound | StoreError>
  /** The current task, then each change, ending at a final state. */
  readonly watch: (id: string) => Stream.Stream<Task, TaskNotFound | StoreError>
  /** Every change to every task, from subscription on. */
  readonly changes: Stream.Stream<TaskChange, StoreError>
  /**
   * Interrupts a task; it ends `cancelled`. Fails with `InvalidTransition`
   * when the task already reached a final state.
   */
  readonly cancel: (id: string) => Effect.Effect<Task, TaskNotFound | InvalidTransition | StoreError>
  /** Newest first. */
  readonly list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<Task>, StoreError>
  /**
   * A dry run: every check `submit` makes (request, media file, templates,
   * platform limits, the quota plan), reported without storing a task or
   * sending a byte. Fails with the same `InvalidRequest` as `submit`.
   */
  readonly validate: (request: PublishRequestInput) => Effect.Effect<Validation, InvalidRequest | StoreError>
  /**
   * Moves a scheduled task (pending, with a `runAt`) to another time (ISO
   * 8601). `TaskNotReady` when it is not waiting for a time; `InvalidRequest`
   * for a time that is not a date or is in the past.
   */
  readonly reschedule: (
    id: string,
    runAt: string
  ) => Effect.Effect<Task, TaskNotFound | TaskNotReady | InvalidRequest | StoreError>
  /**
   * Submits a batch: every row (merged over the defaults) is validated before
   * anything starts, and `InvalidBatch` lists every row's problems with its
   * row number and field. Then the quota plan runs over the whole batch and
   * each task is stored with the batch id. Returns once they are stored.
   */
  readonly publishBatch: (
    manifest: BatchManifest,
    options?: BatchOptions
  ) => Effect.Effect<Batch, InvalidBatch | StoreError>
  /**
   * Takes a finished task's posts back (and with `videos` its uploaded
   * videos) through each platform's delete API, recording each on the task
   * (`retracted`). Idempotent: what was taken back is not asked again.
   * `TaskNotReady` while the task runs, or when it made nothing.
   */
  readonly retract: (
    id: string,
    options?: RetractOptions
  ) => Effect.Effect<Task, TaskNotFound | TaskNotReady | PlatformError | StoreError>
}

/**
 * What `retract` takes back.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetractOptions {
  /** Only these platforms (default: all the task posted or uploaded to). */
  readonly platforms?: ReadonlyArray<PlatformId> | undefined
  /** Also delete the uploaded videos (default: posts only). */
  readonly videos?: boolean | undefined
}

/**
 * Where a batch came from, for its error messages.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchOptions {
  /** The manifest file. */
  readonly file?: string | undefined
  /** The file line of each row (CSV), in order. */
  readonly lines?: ReadonlyArray<number> | undefined
  /** Validate and plan only: the tasks are returned as they would be, nothing is stored or sent. */
  readonly dryRun?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Medusa extends Context.Tag("@medusa/Medusa")<Medusa, Service>() {
  /** `yield* Medusa.submit(request)` */
  static readonly submit = (
    request: PublishRequestInput
  ): Effect.Effect<TaskId.TaskId, InvalidRequest | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.submit(request))
  /** `yield* Medusa.publish(request)` */
  static readonly publish = (
    request: PublishRequestInput
  ): Effect.Effect<Task, InvalidRequest | TaskError | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.publish(request))
  /** `yield* Medusa.status(id)` */
  static readonly status = (id: string): Effect.Effect<Task, TaskNotFound | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.status(id))
  /** `yield* Medusa.await(id)` */
  static readonly await = (id: string): Effect.Effect<Task, TaskError | TaskNotFound | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.await(id))
  /** `Medusa.watch(id)` */
  static readonly watch = (id: string): Stream.Stream<Task, TaskNotFound | StoreError, Medusa> =>
    Stream.unwrap(Effect.map(Medusa, (m) => m.watch(id)))
  /** `Medusa.changes` */
  static readonly changes: Stream.Stream<TaskChange, StoreError, Medusa> = Stream.unwrap(
    Effect.map(Medusa, (m) => m.changes)
  )
  /** `yield* Medusa.cancel(id)` */
  static readonly cancel = (id: string): Effect.Effect<Task, TaskNotFound | InvalidTransition | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.cancel(id))
  /** `yield* Medusa.validate(request)` */
  static readonly validate = (
    request: PublishRequestInput
  ): Effect.Effect<Validation, InvalidRequest | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.validate(request))
  /** `yield* Medusa.reschedule(id, "2030-01-31T09:00:00Z")` */
  static readonly reschedule = (
    id: string,
    runAt: string
  ): Effect.Effect<Task, TaskNotFound | TaskNotReady | InvalidRequest | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.reschedule(id, runAt))
  /** `yield* Medusa.publishBatch({ defaults, videos })` */
  static readonly publishBatch = (
    manifest: BatchManifest,
    options?: BatchOptions
  ): Effect.Effect<Batch, InvalidBatch | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.publishBatch(manifest, options))
  /** `yield* Medusa.retract(id, { videos: true })` */
  static readonly retract = (
    id: string,
    options?: RetractOptions
  ): Effect.Effect<Task, TaskNotFound | TaskNotReady | PlatformError | StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.retract(id, options))
  /** `yield* Medusa.list({ status: "failed" })` */
  static readonly list = (options?: ListOptions): Effect.Effect<ReadonlyArray<Task>, StoreError, Medusa> =>
    Effect.flatMap(Medusa, (m) => m.list(options))
}

// =============================================================================
// Accessors
// =============================================================================

/**
 * @since 0.1.0
 * @category accessors
 */
export const submit: (
  request: PublishRequestInput
) => Effect.Effect<TaskId.TaskId, InvalidRequest | StoreError, Medusa> = Medusa.submit

/**
 * @since 0.1.0
 * @category accessors
 */
export const publish: (
  request: PublishRequestInput
) => Effect.Effect<Task, InvalidRequest | TaskError | StoreError, Medusa> = Medusa.publish

/**
 * @since 0.1.0
 * @category accessors
 */
export const status: (id: string) => Effect.Effect<Task, TaskNotFound | StoreError, Medusa> = Medusa.status

const awaitTask: (id: string) => Effect.Effect<Task, TaskError | TaskNotFound | StoreError, Medusa> = Medusa.await

export {
  /**
   * @since 0.1.0
   * @category accessors
   */
  awaitTask as await
}

/**
 * @since 0.1.0
 * @category accessors
 */
export const watch: (id: string) => Stream.Stream<Task, TaskNotFound | StoreError, Medusa> = Medusa.watch

/**
 * @since 0.1.0
 * @category accessors
 */
export const changes: Stream.Stream<TaskChange, StoreError, Medusa> = Medusa.changes

/**
 * @since 0.1.0
 * @category accessors
 */
export const cancel: (id: string) => Effect.Effect<Task, TaskNotFound | InvalidTransition | StoreError, Medusa> =
  Medusa.cancel

/**
 * @since 0.1.0
 * @category accessors
 */
export const list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<Task>, StoreError, Medusa> = Medusa.list

/**
 * @since 0.1.0
 * @category accessors
 */
export const validate: (
  request: PublishRequestInput
) => Effect.Effect<Validation, InvalidRequest | StoreError, Medusa> = Medusa.validate

/**
 * @since 0.1.0
 * @category accessors
 */
export const reschedule: (
  id: string,
  runAt: string
) => Effect.Effect<Task, TaskNotFound | TaskNotReady | InvalidRequest | StoreError, Medusa> = Medusa.reschedule

/**
 * @since 0.1.0
 * @category accessors
 */
export const publishBatch: (
  manifest: BatchManifest,
  options?: BatchOptions
) => Effect.Effect<Batch, InvalidBatch | StoreError, Medusa> = Medusa.publishBatch

/**
 * @since 0.1.0
 * @category accessors
 */
export const retract: (
  id: string,
  options?: RetractOptions
) => Effect.Effect<Task, TaskNotFound | TaskNotReady | PlatformError | StoreError, Medusa> = Medusa.retract

// =============================================================================
// Constructors
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Tasks running at once; the others wait `pending`. Default 4. */
  readonly maxConcurrentTasks?: number | undefined
  /**
   * Uploads or posts running at once on one platform, across tasks: one
   * number for all, or per platform. Default: `maxConcurrentTasks`.
   */
  readonly perPlatformConcurrency?: number | Readonly<Partial<Record<PlatformId, number | undefined>>> | undefined
  /** How long finished tasks are kept before pruning. Default 24 hours; `Duration.infinity` keeps them. */
  readonly retention?: Duration.DurationInput | undefined
  /** How often pruning runs. Default 1 minute. */
  readonly pruneInterval?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaults: {
  readonly maxConcurrentTasks: number
  readonly retention: Duration.Duration
  readonly pruneInterval: Duration.Duration
} = Shared.defaults

/**
 * Builds the service. Platform services are taken from the context when this
 * runs (each tag is optional); tasks run on fibers owned by `Scope`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, TaskStore | Scope.Scope> =>
  Effect.gen(function*() {
    const store = yield* TaskStore
    const platforms = yield* Engine.resolvePlatforms
    const maxTasks = Shared.maxTasksOf(options)
    const engine = yield* Engine.makeEngine(store, platforms, Shared.perPlatform(options, maxTasks), {
      // Cancel interrupts the task's fiber (FiberMap.remove below).
      cancelInterrupts: true
    })
    const taskPermits = yield* Effect.makeSemaphore(maxTasks)
    const fibers = yield* FiberMap.make<TaskId.TaskId>()
    // Ids whose interruption is a user's cancel (not the service shutting down).
    const cancelling = new Set<TaskId.TaskId>()
    const mediaCache = new Engine.MediaCache()

    yield* Shared.pruneFinished(store, options)

    const markCancelled = (id: TaskId.TaskId) =>
      Engine.transitionTo(engine, id, "cancelled", { message: "Cancelled" }).pipe(
        Effect.catchTags({ TaskNotFound: () => Effect.void, InvalidTransition: () => Effect.void }),
        Effect.catchAll((error) =>
          Effect.logError(`Medusa could not record the cancellation of ${id}: ${error.message}`)
        )
      )

    const abandonUploads = (id: TaskId.TaskId): Effect.Effect<void> =>
      store.get(id).pipe(
        Effect.flatMap((task) =>
          Effect.forEach(Engine.hostsOf(task.request), (host) => Engine.abandonUpload(engine, id, host), {
            concurrency: "unbounded",
            discard: true
          })
        ),
        Effect.catchAll(() => Effect.void)
      )

    const run = (task: Task): Effect.Effect<void> => {
      const id = task.id
      const body: Effect.Effect<unknown, StoreError> = Orchestrate.orchestrate(Orchestrate.inline, engine, id, {
        known: task,
        slot: (effect) => Engine.withPermit(taskPermits, effect)
      })
      return body.pipe(
        Effect.catchAllCause((cause) => {
          if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
          const failure = Cause.failureOption(cause)
          if (Option.isSome(failure)) {
            return Effect.logError(`Medusa task ${id} stopped: ${failure.value.message}`)
          }
          const defect = Cause.squash(cause)
          const description = defect instanceof Error ? defect.message : String(defect)
          return Effect.logError(`Medusa task ${id} failed with a defect`, cause).pipe(
            Effect.zipRight(Engine.failWithDefect(engine, id, description)),
            Effect.catchAll((error) =>
              Effect.logError(`Medusa could not record the failure of ${id}: ${error.message}`)
            )
          )
        }),
        // One exit handler for both (each of onInterrupt and ensuring is its own
        // uninterruptible region): a user's cancel is recorded, then forgotten.
        // A cancelled task's unfinished uploads are abandoned (what they created on the
        // platform is deleted) before `cancelled` is recorded: the memory store drops a
        // task's upload sessions once it is final, and nothing resumes a cancelled task.
        Effect.onExit((exit): Effect.Effect<void> => {
          const forget = Effect.sync(() => void cancelling.delete(id))
          return Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause) && cancelling.has(id) ?
            Effect.ensuring(Effect.zipRight(abandonUploads(id), markCancelled(id)), forget) :
            forget
        }),
        Effect.asVoid
      )
    }

    const start = (task: Task) => Effect.asVoid(FiberMap.run(fibers, task.id, run(task), { onlyIfMissing: true }))
    const submitTask = (task: Task) => Effect.zipRight(store.insert(task), start(task))

    const submit = Effect.fn("Medusa.submit")(function*(input: PublishRequestInput) {
      const { media, request } = yield* Engine.validateRequest(input, platforms, mediaCache)
      const id = yield* Engine.makeTaskId
      const now = yield* Clock.currentTimeMillis
      const task = yield* Shared.plannedTask(platforms, store.list, Engine.makeTask(id, request, media, now), now)
      yield* submitTask(task)
      return id
    })

    const readers = Shared.readers(store)
    const { status, watch } = readers

    // A task running in this process is awaited on its fiber (its exit
    // handlers record the final state, cancellation included, before it
    // ends): far cheaper than following its changes as a stream. Otherwise,
    // or if the fiber ended without a final state (the service closing),
    // the store's watch decides.
    const awaitLocal = (taskId: TaskId.TaskId) =>
      Effect.flatMap(
        Effect.option(FiberMap.get(fibers, taskId)),
        (fiber) =>
          Option.isNone(fiber) ? readers.awaitFinal(taskId) : Effect.zipRight(
            Fiber.await(fiber.value),
            Effect.flatMap(
              store.get(taskId),
              (task) => isFinal(task.state) ? Shared.outcome(task) : readers.awaitFinal(taskId)
            )
          )
      )

    const awaitFinal = Effect.fn("Medusa.await")(function*(id: string) {
      return yield* awaitLocal(yield* Shared.parseId(id))
    })

    const publish = Effect.fn("Medusa.publish")(function*(input: PublishRequestInput) {
      const id = yield* submit(input)
      return yield* awaitLocal(id).pipe(
        // Just submitted: it cannot be unknown unless the store lost it.
        Effect.catchTag("TaskNotFound", (e) => Effect.die(e))
      )
    })

    const cancel = Effect.fn("Medusa.cancel")(function*(id: string) {
      const taskId = yield* Shared.parseId(id)
      const task = yield* store.get(taskId)
      if (isFinal(task.state)) {
        return yield* new InvalidTransition({ taskId, from: task.state, to: "cancelled" satisfies TaskState })
      }
      cancelling.add(taskId)
      // Interrupts and waits for the fiber, whose interruption handler records `cancelled`.
      yield* FiberMap.remove(fibers, taskId)
      cancelling.delete(taskId)
      const after = yield* store.get(taskId)
      if (isFinal(after.state)) return after
      // Not running here (another process's task, or not started yet): record it directly.
      return yield* Engine.transitionTo(engine, taskId, "cancelled", { message: "Cancelled" })
    })

    const list = (options?: ListOptions) => store.list(options)

    return Medusa.of({
      submit,
      publish,
      status,
      await: awaitFinal,
      watch,
      changes: store.changes,
      cancel,
      list,
      validate: Shared.validate(platforms, store.list, mediaCache),
      reschedule: Shared.reschedule(store),
      publishBatch: Shared.publishBatch(platforms, store.list, submitTask, mediaCache),
      retract: (id, options) =>
        Effect.flatMap(Shared.parseId(id), (taskId) => Retract.retract(engine, taskId, options ?? {}))
    })
  })

/**
 * The service over whatever `TaskStore` and platform layers are provided.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Medusa, never, TaskStore> =>
  Layer.scoped(Medusa, make(options))

/**
 * The service with the in-memory store (which it also provides).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options: Options = {}): Layer.Layer<Medusa | TaskStore> =>
  layer(options).pipe(Layer.provideMerge(storeLayerMemory))

// =============================================================================
// Configuration
// =============================================================================

/**
 * The engine options of a config file's `medusa` section.
 *
 * @since 0.1.0
 * @category constructors
 */
export const optionsFromConfig = (config: MedusaConfig): Options => Config.engineOptions(config)

/**
 * The service with the engine options of a decoded config (store and
 * platforms still to provide).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (config: MedusaConfig): Layer.Layer<Medusa, never, TaskStore> =>
  layer(optionsFromConfig(config))

/**
 * How a config becomes layers: the platform adapters for its sections, and
 * the store its `medusa.store` names. The real adapters are wired in
 * `Live.ts`; tests pass test platforms.
 *
 * @since 0.1.0
 * @category models
 */
export interface Wiring<E = never, R = never> {
  /**
   * The platform layers for the config's sections. Typed `Layer<never>`
   * because which tags it provides depends on the config; the engine finds
   * whichever are there.
   */
  readonly platforms?: ((config: MedusaConfig) => Layer.Layer<never, E, R>) | undefined
  /** The store for `medusa.store`; default: the in-memory store for `"memory"`, an error otherwise. */
  readonly store?: ((config: MedusaConfig) => Layer.Layer<TaskStore, E, R>) | undefined
}

const defaultStore = (config: MedusaConfig): Layer.Layer<TaskStore, ConfigError> =>
  config.medusa.store === "memory" ?
    storeLayerMemory :
    Layer.fail(
      new ConfigError({
        file: config.file,
        issues: [
          new Issue({
            path: ["medusa", "store"],
            message: "a durable store needs its layer wired in (use the Live layers or the CLI); " +
              "set \"store\": \"memory\" to keep tasks in memory"
          })
        ]
      })
    )

/**
 * The service, its store and its platforms from a decoded config.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromConfig = <E = never, R = never>(
  config: MedusaConfig,
  wiring: Wiring<E, R> = {}
): Layer.Layer<Medusa | TaskStore, E | ConfigError, R> => {
  const store: Layer.Layer<TaskStore, E | ConfigError, R> = wiring.store ? wiring.store(config) : defaultStore(config)
  const platforms: Layer.Layer<never, E, R> = wiring.platforms ? wiring.platforms(config) : Layer.empty
  return layerConfig(config).pipe(Layer.provide(platforms), Layer.provideMerge(store))
}

/**
 * Reads `file` (default `medusa.config.json`) and builds the service, its
 * store and its platforms from it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromConfigFile = <E = never, R = never>(
  file: string = Config.defaultFile,
  wiring: Wiring<E, R> = {}
): Layer.Layer<Medusa | TaskStore, E | ConfigError, R> =>
  Layer.unwrapEffect(Effect.map(Config.load(file), (config) => layerFromConfig(config, wiring)))
