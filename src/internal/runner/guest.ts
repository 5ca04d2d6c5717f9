/**
 * A process that opens an embedded (SQLite) store another process owns: a
 * guest. It validates and submits its tasks through the requests folder, so
 * that the owner (the one process that holds the lock) stores and runs them,
 * and it watches them in its own read-only view of the file. It also waits
 * for the lock: when the owner exits, one guest takes the lock, becomes the
 * owner, and resumes every unfinished task, its own and the others'.
 *
 * One writer and one workflow engine per file means no task runs twice and
 * no transaction of the engine meets another process's commit.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import type { Service } from "../../Medusa.js"
import { Medusa } from "../../Medusa.js"
import { StoreError } from "../../PublishError.js"
import type { PublishRequestInput } from "../../PublishRequest.js"
import * as TaskId from "../../TaskId.js"
import { TaskStore as TaskStoreTag } from "../../TaskStore.js"
import type { TaskStore } from "../../TaskStore.js"
import * as Lock from "../store/lock.js"
import * as Engine from "../task/engine.js"
import * as Requests from "./requests.js"
import * as Shared from "./shared.js"

/** How often a guest tries the lock. */
const lockRetry = Duration.millis(250)

/** How long a guest waits for the owner to store a task it submitted. */
const storedWithin = Duration.minutes(1)

/**
 * The guest's `Medusa`: `view` is the read-only service on the file; `owner`
 * builds the owning service (in the given scope, with the lock held) when
 * the lock is taken.
 *
 * @internal
 */
export const make = (options: {
  readonly filename: string
  readonly view: Service
  readonly owner: (scope: Scope.Scope) => Effect.Effect<Service, StoreError>
}): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { filename, view } = options
    const platforms = yield* Engine.resolvePlatforms
    const scope = yield* Effect.scope
    const promoted = yield* Ref.make(Option.none<Service>())

    // Takes the lock when it is free, then becomes the owner.
    const tryPromote = Effect.gen(function*() {
      const child = yield* Scope.fork(scope, ExecutionStrategy.sequential)
      const result = yield* Effect.exit(Effect.gen(function*() {
        if (!(yield* Scope.extend(Lock.tryAcquire(filename), child))) return Option.none<Service>()
        return Option.some(yield* options.owner(child))
      }))
      if (Exit.isFailure(result) || Option.isNone(result.value)) {
        yield* Scope.close(child, Exit.void)
        if (Exit.isFailure(result)) yield* Effect.logWarning(`Medusa: could not take over ${filename}`, result.cause)
        return false
      }
      yield* Ref.set(promoted, result.value)
      yield* Effect.logDebug(`Medusa: this process now owns ${filename}`)
      return true
    })
    yield* tryPromote.pipe(
      Effect.repeat({ schedule: Schedule.spaced(lockRetry), until: (done) => done }),
      Effect.ignore,
      Effect.forkIn(scope)
    )

    const current = <A, E>(
      asOwner: (owner: Service) => Effect.Effect<A, E>,
      asGuest: Effect.Effect<A, E>
    ): Effect.Effect<A, E> =>
      Effect.flatMap(Ref.get(promoted), Option.match({ onNone: () => asGuest, onSome: asOwner }))

    /** Until the task is in the view: the owner (or this process, promoted) stored it. */
    const awaitStored = (id: TaskId.TaskId): Effect.Effect<void, StoreError> =>
      view.status(id).pipe(
        Effect.retry({ while: (e) => e._tag === "TaskNotFound", schedule: Schedule.spaced("50 millis") }),
        Effect.asVoid,
        Effect.timeoutFail({
          duration: storedWithin,
          onTimeout: () =>
            new StoreError({
              reason: "locked",
              description: `the process that owns ${filename} did not take task ${id} within ${
                Duration.format(storedWithin)
              }. Is it still running? The request stays in ${
                Requests.requestsDirOf(filename)
              } and the task is stored and run when a process owns the file again.`
            })
        }),
        Effect.catchTag("TaskNotFound", (e) => Effect.die(e))
      )

    const submitAsGuest = (input: PublishRequestInput) =>
      Effect.gen(function*() {
        const { media, request } = yield* Engine.validateRequest(input, platforms)
        const id = yield* TaskId.make
        const now = yield* Clock.currentTimeMillis
        const task = yield* Shared.plannedTask(platforms, view.list, Engine.makeTask(id, request, media, now), now)
        yield* Requests.submitFromOutside(filename, task)
        yield* awaitStored(id)
        return id
      })

    const submit: Service["submit"] = (input) => current((o) => o.submit(input), submitAsGuest(input))

    return {
      submit,
      publish: (input) =>
        Effect.flatMap(submit(input), (id) => Effect.catchTag(view.await(id), "TaskNotFound", (e) => Effect.die(e))),
      status: view.status,
      await: view.await,
      watch: view.watch,
      changes: view.changes,
      cancel: (id) => current((o) => o.cancel(id), view.cancel(id)),
      list: view.list,
      validate: view.validate,
      retract: (id, options) => current((o) => o.retract(id, options), view.retract(id, options)),
      publishBatch: (manifest, batchOptions) =>
        current(
          (o) => o.publishBatch(manifest, batchOptions),
          Shared.publishBatch(
            platforms,
            view.list,
            (task) => Effect.zipRight(Requests.submitFromOutside(filename, task), Effect.asVoid(awaitStored(task.id)))
          )(
            manifest,
            batchOptions
          )
        ),
      reschedule: (id, runAt) => current((o) => o.reschedule(id, runAt), view.reschedule(id, runAt))
    } satisfies Service
  })

/**
 * The layer form, for `Durable.layerDurable`: the view's `TaskStore`, and
 * the guest's `Medusa` over it.
 *
 * @internal
 */
export const layer = (options: {
  readonly filename: string
  readonly view: Layer.Layer<Medusa | TaskStore, StoreError>
  readonly owner: Layer.Layer<Medusa, StoreError>
}): Layer.Layer<Medusa | TaskStore, StoreError> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const inputs = yield* Effect.context<never>()
      const view = yield* Layer.build(options.view)
      const service = yield* make({
        filename: options.filename,
        view: Context.get(view, Medusa),
        owner: (scope) =>
          Effect.map(
            Layer.buildWithScope(Layer.provide(options.owner, Layer.succeedContext(inputs)), scope),
            (ctx) => Context.get(ctx, Medusa)
          )
      })
      // The view's outbox is read-only: enabling a webhook endpoint is asked of the owner, as a call.
      const store = Context.get(view, TaskStoreTag)
      const outbox = store.outbox
      const routed = outbox === undefined ? store : {
        ...store,
        outbox: { ...outbox, enable: (url: string) => Requests.enableWebhookFromOutside(options.filename, url) }
      }
      return Context.add(Context.add(view, Medusa, service), TaskStoreTag, routed)
    })
  )
