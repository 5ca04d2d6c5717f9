/**
 * Durable engine benchmark.
 *
 * 1. SQLite (embedded, `Durable.layerDurable`) beside the in-memory engine,
 *    same run, instant test platforms: tasks per second and status
 *    transitions per second, and the ratio; then a raw better-sqlite3
 *    script writing the same rows per transition (the task row and a
 *    history row, one transaction, WAL, `synchronous=NORMAL`) and Medusa's
 *    ratio to it (target ≥ 0.3×); then the latency a durable task adds, one
 *    task at a time: submit → first upload call, and last post → `completed`,
 *    p50 and p99, beside the in-memory engine's (target ≤ 100 ms added).
 * 2. PostgreSQL (`Durable.layerCluster`) with 1 then 2 runner processes on
 *    latency-bound tasks (the sandbox adds 200 ms to every request; each
 *    runner allows 1 operation per platform at a time): tasks per second
 *    and the speed-up (target ≥ 1.7×). Skipped with a notice when
 *    `MEDUSA_TEST_PG_URL` is not set.
 *
 *   npm run bench:durable [-- sqliteTasks clusterTasks perRunnerConcurrency]
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { cpus, loadavg } from "node:os"
import * as path from "node:path"
import * as Durable from "../src/Durable.js"
import * as Medusa from "../src/Medusa.js"
import type { PublishRequestInput } from "../src/PublishRequest.js"
import * as Sandbox from "../src/sandbox/Sandbox.js"
import type { Task } from "../src/Task.js"
import * as TestPlatforms from "../src/TestPlatforms.js"
import { tempDir, writeVideo } from "../test/durable/fixtures/media.js"
import { dropDatabase, freshDatabase, readTasks } from "../test/durable/fixtures/pg.js"
import { startWorker, type Worker } from "../test/durable/fixtures/processes.js"

// better-sqlite3 (the driver under @effect/sql-sqlite-node) ships no types; this is the part the script uses.
interface RawStatement {
  run(...args: ReadonlyArray<unknown>): unknown
  get(...args: ReadonlyArray<unknown>): unknown
}
interface RawDatabase {
  pragma(text: string): unknown
  exec(text: string): unknown
  prepare(text: string): RawStatement
  transaction<A extends ReadonlyArray<unknown>>(f: (...args: A) => void): (...args: A) => void
  close(): void
}
const Database = createRequire(import.meta.url)("better-sqlite3") as new(
  file: string,
  options?: { readonly readonly?: boolean }
) => RawDatabase

const SQLITE_TASKS = Number(process.argv[2] ?? 300)
const CLUSTER_TASKS = Number(process.argv[3] ?? 48)
// One operation per platform at a time per runner keeps the run latency-bound
// (not CPU-bound) even on a small, shared machine.
const PER_RUNNER = Number(process.argv[4] ?? 1)
const pgUrl = process.env.MEDUSA_TEST_PG_URL

const dir = tempDir("medusa-bench-durable-")
const video = writeVideo(dir, 64 * 1024)

// =============================================================================
// 1. SQLite vs memory
// =============================================================================

const instantRequest: PublishRequestInput = {
  mediaFile: video,
  platforms: ["youtube", "facebook", "x"],
  metadata: {
    youtube: { title: "Benchmark" },
    facebook: { message: "New video {youtube_url}" },
    x: { text: "Watch {youtube_url}" }
  }
}

interface Figures {
  readonly seconds: number
  readonly tasksPerSecond: number
  readonly transitionsPerSecond: number
  readonly writesPerSecond: number
}

const runInstant = (tasks: number) =>
  Effect.gen(function*() {
    const medusa = yield* Medusa.Medusa
    let transitions = 0
    let writes = 0
    const counting = yield* medusa.changes.pipe(
      Stream.runForEach((c) =>
        Effect.sync(() => {
          writes++
          if (c.previous !== undefined && c.previous !== c.task.state) transitions++
        })
      ),
      Effect.fork
    )
    yield* Effect.sleep("50 millis")
    const start = performance.now()
    yield* Effect.forEach(Array.from({ length: tasks }), () => medusa.publish(instantRequest), {
      concurrency: 64,
      discard: true
    })
    const seconds = (performance.now() - start) / 1000
    yield* Effect.sleep("50 millis")
    yield* Fiber.interrupt(counting)
    return {
      seconds,
      tasksPerSecond: tasks / seconds,
      transitionsPerSecond: transitions / seconds,
      writesPerSecond: writes / seconds
    } satisfies Figures
  })

const show = (name: string, f: Figures) =>
  console.log(
    `${name.padEnd(28)} ${f.tasksPerSecond.toFixed(1).padStart(8)} tasks/s ${
      f.transitionsPerSecond.toFixed(1).padStart(9)
    } transitions/s ${f.writesPerSecond.toFixed(1).padStart(9)} store writes/s  (${f.seconds.toFixed(2)} s)`
  )

/**
 * Counts the SQL statements run through better-sqlite3 in this process, by
 * the tables they name: Medusa's (`medusa_*`) or the workflow engine's
 * (`cluster_*`).
 */
const statementCounts = { medusa: 0, engine: 0, other: 0 }
const countStatements = () => {
  const probe = new Database(":memory:")
  const proto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, unknown>
  probe.close()
  for (const method of ["run", "all", "get", "iterate"]) {
    const original = proto[method] as (...args: Array<unknown>) => unknown
    proto[method] = function(this: { source: string }, ...args: Array<unknown>) {
      if (this.source.includes("medusa_")) statementCounts.medusa++
      else if (this.source.includes("cluster_")) statementCounts.engine++
      else statementCounts.other++
      return original.apply(this, args)
    }
  }
}

/** The same row writes as Medusa's store per transition, in plain better-sqlite3. */
const rawTransitions = (file: string, body: string, transitions: number) => {
  const db = new Database(file)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.exec(`CREATE TABLE tasks (id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL, run_at BIGINT, rev BIGINT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE history (seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, rev BIGINT NOT NULL,
    state TEXT NOT NULL, previous TEXT, at BIGINT NOT NULL, message TEXT, body TEXT NOT NULL);
    CREATE INDEX history_task ON history (task_id, seq);`)
  const upsert = db.prepare(`INSERT INTO tasks (id, state, created_at, updated_at, rev, body) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, rev = excluded.rev,
    body = excluded.body`)
  const history = db.prepare(
    `INSERT INTO history (task_id, rev, state, previous, at, message, body) VALUES (?, ?, ?, ?, ?, ?, ?)`
  )
  const transition = db.transaction((id: string, rev: number, state: string, previous: string) => {
    const now = Date.now()
    upsert.run(id, state, now, now, rev, body)
    history.run(id, rev, state, previous, now, "message", body)
  })
  const start = performance.now()
  for (let i = 0; i < transitions; i++) {
    const id = `task-${i >> 1}`
    if (i % 2 === 0) transition(id, 1, "in_progress", "pending")
    else transition(id, 2, "completed", "in_progress")
  }
  const seconds = (performance.now() - start) / 1000
  db.close()
  return transitions / seconds
}

const percentile = (values: ReadonlyArray<number>, p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

/** One task at a time: submit → first upload call, last post → completed (ms). */
const latencies = (tasks: number) =>
  Effect.gen(function*() {
    const medusa = yield* Medusa.Medusa
    const control = yield* TestPlatforms.TestPlatforms
    const start: Array<number> = []
    const end: Array<number> = []
    for (let i = 0; i < tasks; i++) {
      const submitted = Date.now()
      const task = yield* medusa.publish(instantRequest)
      const calls = (yield* control.calls).filter((c) => c.taskId === task.id)
      const firstUpload = Math.min(...calls.filter((c) => c.operation === "upload").map((c) => c.at))
      const lastPost = Math.max(...calls.filter((c) => c.operation === "post").map((c) => c.at))
      const completed = task.history.find((h) => h.state === "completed")!.at
      start.push(firstUpload - submitted)
      end.push(completed - lastPost)
    }
    return { start, end }
  })

const LATENCY_TASKS = Number(process.env.MEDUSA_BENCH_LATENCY_TASKS ?? 40)

const sqliteVsMemory: Effect.Effect<void, unknown> = Effect.gen(function*() {
  console.log(`\n1. ${SQLITE_TASKS} tasks on instant test platforms (YouTube upload, Facebook and X posts)`)
  const platforms = TestPlatforms.layer()
  const memory = yield* runInstant(SQLITE_TASKS).pipe(
    Effect.provide(Medusa.layerMemory({ maxConcurrentTasks: 64 }).pipe(Layer.provide(platforms)))
  )
  show("in-memory engine", memory)
  countStatements()
  const sqlite = yield* runInstant(SQLITE_TASKS).pipe(
    Effect.provide(
      Durable.layerDurable({ sqlite: path.join(dir, "bench.db"), maxConcurrentTasks: 64 }).pipe(
        Layer.provide(platforms)
      )
    )
  )
  show("durable (SQLite, workflows)", sqlite)
  console.log(
    `SQL statements per task: ${(statementCounts.medusa / SQLITE_TASKS).toFixed(1)} on Medusa's tables, ${
      (statementCounts.engine / SQLITE_TASKS).toFixed(1)
    } on the workflow engine's (cluster_*), ${(statementCounts.other / SQLITE_TASKS).toFixed(1)} other`
  )
  console.log(
    `ratio durable / memory: ${(sqlite.tasksPerSecond / memory.tasksPerSecond).toFixed(3)} (tasks/s), ` +
      `${(sqlite.transitionsPerSecond / memory.transitionsPerSecond).toFixed(3)} (transitions/s)`
  )

  // The anchor: the same rows per transition, written by a plain script.
  const reader = new Database(path.join(dir, "bench.db"), { readonly: true })
  const body = (reader.prepare("SELECT body FROM medusa_tasks LIMIT 1").get() as { body: string }).body
  reader.close()
  const raw = rawTransitions(path.join(dir, "raw.db"), body, Math.max(2_000, SQLITE_TASKS * 4))
  console.log(
    `${"raw better-sqlite3 script".padEnd(28)} ${"".padStart(16)} ${raw.toFixed(1).padStart(9)} transitions/s ` +
      `(task row + history row per transition, ${body.length}-byte body, WAL, synchronous=NORMAL)`
  )
  console.log(
    `ratio durable / raw script: ${(sqlite.transitionsPerSecond / raw).toFixed(3)}x (transitions/s; target >= 0.3x)`
  )

  console.log(`\nLatency, ${LATENCY_TASKS} tasks one at a time (ms; target: durable adds <= 100 ms at each end)`)
  const recording = TestPlatforms.layer({ record: true })
  const memoryLatency = yield* latencies(LATENCY_TASKS).pipe(
    Effect.provide(Medusa.layerMemory({}).pipe(Layer.provideMerge(recording)))
  )
  const durableLatency = yield* latencies(LATENCY_TASKS).pipe(
    Effect.provide(Durable.layerDurable({ sqlite: path.join(dir, "latency.db") }).pipe(Layer.provideMerge(recording)))
  )
  const row = (name: string, values: ReadonlyArray<number>, anchor: ReadonlyArray<number>) =>
    console.log(
      `${name.padEnd(34)} p50 ${percentile(values, 50).toFixed(0).padStart(5)}  p99 ${
        percentile(values, 99).toFixed(0).padStart(5)
      }   (memory p50 ${percentile(anchor, 50).toFixed(0)}, p99 ${percentile(anchor, 99).toFixed(0)}; added p50 ${
        (percentile(values, 50) - percentile(anchor, 50)).toFixed(0)
      }, p99 ${(percentile(values, 99) - percentile(anchor, 99)).toFixed(0)})`
    )
  row("durable: submit → first upload", durableLatency.start, memoryLatency.start)
  row("durable: last post → completed", durableLatency.end, memoryLatency.end)
})

// =============================================================================
// 2. PostgreSQL, 1 and 2 runner processes
// =============================================================================

const clusterRun = async (runnerCount: number): Promise<number> => {
  const url = await freshDatabase()
  // Facebook's emulated Graph usage rises 1% per call by default and the publisher holds posts above 90%, which a
  // run of more than ~90 tasks (`npm run bench:durable -- 0 96`) would measure instead of the runners: allow 4× the calls.
  const sandbox = await Sandbox.start(
    { latencyMillis: 200, facebook: { usagePerCall: 0.25 } } as Sandbox.SandboxOptions
  )
  const workers: Array<Worker> = []
  try {
    const config = await sandbox.writeConfig(path.join(dir, `sandbox-${runnerCount}`))
    const requestFile = path.join(dir, `request-${runnerCount}.json`)
    writeFileSync(
      requestFile,
      JSON.stringify({
        mediaFile: video,
        platforms: ["youtube", "facebook", "x"],
        metadata: {
          youtube: { title: "Bench" },
          facebook: { message: "FB {youtube_url}" },
          x: { text: "X {youtube_url}" }
        }
      })
    )
    const env = {
      MEDUSA_PG: url,
      MEDUSA_SANDBOX_CONFIG: config,
      MEDUSA_MAX_TASKS: String(PER_RUNNER),
      MEDUSA_EXIT: "never"
    }
    for (let i = 0; i < runnerCount; i++) {
      const w = startWorker({ ...env, MEDUSA_RUNNER_PORT: String(46_000 + runnerCount * 10 + i) })
      workers.push(w)
      await w.line("READY", 120_000)
    }
    // Let the runners settle their shard assignment before the clock starts.
    await new Promise((r) => setTimeout(r, 3_000))
    const client = startWorker({
      ...env,
      MEDUSA_SUBMIT: requestFile,
      MEDUSA_SUBMIT_COUNT: String(CLUSTER_TASKS),
      MEDUSA_EXIT: "after-submit"
    })
    workers.push(client)
    await client.exited
    let tasks: ReadonlyArray<Task> = []
    for (;;) {
      tasks = await readTasks(url)
      if (tasks.length === CLUSTER_TASKS && tasks.every((t) => t.state === "completed" || t.state === "failed")) break
      await new Promise((r) => setTimeout(r, 200))
    }
    const failed = tasks.filter((t) => t.state === "failed").length
    if (failed > 0) {
      console.log(`  (${failed} tasks failed: ${tasks.find((t) => t.state === "failed")!.failures[0]?.message})`)
    }
    // From the first submit to the last final state, as the tasks recorded it
    // (the client process's start-up is not counted).
    const first = Math.min(...tasks.map((t) => t.createdAt))
    const last = Math.max(...tasks.map((t) => t.updatedAt))
    const seconds = (last - first) / 1000
    const rate = CLUSTER_TASKS / seconds
    console.log(
      `${runnerCount} runner process${runnerCount === 1 ? "  " : "es"}        ${
        rate.toFixed(2).padStart(8)
      } tasks/s  ` +
        `(${CLUSTER_TASKS} tasks in ${seconds.toFixed(1)} s)`
    )
    return rate
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL")
    await sandbox.close()
    await dropDatabase(url).catch(() => {})
  }
}

const main = async () => {
  console.log(`Medusa durable benchmark — ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`)
  if (SQLITE_TASKS > 0) await Effect.runPromise(sqliteVsMemory)
  if (pgUrl === undefined) {
    console.log("\n2. PostgreSQL: SKIPPED (set MEDUSA_TEST_PG_URL to run it)")
    return
  }
  console.log(
    `\n2. PostgreSQL cluster, ${CLUSTER_TASKS} latency-bound tasks (sandbox +200 ms per request, ` +
      `${PER_RUNNER} concurrent operation${PER_RUNNER === 1 ? "" : "s"} per platform per runner)`
  )
  const one = await clusterRun(1)
  const two = await clusterRun(2)
  console.log(`speed-up 1 → 2 runners: ${(two / one).toFixed(2)}× (target ≥ 1.7×)`)
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
