import * as Clock from "effect/Clock"
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

/**
 * One immutable snapshot: every task, and the change that produced it (so
 * that `changes` subscribers see each change exactly once, in order).
 */
interface State {
  readonly tasks: HashMap.HashMap<TaskId, Task>
  readonly change: TaskChange | undefined
}

/**
 * The in-memory store: tasks live in one `SubscriptionRef`, which drives
 * `watch` and `changes`. Upload sessions and post records live beside it and
 * are dropped when their task reaches a final state (nothing can resume an
 * in-memory task after the process ends).
 *
 * @internal
 */
export const make: Effect.Effect<Service> = Effect.gen(function*() {
  const ref = yield* SubscriptionRef.make<State>({ tasks: HashMap.empty(), change: undefined })
  // Insertion order, to list tasks newest first when creation times tie (TestClock).
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
      return { tasks: HashMap.set(s.tasks, task.id, task), change: { task, previous: undefined } }
    })

  const get = (id: TaskId) =>
    Effect.flatMap(
      SubscriptionRef.get(ref),
      (s) =>
        Option.match(HashMap.get(s.tasks, id), {
          onNone: () => new TaskNotFound({ taskId: id }),
          onSome: Effect.succeed
        })
    )

  const update = (id: TaskId, f: (task: Task) => Either.Either<Task, InvalidTransition>) =>
    // modifyEffect publishes nothing when it fails, so refused updates are invisible to watchers.
    SubscriptionRef.modifyEffect(ref, (s): Effect.Effect<readonly [Task, State], TaskNotFound | InvalidTransition> => {
      const current = HashMap.get(s.tasks, id)
      if (Option.isNone(current)) return Effect.fail(new TaskNotFound({ taskId: id }))
      const next = f(current.value)
      if (Either.isLeft(next)) return Effect.fail(next.left)
      const task = next.right
      if (isFinal(task.state)) forget(id)
      const state: State = {
        tasks: HashMap.set(s.tasks, id, task),
        change: { task, previous: current.value.state }
      }
      return Effect.succeed([task, state] as const)
    })

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

  const watch = (id: TaskId): Stream.Stream<Task, TaskNotFound> =>
    ref.changes.pipe(
      Stream.zipWithIndex,
      Stream.mapEffect(([s, i]): Effect.Effect<Option.Option<Task>, TaskNotFound> => {
        if (i === 0) {
          // The snapshot at subscription time.
          const task = HashMap.get(s.tasks, id)
          return Option.isNone(task) ? Effect.fail(new TaskNotFound({ taskId: id })) : Effect.succeed(task)
        }
        return Effect.succeed(
          s.change !== undefined && s.change.task.id === id ? Option.some(s.change.task) : Option.none()
        )
      }),
      Stream.filterMap((o) => o),
      Stream.takeUntil((task) => isFinal(task.state))
    )

  const changes: Stream.Stream<TaskChange> = ref.changes.pipe(
    Stream.drop(1),
    Stream.filterMap((s) => Option.fromNullable(s.change))
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
    Effect.flatMap(
      Clock.currentTimeMillis,
      (at) => setPost(id, new PostRecord({ publisher, state: "intent", at }, true))
    )

  const recordPostDone = (id: TaskId, post: PublishedPost) =>
    Effect.flatMap(
      Clock.currentTimeMillis,
      (at) => setPost(id, new PostRecord({ publisher: post.publisher, state: "done", at, post }, true))
    )

  const loadPostRecord = (id: TaskId, publisher: PublisherId) =>
    Effect.sync(() => Option.fromNullable(posts.get(id)?.[publisher]))

  const prune = (before: number) =>
    SubscriptionRef.modify(ref, (s) => {
      let tasks = s.tasks
      let removed = 0
      for (const task of HashMap.values(s.tasks)) {
        if (isFinal(task.state) && task.updatedAt < before) {
          tasks = HashMap.remove(tasks, task.id)
          sequence.delete(task.id)
          forget(task.id)
          removed++
        }
      }
      // `change: undefined`: pruning is not a task change, watchers skip it.
      return [removed, { tasks, change: undefined }] as const
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
