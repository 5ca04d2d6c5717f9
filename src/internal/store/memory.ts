import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type { PublishedPost, UploadSession } from "../../Platform.js"
import type { PublisherTarget, Target } from "../../PlatformId.js"
import { TaskNotFound } from "../../PublishError.js"
import type { InvalidTransition } from "../../PublishError.js"
import { isFinal } from "../../Task.js"
import type { Task, TaskState } from "../../Task.js"
import { PostRecord } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import type { HistoryEntry } from "../../TaskStatus.js"
import type { IdempotencyClaim, ListOptions, SequencedChange, Service, TaskChange } from "../../TaskStore.js"
import { idempotencyKeyRetentionMillis } from "../../TaskStore.js"
import * as WebhookEvents from "../webhooks/events.js"
import * as MemoryOutbox from "../webhooks/memoryOutbox.js"
import * as Listeners from "./listeners.js"

// `new PostRecord(fields, true)` without the constructor's default-merging
// pass (PostRecord has no defaults; the fields are valid by construction).
const postRecord = (fields: ConstructorParameters<typeof PostRecord>[0]): PostRecord =>
  Object.assign(Object.create(PostRecord.prototype) as PostRecord, fields)

/**
 * One task: its latest value (read by `get` and `list` without a fiber
 * step), and the watchers following it. An update is one synchronous step
 * that hands the new value to each watcher in the order updates are
 * applied; finished tasks drop their watchers, since nothing changes them
 * any more.
 */
interface Entry {
  task: Task
  watchers: Set<(task: Task) => void> | undefined
  readonly sequence: number
  /** Its state changes, oldest first (bounded: a task has a handful). */
  readonly history: Array<HistoryEntry>
}

/** The change log kept for `changesSince` (followers reconnecting). */
const logCapacity = 10_000
/** State changes kept per task (a task has about four). */
const historyCapacity = 200

/**
 * The in-memory store: each unfinished task's watchers, so that `watch(id)`
 * follows that task's changes alone (a watcher does no work for other
 * tasks' changes, however many tasks run), and one `PubSub` that carries
 * every change to `changes` subscribers. An update is applied, handed to
 * the task's watchers and `listen`ers and published in one synchronous step,
 * so all see the updates in the order they were applied. (A `SubscriptionRef` per
 * watched task did the same under a lock, at several times the cost: the
 * task steps each watch their task while they run.) Upload sessions and post records live beside it and are dropped
 * when their task reaches a final state (nothing can resume an in-memory
 * task after the process ends).
 *
 * @internal
 */
export const make: Effect.Effect<Service> = Effect.gen(function*() {
  const entries = new Map<TaskId, Entry>()
  const hub = yield* PubSub.unbounded<TaskChange>()
  const listeners = Listeners.make<TaskChange>()
  // Called inside the step that applies the change: listeners hear it there and then.
  const publish = (change: TaskChange) => {
    listeners.emit(change)
    return PubSub.publish(hub, change)
  }
  // `sequence` breaks ties of creation time when listing newest first (TestClock).
  let nextSequence = 0
  const sessions = new Map<TaskId, Partial<Record<Target, UploadSession>>>()
  const posts = new Map<TaskId, Partial<Record<PublisherTarget, PostRecord>>>()
  // Webhook events are recorded in the step that applies their change.
  const outbox = MemoryOutbox.make()

  const forget = (id: TaskId) => {
    sessions.delete(id)
    posts.delete(id)
  }

  // The change log: a ring of the latest state changes, numbered from 1.
  let lastSeq = 0
  const log: Array<SequencedChange | undefined> = new Array(logCapacity)
  const logChange = (entry: Entry, task: Task, previous: TaskState | undefined): SequencedChange => {
    const seq = ++lastSeq
    const change: SequencedChange = { task, previous, seq }
    log[seq % logCapacity] = change
    entry.history.push({ seq, state: task.state, at: task.updatedAt, message: task.message })
    if (entry.history.length > historyCapacity) entry.history.shift()
    return change
  }
  const idempotencyKeys = new Map<
    string,
    { readonly fingerprint: string; readonly createdAt: number; taskId: TaskId | undefined }
  >()

  const insert = (task: Task) =>
    Effect.suspend(() => {
      const entry: Entry = { task, watchers: undefined, sequence: nextSequence++, history: [] }
      entries.set(task.id, entry)
      outbox.append(WebhookEvents.derive(undefined, task))
      return publish(logChange(entry, task, undefined))
    })

  const notFound = (id: TaskId) => Effect.fail(new TaskNotFound({ taskId: id }))

  const get = (id: TaskId) =>
    Effect.suspend(() => {
      const entry = entries.get(id)
      return entry === undefined ? notFound(id) : Effect.succeed(entry.task)
    })

  const update = (id: TaskId, f: (task: Task) => Either.Either<Task, InvalidTransition>) =>
    Effect.suspend((): Effect.Effect<Task, TaskNotFound | InvalidTransition> => {
      const entry = entries.get(id)
      if (entry === undefined) return notFound(id)
      // A refused update fails here: the task is untouched and nothing is published.
      const next = f(entry.task)
      if (Either.isLeft(next)) return Effect.fail(next.left)
      const previous = entry.task.state
      const task = next.right
      outbox.append(WebhookEvents.derive(entry.task, task))
      entry.task = task
      const watchers = entry.watchers
      if (isFinal(task.state)) {
        entry.watchers = undefined
        forget(id)
      }
      if (watchers !== undefined) { for (const watcher of watchers) watcher(task) }
      const change: TaskChange = previous !== task.state ? logChange(entry, task, previous) : { task, previous }
      return Effect.as(publish(change), task)
    })

  const list = (options?: ListOptions) =>
    Effect.sync(() => {
      const status = options?.status
      const after = options?.createdAfter ?? -Infinity
      const before = options?.createdBefore ?? Infinity
      const batchId = options?.batchId
      const all: Array<Entry> = []
      for (const entry of entries.values()) {
        if (
          (status === undefined || entry.task.state === status) &&
          entry.task.createdAt > after && entry.task.createdAt < before &&
          (batchId === undefined || entry.task.batchId === batchId)
        ) all.push(entry)
      }
      all.sort((a, b) => b.task.createdAt - a.task.createdAt || b.sequence - a.sequence)
      const offset = Math.max(0, options?.offset ?? 0)
      const limit = options?.limit
      const page = limit === undefined ? all.slice(offset) : all.slice(offset, offset + Math.max(0, limit))
      return page.map((entry) => entry.task)
    })

  // The current value first, then every change, ending with the final state.
  // Registered in the same synchronous step that reads the task, so no update falls between.
  const watch = (id: TaskId): Stream.Stream<Task, TaskNotFound> =>
    Stream.asyncPush<Task, TaskNotFound>((emit) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const entry = entries.get(id)
          if (entry === undefined) {
            emit.fail(new TaskNotFound({ taskId: id }))
            return undefined
          }
          emit.single(entry.task)
          if (isFinal(entry.task.state)) {
            emit.end()
            return undefined
          }
          const watcher = (task: Task) => {
            emit.single(task)
            if (isFinal(task.state)) emit.end()
          }
          ;(entry.watchers ??= new Set()).add(watcher)
          return () => entry.watchers?.delete(watcher)
        }),
        (unregister) => Effect.sync(() => unregister?.())
      ), { bufferSize: "unbounded" })

  // One callback among the task's watchers, no stream: each running step waits on its task this way.
  const waitFor = (id: TaskId, predicate: (task: Task) => boolean) =>
    Effect.async<Option.Option<Task>>((resume) => {
      const entry = entries.get(id)
      if (entry === undefined) return resume(Effect.succeedNone)
      if (predicate(entry.task)) return resume(Effect.succeedSome(entry.task))
      if (isFinal(entry.task.state)) return resume(Effect.succeedNone)
      const watcher = (task: Task) => {
        if (predicate(task)) {
          entry.watchers?.delete(watcher)
          resume(Effect.succeedSome(task))
        } else if (isFinal(task.state)) {
          resume(Effect.succeedNone)
        }
      }
      ;(entry.watchers ??= new Set()).add(watcher)
      return Effect.sync(() => entry.watchers?.delete(watcher))
    })

  const changes: Stream.Stream<TaskChange> = Stream.fromPubSub(hub)

  const saveUploadSession = (id: TaskId, session: UploadSession) =>
    Effect.sync(() => {
      sessions.set(id, { ...sessions.get(id), [session.host]: session })
    })

  const loadUploadSession = (id: TaskId, host: Target) =>
    Effect.sync(() => Option.fromNullable(sessions.get(id)?.[host]))

  const setPost = (id: TaskId, record: PostRecord) =>
    Effect.sync(() => {
      posts.set(id, { ...posts.get(id), [record.publisher]: record })
    })

  const recordPostIntent = (id: TaskId, publisher: PublisherTarget) =>
    Effect.clockWith((clock) => {
      // A new intent keeps what an earlier send staged (the same post is being made).
      const staged = posts.get(id)?.[publisher]?.staged
      return setPost(
        id,
        postRecord({
          publisher,
          state: "intent",
          at: clock.unsafeCurrentTimeMillis(),
          ...(staged === undefined ? {} : { staged })
        })
      )
    })

  const recordPostStaged = (id: TaskId, publisher: PublisherTarget, ref: string) =>
    Effect.sync(() => {
      const record = posts.get(id)?.[publisher]
      if (record === undefined || record.state !== "intent") return
      posts.set(id, { ...posts.get(id), [publisher]: postRecord({ ...record, staged: ref }) })
    })

  const recordPostDone = (id: TaskId, post: PublishedPost) =>
    Effect.clockWith((clock) =>
      setPost(id, postRecord({ publisher: post.publisher, state: "done", at: clock.unsafeCurrentTimeMillis(), post }))
    )

  const loadPostRecord = (id: TaskId, publisher: PublisherTarget) =>
    Effect.sync(() => Option.fromNullable(posts.get(id)?.[publisher]))

  const prune = (before: number) =>
    Effect.sync(() => {
      let pruned = 0
      for (const [id, entry] of entries) {
        if (isFinal(entry.task.state) && entry.task.updatedAt < before) {
          entries.delete(id)
          forget(id)
          outbox.forget(id)
          pruned++
        }
      }
      return pruned
    })

  const history = (id: TaskId) => Effect.sync((): ReadonlyArray<HistoryEntry> => entries.get(id)?.history ?? [])

  const changesSince = (
    after: number,
    options?: { readonly taskId?: TaskId | undefined; readonly limit?: number | undefined }
  ) =>
    Effect.sync(() => {
      const out: Array<SequencedChange> = []
      const limit = options?.limit ?? Infinity
      const first = Math.max(after + 1, lastSeq - logCapacity + 1, 1)
      for (let seq = first; seq <= lastSeq && out.length < limit; seq++) {
        const change = log[seq % logCapacity]
        if (change === undefined || change.seq !== seq) continue
        if (options?.taskId === undefined || change.task.id === options.taskId) out.push(change)
      }
      return out
    })

  const claimIdempotencyKey = (key: string, fingerprint: string, now: number) =>
    Effect.sync((): IdempotencyClaim => {
      for (const [k, v] of idempotencyKeys) {
        // Oldest first (insertion order): stop at the first one still kept.
        if (v.createdAt >= now - idempotencyKeyRetentionMillis) break
        idempotencyKeys.delete(k)
      }
      const existing = idempotencyKeys.get(key)
      if (existing !== undefined) {
        return {
          _tag: "Existing",
          taskId: existing.taskId,
          fingerprint: existing.fingerprint,
          createdAt: existing.createdAt
        }
      }
      idempotencyKeys.set(key, { fingerprint, createdAt: now, taskId: undefined })
      return { _tag: "Claimed" }
    })

  const completeIdempotencyKey = (key: string, taskId: TaskId) =>
    Effect.sync(() => {
      const existing = idempotencyKeys.get(key)
      if (existing !== undefined) existing.taskId = taskId
    })

  const releaseIdempotencyKey = (key: string) =>
    Effect.sync(() => {
      const existing = idempotencyKeys.get(key)
      if (existing !== undefined && existing.taskId === undefined) idempotencyKeys.delete(key)
    })

  return {
    history,
    changesSince,
    claimIdempotencyKey,
    completeIdempotencyKey,
    releaseIdempotencyKey,
    insert,
    get,
    update,
    list,
    watch,
    waitFor,
    changes,
    listen: listeners.listen,
    saveUploadSession,
    loadUploadSession,
    recordPostIntent,
    recordPostDone,
    recordPostStaged,
    loadPostRecord,
    prune,
    outbox: outbox.outbox
  }
})
