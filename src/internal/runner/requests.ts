/**
 * Submitting, cancelling, rescheduling and retracting tasks of an embedded
 * (SQLite) store from a process that does not own it (a second `medusa
 * publish` in the same folder, `medusa cancel`, `reschedule` or `retract`
 * while `medusa publish --detach` runs a task).
 *
 * One process writes the database, so the others do not write to it: a
 * second writer's commit between the owner's read and write in one
 * transaction fails the owner's transaction (SQLite's `BUSY_SNAPSHOT`), and
 * the workflow engine shares that database. Instead, a cancel request is a
 * file in `<file>.requests/`, which the owner picks up and carries out
 * through its own `cancel`; the asking process waits for the task's final
 * state in its read-only view. When no process owns the store, the asking
 * process takes the lock itself and records the cancellation. A submit
 * request (`<id>.submit`) carries the whole pending task, validated and
 * given its id by the asking process; the owner stores and runs it (once:
 * a task already stored is only run). A reschedule or a retract
 * (`<nonce>.call`) is carried out by the owner through its own
 * `reschedule` / `retract`, which writes the outcome beside it
 * (`<nonce>.answer`: the task, or the typed error) for the asking process.
 * Enabling a webhook endpoint (`medusa webhooks enable` while `medusa
 * serve` owns the file) is such a call too, answered with its outcome.
 * A call carries its expiry, the asking process's own timeout: the owner
 * takes it up (renaming it `<nonce>.taken`) only before then, and discards
 * it later without carrying it out; an asking process that gives up removes
 * its call, so no later owner carries out what nobody waits for.
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as path from "node:path"
import { Target } from "../../PlatformId.js"
import {
  AuthExpired,
  InvalidRequest,
  InvalidTransition,
  PlatformRejected,
  PlatformUnavailable,
  PostOutcomeUnknown,
  QuotaExceeded,
  StoreError,
  TaskNotFound,
  TaskNotReady
} from "../../PublishError.js"
import type { PlatformError } from "../../PublishError.js"
import { isFinal, Task as TaskSchema } from "../../Task.js"
import type { Task } from "../../Task.js"
import * as TaskId from "../../TaskId.js"
import * as Lock from "../store/lock.js"
import * as Store from "../store/sql.js"
import * as Engine from "../task/engine.js"

/** @internal */
export const requestsDirOf = (filename: string): string => `${path.resolve(filename)}.requests`

const suffix = ".cancel"
const submitSuffix = ".submit"
const callSuffix = ".call"
const takenSuffix = ".taken"
const answerSuffix = ".answer"

/** A reschedule or a retract asked of the owner. @internal */
export const TaskCall = Schema.Union(
  Schema.TaggedStruct("reschedule", { id: Schema.String, runAt: Schema.String }),
  Schema.TaggedStruct("retract", {
    id: Schema.String,
    platforms: Schema.optional(Schema.Array(Target)),
    videos: Schema.optional(Schema.Boolean)
  })
)

/** @internal */
export type TaskCall = typeof TaskCall.Type

/** Enabling a webhook endpoint a `410 Gone` disabled, in the owner's outbox. */
const EnableWebhook = Schema.TaggedStruct("enableWebhook", { url: Schema.String })

/** Any call asked of the owner. @internal */
export const Call = Schema.Union(TaskCall, EnableWebhook)

/** @internal */
export type Call = typeof Call.Type

/** The errors a call may end with, as they cross the folder. */
const CallError = Schema.Union(
  TaskNotFound,
  TaskNotReady,
  InvalidRequest,
  StoreError,
  AuthExpired,
  QuotaExceeded,
  PlatformRejected,
  PlatformUnavailable,
  PostOutcomeUnknown
)

/** @internal */
export type CallError = TaskNotFound | TaskNotReady | InvalidRequest | StoreError | PlatformError

const Answer = Schema.parseJson(Schema.Union(
  Schema.TaggedStruct("done", { task: TaskSchema }),
  /** A webhook enable's outcome: `false` when the endpoint was not disabled. */
  Schema.TaggedStruct("enabled", { enabled: Schema.Boolean }),
  Schema.TaggedStruct("refused", { error: CallError }),
  /** Read after its expiry: discarded without being carried out. */
  Schema.TaggedStruct("expired", { at: Schema.Number })
))
type Answer = typeof Answer.Type

/** An answer older than this was not read by anyone: removed. */
const staleAnswerMillis = 15 * 60_000

/** What a call is about: `task medusa_task_…`, `webhook endpoint https://…`. */
const describeCall = (call: Call): string =>
  call._tag === "enableWebhook" ? `webhook endpoint ${call.url}` : `task ${call.id}`

/** The verb of a call, for messages: `reschedule`, `retract`, `enable`. */
const verbOf = (call: Call): string => call._tag === "enableWebhook" ? "enable" : call._tag

/** Writes the answer beside the call (`<nonce>.answer`), whole, then renamed into place. */
const answer = (callFile: string, value: Answer): Effect.Effect<void> =>
  Schema.encode(Answer)(value).pipe(
    Effect.orDie,
    Effect.flatMap((text) =>
      Effect.sync(() => {
        const to = callFile.slice(0, -takenSuffix.length) + answerSuffix
        fs.writeFileSync(`${to}.tmp`, text)
        fs.renameSync(`${to}.tmp`, to)
      })
    ),
    Effect.catchAllDefect((cause) => Effect.logWarning(`Medusa: could not answer request ${callFile}`, cause))
  )
/**
 * A call file: the call and when the asking process stops waiting (epoch
 * ms). A bare call (written before calls expired) never expires.
 */
const CallFile = Schema.parseJson(Schema.Union(
  Schema.Struct({ call: Call, expiresAt: Schema.Number }),
  Call
))

/** How long the asking process waits for the owner to answer a retract (platform deletes take time). */
const callAnswerWithin = Duration.minutes(5)

const TaskJson = Schema.parseJson(TaskSchema)

/** How long the asking process waits for the owner to carry a request out. */
const answerWithin = Duration.seconds(15)

/**
 * In the owning process: carries out the cancel requests left in the
 * requests folder, now and every `interval`, for the life of the scope.
 *
 * @internal
 */
export const serve = (
  filename: string,
  handlers: {
    readonly cancel: (id: string) => Effect.Effect<unknown, unknown>
    readonly submit: (task: Task) => Effect.Effect<unknown, unknown>
    readonly call: (call: TaskCall) => Effect.Effect<Task, CallError>
    /** Enables a webhook endpoint in the owner's outbox: `false` when it was not disabled. */
    readonly enableWebhook: (url: string) => Effect.Effect<boolean, StoreError>
  },
  interval: Duration.DurationInput = "100 millis"
): Effect.Effect<void, never, Scope.Scope> => {
  const { cancel } = handlers
  const dir = requestsDirOf(filename)
  const once = Effect.gen(function*() {
    const names = yield* Effect.sync(() => {
      try {
        return fs.readdirSync(dir)
      } catch {
        return [] // No folder: nobody asked yet.
      }
    })
    // Submits first: a cancel may name a task submitted in the same round.
    for (const name of names) {
      if (!name.endsWith(submitSuffix)) continue
      const file = path.join(dir, name)
      const text = yield* Effect.sync(() => {
        try {
          return fs.readFileSync(file, "utf8")
        } catch {
          return undefined
        }
      })
      if (text === undefined) continue
      const handled = yield* Schema.decodeUnknown(TaskJson)(text).pipe(
        Effect.flatMap(handlers.submit),
        Effect.as(true),
        Effect.catchAllCause((cause) =>
          Effect.as(Effect.logWarning(`Medusa: submit request ${name} not carried out; retrying`, cause), false)
        )
      )
      // Kept for the next round (or the next owner) when it could not be stored.
      if (handled) yield* Effect.sync(() => fs.rmSync(file, { force: true }))
    }
    for (const name of names) {
      if (!name.endsWith(suffix)) continue
      const id = name.slice(0, -suffix.length)
      // A task that already ended, or is unknown here, needs nothing more.
      if (TaskId.is(id)) {
        yield* cancel(id).pipe(
          Effect.catchAllCause((cause) => Effect.logDebug(`Medusa: cancel request for ${id} not carried out`, cause))
        )
      }
      yield* Effect.sync(() => fs.rmSync(path.join(dir, name), { force: true }))
    }
    // A `.taken` call at the start of a round was left by an owner that stopped part-way (this
    // process finishes its own within the round): carried out again unless expired, as both calls
    // are idempotent (a reschedule to the same time, a retract that asks nothing twice).
    for (const name of names) {
      const taken = name.endsWith(takenSuffix)
      if (!name.endsWith(callSuffix) && !taken) continue
      const nonce = name.slice(0, -(taken ? takenSuffix : callSuffix).length)
      const file = path.join(dir, `${nonce}${takenSuffix}`)
      // Taking it up is one rename: an asking process that gave up has removed it, and then it is not done.
      const mine = taken || (yield* Effect.sync(() => {
        try {
          fs.renameSync(path.join(dir, name), file)
          return true
        } catch {
          return false
        }
      }))
      if (!mine) continue
      const read = yield* Effect.sync(() => {
        try {
          return fs.readFileSync(file, "utf8")
        } catch {
          return undefined
        }
      }).pipe(
        Effect.flatMap((text) => text === undefined ? Effect.succeed(undefined) : Schema.decodeUnknown(CallFile)(text)),
        Effect.orElseSucceed(() => undefined)
      )
      const envelope = read === undefined ? undefined : "call" in read ? read : { call: read, expiresAt: undefined }
      const now = yield* Clock.currentTimeMillis
      if (envelope !== undefined && envelope.expiresAt !== undefined && envelope.expiresAt <= now) {
        // Nobody waits for it any more: carrying it out now would surprise whoever asked.
        yield* Effect.logWarning(
          `Medusa: request ${name} (${verbOf(envelope.call)} ${describeCall(envelope.call)}) expired at ${
            new Date(envelope.expiresAt).toISOString()
          }, before this process read it; discarded without carrying it out`
        )
        yield* answer(file, { _tag: "expired", at: envelope.expiresAt })
      } else if (envelope !== undefined) {
        const call = envelope.call
        const carried: Effect.Effect<Answer, CallError> = call._tag === "enableWebhook" ?
          Effect.map(handlers.enableWebhook(call.url), (enabled) => ({ _tag: "enabled" as const, enabled })) :
          Effect.map(handlers.call(call), (task) => ({ _tag: "done" as const, task }))
        const outcome = yield* Effect.either(carried)
        yield* answer(file, Either.isRight(outcome) ? outcome.right : { _tag: "refused", error: outcome.left })
      }
      yield* Effect.sync(() => fs.rmSync(file, { force: true }))
    }
    // Answers nobody read (the asking process gave up while the call was carried out).
    yield* Effect.sync(() => {
      const before = Date.now() - staleAnswerMillis
      for (const name of names) {
        if (!name.endsWith(answerSuffix)) continue
        try {
          const file = path.join(dir, name)
          if (fs.statSync(file).mtimeMs < before) fs.rmSync(file, { force: true })
        } catch {
          // Read and removed meanwhile.
        }
      }
    })
  })
  return Effect.asVoid(Effect.forkScoped(Effect.repeat(once, Schedule.spaced(interval))))
}

/**
 * In a process with a read-only view of the store: cancels `id` through the
 * owner, or directly when no process owns the store.
 *
 * @internal
 */
export const cancelFromOutside = (
  filename: string,
  view: Store.SqlStore,
  id: TaskId.TaskId
): Effect.Effect<Task, TaskNotFound | InvalidTransition | StoreError> =>
  Effect.gen(function*() {
    const task = yield* view.get(id)
    if (isFinal(task.state)) return yield* new InvalidTransition({ taskId: id, from: task.state, to: "cancelled" })
    const direct = yield* Effect.scoped(recordIfUnowned(filename, id))
    if (Option.isSome(direct)) return direct.value
    yield* ask(filename, id)
    const last = yield* Stream.runLast(view.watch(id)).pipe(
      Effect.timeoutFail({
        duration: answerWithin,
        onTimeout: () =>
          new StoreError({
            reason: "locked",
            description: `asked the process that owns ${filename} to cancel task ${id}, and it did not within ${
              Duration.format(answerWithin)
            }. Is it still running? The request stays in ${
              requestsDirOf(filename)
            } and is carried out when it reads it.`
          })
      })
    )
    if (Option.isNone(last)) return yield* view.get(id)
    // It ended some other way before the request was read.
    if (last.value.state !== "cancelled") {
      return yield* new InvalidTransition({ taskId: id, from: last.value.state, to: "cancelled" })
    }
    return last.value
  })

/**
 * In a process that does not own the store: asks the owner to store and run
 * `task` (the process that owns the lock next does, if the owner exits first).
 *
 * @internal
 */
export const submitFromOutside = (filename: string, task: Task): Effect.Effect<void, StoreError> =>
  Effect.flatMap(
    Effect.orDie(Schema.encode(TaskJson)(task)),
    (text) => leave(filename, `${task.id}${submitSuffix}`, text, "submit")
  )

/**
 * In a process that does not own the store: asks the owner to reschedule or
 * retract (through its own `reschedule` / `retract`), and waits for its
 * answer: the task after it, or the error it met. The process that owns the
 * lock next carries it out if the owner exits first (a guest waiting here
 * may be that process), as long as the call has not expired.
 *
 * @internal
 */
export const callFromOutside = (filename: string, call: TaskCall): Effect.Effect<Task, CallError> =>
  Effect.flatMap(exchange(filename, call), (answer) =>
    answer._tag === "done" ?
      Effect.succeed(answer.task) :
      Effect.die(new Error(`unexpected answer ${answer._tag} to a ${call._tag} call`)))

/**
 * In a process that does not own the store (`medusa webhooks enable` while
 * `medusa serve` runs): asks the owner to enable a webhook endpoint in its
 * outbox. `false` when the endpoint was not disabled.
 *
 * @internal
 */
export const enableWebhookFromOutside = (filename: string, url: string): Effect.Effect<boolean, StoreError> =>
  exchange(filename, { _tag: "enableWebhook", url }).pipe(
    Effect.flatMap((answer) =>
      answer._tag === "enabled" ?
        Effect.succeed(answer.enabled) :
        Effect.die(new Error(`unexpected answer ${answer._tag} to a webhook enable call`))
    ),
    // The owner's enable fails with StoreError only.
    Effect.catchIf((e): e is Exclude<CallError, StoreError> => e._tag !== "StoreError", (e) => Effect.die(e))
  )

/** Leaves `call` with its expiry (this process's own timeout) and waits for the owner's answer. */
const exchange = (
  filename: string,
  call: Call
): Effect.Effect<Exclude<Answer, { readonly _tag: "refused" | "expired" }>, CallError> =>
  Effect.gen(function*() {
    const within = call._tag === "retract" ? callAnswerWithin : answerWithin
    const dir = requestsDirOf(filename)
    const nonce = `${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
    const expiresAt = (yield* Clock.currentTimeMillis) + Duration.toMillis(within)
    const text = yield* Effect.orDie(Schema.encode(CallFile)({ call, expiresAt }))
    yield* leave(filename, `${nonce}${callSuffix}`, text, verbOf(call))
    const answerFile = path.join(dir, `${nonce}${answerSuffix}`)
    const read = Effect.sync(() => {
      try {
        return Option.some(fs.readFileSync(answerFile, "utf8"))
      } catch {
        return Option.none<string>()
      }
    })
    const status = call._tag === "enableWebhook" ? "medusa webhooks" : `medusa status ${call.id}`
    // Polled: the answer is a file another process writes.
    const answerText = yield* Effect.flatten(read).pipe(
      Effect.retry(Schedule.spaced("50 millis")),
      Effect.orDie,
      Effect.timeoutFail({
        duration: within,
        onTimeout: () => {
          const outcome = withdraw(dir, nonce)
          return new StoreError({
            reason: "locked",
            description: `asked the process that owns ${filename} to ${verbOf(call)} ${
              describeCall(call)
            }, and it did not answer within ${Duration.format(within)}. Is it still running? ${
              outcome === "withdrawn" ?
                "The request is withdrawn: nothing was done, and no process will carry it out later." :
                `It took the request up and may still carry it out: check with \`${status}\`.`
            }`
          })
        }
      })
    )
    yield* Effect.sync(() => fs.rmSync(answerFile, { force: true }))
    const answer = yield* Schema.decodeUnknown(Answer)(answerText).pipe(Effect.orDie)
    switch (answer._tag) {
      case "refused":
        return yield* Effect.fail(answer.error)
      case "expired":
        return yield* new StoreError({
          reason: "locked",
          description:
            `the process that owns ${filename} read the request to ${verbOf(call)} ${
              describeCall(call)
            } after it expired (${new Date(answer.at).toISOString()}) and discarded it: nothing was done; run the ` +
            "command again"
        })
      default:
        return answer
    }
  })

/**
 * Removes a call the asking process gives up on: `"withdrawn"` when it was
 * still waiting (no process will carry it out), `"taken"` when the owner
 * had already taken it up (it finishes it; its answer is then removed
 * unread as stale).
 */
const withdraw = (dir: string, nonce: string): "withdrawn" | "taken" => {
  try {
    fs.rmSync(path.join(dir, `${nonce}${callSuffix}`))
    return "withdrawn"
  } catch {
    return "taken"
  }
}

/** The retract call's options. @internal */
export const retractCall = (
  id: string,
  options: { readonly platforms?: ReadonlyArray<Target> | undefined; readonly videos?: boolean | undefined }
): TaskCall => ({
  _tag: "retract",
  id,
  ...(options.platforms !== undefined ? { platforms: options.platforms } : {}),
  ...(options.videos !== undefined ? { videos: options.videos } : {})
})

/** Leaves the request for the owner (written whole, then renamed into place). */
const ask = (filename: string, id: TaskId.TaskId): Effect.Effect<void, StoreError> =>
  leave(filename, `${id}${suffix}`, `${new Date().toISOString()} pid ${process.pid}\n`, "cancel")

const leave = (filename: string, name: string, text: string, what: string): Effect.Effect<void, StoreError> =>
  Effect.try({
    try: () => {
      const dir = requestsDirOf(filename)
      fs.mkdirSync(dir, { recursive: true })
      const file = path.join(dir, name)
      // The temporary name does not end in a request suffix: the owner never reads it half written.
      fs.writeFileSync(`${file}.${process.pid}.tmp`, text)
      fs.renameSync(`${file}.${process.pid}.tmp`, file)
    },
    catch: (cause) =>
      new StoreError({
        reason: "unavailable",
        description: `cannot leave a ${what} request in ${requestsDirOf(filename)}: ${
          cause instanceof Error ? cause.message : String(cause)
        }. Check that the folder beside the database can be written.`,
        cause
      })
  })

/**
 * Takes the lock when free (no process runs tasks from the file) and records
 * the cancellation in a writable store of its own. `None` when another
 * process holds the lock.
 */
const recordIfUnowned = (
  filename: string,
  id: TaskId.TaskId
): Effect.Effect<Option.Option<Task>, TaskNotFound | InvalidTransition | StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const locked = yield* Effect.either(Lock.acquire(filename))
    if (Either.isLeft(locked)) {
      return locked.left.reason === "locked" ? Option.none() : yield* Effect.fail(locked.left)
    }
    const store = yield* Effect.gen(function*() {
      const client = yield* SqliteClient.make({ filename: path.resolve(filename) })
      return yield* Store.make({}).pipe(Effect.provideService(SqlClient.SqlClient, client))
    }).pipe(
      Effect.provide(Reactivity.layer),
      Effect.catchAll((cause) =>
        Effect.fail(
          new StoreError({
            reason: "unavailable",
            description: `cannot open ${filename} to record the cancellation: ${cause.message}`,
            cause
          })
        )
      )
    )
    const now = yield* Clock.currentTimeMillis
    return Option.some(
      yield* store.update(id, (t) => Engine.transition(t, "cancelled", now, { message: "Cancelled" }))
    )
  })
