/**
 * `medusa serve` under load. Loopback only.
 *
 *   npm run bench:serve [-- --seconds 3 --rounds 3 --connections 32 --clients 200 --tasks 50 --latency 20]
 *                       [-- --only get|sse] [-- --store memory|sqlite] [-- --cpu-prof DIR]
 *
 * Everything runs as a user runs it: the sandbox (`medusa sandbox`) and the
 * server (`medusa serve`, in-memory store unless `--store sqlite`) are child processes of the
 * compiled CLI (built first when stale); the load comes from this process.
 *
 * 1. GET /v1/tasks/{id}: requests per second over `connections` keep-alive
 *    connections for `seconds`, beside a bare `node:http` server (its own
 *    child process) answering the same JSON body, alternating `rounds` times;
 *    medians and their ratio (target >= 0.5).
 * 2. SSE fan-out: `clients` connections to GET /v1/events, then `tasks`
 *    publishes submitted at once against the sandbox (every request delayed
 *    by `latency` ms, so the tasks run side by side). Every status change
 *    must reach every client: expected (the changes in the tasks' histories x
 *    clients) vs received; delivery latency (when the event's last byte
 *    reached the client - the change's updated_at) p50/p99 (target p99 <=
 *    100 ms), by state; the server's peak RSS. The clients stamp chunks as
 *    they arrive and parse them after the run, so this process's own parsing
 *    does not count as the server's latency. The end of the tasks is read
 *    from the first client's events, not polled (the polls would load the
 *    server under test).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { blocks } from "../test/server/sse.js"

const root = fileURLToPath(new URL("../", import.meta.url))
// The compiled CLI, as installed (built first when stale).
const bin = path.join(root, "bin/medusa.js")

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return fallback
  const n = Number(process.argv[i + 1])
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name} needs a number; got ${process.argv[i + 1]}\n`)
    process.exit(2)
  }
  return n
}

const seconds = arg("seconds", 3)
const rounds = arg("rounds", 3)
const connections = arg("connections", 32)
const clients = arg("clients", 200)
const taskCount = arg("tasks", 50)
const latency = arg("latency", 20)
const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
// One part alone (`get` or `sse`); both by default.
const only = option("only")
// The server's store: `memory` (default) or `sqlite` (a file in the bench's folder).
const store = option("store") ?? "memory"
if (store !== "memory" && store !== "sqlite") {
  process.stderr.write(`--store is memory or sqlite; got ${store}\n`)
  process.exit(2)
}
// The server's CPU profile (node --cpu-prof), written into this folder when it stops.
const cpuProf = option("cpu-prof")
const key = "bench-serve-key"
const work = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-bench-serve-"))
const children: Array<ChildProcess> = []

const started = (child: ChildProcess, pattern: RegExp, what: string): Promise<string> =>
  new Promise((resolve, reject) => {
    let out = ""
    let err = ""
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}${err}`)), 120_000)
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c))
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      out += c
      const m = pattern.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1] ?? m[0])
      }
    })
    child.on("exit", (code) => reject(new Error(`${what} exited (${code}):\n${out}${err}`)))
  })

const node = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): ChildProcess => {
  const child = spawn(process.execPath, args, {
    cwd: work,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.push(child)
  return child
}

const peakRss = (pid: number): number => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024
}

/** CPU seconds (user + system) a process has used so far. */
const cpuSeconds = (pid: number): number => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN
}

/**
 * Requests per second of GET `url` over `connections` keep-alive connections
 * for `seconds`, and per CPU-second of the server process `pid` (what a busy
 * shared machine distorts least).
 */
const load = async (
  url: string,
  headers: http.OutgoingHttpHeaders,
  pid: number
): Promise<{ readonly perSecond: number; readonly perCpuSecond: number }> => {
  const cpu0 = cpuSeconds(pid)
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const until = Date.now() + seconds * 1000
  let done = 0
  let failed = 0
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.get(url, { agent, headers }, (res) => {
        res.on("data", () => undefined)
        res.on("end", () => {
          if (res.statusCode === 200) done++
          else failed++
          resolve()
        })
      })
      req.on("error", () => {
        failed++
        resolve()
      })
    })
  const t0 = performance.now()
  await Promise.all(Array.from({ length: connections }, async () => {
    while (Date.now() < until) await one()
  }))
  const elapsed = (performance.now() - t0) / 1000
  const cpu = cpuSeconds(pid) - cpu0
  agent.destroy()
  if (failed > 0) process.stderr.write(`  (${failed} requests failed)\n`)
  return { perSecond: done / elapsed, perCpuSecond: done / Math.max(cpu, 0.01) }
}

const api = async (url: string, init: RequestInit = {}) => {
  const r = await fetch(url, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } })
  if (!r.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${r.status} ${await r.text()}`)
  return r.json() as Promise<any>
}

const main = async () => {
  const build = spawnSync(process.execPath, [path.join(root, "scripts/build.mjs"), "--if-stale"], { stdio: "inherit" })
  if (build.status !== 0) throw new Error("the build failed")
  process.stdout.write(
    `bench:serve on Node ${process.versions.node}, ${os.cpus().length} CPUs, load average ${
      os.loadavg().map((l) => l.toFixed(2)).join(" ")
    }\n`
  )
  // The sandbox, then a config pointing at it with a server section.
  fs.cpSync(path.join(root, "examples/media"), path.join(work, "media"), { recursive: true })
  const sandbox = node([bin, "sandbox", "--config-out", path.join(work, "sb.json"), "--latency", String(latency)])
  await started(sandbox, /Press Ctrl\+C to stop\./, "the sandbox")
  const sb = JSON.parse(fs.readFileSync(path.join(work, "sb.json"), "utf8"))
  fs.writeFileSync(
    path.join(work, "medusa.config.json"),
    JSON.stringify({
      ...sb,
      medusa: { ...sb.medusa, max_concurrent_tasks: Math.max(taskCount, 4) },
      server: { media_roots: [work] }
    }),
    { mode: 0o600 }
  )
  const profile = cpuProf === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", path.resolve(cpuProf)]
  const server = node(
    [
      ...profile,
      bin,
      "serve",
      "--port",
      "0",
      "--store",
      store === "memory" ? "memory" : path.join(work, "tasks.db"),
      "--config",
      "medusa.config.json"
    ],
    {
      MEDUSA_SERVER_API_KEY: key
    }
  )
  const url = await started(server, /Listening on (\S+)\n/, "medusa serve")
  const request = JSON.parse(fs.readFileSync(path.join(root, "examples/demo-request.json"), "utf8"))

  if (only !== "sse") await measureGet(url, request, server.pid!)
  if (only !== "get") await measureFanOut(url, request, server.pid!)
}

/** 1. GET /v1/tasks/{id} beside a bare node:http server. */
const measureGet = async (url: string, request: unknown, serverPid: number) => {
  const first = await api(`${url}/v1/tasks`, {
    method: "POST",
    body: JSON.stringify(request),
    headers: { "content-type": "application/json" }
  })
  for (let i = 0; i < 600; i++) {
    const s = await api(`${url}/v1/tasks/${first.task_id}`)
    if (s.status !== "pending" && s.status !== "in_progress") break
    await new Promise((r) => setTimeout(r, 50))
  }
  const body = JSON.stringify(await api(`${url}/v1/tasks/${first.task_id}`))
  fs.writeFileSync(path.join(work, "body.json"), body)
  const bare = node([
    "-e",
    `const body = require("node:fs").readFileSync(${JSON.stringify(path.join(work, "body.json"))});
     const s = require("node:http").createServer((req, res) => {
       res.writeHead(200, { "content-type": "application/json", "content-length": body.length }); res.end(body)
     });
     s.listen(0, "127.0.0.1", () => console.log("Listening on http://127.0.0.1:" + s.address().port))`
  ])
  const bareUrl = await started(bare, /Listening on (\S+)\n/, "the bare server")
  const medusaRuns: Array<{ perSecond: number; perCpuSecond: number }> = []
  const bareRuns: Array<{ perSecond: number; perCpuSecond: number }> = []
  for (let r = 0; r < rounds; r++) {
    medusaRuns.push(await load(`${url}/v1/tasks/${first.task_id}`, { authorization: `Bearer ${key}` }, serverPid))
    bareRuns.push(await load(`${bareUrl}/v1/tasks/${first.task_id}`, {}, bare.pid!))
  }
  const m = median(medusaRuns.map((x) => x.perSecond))
  const b = median(bareRuns.map((x) => x.perSecond))
  const mc = median(medusaRuns.map((x) => x.perCpuSecond))
  const bc = median(bareRuns.map((x) => x.perCpuSecond))
  const rounded = (xs: ReadonlyArray<number>) => xs.map((x) => x.toFixed(0)).join(", ")
  process.stdout.write(
    `\nGET /v1/tasks/{id} (${body.length} bytes of JSON), ${connections} keep-alive connections, ${seconds} s x ${rounds} rounds (alternating), medians:\n` +
      `                    req/s (wall)   req per server CPU-second\n` +
      `  medusa serve      ${m.toFixed(0).padStart(7)}        ${mc.toFixed(0).padStart(7)}   (rounds: ${
        rounded(medusaRuns.map((x) => x.perSecond))
      } / ${rounded(medusaRuns.map((x) => x.perCpuSecond))})\n` +
      `  bare node:http    ${b.toFixed(0).padStart(7)}        ${bc.toFixed(0).padStart(7)}   (rounds: ${
        rounded(bareRuns.map((x) => x.perSecond))
      } / ${rounded(bareRuns.map((x) => x.perCpuSecond))})\n` +
      `  ratio             ${(m / b).toFixed(2)}x          ${(mc / bc).toFixed(2)}x (target >= 0.5)\n`
  )
  bare.kill()
}

/** One SSE event, stamped with when its last byte reached the client. */
interface Arrived {
  readonly at: number
  readonly id: string | undefined
  readonly event: string
  readonly data: string
}

/**
 * An SSE follower that only stamps and keeps what its socket delivers
 * (`Date.now()` per chunk); the events are parsed after the run, so the
 * latency measured is the server's, not this process's parsing (200
 * followers parsing every event in one process queued behind each other for
 * hundreds of milliseconds). `onEvents`, for one follower, parses as it goes.
 */
const follower = (url: string, onEvents?: (events: ReadonlyArray<Arrived>) => void) =>
  new Promise<{ readonly status: number; readonly events: () => Array<Arrived>; readonly close: () => void }>(
    (resolve, reject) => {
      const request = http.get(url, {
        agent: false,
        headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" }
      }, (response) => {
        const chunks: Array<readonly [number, Buffer]> = []
        const live = onEvents === undefined ? undefined : parser()
        response.on("data", (chunk: Buffer) => {
          const at = Date.now()
          chunks.push([at, chunk])
          if (live !== undefined) onEvents!(live(at, chunk))
        })
        response.on("error", () => undefined)
        resolve({
          status: response.statusCode ?? 0,
          events: () => {
            const parse = parser()
            return chunks.flatMap(([at, chunk]) => parse(at, chunk))
          },
          close: () => request.destroy()
        })
      })
      request.on("error", reject)
    }
  )

/** The events each chunk completes, stamped with the chunk's arrival. */
const parser = () => {
  const parse = blocks()
  const decoder = new TextDecoder()
  return (at: number, chunk: Buffer): Array<Arrived> =>
    parse(decoder.decode(chunk, { stream: true })).flatMap((block) => block === "comment" ? [] : [{ ...block, at }])
}

/** 2. SSE fan-out. */
const measureFanOut = async (url: string, request: unknown, serverPid: number) => {
  const ids = new Set<string>()
  // The end of every task, from the first follower's events (polling GETs would load the server under test).
  const ended = new Set<string>()
  let allEnded: () => void = () => undefined
  const done = new Promise<void>((resolve) => (allEnded = resolve))
  const checkEnded = () => {
    if (ids.size === taskCount && [...ids].every((id) => ended.has(id))) allEnded()
  }
  const conns = await Promise.all(
    Array.from({ length: clients }, (_, i) =>
      follower(
        `${url}/v1/events`,
        i !== 0 ? undefined : (events) => {
          for (const e of events) {
            if (e.id !== undefined && /"status":"(completed|failed|cancelled)"/.test(e.data)) {
              ended.add((JSON.parse(e.data) as { task_id: string }).task_id)
            }
          }
          checkEnded()
        }
      ))
  )
  if (conns.some((c) => c.status !== 200)) throw new Error("an SSE client was refused")
  const t0 = performance.now()
  const cpu0 = cpuSeconds(serverPid)
  const submitTimes: Array<{ readonly created: number; readonly answered: number }> = []
  await Promise.all(
    Array.from({ length: taskCount }, () =>
      api(`${url}/v1/tasks`, {
        method: "POST",
        body: JSON.stringify(request),
        headers: { "content-type": "application/json" }
      }).then((s) => {
        // The task's created_at (its pending change's updated_at) against when its submit was answered.
        submitTimes.push({ created: Date.parse(s.created_at), answered: Date.now() })
        ids.add(s.task_id as string)
      }))
  )
  checkEnded()
  const timeout = setTimeout(() => allEnded(), 1_800_000)
  await done
  clearTimeout(timeout)
  const finals = new Map<string, any>()
  for (const id of ids) finals.set(id, await api(`${url}/v1/tasks/${id}`))
  const elapsed = (performance.now() - t0) / 1000
  const perClient = [...finals.values()].reduce((n, s) => n + (s.history as Array<unknown>).length, 0)
  const mine = (e: Arrived) => e.id !== undefined && ids.has((JSON.parse(e.data) as { task_id: string }).task_id)
  // Wait (bounded) for the last deliveries.
  const deadline = Date.now() + 10_000
  let events = conns.map((c) => c.events())
  while (events.some((es) => es.filter(mine).length < perClient) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    events = conns.map((c) => c.events())
  }
  const latencies: Array<number> = []
  const byState = new Map<string, Array<number>>()
  for (const es of events) {
    for (const e of es.filter(mine)) {
      const status = JSON.parse(e.data) as { updated_at: string; status: string }
      const latency = e.at - Date.parse(status.updated_at)
      latencies.push(latency)
      const xs = byState.get(status.status) ?? []
      xs.push(latency)
      byState.set(status.status, xs)
    }
  }
  const counts = events.map((es) => es.filter(mine).length)
  const total = counts.reduce((a, x) => a + x, 0)
  const progress = events.reduce((n, es) => n + es.filter((e) => e.event === "progress").length, 0)
  const states = [...finals.values()].reduce((acc: Record<string, number>, s) => {
    const outcome = s.status === "failed" ? `failed (${s.failed_platform}: ${s.error_code})` : s.status
    acc[outcome] = (acc[outcome] ?? 0) + 1
    return acc
  }, {})
  const rss = peakRss(serverPid)
  const cpu = cpuSeconds(serverPid) - cpu0
  for (const c of conns) c.close()
  process.stdout.write(
    `\nSSE fan-out: ${clients} clients on GET /v1/events, ${taskCount} tasks (${
      (request as { platforms: ReadonlyArray<string> }).platforms.length
    } platforms each, store ${store}, sandbox latency ${latency} ms) ran in ${elapsed.toFixed(1)} s; outcomes ${
      JSON.stringify(states)
    }\n` +
      `  status changes    expected ${
        perClient * clients
      } (${perClient} x ${clients} clients), received ${total}; per client min ${Math.min(...counts)}, max ${
        Math.max(...counts)
      } ${total === perClient * clients ? "(every change reached every client)" : "(MISSING)"}\n` +
      `  progress events   ${progress} received in all (no id; not counted above)\n` +
      `  delivery latency  p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${
        Math.max(...latencies)
      } ms (target p99 <= 100 ms)\n` +
      `                    by state: ${
        [...byState].map(([state, xs]) => `${state} p50 ${percentile(xs, 50)} / p99 ${percentile(xs, 99)} ms`).join(
          ", "
        )
      }\n` +
      `  submits           answered ${percentile(submitTimes.map((x) => x.answered - x.created), 50)} ms (p50), ${
        Math.max(...submitTimes.map((x) => x.answered - x.created))
      } ms (max) after their created_at (the pending change is sent when stored, before the 202)\n` +
      `  server peak RSS   ${(rss / 1024 / 1024).toFixed(0)} MiB; CPU ${cpu.toFixed(1)} s over the run\n` +
      `load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}\n`
  )
}

main().then(
  () => undefined,
  (error) => {
    process.stderr.write(`bench:serve failed: ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = 1
  }
).finally(() => {
  for (const c of children) c.kill("SIGINT")
  setTimeout(() => {
    for (const c of children) c.kill("SIGKILL")
    fs.rmSync(work, { recursive: true, force: true })
    process.exit()
  }, cpuProf === undefined ? 2_000 : 15_000).unref()
})
