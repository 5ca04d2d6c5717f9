/**
 * The `TaskStore` on SQL: SQLite (`@effect/sql-sqlite-node`) for one machine,
 * PostgreSQL (`@effect/sql-pg`) for many.
 *
 * Medusa keeps its own tables beside the workflow engine's: `medusa_tasks`
 * (each task with its progress), `medusa_task_history` (every state change,
 * with the task as it was), `medusa_upload_sessions` (resumable URIs and
 * acknowledged offsets) and `medusa_posts` (post intents and outcomes). They
 * are created and upgraded by versioned migrations run when the layer starts.
 *
 * ```ts
 * const StoreLive = SqlTaskStore.layerSqlite({ filename: "medusa.db" })
 * const PgStoreLive = SqlTaskStore.layerPg({ url: Redacted.make(process.env.DATABASE_URL!) })
 * ```
 *
 * `watch` and `changes` see this process's writes at once; on PostgreSQL they
 * also see every other process's writes, through `LISTEN`/`NOTIFY` (sent in
 * the writing transaction) and a history catch-up that covers a dropped
 * connection.
 *
 * @since 0.1.0
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { mkdirSync } from "node:fs"
import * as path from "node:path"
import * as Migrations from "./internal/store/migrations.js"
import * as internal from "./internal/store/sql.js"
import { cannotOpenSqlite } from "./internal/store/sqliteNative.js"
import { StoreError } from "./PublishError.js"
import type { TaskId } from "./TaskId.js"
import { TaskStore } from "./TaskStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Only read: writes fail with `StoreError` reason `locked`, and migrations
   * are not run. For processes that inspect a store another process owns
   * (`medusa status`).
   */
  readonly readOnly?: boolean | undefined
  /**
   * Read other processes' changes from the history this often (default: 1 s
   * on PostgreSQL and in read-only mode, off otherwise).
   */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** `LISTEN` for other processes' changes (PostgreSQL; default true). */
  readonly notify?: boolean | undefined
  /** Deletes the engine's records of pruned tasks (set by the durable layers). */
  readonly onPrune?: ((ids: ReadonlyArray<TaskId>) => Effect.Effect<void, unknown>) | undefined
}

/**
 * The SQL store: the `TaskStore` service plus what the durable runner needs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends internal.SqlStore {}

/**
 * @since 0.1.0
 * @category tags
 */
export class SqlTaskStore extends Context.Tag("@medusa/SqlTaskStore")<SqlTaskStore, Service>() {}

/**
 * Creates Medusa's tables or upgrades them to the current version.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrate: Effect.Effect<void, StoreError, SqlClient.SqlClient> = Migrations.run.pipe(
  Effect.asVoid,
  Effect.mapError((cause) =>
    new StoreError({
      reason: "unavailable",
      description: `Could not create or upgrade Medusa's tables: ${cause.message}`,
      cause
    })
  )
)

/**
 * Builds the store on the `SqlClient` in context (run `migrate` first, or use
 * `layer`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, StoreError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
    const defaultPoll = isPg || options.readOnly === true ? "1 second" : undefined
    return yield* internal.make({
      readOnly: options.readOnly,
      onPrune: options.onPrune,
      remote: {
        notify: isPg && options.notify !== false,
        pollInterval: options.pollInterval ?? defaultPoll
      }
    })
  })

/**
 * The store on the `SqlClient` in context; runs the migrations first (unless
 * read-only). Provides both `TaskStore` and `SqlTaskStore`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TaskStore | SqlTaskStore, StoreError, SqlClient.SqlClient> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      if (options.readOnly !== true) yield* migrate
      const store = yield* make(options)
      return Context.make(SqlTaskStore, store).pipe(Context.add(TaskStore, store))
    })
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface SqliteOptions extends Options {
  /** Path of the database file (created with its directory when missing). */
  readonly filename: string
}

/**
 * The SQLite client for a Medusa database file, failing with a `StoreError`
 * that names the file when it cannot be opened.
 *
 * @since 0.1.0
 * @category layers
 */
export const sqliteClient = (
  options: { readonly filename: string; readonly readOnly?: boolean | undefined }
): Layer.Layer<SqlClient.SqlClient | SqliteClient.SqliteClient, StoreError> => {
  const filename = path.resolve(options.filename)
  const cannotOpen = (cause: unknown) => cannotOpenSqlite(filename, cause)
  return Layer.unwrapEffect(Effect.try({
    try: () => {
      if (options.readOnly !== true) mkdirSync(path.dirname(filename), { recursive: true })
      return SqliteClient.layer({ filename, readonly: options.readOnly === true })
    },
    catch: cannotOpen
  })).pipe(
    Layer.catchAllCause((cause) => Layer.fail(cannotOpen(cause)))
  )
}

/**
 * The store in a SQLite file, with its client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite = (
  options: SqliteOptions
): Layer.Layer<TaskStore | SqlTaskStore | SqlClient.SqlClient, StoreError> =>
  layer(options).pipe(Layer.provideMerge(sqliteClient(options)))

/**
 * @since 0.1.0
 * @category models
 */
export interface PgOptions extends Options {
  /** `postgres://user@host:port/database`; keep passwords in a `Redacted`. */
  readonly url: string | Redacted.Redacted<string>
  /** Connection pool size (default 10). */
  readonly maxConnections?: number | undefined
}

/**
 * The PostgreSQL client for Medusa, failing with a `StoreError` when the
 * server cannot be reached. The URL never appears in the error.
 *
 * @since 0.1.0
 * @category layers
 */
export const pgClient = (
  options: { readonly url: string | Redacted.Redacted<string>; readonly maxConnections?: number | undefined }
): Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, StoreError> =>
  // Loaded here: a process on SQLite never loads the PostgreSQL driver.
  Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@effect/sql-pg/PgClient")), (PgClient) =>
    PgClient.layer({
      url: Redacted.isRedacted(options.url) ? options.url : Redacted.make(options.url),
      maxConnections: options.maxConnections ?? 10,
      applicationName: "medusa"
    }))).pipe(
      Layer.catchAllCause(() =>
        Layer.fail(
          new StoreError({
            reason: "unavailable",
            description: "Cannot connect to the PostgreSQL database given as `postgres` (the URL is not shown " +
              "because it may hold a password). Check that the server runs and accepts the user."
          })
        )
      )
    )

/**
 * The store in a PostgreSQL database, with its client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPg = (
  options: PgOptions
): Layer.Layer<TaskStore | SqlTaskStore | SqlClient.SqlClient, StoreError> =>
  layer(options).pipe(Layer.provideMerge(pgClient(options)))
