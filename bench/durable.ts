/**
 * Durable engine benchmark.
 *
 * 1. SQLite (embedded, `Durable.layerDurable`) beside the in-memory engine,
 *    same run, instant test platforms: tasks per second and status
 *    transitions per second, and the ratio.
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

const sqliteVsMemory: Effect.Effect<void, unknown> = Effect.gen(function*() {
  console.log(`\n1. ${SQLITE_TASKS} tasks on instant test platforms (YouTube upload, Facebook and X posts)`)
  const platforms = TestPlatforms.layer()
  const memory = yield* runInstant(SQLITE_TASKS).pipe(
    Effect.provide(Medusa.layerMemory({ maxConcurrentTasks: 64 }).pipe(Layer.provide(platforms)))
  )
  show("in-memory engine", memory)
  const sqlite = yield* runInstant(SQLITE_TASKS).pipe(
    Effect.provide(
      Durable.layerDurable({ sqlite: path.join(dir, "bench.db"), maxConcurrentTasks: 64 }).pipe(
        Layer.provide(platforms)
      )
    )
  )
  show("durable (SQLite, workflows)", sqlite)
  console.log(
    `ratio durable / memory: ${(sqlite.tasksPerSecond / memory.tasksPerSecond).toFixed(3)} (tasks/s), ` +
      `${(sqlite.transitionsPerSecond / memory.transitionsPerSecond).toFixed(3)} (transitions/s)`
  )
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
