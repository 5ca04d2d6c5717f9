import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
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

/** A change as published, numbered so that `watch` can drop what its snapshot already holds. */
interface Published {
  readonly version: number
  readonly change: TaskChange
}

/**
 * The in-memory store: tasks live in a `Map`; every change is published on a
 * `PubSub`, which drives `watch` and `changes`. Upload sessions and post
 * records live beside it and are dropped when their task reaches a final
 * state (nothing can resume an in-memory task after the process ends).
 *
 * Reads and updates are synchronous: a change is applied and published in
 * one step, with no yield in between, so that no lock is needed and
 * subscribers see changes in the order they were applied. (A
 * `SubscriptionRef` took a semaphore and published the whole snapshot on
 * each of the ~7 updates of a task: most of the store's cost.)
 *
 * @internal
 */
export const make: Effect.Effect<Service> = Effect.gen(function*() {
  const pubsub = yield* PubSub.unbounded<Published>()
  // Insertion order is kept by the Map; `sequence` breaks ties of creation
  // time when listing newest first (TestClock).
  const tasks = new Map<TaskId, Task>()
  const sequence = new Map<TaskId, number>()
  let nextSequence = 0
  let version = 0
  const sessions = new Map<TaskId, Partial<Record<HostId, UploadSession>>>()
  const posts = new Map<TaskId, Partial<Record<PublisherId, PostRecord>>>()

  const forget = (id: TaskId) => {
    sessions.delete(id)
    posts.delete(id)
  }

  const publish = (change: TaskChange) => {
    pubsub.unsafeOffer({ version: ++version, change })
  }

  const insert = (task: Task) =>
    Effect.sync(() => {
      sequence.set(task.id, nextSequence++)
      tasks.set(task.id, task)
      publish({ task, previous: undefined })
    })

  const get = (id: TaskId) =>
    Effect.suspend(() => {
      const task = tasks.get(id)
      return task === undefined ? Effect.fail(new TaskNotFound({ taskId: id })) : Effect.succeed(task)
    })

  const update = (id: TaskId, f: (task: Task) => Either.Either<Task, InvalidTransition>) =>
    // A refused update publishes nothing, so it is invisible to watchers.
    Effect.suspend((): Effect.Effect<Task, TaskNotFound | InvalidTransition> => {
      const current = tasks.get(id)
      if (current === undefined) return Effect.fail(new TaskNotFound({ taskId: id }))
      const next = f(current)
      if (Either.isLeft(next)) return Effect.fail(next.left)
      const task = next.right
      if (isFinal(task.state)) forget(id)
      tasks.set(id, task)
      publish({ task, previous: current.state })
      return Effect.succeed(task)
    })

  const list = (options?: ListOptions) =>
    Effect.sync(() => {
      const status = options?.status
      const all: Array<Task> = []
      for (const task of tasks.values()) {
        if (status === undefined || task.state === status) all.push(task)
      }
      all.sort((a, b) => b.createdAt - a.createdAt || (sequence.get(b.id) ?? 0) - (sequence.get(a.id) ?? 0))
      const offset = Math.max(0, options?.offset ?? 0)
      const limit = options?.limit
      return limit === undefined ? all.slice(offset) : all.slice(offset, offset + Math.max(0, limit))
    })

  const watch = (id: TaskId): Stream.Stream<Task, TaskNotFound> =>
    Stream.unwrapScoped(Effect.map(PubSub.subscribe(pubsub), (dequeue) => {
      // Subscribed first, then the snapshot: changes up to `at` are in the
      // snapshot and dropped from the queue, none is lost or seen twice.
      const at = version
      const task = tasks.get(id)
      if (task === undefined) return Stream.fail(new TaskNotFound({ taskId: id }))
      return Stream.concat(
        Stream.succeed(task),
        Stream.filterMap(
          Stream.fromQueue(dequeue),
          (p) => p.version > at && p.change.task.id === id ? Option.some(p.change.task) : Option.none()
        )
      )
    })).pipe(Stream.takeUntil((task) => isFinal(task.state)))

  const changes: Stream.Stream<TaskChange> = Stream.unwrapScoped(
    Effect.map(PubSub.subscribe(pubsub), (dequeue) => Stream.map(Stream.fromQueue(dequeue), (p) => p.change))
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
    Effect.sync(() => {
      let removed = 0
      for (const task of tasks.values()) {
        if (isFinal(task.state) && task.updatedAt < before) {
          // Pruning is not a task change: nothing is published.
          tasks.delete(task.id)
          sequence.delete(task.id)
          forget(task.id)
          removed++
        }
      }
      return removed
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
