import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { PublishedPost, UploadSession } from "../Platform.js"
import type { HostId, PublisherId } from "../PlatformId.js"
import { TaskNotFound } from "../PublishError.js"
import type { InvalidTransition } from "../PublishError.js"
import { isFinal } from "../Task.js"
import type { Task } from "../Task.js"
import type { TaskId } from "../TaskId.js"
import { PostRecord } from "../TaskStore.js"
import type { ListOptions, Service, TaskChange } from "../TaskStore.js"

// `new PostRecord(fields, true)` without the constructor's default-merging
// pass (PostRecord has no defaults; the fields are valid by construction).
const postRecord = (fields: ConstructorParameters<typeof PostRecord>[0]): PostRecord =>
  Object.assign(Object.create(PostRecord.prototype) as PostRecord, fields)

/**
 * What the `SubscriptionRef` holds: an immutable snapshot of every task, the
 * change that produced it, and a version that only task changes advance
 * (pruning swaps the map without a change).
 */
interface Snapshot {
  readonly tasks: HashMap.HashMap<TaskId, Task>
  readonly last: TaskChange | undefined
  readonly version: number
}

/**
 * The in-memory store: tasks live in a `SubscriptionRef` of immutable
 * snapshots, and `watch` and `changes` are its `changes` stream, so a
 * subscriber sees the current state and then every change in the order it was
 * applied. Upload sessions and post records live beside it and are dropped
 * when their task reaches a final state (nothing can resume an in-memory task
 * after the process ends).
 *
 * @internal
 */
export const make: Effect.Effect<Service> = Effect.gen(function*() {
  const ref = yield* SubscriptionRef.make<Snapshot>({ tasks: HashMap.empty(), last: undefined, version: 0 })
  // `sequence` breaks ties of creation time when listing newest first (TestClock).
  const sequence = new Map<TaskId, number>()
  let nextSequence = 0
  const sessions = new Map<TaskId, Partial<Record<HostId, UploadSession>>>()
  const posts = new Map<TaskId, Partial<Record<PublisherId, PostRecord>>>()

  const forget = (id: TaskId) => {
    sessions.delete(id)
    posts.delete(id)
  }

  const insert = (task: Task) =>
    SubscriptionRef.update(ref, (s) => {
      sequence.set(task.id, nextSequence++)
      return { tasks: HashMap.set(s.tasks, task.id, task), last: { task, previous: undefined }, version: s.version + 1 }
    })

  const get = (id: TaskId) =>
    Effect.flatMap(SubscriptionRef.get(ref), (s) =>
      Option.match(HashMap.get(s.tasks, id), {
        onNone: () => Effect.fail(new TaskNotFound({ taskId: id })),
        onSome: Effect.succeed
      }))

  const update = (id: TaskId, f: (task: Task) => Either.Either<Task, InvalidTransition>) =>
    // A refused update fails inside modifyEffect: the ref is untouched and nothing is published.
    SubscriptionRef.modifyEffect(
      ref,
      (s): Effect.Effect<readonly [Task, Snapshot], TaskNotFound | InvalidTransition> => {
        const current = HashMap.get(s.tasks, id)
        if (Option.isNone(current)) return Effect.fail(new TaskNotFound({ taskId: id }))
        const next = f(current.value)
        if (Either.isLeft(next)) return Effect.fail(next.left)
        const task = next.right
        if (isFinal(task.state)) forget(id)
        return Effect.succeed(
          [task, {
            tasks: HashMap.set(s.tasks, id, task),
            last: { task, previous: current.value.state },
            version: s.version + 1
          }] as const
        )
      }
    )

  const list = (options?: ListOptions) =>
    Effect.map(SubscriptionRef.get(ref), (s) => {
      const status = options?.status
      const all: Array<Task> = []
      for (const task of HashMap.values(s.tasks)) {
        if (status === undefined || task.state === status) all.push(task)
      }
      all.sort((a, b) => b.createdAt - a.createdAt || (sequence.get(b.id) ?? 0) - (sequence.get(a.id) ?? 0))
      const offset = Math.max(0, options?.offset ?? 0)
      const limit = options?.limit
      return limit === undefined ? all.slice(offset) : all.slice(offset, offset + Math.max(0, limit))
    })

  // The same task object is carried by every snapshot until it changes: dedupe by reference.
  const watch = (id: TaskId): Stream.Stream<Task, TaskNotFound> =>
    Stream.unwrap(Effect.as(
      get(id),
      ref.changes.pipe(
        Stream.filterMap((s) => HashMap.get(s.tasks, id)),
        Stream.changesWith((a, b) => a === b),
        Stream.takeUntil((task) => isFinal(task.state))
      )
    ))

  // `ref.changes` starts with the current snapshot, whose change predates the subscription: skip it,
  // then keep one element per version (pruning republishes the same version).
  const changes: Stream.Stream<TaskChange> = ref.changes.pipe(
    Stream.changesWith((a, b) => a.version === b.version),
    Stream.drop(1),
    Stream.filterMap((s) => Option.fromNullable(s.last))
  )

  const saveUploadSession = (id: TaskId, session: UploadSession) =>
    Effect.sync(() => {
      sessions.set(id, { ...sessions.get(id), [session.host]: session })
    })

  const loadUploadSession = (id: TaskId, host: HostId) =>
    Effect.sync(() => Option.fromNullable(sessions.get(id)?.[host]))

  const setPost = (id: TaskId, record: PostRecord) =>
    Effect.sync(() => {
      posts.set(id, { ...posts.get(id), [record.publisher]: record })
    })

  const recordPostIntent = (id: TaskId, publisher: PublisherId) =>
    Effect.clockWith((clock) =>
      setPost(id, postRecord({ publisher, state: "intent", at: clock.unsafeCurrentTimeMillis() }))
    )

  const recordPostDone = (id: TaskId, post: PublishedPost) =>
    Effect.clockWith((clock) =>
      setPost(id, postRecord({ publisher: post.publisher, state: "done", at: clock.unsafeCurrentTimeMillis(), post }))
    )

  const loadPostRecord = (id: TaskId, publisher: PublisherId) =>
    Effect.sync(() => Option.fromNullable(posts.get(id)?.[publisher]))

  const prune = (before: number) =>
    SubscriptionRef.modify(ref, (s) => {
      // Pruning is not a task change: the version stays, so `changes` publishes nothing.
      const stale = HashMap.filter(s.tasks, (task) => isFinal(task.state) && task.updatedAt < before)
      for (const id of HashMap.keys(stale)) {
        sequence.delete(id)
        forget(id)
      }
      return [HashMap.size(stale), { ...s, tasks: HashMap.removeMany(s.tasks, HashMap.keys(stale)) }] as const
    })

  return {
    insert,
    get,
    update,
    list,
    watch,
    changes,
    saveUploadSession,
    loadUploadSession,
    recordPostIntent,
    recordPostDone,
    loadPostRecord,
    prune
  }
})
