/**
 * The Promise facade, for programs that do not use Effect.
 *
 * ```ts
 * import { createMedusa } from "medusa/promise"
 *
 * const medusa = await createMedusa({ configFile: "medusa.config.json" })
 * const id = await medusa.publishAsync({
 *   mediaFile: "video.mp4",
 *   platforms: ["youtube", "facebook"],
 *   metadata: { youtube: { title: "Launch" }, facebook: { message: "Watch: {youtube_url}" } }
 * })
 * for await (const status of medusa.watch(id)) console.log(status)
 * await medusa.close()
 * ```
 *
 * Built on a `ManagedRuntime`: `createMedusa` builds the layers (a config
 * error rejects it), `close()` interrupts running tasks and releases
 * everything. Every rejected promise carries Medusa's typed error itself
 * (`InvalidRequest`, `QuotaExceeded`, `TaskNotFound`, …), so
 * `error._tag` and `error.reason` are there to branch on.
 *
 * @since 0.1.0
 */

// First: on a Node that Medusa does not run on, this fails saying what to do, before any dependency loads.
import "./internal/checkNode.js"

import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import * as Live from "./Live.js"
import * as Medusa from "./Medusa.js"
import * as Config from "./MedusaConfig.js"
import type { MedusaConfig } from "./MedusaConfig.js"
import * as Planning from "./Planning.js"
import type { Target } from "./PlatformId.js"
import type { PublishRequestInput } from "./PublishRequest.js"
import type { TaskState } from "./Task.js"
import * as TaskStatus from "./TaskStatus.js"
import type { ListOptions } from "./TaskStore.js"

/**
 * How to build the client:
 * - `{ configFile }`: read a config file (default `medusa.config.json`);
 * - `{ config }`: a config object, as it would appear in the file (snake_case) or already decoded;
 * - `{ layer }`: any layer that provides `Medusa` (e.g. over test platforms).
 *
 * With a config, the real adapters of its sections and the store its
 * `medusa.store` names are used (`Live.layer`). `platforms` replaces the
 * adapters (for example `TestPlatforms.layer()` to run without credentials;
 * the store is then the in-memory one) and `wiring` replaces both.
 *
 * @since 0.1.0
 * @category models
 */
export type CreateOptions =
  | {
    readonly configFile?: string | undefined
    readonly platforms?: Layer.Layer<never, unknown> | undefined
    readonly wiring?: Medusa.Wiring<unknown> | undefined
  }
  | {
    readonly config: unknown
    readonly platforms?: Layer.Layer<never, unknown> | undefined
    readonly wiring?: Medusa.Wiring<unknown> | undefined
  }
  | { readonly layer: Layer.Layer<Medusa.Medusa, unknown> }

/**
 * @since 0.1.0
 * @category models
 */
export interface MedusaClient {
  /** Validates and starts a publish; resolves to the task id. Rejects with `InvalidRequest` listing every problem. */
  readonly publishAsync: (request: PublishRequestInput) => Promise<string>
  /** The status JSON now. */
  readonly getTaskStatus: (taskId: string) => Promise<TaskStatus.TaskStatus>
  /**
   * Resolves to the final status JSON of a completed task; rejects with the
   * failed platform's typed error, or `TaskCancelled`.
   */
  readonly waitForTask: (taskId: string) => Promise<TaskStatus.TaskStatus>
  /** The current status, then each change, ending at a final state. */
  readonly watch: (taskId: string) => AsyncIterable<TaskStatus.TaskStatus>
  /**
   * Calls `callback` with the status JSON of every change to every task (or
   * only `taskId`'s). Returns a function that unsubscribes.
   */
  readonly subscribe: (
    callback: (status: TaskStatus.TaskStatus) => void,
    options?: { readonly taskId?: string | undefined }
  ) => () => void
  /** Resolves to the `cancelled` status JSON. */
  readonly cancel: (taskId: string) => Promise<TaskStatus.TaskStatus>
  /** Newest first. */
  readonly list: (options?: {
    readonly status?: TaskState | undefined
    readonly limit?: number | undefined
    readonly offset?: number | undefined
  }) => Promise<ReadonlyArray<TaskStatus.TaskStatus>>
  /**
   * A dry run: every check `publishAsync` makes, and the quota plan, without
   * storing a task or sending a byte. Rejects with `InvalidRequest` like it.
   */
  readonly validate: (request: PublishRequestInput) => Promise<Planning.ValidationJson>
  /**
   * Moves a scheduled task to another time (ISO 8601). Rejects with
   * `TaskNotReady` when the task is not waiting for its time.
   */
  readonly reschedule: (taskId: string, runAt: string) => Promise<TaskStatus.TaskStatus>
  /**
   * Submits a batch (`{ defaults, videos }`): every row is validated before
   * anything starts (`InvalidBatch` lists each row's problems); resolves with
   * the batch id and each task's status, in the manifest's order.
   */
  readonly publishBatch: (
    manifest: Planning.BatchManifest
  ) => Promise<{ readonly batchId: string; readonly tasks: ReadonlyArray<TaskStatus.TaskStatus> }>
  /**
   * Takes a finished task's posts back (with `videos`, its uploads too)
   * through each platform's delete API; resolves with its status, whose
   * `retracted` lists what was taken back.
   */
  readonly retract: (
    taskId: string,
    options?: { readonly platforms?: ReadonlyArray<Target> | undefined; readonly videos?: boolean | undefined }
  ) => Promise<TaskStatus.TaskStatus>
  /** Interrupts running tasks and releases every resource. */
  readonly close: () => Promise<void>
}

const layerOf = (options: CreateOptions): Layer.Layer<Medusa.Medusa, unknown> => {
  if ("layer" in options) return options.layer
  const platforms = options.platforms
  // Without platforms or wiring: the real adapters and the configured store (Live).
  const build = (config: MedusaConfig): Layer.Layer<Medusa.Medusa, unknown> =>
    options.wiring !== undefined ?
      Medusa.layerFromConfig(config, options.wiring) :
      platforms !== undefined ?
      Medusa.layerFromConfig(config, { platforms: () => platforms }) :
      Live.layer(config)
  const decoded: Effect.Effect<MedusaConfig, unknown> = "config" in options ?
    (isDecoded(options.config) ? Effect.succeed(options.config) : Config.decode(options.config, "inline")) :
    Config.load(options.configFile ?? Config.defaultFile)
  return Layer.unwrapEffect(Effect.map(decoded, build))
}

const isDecoded = (u: unknown): u is MedusaConfig =>
  typeof u === "object" && u !== null && "file" in u && "medusa" in u &&
  typeof (u as { medusa: unknown }).medusa === "object" && (u as { medusa: { store?: unknown } }).medusa.store !==
    undefined

/**
 * The typed error of a failed effect (the first failure), or the defect.
 */
const errorOf = (cause: Cause.Cause<unknown>): unknown =>
  Option.getOrElse(Cause.failureOption(cause), () => Cause.squash(cause))

/**
 * Builds the client. Rejects with `ConfigError` when the config is unusable.
 *
 * @since 0.1.0
 * @category constructors
 */
export const createMedusa = async (options: CreateOptions = {}): Promise<MedusaClient> => {
  const managed = ManagedRuntime.make(layerOf(options))
  let runtime: Runtime.Runtime<Medusa.Medusa>
  try {
    runtime = await managed.runtime()
  } catch (error) {
    await managed.dispose().catch(() => undefined)
    throw unwrapFiberFailure(error)
  }
  const subscriptions = new Set<Fiber.RuntimeFiber<void, unknown>>()

  const run = <A, E>(effect: Effect.Effect<A, E, Medusa.Medusa>): Promise<A> =>
    Runtime.runPromiseExit(runtime)(effect).then((exit) =>
      Exit.isSuccess(exit) ? exit.value : Promise.reject(errorOf(exit.cause))
    )

  const client: MedusaClient = {
    publishAsync: (request) => run(Medusa.submit(request)),
    getTaskStatus: (taskId) => run(Effect.map(Medusa.status(taskId), TaskStatus.toJSON)),
    waitForTask: (taskId) => run(Effect.map(Medusa.await(taskId), TaskStatus.toJSON)),
    watch: (taskId) =>
      Stream.toAsyncIterableRuntime(
        Medusa.watch(taskId).pipe(Stream.map(TaskStatus.toJSON)),
        runtime
      ),
    subscribe: (callback, subscribeOptions) => {
      const taskId = subscribeOptions?.taskId
      const stream = taskId !== undefined ?
        Stream.map(Medusa.watch(taskId), TaskStatus.toJSON) :
        Stream.map(Medusa.changes, (change) => TaskStatus.toJSON(change.task))
      const fiber = Runtime.runFork(runtime)(
        Stream.runForEach(stream, (status) =>
          Effect.sync(() => {
            // A throwing callback must not end the subscription for the others.
            try {
              callback(status)
            } catch (error) {
              queueMicrotask(() => {
                throw error
              })
            }
          })).pipe(
            Effect.catchAllCause((cause) =>
              Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("Medusa subscription ended", cause)
            )
          )
      )
      subscriptions.add(fiber)
      fiber.addObserver(() => subscriptions.delete(fiber))
      return () => {
        subscriptions.delete(fiber)
        Runtime.runFork(runtime)(Fiber.interrupt(fiber))
      }
    },
    cancel: (taskId) => run(Effect.map(Medusa.cancel(taskId), TaskStatus.toJSON)),
    validate: (request) => run(Effect.map(Medusa.validate(request), Planning.validationToJSON)),
    retract: (taskId, retractOptions) => run(Effect.map(Medusa.retract(taskId, retractOptions), TaskStatus.toJSON)),
    reschedule: (taskId, runAt) => run(Effect.map(Medusa.reschedule(taskId, runAt), TaskStatus.toJSON)),
    publishBatch: (manifest) =>
      run(
        Effect.map(
          Medusa.publishBatch(manifest),
          (batch) => ({ batchId: batch.batchId, tasks: batch.tasks.map(TaskStatus.toJSON) })
        )
      ),
    list: (listOptions) =>
      run(Effect.map(Medusa.list(listOptions as ListOptions | undefined), (tasks) => tasks.map(TaskStatus.toJSON))),
    close: async () => {
      await Promise.all([...subscriptions].map((fiber) => Runtime.runPromise(runtime)(Fiber.interrupt(fiber))))
      await managed.dispose()
    }
  }
  return client
}

/**
 * `ManagedRuntime` wraps build failures in a `FiberFailure`; callers get the
 * typed error itself.
 */
const unwrapFiberFailure = (error: unknown): unknown => {
  if (Runtime.isFiberFailure(error)) return errorOf(error[Runtime.FiberFailureCauseId])
  return error
}
