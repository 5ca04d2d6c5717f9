/**
 * Medusa's own tables, as versioned migrations (run at start by
 * `@effect/sql`'s `Migrator`, recorded in `medusa_migrations`). On PostgreSQL
 * the migrator locks its table, so workers starting together apply each
 * migration once.
 *
 * Add a migration by appending a new numbered entry; never edit one that
 * shipped.
 *
 * @internal
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"

/** @internal */
export const migrationsTable = "medusa_migrations"

const initial: Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Times are epoch milliseconds (BIGINT: pg returns them as strings, the
  // store converts). `body` is the whole encoded `Task` as JSON, so a read is
  // one row; the columns beside it exist for filtering and ordering.
  const seq = sql.onDialectOrElse({
    pg: () => sql.literal("seq BIGSERIAL PRIMARY KEY"),
    orElse: () => sql.literal("seq INTEGER PRIMARY KEY AUTOINCREMENT")
  })
  yield* sql`CREATE TABLE IF NOT EXISTS medusa_tasks (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    run_at BIGINT,
    rev BIGINT NOT NULL,
    body TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_tasks_state_created ON medusa_tasks (state, created_at)`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_tasks_created ON medusa_tasks (created_at)`
  // One row per state change, with the task as it was right after it: the
  // audit trail, and the log a watcher catches up from after a reconnect.
  yield* sql`CREATE TABLE IF NOT EXISTS medusa_task_history (
    ${seq},
    task_id TEXT NOT NULL,
    rev BIGINT NOT NULL,
    state TEXT NOT NULL,
    previous TEXT,
    at BIGINT NOT NULL,
    message TEXT,
    body TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_task_history_task ON medusa_task_history (task_id, seq)`
  yield* sql`CREATE TABLE IF NOT EXISTS medusa_upload_sessions (
    task_id TEXT NOT NULL,
    host TEXT NOT NULL,
    uri TEXT NOT NULL,
    video_id TEXT,
    video_url TEXT,
    total_bytes BIGINT NOT NULL,
    acknowledged BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, host)
  )`
  yield* sql`CREATE TABLE IF NOT EXISTS medusa_posts (
    task_id TEXT NOT NULL,
    publisher TEXT NOT NULL,
    state TEXT NOT NULL,
    at BIGINT NOT NULL,
    post_id TEXT,
    url TEXT,
    PRIMARY KEY (task_id, publisher)
  )`
})

// Idempotency keys of `POST /v1/tasks` (kept at least 24 h): a retried
// submit finds the task its first attempt created. `task_id` is NULL while
// the first attempt is still creating it.
const idempotencyKeys: Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS medusa_idempotency_keys (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    task_id TEXT,
    created_at BIGINT NOT NULL
  )`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_idempotency_keys_created ON medusa_idempotency_keys (created_at)`
})

// The webhook outbox: events are written in the transaction of the task
// change they describe (`dispatched_at` NULL until they are fanned out to the
// configured endpoints as deliveries); a delivery's `next_at` is both when it
// is due and the lease of the process attempting it.
const webhookOutbox: Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const seq = sql.onDialectOrElse({
    pg: () => sql.literal("seq BIGSERIAL PRIMARY KEY"),
    orElse: () => sql.literal("seq INTEGER PRIMARY KEY AUTOINCREMENT")
  })
  yield* sql`CREATE TABLE IF NOT EXISTS medusa_webhook_events (
    ${seq},
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    task_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    body TEXT NOT NULL,
    dispatched_at BIGINT
  )`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_webhook_events_undispatched ON medusa_webhook_events (seq)
    WHERE dispatched_at IS NULL`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_webhook_events_task ON medusa_webhook_events (task_id)`
  const id = sql.onDialectOrElse({
    pg: () => sql.literal("id BIGSERIAL PRIMARY KEY"),
    orElse: () => sql.literal("id INTEGER PRIMARY KEY AUTOINCREMENT")
  })
  yield* sql`CREATE TABLE IF NOT EXISTS medusa_webhook_deliveries (
    ${id},
    event_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    url TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    next_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (event_id, url)
  )`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_webhook_deliveries_due ON medusa_webhook_deliveries (next_at)
    WHERE state = 'pending'`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_webhook_deliveries_task ON medusa_webhook_deliveries (task_id)`
  yield* sql`CREATE TABLE IF NOT EXISTS medusa_webhook_endpoints (
    url TEXT PRIMARY KEY,
    disabled_at BIGINT NOT NULL,
    reason TEXT NOT NULL
  )`
})

/** The batch a task was submitted in, for `medusa status --batch`. */
const batches: Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE medusa_tasks ADD COLUMN batch_id TEXT`
  yield* sql`CREATE INDEX IF NOT EXISTS medusa_tasks_batch ON medusa_tasks (batch_id)`
})

/** @internal */
export const migrations: Record<string, Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient>> = {
  "1_initial": initial,
  "2_idempotency_keys": idempotencyKeys,
  "3_webhook_outbox": webhookOutbox,
  "4_batches": batches
}

/** @internal */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  Migrator.MigrationError | SqlError.SqlError,
  SqlClient.SqlClient
> = Migrator.make({})({
  loader: Migrator.fromRecord(migrations),
  table: migrationsTable
})
