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
 * Telemetry off and on: the whole measure runs once with it off, once on
 * (`ENGINE_BENCH_ROUNDS` pairs, default 1); on = the OTLP exporter
 * (`Telemetry.layer`) sending spans and metrics every second to an
 * in-process OTLP/HTTP receiver on loopback that counts the bytes. Then the
 * cost itself: `ENGINE_BENCH_PAIRS` (default 16) pairs of 500-task batches,
 * off and on alternating on one engine, and the median of each pair's on /
 * off CPU per task. Target: on costs ≤ 5% more CPU per task than off.
 *
 * Targets: < 1 ms of CPU per task, ≤ 4 KB retained per finished task. (A
 * real task takes minutes; what the engine must keep small is what each
 * task costs the process, not a tasks/s figure.) Media
 * validation at submit touches the file system; every task reuses one real
 * small video file (examples/media/sample.mp4).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import { spawnSync } from "node:child_process"
import { cpus, loadavg } from "node:os"
import * as path from "node:path"
import * as Medusa from "../src/Medusa.js"
import type { PublishRequestInput } from "../src/PublishRequest.js"
import * as TaskStatus from "../src/TaskStatus.js"
import * as Telemetry from "../src/Telemetry.js"
import * as TestPlatforms from "../src/TestPlatforms.js"
import * as Receiver from "../test/telemetry/receiver.js"

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

/**
 * Lets the event loop turn (timers, sockets) before every 64th item. On the
 * instant test platforms nothing else would: the engine's fibers keep Node's
 * microtask queue busy for the whole measure, and no timer or socket callback
 * runs until it ends. A real process does I/O all along; so does the OTLP
 * exporter when telemetry is on, whose requests must go out during the
 * measure to be counted in it.
 */
const turning = <A, E, R>(i: number, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  i % 64 === 63 ? Effect.zipRight(Effect.promise(() => new Promise<void>((r) => setImmediate(r))), effect) : effect

interface Figures {
  readonly completed: number
  readonly statuses: number
  readonly cpuPerTask: number
  readonly cpuSeconds: number
  readonly load: number
  readonly rate: number
  readonly elapsed: number
  readonly p50: number
  readonly p99: number
  readonly samples: number
  readonly publishRate: number
  readonly publishCount: number
  readonly perTask: number
}

const program: Effect.Effect<Figures, unknown, Medusa.Medusa> = Effect.gen(function*() {
  const medusa = yield* Medusa.Medusa
  // Warm up (JIT, module state) so that the measure is the steady state and
  // the heap baseline is fair; warm-up tasks are not counted.
  yield* Effect.forEach(Array.from({ length: WARMUP }), (_, i) => turning(i, medusa.publish(request)), {
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
    (_, i) =>
      turning(
        i,
        Effect.suspend(() => {
          const at = performance.now()
          return Effect.map(medusa.submit(request), (id) => {
            // Tasks may finish before submit returns; record the start only if not done yet.
            submittedAt.set(id, at)
          })
        })
      ),
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
  yield* Effect.forEach(Array.from({ length: publishCount }), (_, i) => turning(i, medusa.publish(request)), {
    concurrency: 64,
    discard: true
  })
  const publishRate = publishCount / ((performance.now() - publishStarted) / 1000)
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    completed: tasks.length - WARMUP,
    statuses,
    cpuPerTask: (cpuSeconds * 1e6) / TASKS,
    cpuSeconds,
    load: loadavg()[0]!,
    rate: TASKS / (elapsed / 1000),
    elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    samples: sorted.length,
    publishRate,
    publishCount,
    perTask: (after - before) / TASKS
  }
})

const print = (label: string, f: Figures) => {
  console.log(`  [${label}]`)
  console.log(
    `  completed:               ${f.completed} (+${WARMUP} warm-up, not measured), ` +
      `${f.statuses} status changes seen by the subscriber`
  )
  console.log(
    `  CPU per task:            ${f.cpuPerTask.toFixed(0)} µs ${f.cpuPerTask < 1000 ? "✓" : "✗"} target < 1 ms ` +
      `(${f.cpuSeconds.toFixed(2)} s of CPU; load average ${f.load.toFixed(1)} on ${cpus().length} cores)`
  )
  console.log(`  throughput:              ${f.rate.toFixed(0)} tasks/s (${(f.elapsed / 1000).toFixed(2)} s)`)
  console.log(
    `  submit-to-final latency: p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms (${f.samples} samples)`
  )
  console.log(`  publish, 64 callers:     ${f.publishRate.toFixed(0)} tasks/s (${f.publishCount} tasks, each awaited)`)
  console.log(
    `  retained heap per task:  ${(f.perTask / 1024).toFixed(2)} KB ${f.perTask <= 4096 ? "✓" : "✗"} target ≤ 4 KB`
  )
}

const engine = Medusa.layerMemory({ maxConcurrentTasks: MAX_CONCURRENT }).pipe(
  Layer.provide(TestPlatforms.layerFor(["youtube", "facebook", "x"], { record: false, youtube: { progressEvents: 0 } }))
)

const ROUNDS = Number(process.env["ENGINE_BENCH_ROUNDS"] ?? 1)
const PAIRS = Number(process.env["ENGINE_BENCH_PAIRS"] ?? 16)
const BATCH = 500
const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Telemetry off and on in alternating batches of `BATCH` published tasks on
 * one engine (off, on, then on, off, …): CPU per task of each batch, and
 * each pair's on / off. Seconds apart, the two sides of a pair see the same
 * machine, which whole runs a minute apart on a shared machine do not.
 */
const interleaved = (
  tracers: { readonly off: Tracer.Tracer; readonly on: Tracer.Tracer }
): Effect.Effect<ReadonlyArray<readonly [number, number]>, unknown, Medusa.Medusa> =>
  Effect.gen(function*() {
    const medusa = yield* Medusa.Medusa
    const batch = (tracer: Tracer.Tracer) =>
      Effect.gen(function*() {
        const before = process.cpuUsage()
        yield* Effect.forEach(Array.from({ length: BATCH }), (_, i) => turning(i, medusa.publish(request)), {
          concurrency: 64,
          discard: true
        })
        const cpu = process.cpuUsage(before)
        return (cpu.user + cpu.system) / BATCH
      }).pipe(Effect.withTracer(tracer))
    yield* batch(tracers.off)
    yield* batch(tracers.on)
    const pairs: Array<readonly [number, number]> = []
    for (let i = 0; i < PAIRS; i++) {
      if (i % 2 === 0) {
        const off = yield* batch(tracers.off)
        pairs.push([off, yield* batch(tracers.on)])
      } else {
        const on = yield* batch(tracers.on)
        pairs.push([yield* batch(tracers.off), on])
      }
    }
    return pairs
  })

const main = async () => {
  // ENGINE_BENCH_KEEP=1 keeps the bodies, to count the spans that arrived (a check, not for the figures).
  const keep = process.env["ENGINE_BENCH_KEEP"] !== undefined
  const receiver = await Receiver.start({ keep })
  const telemetry = Telemetry.layer({ endpoint: receiver.url, serviceName: "bench-engine", exportInterval: "1 second" })
    .pipe(Layer.provide(NodeHttpClient.layerUndici))
  const runs: Array<readonly [boolean, Figures]> = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const on of [false, true]) {
      const layer = on ? engine.pipe(Layer.provide(telemetry)) : engine
      runs.push([on, await Effect.runPromise(Effect.scoped(Effect.provide(program, layer)))])
    }
  }
  const pairs = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const off = yield* Effect.tracer
    yield* Layer.buildWithScope(telemetry, yield* Effect.scope).pipe(
      Logger.withMinimumLogLevel(process.env["ENGINE_BENCH_DEBUG"] ? LogLevel.Debug : LogLevel.Info)
    )
    const on = yield* Effect.tracer
    if (on === off) return yield* Effect.dieMessage("the telemetry layer did not install its tracer")
    return yield* interleaved({ off, on }).pipe(Effect.provide(engine))
  })))
  const spansArrived = keep ? receiver.spans().length : undefined
  await receiver.close()
  if (spansArrived !== undefined) console.log(`spans that arrived: ${spansArrived}`)
  console.log(
    `engine benchmark: ${TASKS} tasks (youtube → facebook + x), maxConcurrentTasks ${MAX_CONCURRENT}, one status subscriber; ` +
      `telemetry off, then on (OTLP export every second to an in-process receiver)`
  )
  runs.forEach(([on, figures], i) => print(`run ${i + 1}, telemetry ${on ? "on" : "off"}`, figures))
  const ratios = pairs.map(([off, on]) => on / off)
  const cost = (median(ratios) - 1) * 100
  console.log(
    `  telemetry cost:          ${PAIRS} pairs of ${BATCH}-task batches, off and on alternating on one engine: CPU per task ` +
      `${median(pairs.map(([, on]) => on)).toFixed(0)} µs on vs ${
        median(pairs.map(([off]) => off)).toFixed(0)
      } µs off ` +
      `(medians); on / off per pair: median ${cost >= 0 ? "+" : ""}${cost.toFixed(1)}% ${cost <= 5 ? "✓" : "✗"} ` +
      `target ≤ 5% (quartiles ${
        ((ratios.length ? [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 4)]! : 1) - 1) * 100 | 0
      }% … ${
        (([...ratios].sort((a, b) => a - b)[Math.floor((3 * ratios.length) / 4)]! - 1) * 100) | 0
      }%; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores); ` +
      `${(receiver.bytes() / 1024 / 1024).toFixed(1)} MiB exported in ${receiver.requests()} requests`
  )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
