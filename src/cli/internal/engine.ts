/**
 * What the commands need from the library, behind one small interface: the
 * `Medusa` service and its store, built from the config file (or an embedded
 * sandbox's), with the durable SQLite store by default.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import type { BatchOptions, RetractOptions } from "../../Medusa.js"
import type { Batch, BatchManifest, Validation } from "../../Planning.js"
import type {
  ConfigError,
  InvalidBatch,
  InvalidRequest,
  InvalidTransition,
  PlatformError,
  StoreError,
  TaskCancelled,
  TaskNotFound,
  TaskNotReady
} from "../../PublishError.js"
import type { PublishRequestInput } from "../../PublishRequest.js"
import type { Task, TaskState } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import type { HistoryEntry } from "../../TaskStatus.js"
import type { Outbox } from "../../Webhooks.js"

/** What the commands that only read tasks need (status, tasks): the store, opened read-only. @internal */
export interface Reader {
  /** `.medusa/medusa.db`, `memory` or `PostgreSQL`, for messages. */
  readonly storeLabel: string
  readonly get: (id: TaskId) => Effect.Effect<Task, TaskNotFound | StoreError>
  /** The task's state changes, oldest first. */
  readonly history: (id: TaskId) => Effect.Effect<ReadonlyArray<HistoryEntry>, StoreError>
  readonly list: (options: {
    readonly status?: TaskState | undefined
    readonly batchId?: string | undefined
    readonly limit?: number | undefined
  }) => Effect.Effect<ReadonlyArray<Task>, StoreError>
}

/** @internal */
export interface Engine extends Reader {
  /** Whether tasks outlive this process (SQLite), so that Ctrl+C may detach. */
  readonly durable: boolean
  /** The config file the engine was built from (an embedded sandbox's with --sandbox). */
  readonly configFile: string
  /** The config's `medusa.time_zone`, else the system's. */
  readonly timeZone: string
  readonly submit: (request: PublishRequestInput) => Effect.Effect<TaskId, InvalidRequest | ConfigError | StoreError>
  /** A dry run of `submit`. */
  readonly validate: (request: PublishRequestInput) => Effect.Effect<Validation, InvalidRequest | StoreError>
  /** The current task, then each change, ending after a final state (tasks run by this process). */
  readonly watch: (id: TaskId) => Stream.Stream<Task, TaskNotFound | StoreError>
  readonly cancel: (id: TaskId) => Effect.Effect<void, TaskNotFound | InvalidTransition | StoreError | TaskCancelled>
  readonly reschedule: (
    id: TaskId,
    runAt: string
  ) => Effect.Effect<Task, TaskNotFound | TaskNotReady | InvalidRequest | StoreError>
  readonly retract: (
    id: TaskId,
    options: RetractOptions
  ) => Effect.Effect<Task, TaskNotFound | TaskNotReady | PlatformError | StoreError>
  readonly publishBatch: (
    manifest: BatchManifest,
    options: BatchOptions
  ) => Effect.Effect<Batch, InvalidBatch | StoreError>
  /** Starts running unfinished tasks of the store in this process; returns their ids. */
  readonly resume: (id: Option.Option<TaskId>) => Effect.Effect<ReadonlyArray<TaskId>, TaskNotFound | StoreError>
  /** The store's webhook outbox (`medusa webhooks`), when it keeps one. */
  readonly outbox: Outbox | undefined
}

/** @internal */
export interface OpenOptions {
  /** The config file to load. */
  readonly configFile: string
  /** A missing config file is read as an empty config (commands that only read the store). */
  readonly configOptional: boolean
  /** SQLite file, or `memory`. */
  readonly store: string
  /** Whether `store` came from `--store` (else the CLI's default, unless the config names a store). */
  readonly storeGiven: boolean
  /** Only read the store (cancel asks the process that runs the task): never run or lock anything. */
  readonly readOnly: boolean
}
