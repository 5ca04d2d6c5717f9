/**
 * Engine benchmark: 10,000 tasks on instant test platforms (YouTube upload,
 * then Facebook and X posts), with one status subscriber attached that turns
 * every change into status JSON. Prints tasks per second, p50/p99
 * submit-to-final latency and the heap retained per finished task.
 *
 *   npm run bench:engine            (re-executes itself with --expose-gc)
 *   node --expose-gc --import tsx bench/engine.ts [tasks] [maxConcurrentTasks]
 *
 * Then `publish` (awaiting each task) from 64 callers at once.
 *
 * Targets: < 1 ms of CPU per task, ≤ 4 KB retained per finished task. (A
 * real task takes minutes; what the engine must keep small is what each
 * task costs the process, not a tasks/s figure.) Media
 * validation at submit touches the file system; every task reuses one real
 * small video file (examples/media/sample.mp4).
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { spawnSync } from "node:child_process"
import { cpus, loadavg } from "node:os"
import * as path from "node:path"
import * as Medusa from "../src/Medusa.js"
import type { PublishRequestInput } from "../src/PublishRequest.js"
import * as TaskStatus from "../src/TaskStatus.js"
import * as TestPlatforms from "../src/TestPlatforms.js"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  // Retained heap needs a forced collection: run again with --expose-gc.
  const result = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", ...process.argv.slice(1)], {
    stdio: "inherit"
  })
  process.exit(result.status ?? 1)
}

const TASKS = Number(process.argv[2] ?? 10_000)
const MAX_CONCURRENT = Number(process.argv[3] ?? 64)
const SUBMIT_CONCURRENCY = 32
const WARMUP = 2_000

const mediaFile = path.join(import.meta.dirname, "..", "examples", "media", "sample.mp4")
const request: PublishRequestInput = {
  mediaFile,
  platforms: ["youtube", "facebook", "x"],
  metadata: {
    youtube: { title: "Benchmark" },
    facebook: { message: "New video {youtube_url}" },
    x: { text: "Watch {youtube_url}" }
  }
}

const collect = () => {
  for (let i = 0; i < 3; i++) gc!()
  return process.memoryUsage().heapUsed
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

const program = Effect.gen(function*() {
  const medusa = yield* Medusa.Medusa
  // Warm up (JIT, module state) so that the measure is the steady state and
  // the heap baseline is fair; warm-up tasks are not counted.
  yield* Effect.forEach(Array.from({ length: WARMUP }), () => medusa.publish(request), {
    concurrency: SUBMIT_CONCURRENCY,
    discard: true
  })

  const submittedAt = new Map<string, number>()
  const latencies: Array<number> = []
  let finished = 0
  let statuses = 0
  const done = yield* Effect.makeLatch(false)

  // The one status subscriber: status JSON for every change; records final times.
  const subscriber = yield* medusa.changes.pipe(
    Stream.runForEach((change) =>
      Effect.suspend(() => {
        const status = TaskStatus.toJSON(change.task)
        statuses++
        if (status.status === "completed" || status.status === "failed" || status.status === "cancelled") {
          const start = submittedAt.get(status.task_id)
          if (start !== undefined) {
            latencies.push(performance.now() - start)
            submittedAt.delete(status.task_id)
            if (++finished === TASKS) return done.open
          }
        }
        return Effect.void
      })
    ),
    Effect.fork
  )
  yield* Effect.yieldNow()

  const before = collect()
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  yield* Effect.forEach(
    Array.from({ length: TASKS }),
    () =>
      Effect.suspend(() => {
        const at = performance.now()
        return Effect.map(medusa.submit(request), (id) => {
          // Tasks may finish before submit returns; record the start only if not done yet.
          submittedAt.set(id, at)
        })
      }),
    { concurrency: SUBMIT_CONCURRENCY, discard: true }
  )
  yield* done.await
  const elapsed = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  yield* Fiber.interrupt(subscriber)

  const tasks = yield* medusa.list({ status: "completed" })
  const after = collect()

  // `publish` (submit, then await the final state) from 64 callers at once:
  // what the Promise facade's publishAsync does. Awaiting must not cost more
  // per task as more callers wait.
  const publishCount = Math.max(1, Math.floor(TASKS / 2))
  const publishStarted = performance.now()
  yield* Effect.forEach(Array.from({ length: publishCount }), () => medusa.publish(request), {
    concurrency: 64,
    discard: true
  })
  const publishRate = publishCount / ((performance.now() - publishStarted) / 1000)
  const sorted = [...latencies].sort((a, b) => a - b)
  const perTask = (after - before) / TASKS
  const rate = TASKS / (elapsed / 1000)
  console.log(
    `engine benchmark: ${TASKS} tasks (youtube → facebook + x), maxConcurrentTasks ${MAX_CONCURRENT}, one status subscriber`
  )
  console.log(
    `  completed:               ${tasks.length - WARMUP} (+${WARMUP} warm-up, not measured), ` +
      `${statuses} status changes seen by the subscriber`
  )
  const cpuPerTask = (cpuSeconds * 1e6) / TASKS
  console.log(
    `  CPU per task:            ${cpuPerTask.toFixed(0)} µs ${cpuPerTask < 1000 ? "✓" : "✗"} target < 1 ms ` +
      `(${cpuSeconds.toFixed(2)} s of CPU; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`
  )
  console.log(`  throughput:              ${rate.toFixed(0)} tasks/s (${(elapsed / 1000).toFixed(2)} s)`)
  console.log(
    `  submit-to-final latency: p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${
      percentile(sorted, 99).toFixed(1)
    } ms (${sorted.length} samples)`
  )
  console.log(`  publish, 64 callers:     ${publishRate.toFixed(0)} tasks/s (${publishCount} tasks, each awaited)`)
  console.log(
    `  retained heap per task:  ${(perTask / 1024).toFixed(2)} KB ${perTask <= 4096 ? "✓" : "✗"} target ≤ 4 KB`
  )
})

const layer = Medusa.layerMemory({ maxConcurrentTasks: MAX_CONCURRENT }).pipe(
  Layer.provide(TestPlatforms.layerFor(["youtube", "facebook", "x"], { record: false, youtube: { progressEvents: 0 } }))
)

Effect.runPromise(Effect.scoped(Effect.provide(program, layer))).catch((error) => {
  console.error(error)
  process.exit(1)
})
