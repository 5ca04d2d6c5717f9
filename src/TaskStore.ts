/**
 * Where tasks live. The in-memory store follows each watched task with a
 * `SubscriptionRef` and publishes every change on a `PubSub`;
 * durable stores (SQLite, PostgreSQL) implement the same service, so the
 * engine, `watch`, `changes` and the Promise facade never know which one runs.
 *
 * Besides tasks, a store keeps what resuming needs: upload sessions (the
 * resumable URI and acknowledged offset per host) and post records
 * (intent → done per publisher), so that nothing is uploaded or posted twice.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as memoryStore from "./internal/store/memory.js"
import type { Outbox } from "./internal/webhooks/outbox.js"
import type { PublishedPost, UploadSession } from "./Platform.js"
import type { PublisherTarget, Target } from "./PlatformId.js"
import type { InvalidTransition, StoreError, TaskNotFound } from "./PublishError.js"
import type { PostRecord, Task, TaskState } from "./Task.js"
import type { TaskId } from "./TaskId.js"
import type { HistoryEntry } from "./TaskStatus.js"

export {
  /** Moved to `Task`; re-exported here for existing imports. */
  PostRecord
} from "./Task.js"

/**
 * A change to one task, as delivered by `changes`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskChange {
  readonly task: Task
  /** The state before the change; equal to `task.state` for progress updates. */
  readonly previous: TaskState | undefined
  /**
   * A state change's sequence number in the store's change log (increasing
   * across all tasks); absent for progress updates, which are not logged.
   */
  readonly seq?: number | undefined
}

/**
 * A logged state change, as `changesSince` replays it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SequencedChange extends TaskChange {
  readonly seq: number
}

/**
 * What `claimIdempotencyKey` found: the key is now this caller's, or an
 * earlier caller holds it (with the task it created, once created).
 *
 * @since 0.1.0
 * @category models
 */
export type IdempotencyClaim =
  | { readonly _tag: "Claimed" }
  | {
    readonly _tag: "Existing"
    readonly taskId: TaskId | undefined
    /** What the first request was (its hash), to refuse a key reused for another request. */
    readonly fingerprint: string
    readonly createdAt: number
  }

/**
 * How long an idempotency key is kept (at least): 24 hours.
 *
 * @since 0.1.0
 * @category constants
 */
export const idempotencyKeyRetentionMillis: number = 24 * 60 * 60 * 1000

/**
 * `waitFor` over a store's `watch`, for stores whose changes arrive as a stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const waitForFromWatch = (
  watch: Service["watch"]
): Service["waitFor"] =>
(id, predicate) =>
  Effect.catchTag(
    Stream.runHead(Stream.filter(watch(id), predicate)),
    "TaskNotFound",
    () => Effect.succeedNone
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  readonly status?: TaskState | undefined
  /** Only the tasks of this batch (`Medusa.publishBatch`). */
  readonly batchId?: string | undefined
  readonly limit?: number | undefined
  readonly offset?: number | undefined
  /** Only tasks created after this time (epoch ms, exclusive). */
  readonly createdAfter?: number | undefined
  /** Only tasks created before this time (epoch ms, exclusive). */
  readonly createdBefore?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Stores a new task. */
  readonly insert: (task: Task) => Effect.Effect<void, StoreError>
  readonly get: (id: TaskId) => Effect.Effect<Task, TaskNotFound | StoreError>
  /**
   * Atomically replaces a task with `f(task)`. `f` may refuse (an invalid
   * transition); implementations run it under their own lock or transaction.
   */
  readonly update: (
    id: TaskId,
    f: (task: Task) => Either.Either<Task, InvalidTransition>
  ) => Effect.Effect<Task, TaskNotFound | InvalidTransition | StoreError>
  /** Newest first. */
  readonly list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<Task>, StoreError>
  /** The current task, then each change, ending after a final state. */
  readonly watch: (id: TaskId) => Stream.Stream<Task, TaskNotFound | StoreError>
  /**
   * The task's first state, from now on (the current one included), that
   * satisfies `predicate`; `None` if the task ends without one or goes away.
   * What `watch` gives, without a stream: a running task's steps wait on it.
   */
  readonly waitFor: (id: TaskId, predicate: (task: Task) => boolean) => Effect.Effect<Option.Option<Task>, StoreError>
  /** Every change to every task, from subscription on. */
  readonly changes: Stream.Stream<TaskChange, StoreError>
  /**
   * Calls `listener` with every change `changes` carries, in the same order,
   * in the step that makes (or receives) it, before any fiber runs; removed
   * when the scope closes. For a follower that must not wait behind the
   * fibers of running tasks: the server writes its live events from it.
   * `listener` must be quick and must not throw (one that throws is
   * removed). Absent on stores that cannot; `changes` serves them.
   */
  readonly listen?:
    | ((listener: (change: TaskChange) => void) => Effect.Effect<void, never, Scope.Scope>)
    | undefined

  readonly saveUploadSession: (id: TaskId, session: UploadSession) => Effect.Effect<void, StoreError>
  readonly loadUploadSession: (id: TaskId, host: Target) => Effect.Effect<Option.Option<UploadSession>, StoreError>

  readonly recordPostIntent: (id: TaskId, publisher: PublisherTarget) => Effect.Effect<void, StoreError>
  readonly recordPostDone: (id: TaskId, post: PublishedPost) => Effect.Effect<void, StoreError>
  /**
   * Keeps `ref` with the post's intent (`PostRecord.staged`); later intents
   * of the post keep it. Absent on stores that cannot.
   */
  readonly recordPostStaged?:
    | ((id: TaskId, publisher: PublisherTarget, ref: string) => Effect.Effect<void, StoreError>)
    | undefined
  readonly loadPostRecord: (
    id: TaskId,
    publisher: PublisherTarget
  ) => Effect.Effect<Option.Option<PostRecord>, StoreError>

  /** Deletes finished tasks last updated before `before` (epoch ms); returns how many. */
  readonly prune: (before: number) => Effect.Effect<number, StoreError>

  /**
   * The webhook outbox: events recorded with the changes they describe (see
   * `Webhooks`). Absent on stores that keep none.
   */
  readonly outbox?: Outbox | undefined
  /** The task's state changes, oldest first (empty for an unknown task). */
  readonly history: (id: TaskId) => Effect.Effect<ReadonlyArray<HistoryEntry>, StoreError>
  /**
   * Logged state changes with a sequence number above `after`, in sequence
   * order (of one task when `taskId` is given): what a follower missed. The
   * in-memory store keeps the latest 10 000.
   */
  readonly changesSince: (
    after: number,
    options?: { readonly taskId?: TaskId | undefined; readonly limit?: number | undefined }
  ) => Effect.Effect<ReadonlyArray<SequencedChange>, StoreError>
  /**
   * Takes an idempotency key for a submit about to happen, or finds the
   * earlier holder. Keys older than `idempotencyKeyRetentionMillis` are
   * forgotten.
   */
  readonly claimIdempotencyKey: (
    key: string,
    fingerprint: string,
    now: number
  ) => Effect.Effect<IdempotencyClaim, StoreError>
  /** Records the task a claimed key created. */
  readonly completeIdempotencyKey: (key: string, taskId: TaskId) => Effect.Effect<void, StoreError>
  /** Gives a claimed key back (the submit failed, nothing was created). */
  readonly releaseIdempotencyKey: (key: string) => Effect.Effect<void, StoreError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TaskStore extends Context.Tag("@medusa/TaskStore")<TaskStore, Service>() {}

/**
 * The in-memory store: each task's watchers are handed its changes in the
 * step that applies them (`watch`, `waitFor`), a `PubSub` of every change
 * drives `changes`. Nothing survives the process; pruning of finished tasks
 * is done by `Medusa` after its `retention`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TaskStore> = Layer.effect(TaskStore, Effect.suspend(() => memoryStore.make))
