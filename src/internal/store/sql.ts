/**
 * The `TaskStore` on `@effect/sql` (SQLite and PostgreSQL).
 *
 * Every write runs in a transaction that also appends to the history (state
 * changes) and, on PostgreSQL, `pg_notify`s the change, so a notification is
 * delivered only if its rows committed. Changes reach `changes`/`watch` from
 * three feeds, deduplicated by `(task id, revision)`:
 * - local: this process's own commits, published right after the commit;
 * - notify (PostgreSQL): `LISTEN` on `medusa_task_changes`;
 * - poll: the history and the tasks table read every `pollInterval`, which
 *   catches up what a dropped `LISTEN` connection missed, and is how a
 *   read-only SQLite process sees the owner's writes.
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as PubSub from "effect/PubSub"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { PublishedPost, UploadSession } from "../../Platform.js"
import type { PublisherTarget, Target } from "../../PlatformId.js"
import type { InvalidTransition } from "../../PublishError.js"
import { StoreError, TaskNotFound } from "../../PublishError.js"
import { isFinal, Task, type TaskState } from "../../Task.js"
import { PostRecord } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import type { HistoryEntry } from "../../TaskStatus.js"
import type { IdempotencyClaim, ListOptions, SequencedChange, Service, TaskChange } from "../../TaskStore.js"
import { idempotencyKeyRetentionMillis, waitForFromWatch } from "../../TaskStore.js"
import * as WebhookEvents from "../webhooks/events.js"
import * as SqlOutbox from "../webhooks/sqlOutbox.js"
import * as Listeners from "./listeners.js"
import { decodeTask, encodeTask, num, unavailable } from "./rows.js"

/** @internal */
export const notifyChannel = "medusa_task_changes"

/** Keep NOTIFY payloads well under PostgreSQL's 8000-byte limit. */
const maxNotifyPayload = 7_000

/** @internal */
export interface StoreOptions {
  /** Feeds of changes made by other processes (default: none). */
  readonly remote?: {
    readonly notify?: boolean | undefined
    /** Poll the history and the tasks table this often (default off). */
    readonly pollInterval?: Duration.DurationInput | undefined
  } | undefined
  /** Refuse writes (a process that only reads a store another one owns). */
  readonly readOnly?: boolean | undefined
  /** Deletes the engine's own records of pruned tasks. */
  readonly onPrune?: ((ids: ReadonlyArray<TaskId>) => Effect.Effect<void, unknown>) | undefined
}

/** @internal */
export interface ChangeEvent {
  readonly task: Task
  readonly previous: TaskState | undefined
  readonly rev: number
  /** The history row's sequence number, for a state change. */
  readonly seq?: number | undefined
}

/** @internal */
export interface SqlStore extends Service {
  /** The task and its revision (incremented by every write). */
  readonly getWithRev: (id: TaskId) => Effect.Effect<readonly [Task, number], TaskNotFound | StoreError>
  /** Changes with their revisions, for callers that must order them. */
  readonly events: Stream.Stream<ChangeEvent, StoreError>
  /** Unfinished tasks, oldest first (what a restarted engine resumes). */
  readonly unfinished: Effect.Effect<ReadonlyArray<Task>, StoreError>
}

const NotifyPayload = Schema.parseJson(Schema.Struct({
  id: Schema.String,
  rev: Schema.Number,
  previous: Schema.NullOr(Schema.String),
  /** History row of a state change (re-read when `task` did not fit). */
  seq: Schema.NullOr(Schema.Number),
  task: Schema.optional(Schema.Unknown)
}))
const decodeNotify = Schema.decodeUnknown(NotifyPayload)

/** How many decoded tasks are kept (by id, with their revision). */
const decodedCacheSize = 10_000

/** How many change keys are remembered to drop duplicates across feeds. */
const dedupeWindow = 50_000

/**
 * Catch-up polling may see a later sequence number commit before an earlier
 * one (sequence values are taken at insert, not commit), so it re-reads a
 * window behind the highest seen and lets the dedupe drop repeats.
 */
const seqSlack = 500

/** A delivered event as `changes` and `listen` hand it out. */
const toChange = (e: ChangeEvent): TaskChange => e.seq === undefined ? { task: e.task, previous: e.previous } : e

/** @internal */
export const make = (
  options: StoreOptions = {}
): Effect.Effect<SqlStore, StoreError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<ChangeEvent>(), PubSub.shutdown)
    const listeners = Listeners.make<TaskChange>()

    // Decoded tasks by id and revision: decoding the stored JSON through the
    // Task schema is the costliest part of a read, and most reads (every
    // update's read-modify-write) find the revision this process wrote last.
    const decoded = new Map<string, { readonly rev: number; readonly task: Task }>()
    const remember = (task: Task, rev: number) => {
      decoded.delete(task.id)
      decoded.set(task.id, { rev, task })
      if (decoded.size > decodedCacheSize) {
        const oldest = decoded.keys().next()
        if (!oldest.done) decoded.delete(oldest.value)
      }
    }
    const decodeRow = (id: string, rev: number, body: string): Effect.Effect<Task, ParseResult.ParseError> => {
      const hit = decoded.get(id)
      if (hit !== undefined && hit.rev === rev) return Effect.succeed(hit.task)
      return Effect.tap(decodeTask(body), (task) => Effect.sync(() => remember(task, rev)))
    }

    // Deduplicate deliveries: the same change may arrive locally, by NOTIFY
    // and by polling.
    const seen = new Map<string, true>()
    // The state each task was last delivered in. A row read from the tasks
    // table (a poll, a progress notification too large to carry) may already
    // hold a newer state than this process has delivered; delivering it would
    // mark that revision seen and drop the state change itself (with its
    // `previous`) when it arrives from the history. Such a row is left to the
    // history, which holds every state change.
    const lastState = new Map<string, TaskState>()
    const deliver = (event: ChangeEvent): Effect.Effect<void> =>
      Effect.suspend(() => {
        const key = `${event.task.id}:${event.rev}`
        if (seen.has(key)) return Effect.void
        seen.set(key, true)
        if (seen.size > dedupeWindow) {
          const oldest = seen.keys().next()
          if (!oldest.done) seen.delete(oldest.value)
        }
        lastState.delete(event.task.id)
        lastState.set(event.task.id, event.task.state)
        if (lastState.size > dedupeWindow) {
          const oldest = lastState.keys().next()
          if (!oldest.done) lastState.delete(oldest.value)
        }
        listeners.emit(toChange(event))
        return PubSub.publish(hub, event)
      })
    /** Delivers a tasks-table row only as what it is for this process: a change within the state last delivered. */
    const deliverRow = (rev: number, task: Task): Effect.Effect<void> =>
      lastState.get(task.id) === task.state ? deliver(fromRemote(rev, task.state, task)) : Effect.void

    const refuseWrite = (what: string) =>
      new StoreError({
        reason: "locked",
        description: `${what} refused: this process opened the task store read-only ` +
          `(another process owns it). Run the command in the owning process, or stop it first.`
      })
    const guardWrite = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | StoreError, R> =>
      options.readOnly ? Effect.fail(refuseWrite(what)) : effect

    const notify = (payload: {
      readonly id: string
      readonly rev: number
      readonly previous: string | null
      readonly seq: number | null
      readonly body: string
    }) =>
      isPg ?
        Effect.suspend(() => {
          const base = { id: payload.id, rev: payload.rev, previous: payload.previous, seq: payload.seq }
          const full = `{"id":${JSON.stringify(base.id)},"rev":${base.rev},"previous":${
            JSON.stringify(base.previous)
          },"seq":${JSON.stringify(base.seq)},"task":${payload.body}}`
          const text = Buffer.byteLength(full, "utf8") <= maxNotifyPayload ? full : JSON.stringify(base)
          return sql`SELECT pg_notify(${notifyChannel}, ${text})`
        }) :
        Effect.void

    const appendHistory = (task: Task, rev: number, previous: TaskState | undefined, body: string) =>
      sql<{ seq: number | string }>`INSERT INTO medusa_task_history
        (task_id, rev, state, previous, at, message, body)
        VALUES (${task.id}, ${rev}, ${task.state}, ${previous ?? null}, ${task.updatedAt}, ${
        task.message ?? null
      }, ${body})
        RETURNING seq`.pipe(Effect.map((rows) => num(rows[0]!.seq)))

    // --- tasks ---------------------------------------------------------------

    const insert = (task: Task): Effect.Effect<void, StoreError> =>
      guardWrite(
        "Storing a task",
        Effect.gen(function*() {
          const body = yield* encodeTask(task)
          const seq = yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO medusa_tasks (id, state, created_at, updated_at, run_at, rev, body, batch_id)
              VALUES (${task.id}, ${task.state}, ${task.createdAt}, ${task.updatedAt}, ${
              task.runAt ?? null
            }, 1, ${body}, ${task.batchId ?? null})`
            const seq = yield* appendHistory(task, 1, undefined, body)
            yield* SqlOutbox.recordEvents(sql, WebhookEvents.derive(undefined, task))
            yield* notify({ id: task.id, rev: 1, previous: null, seq, body })
            return seq
          }))
          remember(task, 1)
          yield* deliver({ task, previous: undefined, rev: 1, seq })
        }).pipe(Effect.mapError(unavailable(`Storing task ${task.id}`)))
      )

    const selectRow = (
      id: TaskId,
      forUpdate: boolean
    ): Effect.Effect<readonly [Task, number], TaskNotFound | SqlError.SqlError | ParseResult.ParseError> =>
      Effect.flatMap(
        forUpdate && isPg ?
          sql<{ body: string; rev: number | string }>`SELECT body, rev FROM medusa_tasks WHERE id = ${id} FOR UPDATE` :
          sql<{ body: string; rev: number | string }>`SELECT body, rev FROM medusa_tasks WHERE id = ${id}`,
        (rows): Effect.Effect<readonly [Task, number], TaskNotFound | ParseResult.ParseError> =>
          rows.length === 0 ?
            Effect.fail(new TaskNotFound({ taskId: id })) :
            Effect.map(
              decodeRow(id, num(rows[0]!.rev), rows[0]!.body),
              (task): readonly [Task, number] => [task, num(rows[0]!.rev)]
            )
      )

    const getWithRev = (id: TaskId): Effect.Effect<readonly [Task, number], TaskNotFound | StoreError> =>
      selectRow(id, false).pipe(
        Effect.catchTags({
          SqlError: (e) => Effect.fail(unavailable(`Reading task ${id}`)(e)),
          ParseError: (e) => Effect.fail(unavailable(`Reading task ${id}`)(e))
        })
      )

    const get = (id: TaskId): Effect.Effect<Task, TaskNotFound | StoreError> =>
      Effect.map(getWithRev(id), ([task]) => task)

    const update = (
      id: TaskId,
      f: (task: Task) => Either.Either<Task, InvalidTransition>
    ): Effect.Effect<Task, TaskNotFound | InvalidTransition | StoreError> =>
      guardWrite(
        `Updating task ${id}`,
        Effect.gen(function*() {
          const event = yield* sql.withTransaction(Effect.gen(function*() {
            const [current, rev] = yield* selectRow(id, true)
            const next = f(current)
            if (Either.isLeft(next)) return yield* Effect.fail(next.left)
            const task = next.right
            const body = yield* encodeTask(task)
            const nextRev = rev + 1
            yield* sql`UPDATE medusa_tasks SET state = ${task.state}, updated_at = ${task.updatedAt},
              run_at = ${task.runAt ?? null}, rev = ${nextRev}, body = ${body} WHERE id = ${id}`
            const changed = task.state !== current.state
            const seq = changed ? yield* appendHistory(task, nextRev, current.state, body) : null
            yield* SqlOutbox.recordEvents(sql, WebhookEvents.derive(current, task))
            yield* notify({ id, rev: nextRev, previous: current.state, seq, body })
            return { task, previous: current.state, rev: nextRev, seq: seq ?? undefined } satisfies ChangeEvent
          }))
          remember(event.task, event.rev)
          yield* deliver(event)
          return event.task
        }).pipe(
          Effect.catchTags({
            SqlError: (e) => Effect.fail(unavailable(`Updating task ${id}`)(e)),
            ParseError: (e) => Effect.fail(unavailable(`Updating task ${id}`)(e))
          })
        )
      )

    const list = (listOptions: ListOptions = {}): Effect.Effect<ReadonlyArray<Task>, StoreError> =>
      Effect.gen(function*() {
        const limit = listOptions.limit ?? 2_147_483_647
        const offset = listOptions.offset ?? 0
        const conditions = [
          ...(listOptions.status === undefined ? [] : [sql`state = ${listOptions.status}`]),
          ...(listOptions.batchId === undefined ? [] : [sql`batch_id = ${listOptions.batchId}`]),
          ...(listOptions.createdAfter === undefined ? [] : [sql`created_at > ${listOptions.createdAfter}`]),
          ...(listOptions.createdBefore === undefined ? [] : [sql`created_at < ${listOptions.createdBefore}`])
        ]
        const rows = yield* sql<{ id: string; rev: number | string; body: string }>`SELECT id, rev, body
          FROM medusa_tasks ${conditions.length === 0 ? sql`` : sql`WHERE ${sql.and(conditions)}`}
          ORDER BY created_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}`
        return yield* Effect.forEach(rows, (row) => decodeRow(row.id, num(row.rev), row.body))
      }).pipe(Effect.mapError(unavailable("Listing tasks")))

    const unfinished: Effect.Effect<ReadonlyArray<Task>, StoreError> = Effect.gen(function*() {
      const rows = yield* sql<{ id: string; rev: number | string; body: string }>`SELECT id, rev, body FROM medusa_tasks
        WHERE state IN ('pending', 'in_progress') ORDER BY created_at ASC, id ASC`
      return yield* Effect.forEach(rows, (row) => decodeRow(row.id, num(row.rev), row.body))
    }).pipe(Effect.mapError(unavailable("Listing unfinished tasks")))

    // --- remote feeds ----------------------------------------------------------

    const fromRemote = (rev: number, previous: string | null, task: Task, seq?: number | null): ChangeEvent => ({
      task,
      previous: (previous ?? undefined) as TaskState | undefined,
      rev,
      seq: seq ?? undefined
    })

    const handleNotification = (text: string) =>
      Effect.gen(function*() {
        const payload = yield* decodeNotify(text)
        if (seen.has(`${payload.id}:${payload.rev}`)) return
        let task: Task
        if (payload.task !== undefined) {
          task = yield* Schema.decodeUnknown(Task)(payload.task)
        } else if (payload.seq !== null) {
          const rows = yield* sql<{ body: string }>`SELECT body FROM medusa_task_history WHERE seq = ${payload.seq}`
          if (rows.length === 0) return
          task = yield* decodeTask(rows[0]!.body)
        } else {
          // A progress change too large to carry: the current row is at least
          // as new; deliver it under its own revision.
          const rows = yield* sql<{ body: string; rev: number | string }>`SELECT body, rev FROM medusa_tasks
            WHERE id = ${payload.id}`
          if (rows.length === 0) return
          task = yield* decodeTask(rows[0]!.body)
          yield* deliverRow(num(rows[0]!.rev), task)
          return
        }
        yield* deliver(fromRemote(payload.rev, payload.previous, task, payload.seq))
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("Medusa: ignoring an unreadable task notification", cause))
      )

    let lastSeq = 0
    let lastUpdated = 0
    const pollOnce = Effect.gen(function*() {
      const history = yield* sql<{
        seq: number | string
        task_id: string
        rev: number | string
        previous: string | null
        body: string
      }>`SELECT seq, task_id, rev, previous, body FROM medusa_task_history
        WHERE seq > ${Math.max(0, lastSeq - seqSlack)} ORDER BY seq ASC LIMIT 5000`
      for (const row of history) {
        lastSeq = Math.max(lastSeq, num(row.seq))
        if (seen.has(`${row.task_id}:${num(row.rev)}`)) continue
        const task = yield* decodeTask(row.body)
        yield* deliver(fromRemote(num(row.rev), row.previous, task, num(row.seq)))
      }
      // Progress and other non-state writes only live in the tasks table.
      const since = Math.max(0, lastUpdated - 2_000)
      const rows = yield* sql<{ id: string; rev: number | string; state: string; body: string; updated_at: unknown }>`
        SELECT id, rev, state, body, updated_at FROM medusa_tasks WHERE updated_at >= ${since}
        ORDER BY updated_at ASC LIMIT 5000`
      for (const row of rows) {
        lastUpdated = Math.max(lastUpdated, num(row.updated_at))
        if (seen.has(`${row.id}:${num(row.rev)}`)) continue
        yield* deliverRow(num(row.rev), yield* decodeTask(row.body))
      }
    })

    const remote = options.remote
    if (remote?.pollInterval !== undefined || remote?.notify) {
      // The states unfinished tasks are in now: their progress rows are then
      // delivered as such (`deliverRow`); a task created later enters
      // `lastState` through its first history row.
      const unfinished = yield* sql<{ id: string; state: TaskState }>`SELECT id, state FROM medusa_tasks
        WHERE state IN ('pending', 'in_progress')`.pipe(Effect.mapError(unavailable("Reading the task table")))
      for (const row of unfinished) lastState.set(row.id, row.state)
    }
    if (remote?.pollInterval !== undefined) {
      // Start from now: the feed promises changes from subscription on.
      const [maxSeq] = yield* sql<{ m: number | string | null }>`SELECT MAX(seq) AS m FROM medusa_task_history`.pipe(
        Effect.mapError(unavailable("Reading the task history"))
      )
      lastSeq = num(maxSeq?.m ?? 0)
      const [maxUpdated] = yield* sql<{ m: number | string | null }>`SELECT MAX(updated_at) AS m FROM medusa_tasks`
        .pipe(Effect.mapError(unavailable("Reading the task table")))
      lastUpdated = num(maxUpdated?.m ?? 0)
      // Mark what already exists as seen so the first poll does not replay it.
      const existing = yield* sql<{ id: string; rev: number | string }>`SELECT id, rev FROM medusa_tasks
        WHERE updated_at >= ${Math.max(0, lastUpdated - 2_000)}`.pipe(
        Effect.mapError(unavailable("Reading the task table"))
      )
      for (const row of existing) seen.set(`${row.id}:${num(row.rev)}`, true)
      yield* pollOnce.pipe(
        Effect.catchAllCause((cause) => Effect.logDebug("Medusa: task change poll failed; retrying", cause)),
        Effect.repeat(Schedule.spaced(remote.pollInterval)),
        Effect.forkScoped
      )
    }
    if (remote?.notify && isPg) {
      const listen = sql.onDialectOrElse({
        pg: () => (sql as unknown as { listen?: (channel: string) => Stream.Stream<string, SqlError.SqlError> }).listen,
        orElse: () => undefined
      })
      if (listen !== undefined) {
        const started = yield* Effect.makeLatch(false)
        yield* listen(notifyChannel).pipe(
          Stream.onStart(started.open),
          Stream.runForEach(handleNotification),
          Effect.catchAllCause((cause) => Effect.logWarning("Medusa: LISTEN connection lost; reconnecting", cause)),
          Effect.zipRight(pollOnce.pipe(Effect.ignore)),
          Effect.repeat(listenRetry),
          Effect.forkScoped
        )
        // Do not report the store ready before LISTEN is in place.
        yield* started.await.pipe(Effect.timeoutOption(Duration.seconds(10)))
      }
    }

    const events: Stream.Stream<ChangeEvent, StoreError> = Stream.fromPubSub(hub)

    const changes: Stream.Stream<TaskChange, StoreError> = Stream.map(events, toChange)

    const watch = (id: TaskId): Stream.Stream<Task, TaskNotFound | StoreError> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const subscription = yield* PubSub.subscribe(hub)
        const [task, rev] = yield* getWithRev(id)
        const later = Stream.fromQueue(subscription).pipe(
          Stream.filter((e) => e.task.id === id),
          Stream.mapAccum(rev, (last, e) => e.rev > last ? [e.rev, Option.some(e.task)] : [last, Option.none()]),
          Stream.filterMap((o) => o)
        )
        return Stream.concat(Stream.make(task), later).pipe(Stream.takeUntil((t) => isFinal(t.state)))
      }))

    // --- upload sessions and post records --------------------------------------

    const saveUploadSession = (id: TaskId, session: UploadSession): Effect.Effect<void, StoreError> =>
      guardWrite(
        "Saving an upload session",
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          sql`INSERT INTO medusa_upload_sessions
            (task_id, host, uri, video_id, video_url, total_bytes, acknowledged, created_at, updated_at)
            VALUES (${id}, ${session.host}, ${session.uri}, ${session.videoId ?? null}, ${session.videoUrl ?? null},
              ${session.totalBytes}, ${session.acknowledged}, ${session.createdAt}, ${now})
            ON CONFLICT (task_id, host) DO UPDATE SET uri = excluded.uri, video_id = excluded.video_id,
              video_url = excluded.video_url, total_bytes = excluded.total_bytes,
              acknowledged = excluded.acknowledged, created_at = excluded.created_at,
              updated_at = excluded.updated_at`).pipe(
            Effect.asVoid,
            Effect.mapError(unavailable(`Saving the ${session.host} upload session of ${id}`))
          )
      )

    const loadUploadSession = (id: TaskId, host: Target): Effect.Effect<Option.Option<UploadSession>, StoreError> =>
      sql<{
        uri: string
        video_id: string | null
        video_url: string | null
        total_bytes: unknown
        acknowledged: unknown
        created_at: unknown
      }>`SELECT uri, video_id, video_url, total_bytes, acknowledged, created_at FROM medusa_upload_sessions
        WHERE task_id = ${id} AND host = ${host}`.pipe(
        Effect.map((rows) =>
          Option.map(Option.fromNullable(rows[0]), (row) =>
            new UploadSession({
              host,
              uri: row.uri,
              ...(row.video_id === null ? {} : { videoId: row.video_id }),
              ...(row.video_url === null ? {} : { videoUrl: row.video_url }),
              totalBytes: num(row.total_bytes),
              acknowledged: num(row.acknowledged),
              createdAt: num(row.created_at)
            }))
        ),
        Effect.mapError(unavailable(`Reading the ${host} upload session of ${id}`))
      )

    const recordPostIntent = (id: TaskId, publisher: PublisherTarget): Effect.Effect<void, StoreError> =>
      guardWrite(
        "Recording a post intent",
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          // An intent never overwrites a confirmed post.
          sql`INSERT INTO medusa_posts (task_id, publisher, state, at) VALUES (${id}, ${publisher}, 'intent', ${now})
            ON CONFLICT (task_id, publisher) DO UPDATE SET state = 'intent', at = excluded.at
            WHERE medusa_posts.state <> 'done'`).pipe(
            Effect.asVoid,
            Effect.mapError(unavailable(`Recording the ${publisher} post intent of ${id}`))
          )
      )

    const recordPostDone = (id: TaskId, post: PublishedPost): Effect.Effect<void, StoreError> =>
      guardWrite(
        "Recording a post",
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          sql`INSERT INTO medusa_posts (task_id, publisher, state, at, post_id, url)
            VALUES (${id}, ${post.publisher}, 'done', ${now}, ${post.postId}, ${post.url ?? null})
            ON CONFLICT (task_id, publisher) DO UPDATE SET state = 'done', at = excluded.at,
              post_id = excluded.post_id, url = excluded.url`).pipe(
            Effect.asVoid,
            Effect.mapError(unavailable(`Recording the ${post.publisher} post of ${id}`))
          )
      )

    // While the post is an intent, its post_id column holds what the publisher staged (a Threads container).
    const recordPostStaged = (id: TaskId, publisher: PublisherTarget, ref: string): Effect.Effect<void, StoreError> =>
      guardWrite(
        "Recording what a post staged",
        sql`UPDATE medusa_posts SET post_id = ${ref}
          WHERE task_id = ${id} AND publisher = ${publisher} AND state = 'intent'`.pipe(
          Effect.asVoid,
          Effect.mapError(unavailable(`Recording the ${publisher} staged post of ${id}`))
        )
      )

    const loadPostRecord = (
      id: TaskId,
      publisher: PublisherTarget
    ): Effect.Effect<Option.Option<PostRecord>, StoreError> =>
      sql<{ state: string; at: unknown; post_id: string | null; url: string | null }>`SELECT state, at, post_id, url
        FROM medusa_posts WHERE task_id = ${id} AND publisher = ${publisher}`.pipe(
        Effect.map((rows) =>
          Option.map(Option.fromNullable(rows[0]), (row) =>
            new PostRecord({
              publisher,
              state: row.state === "done" ? "done" : "intent",
              at: num(row.at),
              ...(row.post_id === null ? {} : row.state !== "done" ? { staged: row.post_id } : {
                post: new PublishedPost({
                  publisher,
                  postId: row.post_id,
                  ...(row.url === null ? {} : { url: row.url })
                })
              })
            }))
        ),
        Effect.mapError(unavailable(`Reading the ${publisher} post record of ${id}`))
      )

    // --- retention ---------------------------------------------------------------

    const prune = (before: number): Effect.Effect<number, StoreError> =>
      guardWrite(
        "Pruning tasks",
        Effect.gen(function*() {
          const rows = yield* sql<{ id: string }>`SELECT id FROM medusa_tasks
            WHERE state IN ('completed', 'failed', 'cancelled') AND updated_at < ${before}`
          const ids = rows.map((r) => r.id as TaskId)
          for (let i = 0; i < ids.length; i += 500) {
            const batch = ids.slice(i, i + 500)
            // The engine's records go first: a task that is gone from
            // Medusa's tables has nothing left behind in the engine's.
            if (options.onPrune) {
              yield* options.onPrune(batch).pipe(
                Effect.catchAllCause((cause) =>
                  Effect.logWarning("Medusa: could not prune the engine records of finished tasks", cause)
                )
              )
            }
            yield* sql.withTransaction(Effect.gen(function*() {
              yield* sql`DELETE FROM medusa_task_history WHERE ${sql.in("task_id", batch)}`
              yield* sql`DELETE FROM medusa_upload_sessions WHERE ${sql.in("task_id", batch)}`
              yield* sql`DELETE FROM medusa_posts WHERE ${sql.in("task_id", batch)}`
              yield* sql`DELETE FROM medusa_webhook_deliveries WHERE ${sql.in("task_id", batch)}`
              yield* sql`DELETE FROM medusa_webhook_events WHERE ${sql.in("task_id", batch)}`
              yield* sql`DELETE FROM medusa_tasks WHERE ${sql.in("id", batch)}`
            }))
            for (const id of batch) decoded.delete(id)
          }
          return ids.length
        }).pipe(Effect.mapError(unavailable("Pruning finished tasks")))
      )

    // --- change log and idempotency keys ----------------------------------------

    const history = (id: TaskId): Effect.Effect<ReadonlyArray<HistoryEntry>, StoreError> =>
      sql<{ seq: number | string; state: string; at: unknown; message: string | null }>`SELECT seq, state, at, message
        FROM medusa_task_history WHERE task_id = ${id} ORDER BY seq ASC`.pipe(
        Effect.map((rows) =>
          rows.map((row): HistoryEntry => ({
            seq: num(row.seq),
            state: row.state as TaskState,
            at: num(row.at),
            ...(row.message === null ? {} : { message: row.message })
          }))
        ),
        Effect.mapError(unavailable(`Reading the history of ${id}`))
      )

    const changesSince = (
      after: number,
      sinceOptions?: { readonly taskId?: TaskId | undefined; readonly limit?: number | undefined }
    ): Effect.Effect<ReadonlyArray<SequencedChange>, StoreError> =>
      Effect.gen(function*() {
        const limit = sinceOptions?.limit ?? 10_000
        const rows = yield* sql<
          { seq: number | string; task_id: string; rev: number | string; previous: string | null; body: string }
        >`
          SELECT seq, task_id, rev, previous, body FROM medusa_task_history
          WHERE seq > ${after} ${sinceOptions?.taskId === undefined ? sql`` : sql`AND task_id = ${sinceOptions.taskId}`}
          ORDER BY seq ASC LIMIT ${limit}`
        return yield* Effect.forEach(rows, (row) =>
          Effect.map(decodeTask(row.body), (task): SequencedChange => ({
            task,
            previous: (row.previous ?? undefined) as TaskState | undefined,
            seq: num(row.seq)
          })))
      }).pipe(Effect.mapError(unavailable("Reading the task history")))

    const claimIdempotencyKey = (
      key: string,
      fingerprint: string,
      now: number
    ): Effect.Effect<IdempotencyClaim, StoreError> =>
      guardWrite(
        "Recording an idempotency key",
        Effect.gen(function*() {
          yield* sql`DELETE FROM medusa_idempotency_keys WHERE created_at < ${now - idempotencyKeyRetentionMillis}`
          const inserted = yield* sql<{ key: string }>`INSERT INTO medusa_idempotency_keys
            (key, fingerprint, task_id, created_at) VALUES (${key}, ${fingerprint}, NULL, ${now})
            ON CONFLICT (key) DO NOTHING RETURNING key`
          if (inserted.length > 0) return { _tag: "Claimed" } as const
          const rows = yield* sql<{ fingerprint: string; task_id: string | null; created_at: unknown }>`SELECT
            fingerprint, task_id, created_at FROM medusa_idempotency_keys WHERE key = ${key}`
          const row = rows[0]
          // Deleted between the two statements (expired): take it again.
          if (row === undefined) return { _tag: "Claimed" } as const
          return {
            _tag: "Existing",
            taskId: (row.task_id ?? undefined) as TaskId | undefined,
            fingerprint: row.fingerprint,
            createdAt: num(row.created_at)
          } as const
        }).pipe(Effect.mapError(unavailable("Recording an idempotency key")))
      )

    const completeIdempotencyKey = (key: string, taskId: TaskId): Effect.Effect<void, StoreError> =>
      guardWrite(
        "Recording an idempotency key",
        sql`UPDATE medusa_idempotency_keys SET task_id = ${taskId} WHERE key = ${key}`.pipe(
          Effect.asVoid,
          Effect.mapError(unavailable("Recording an idempotency key"))
        )
      )

    const releaseIdempotencyKey = (key: string): Effect.Effect<void, StoreError> =>
      guardWrite(
        "Releasing an idempotency key",
        sql`DELETE FROM medusa_idempotency_keys WHERE key = ${key} AND task_id IS NULL`.pipe(
          Effect.asVoid,
          Effect.mapError(unavailable("Releasing an idempotency key"))
        )
      )

    return {
      history,
      changesSince,
      claimIdempotencyKey,
      completeIdempotencyKey,
      releaseIdempotencyKey,
      insert,
      get,
      getWithRev,
      update,
      list,
      watch,
      waitFor: waitForFromWatch(watch),
      changes,
      listen: listeners.listen,
      events,
      unfinished,
      saveUploadSession,
      loadUploadSession,
      recordPostIntent,
      recordPostDone,
      recordPostStaged,
      loadPostRecord,
      prune,
      outbox: SqlOutbox.make(sql, guardWrite)
    }
  })

/** Reconnect backoff for the LISTEN connection. */
const listenRetry = Schedule.exponential("200 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds"))
)
