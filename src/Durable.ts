/**
 * Durable and distributed execution: the same `Medusa` service as the
 * in-memory engine, with each task run as an `@effect/workflow` workflow on
 * `@effect/cluster`'s workflow engine, so that a task survives `kill -9` and
 * resumes where it stopped: the upload from the offset the server holds, the
 * posts without ever posting twice.
 *
 * ```ts
 * // One machine: one SQLite file, this process is the only runner.
 * const Embedded = Durable.layerDurable({ sqlite: "medusa.db" })
 * // Many machines: PostgreSQL, each worker a cluster runner.
 * const Worker = Durable.layerCluster({ postgres: url, runner: { host: "10.0.0.5", port: 34431 } })
 * const Submitter = Durable.layerCluster({ postgres: url, runner: "client" })
 *
 * Medusa.publish(request).pipe(Effect.provide(Embedded.pipe(Layer.provide(platforms))))
 * ```
 *
 * Both layers provide `Medusa` and `TaskStore`, and take the platform layers
 * the same way as `Medusa.layer` (whichever platform tags are provided).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Net from "node:net"
import * as Service from "./internal/runner/durable.js"
import * as Guest from "./internal/runner/guest.js"
import * as Hooks from "./internal/runner/hooks.js"
import * as Workflow from "./internal/runner/workflow.js"
import * as Lock from "./internal/store/lock.js"
import { Medusa } from "./Medusa.js"
import type { Options as MedusaOptions } from "./Medusa.js"
import { StoreError } from "./PublishError.js"
import * as SqlTaskStore from "./SqlTaskStore.js"
import type { TaskId } from "./TaskId.js"
import { TaskStore } from "./TaskStore.js"

// =============================================================================
// Embedded
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface EmbeddedOptions extends MedusaOptions {
  /** Path of the SQLite database (created when missing). */
  readonly sqlite: string
  /**
   * Open the store without running tasks or taking the lock: for processes
   * that only inspect tasks (`medusa status`) while another one runs them.
   * Submitting fails with `StoreError` reason `locked`; cancelling asks the
   * process that runs the tasks (through a request file beside the
   * database) and waits for it, or records the cancellation itself when no
   * process owns the store.
   */
  readonly readOnly?: boolean | undefined
  /** How often scheduled (`runAt`) tasks are checked (default 500 ms). */
  readonly schedulerInterval?: Duration.DurationInput | undefined
  /**
   * When another process owns the file: `"join"` (default) submits through
   * it and takes over when it exits; `"fail"` fails with `StoreError` reason
   * `locked`.
   */
  readonly whenLocked?: "join" | "fail" | undefined
}

/** Deletes the workflow engine's messages and replies of pruned tasks. */
const pruneEngineRecords = (ids: ReadonlyArray<TaskId>): Effect.Effect<void, unknown, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const executionIds = yield* Effect.forEach(ids, (taskId) => Workflow.PublishTask.executionId({ taskId }))
    const entityType = `Workflow/${Workflow.PublishTask.name}`
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`DELETE FROM cluster_replies WHERE request_id IN (SELECT id FROM cluster_messages
        WHERE entity_type = ${entityType} AND ${sql.in("entity_id", executionIds)})`
      yield* sql`DELETE FROM cluster_messages WHERE entity_type = ${entityType} AND ${
        sql.in("entity_id", executionIds)
      }`
    }))
  })

const storeLayer = (
  options: { readonly readOnly?: boolean | undefined; readonly pollInterval?: Duration.DurationInput | undefined }
): Layer.Layer<TaskStore | SqlTaskStore.SqlTaskStore, StoreError, SqlClient.SqlClient> =>
  Layer.unwrapEffect(Effect.map(SqlClient.SqlClient, (sql) =>
    SqlTaskStore.layer({
      readOnly: options.readOnly,
      pollInterval: options.pollInterval,
      onPrune: (ids) => Effect.provideService(pruneEngineRecords(ids), SqlClient.SqlClient, sql)
    })))

/** The engine steps, for the workflow's activities. */
const stepsLayer = (options: MedusaOptions): Layer.Layer<Workflow.DurableSteps, never, SqlTaskStore.SqlTaskStore> =>
  Layer.effect(
    Workflow.DurableSteps,
    Effect.gen(function*() {
      const hooks = yield* Hooks.DurableHooks
      const store = hooks.wrapStore(yield* SqlTaskStore.SqlTaskStore)
      const engine = yield* Service.engineFor(store, options)
      return { engine, store }
    })
  )

const serviceLayer = (
  options: Service.DurableServiceOptions
): Layer.Layer<Medusa, never, SqlTaskStore.SqlTaskStore | WorkflowEngine.WorkflowEngine> =>
  Layer.scoped(Medusa, Effect.flatMap(SqlTaskStore.SqlTaskStore, (store) => Service.make(store, options)))

/** The owning process's service: the workflow engine as a single runner on the file. */
const ownerLayer = (options: EmbeddedOptions): Layer.Layer<Medusa | TaskStore, StoreError> => {
  // Loaded here: the cluster's modules only where a workflow engine runs (a read-only store needs none).
  const engine = Layer.unwrapEffect(Effect.map(
    Effect.all([
      Effect.promise(() => import("@effect/cluster/ClusterWorkflowEngine")),
      Effect.promise(() => import("@effect/cluster/SingleRunner"))
    ]),
    ([ClusterWorkflowEngine, SingleRunner]) =>
      ClusterWorkflowEngine.layer.pipe(
        Layer.provideMerge(SingleRunner.layer({
          runnerStorage: "memory",
          shardingConfig: {
            // Activities and workflow replies wake the entity through storage polls.
            entityMessagePollInterval: Duration.millis(500),
            entityReplyPollInterval: Duration.millis(50)
          }
        })),
        Layer.catchAll((error) =>
          Layer.fail(
            new StoreError({
              reason: "unavailable",
              description: `Cannot start the workflow engine: ${error}`,
              cause: error
            })
          )
        )
      )
  ))
  const runner = Workflow.layer.pipe(Layer.provide(stepsLayer(options)))
  return serviceLayer({ ...options, embeddedFile: options.sqlite }).pipe(
    Layer.provide(runner),
    Layer.provideMerge(engine),
    Layer.provideMerge(storeLayer({})),
    Layer.provide(SqlTaskStore.sqliteClient({ filename: options.sqlite }))
  ) as Layer.Layer<Medusa | TaskStore, StoreError>
}

/** A read-only view of the file: status, watch and list; cancels through the owner. */
const viewLayer = (
  options: EmbeddedOptions,
  view: { readonly pollInterval: Duration.DurationInput; readonly readOnlyFile: boolean }
): Layer.Layer<Medusa | TaskStore, StoreError> =>
  serviceLayer({ ...options, readOnly: true, embeddedFile: options.sqlite }).pipe(
    Layer.provide(WorkflowEngine.layerMemory),
    Layer.provideMerge(storeLayer({ readOnly: true, pollInterval: view.pollInterval })),
    Layer.provide(SqlTaskStore.sqliteClient({ filename: options.sqlite, readOnly: view.readOnlyFile }))
  )

/**
 * `Medusa` on one SQLite file, with the workflow engine as a single runner in
 * one process: the owner, which holds a lock on `<file>.lock` for the life of
 * the layer. On start, every unfinished task resumes by itself.
 *
 * Another process opening the same file while it is owned joins as a guest:
 * it validates its tasks and hands them to the owner (through
 * `<file>.requests/`), which stores and runs them; it watches them in its
 * own read-only view. When the owner exits, a guest takes the lock and
 * resumes what was left, so no task waits for a process that is gone, and
 * no task ever runs in two processes. `whenLocked: "fail"` refuses instead
 * (`StoreError` reason `locked`); `readOnly` only inspects.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDurable = (options: EmbeddedOptions): Layer.Layer<Medusa | TaskStore, StoreError> => {
  if (options.readOnly === true) return viewLayer(options, { pollInterval: "500 millis", readOnlyFile: true })
  const owner = ownerLayer(options)
  if (options.whenLocked === "fail") {
    // The lock is taken before the database is opened.
    return owner.pipe(Layer.provide(Layer.scopedDiscard(Lock.acquire(options.sqlite))))
  }
  return Layer.unwrapScoped(Effect.gen(function*() {
    if (yield* Lock.tryAcquire(options.sqlite)) return owner
    // The owner may still be creating the tables: the view waits for them.
    const view = viewLayer(options, { pollInterval: guestPollInterval, readOnlyFile: false }).pipe(
      Layer.retry(Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(300))))
    )
    return Guest.layer({ filename: options.sqlite, view, owner })
  }))
}

/** How often a guest reads the owner's writes. */
const guestPollInterval = Duration.millis(100)

// =============================================================================
// Cluster
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface ClusterOptions extends MedusaOptions {
  /** `postgres://…`; keep a password in a `Redacted`. */
  readonly postgres: string | Redacted.Redacted<string>
  /**
   * This process's runner address (other runners connect to it), or
   * `"client"`: submit, watch and cancel without running tasks. Default: a
   * runner on `127.0.0.1` at a free port, which other runners on the same
   * machine reach; give the machine's address when runners span machines.
   */
  readonly runner?: { readonly host?: string | undefined; readonly port?: number | undefined } | "client" | undefined
  /**
   * How long a runner's shard locks last without a refresh: a dead worker's
   * workflows move to the others after at most this long (plus one refresh
   * interval). Lower means faster takeover but more false takeovers when a
   * live worker stalls (GC pause, overloaded host, slow database). Default 4 s.
   */
  readonly shardLockExpiration?: Duration.DurationInput | undefined
  /** How often a runner refreshes its shard locks. Default 1 s. */
  readonly shardLockRefreshInterval?: Duration.DurationInput | undefined
  /** Shards per group (default 30). */
  readonly shardsPerGroup?: number | undefined
  /** PostgreSQL pool size (default 10). */
  readonly maxConnections?: number | undefined
  /** How often scheduled (`runAt`) and orphaned tasks are checked (default 1 s). */
  readonly schedulerInterval?: Duration.DurationInput | undefined
}

/**
 * The shard settings `layerCluster` uses by default. A dead worker's
 * workflows resume on another worker within `takeoverWithin`: its locks and
 * heartbeat expire after `shardLockExpiration` (4 s), then a survivor
 * acquires the shards (about 1 s) and reads their pending messages (polls of
 * 0.5 s); measured 8–9 s on a loaded 2-core machine. The defaults of
 * `@effect/cluster` (35 s / 10 s) take about 30 s.
 *
 * @since 0.1.0
 * @category constants
 */
export const clusterDefaults: {
  readonly shardLockExpiration: Duration.Duration
  readonly shardLockRefreshInterval: Duration.Duration
  readonly shardsPerGroup: number
  readonly takeoverWithin: Duration.Duration
} = {
  shardLockExpiration: Duration.seconds(4),
  shardLockRefreshInterval: Duration.seconds(1),
  shardsPerGroup: 30,
  takeoverWithin: Duration.seconds(10)
}

/**
 * `Medusa` on PostgreSQL: this process is an `@effect/cluster` runner (or a
 * client only). Tasks, their history and their post records are shared by
 * every process on the database; `watch` and `changes` see every process's
 * changes through `LISTEN`/`NOTIFY`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCluster = (options: ClusterOptions): Layer.Layer<Medusa | TaskStore, StoreError> =>
  options.runner === "client" ?
    clusterWith(options, "client") :
    Layer.unwrapEffect(Effect.map(
      options.runner?.port !== undefined ? Effect.succeed(options.runner.port) : freePort,
      (port) => clusterWith(options, { host: options.runner !== "client" && options.runner?.host || "127.0.0.1", port })
    ))

/** A port nothing listens on now, for a runner whose port is not given. */
const freePort: Effect.Effect<number, StoreError> = Effect.async((resume) => {
  const server = Net.createServer()
  server.once("error", (cause) =>
    resume(Effect.fail(
      new StoreError({ reason: "unavailable", description: `Cannot find a free port for the runner: ${cause}`, cause })
    )))
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * Whether any runner is alive on the database (its heartbeat is recent), and
 * how long ago the last one was seen.
 */
const runnersAlive = (
  aliveWithin: Duration.Duration
): Effect.Effect<Service.RunnerSightings, unknown, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    // `last_heartbeat` is a timestamp without time zone written as the session's local time.
    sql<{ alive: number | string; last: number | string | null }>`SELECT
      COUNT(*) FILTER (WHERE healthy AND last_heartbeat > NOW() - make_interval(secs => ${
      Duration.toSeconds(aliveWithin)
    })) AS alive,
      EXTRACT(EPOCH FROM (MAX(last_heartbeat) AT TIME ZONE current_setting('TimeZone'))) AS last
      FROM cluster_runners`.pipe(
      Effect.map(([row]) => ({
        alive: Number(row?.alive ?? 0),
        lastSeenAt: row?.last === null || row?.last === undefined ? undefined : Math.round(Number(row.last)) * 1000
      }))
    ))

const clusterWith = (
  options: ClusterOptions,
  runner: { readonly host: string; readonly port: number } | "client"
): Layer.Layer<Medusa | TaskStore, StoreError> => {
  const clientOnly = runner === "client"
  const client = SqlTaskStore.pgClient({ url: options.postgres, maxConnections: options.maxConnections })
  const shardLockExpiration = options.shardLockExpiration ?? clusterDefaults.shardLockExpiration
  // Loaded here: the cluster's socket runner (and the HTTP client it brings) only where a cluster runs.
  const sharding = Layer.unwrapEffect(Effect.map(
    Effect.all([
      Effect.promise(() => import("@effect/platform-node/NodeClusterSocket")),
      Effect.promise(() => import("@effect/cluster/RunnerAddress"))
    ]),
    ([NodeClusterSocket, RunnerAddress]) =>
      NodeClusterSocket.layer({
        clientOnly,
        storage: "sql",
        shardingConfig: {
          ...(runner === "client" ? {} : {
            runnerAddress: Option.some(RunnerAddress.make(runner.host, runner.port))
          }),
          shardsPerGroup: options.shardsPerGroup ?? clusterDefaults.shardsPerGroup,
          shardLockExpiration,
          shardLockRefreshInterval: options.shardLockRefreshInterval ?? clusterDefaults.shardLockRefreshInterval,
          refreshAssignmentsInterval: Duration.seconds(1),
          entityMessagePollInterval: Duration.millis(500),
          entityReplyPollInterval: Duration.millis(100)
        }
      })
  ))
  const engine = Layer.unwrapEffect(Effect.map(
    Effect.promise(() => import("@effect/cluster/ClusterWorkflowEngine")),
    (ClusterWorkflowEngine) =>
      ClusterWorkflowEngine.layer.pipe(
        Layer.provideMerge(sharding as Layer.Layer<any, any, SqlClient.SqlClient>),
        Layer.catchAll((error) =>
          Layer.fail(
            new StoreError({
              reason: "unavailable",
              description: `Cannot join the cluster: ${error instanceof Error ? error.message : String(error)}`,
              cause: error
            })
          )
        )
      )
  )) as Layer.Layer<WorkflowEngine.WorkflowEngine, StoreError, SqlClient.SqlClient>
  const serviceLayerOf = Layer.unwrapEffect(Effect.map(SqlClient.SqlClient, (sql) =>
    serviceLayer({
      ...options,
      clientOnly,
      schedulerInterval: options.schedulerInterval ?? "1 second",
      runnersAlive: Effect.provideService(
        runnersAlive(Duration.sum(Duration.decode(shardLockExpiration), Duration.seconds(1))),
        SqlClient.SqlClient,
        sql
      )
    })))
  const runs = clientOnly ? Layer.empty : Workflow.layer.pipe(Layer.provide(stepsLayer(options)))
  return serviceLayerOf.pipe(
    Layer.provide(runs),
    Layer.provideMerge(engine),
    Layer.provideMerge(storeLayer({})),
    Layer.provide(client)
  ) as Layer.Layer<Medusa | TaskStore, StoreError>
}
