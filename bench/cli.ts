/**
 * `npm run bench:cli`: start-up of the built `medusa` command (bin/medusa.js →
 * dist/cli/, built first when stale), each beside `node -e 0` measured in the
 * same run, alternating, median of RUNS (default 9):
 *
 *   medusa --help, medusa tasks, medusa status <id>, medusa config validate:
 *     ≤ 350 ms median and ≤ 3.5 × node -e 0
 *   peak RSS of medusa tasks: ≤ 100 MB
 *   npm run demo (wall clock, median of DEMO_RUNS, default 3): ≤ 1.5 s, with the
 *     same command without npm's start-up beside it
 *
 * The store that `tasks` and `status` read holds one task published to the
 * embedded sandbox before the measurements.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
const runs = Number(process.env["RUNS"] ?? 9)
const demoRuns = Number(process.env["DEMO_RUNS"] ?? 3)
const bin = path.join(root, "bin/medusa.js")

execFileSync(process.execPath, [path.join(root, "scripts/build.mjs"), "--if-stale"], { stdio: "inherit" })

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-bench-cli-"))
const store = path.join(dir, "medusa.db")
const config = path.join(dir, "medusa.config.json")
fs.writeFileSync(
  config,
  JSON.stringify({
    vimeo: { access_token: "bench-token" },
    facebook: { page_id: "1234567890", access_token: "bench-token" },
    medusa: { store: { sqlite: "tasks.db" } }
  })
)

const spawn = (args: ReadonlyArray<string>, cwd = dir) => {
  const start = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}: ${result.stderr}`)
  return { ms, stdout: result.stdout, stderr: result.stderr }
}

// One task in the store, published to the embedded sandbox.
const published = spawn([
  bin,
  "publish",
  path.join(root, "examples/media/sample.mp4"),
  "--sandbox",
  "--request",
  path.join(root, "examples/demo-request.json"),
  "--store",
  store,
  "--json"
])
const taskId = /"task_id":"(medusa_task_[^"]+)"/.exec(published.stdout)?.[1]
if (!taskId) throw new Error(`no task id in the publish output:\n${published.stdout.slice(0, 500)}`)

interface Target {
  readonly label: string
  readonly args: ReadonlyArray<string>
}
const baseline: Target = { label: "node -e 0", args: ["-e", "0"] }
const targets: ReadonlyArray<Target> = [
  { label: "medusa --help", args: [bin, "--help"] },
  { label: "medusa tasks", args: [bin, "tasks", "--store", store] },
  { label: `medusa status <id>`, args: [bin, "status", taskId, "--store", store] },
  { label: "medusa config validate", args: [bin, "config", "validate", "--config", config] }
]

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

// Warm the file cache, then alternate: every round measures the baseline and every target once.
for (const t of [baseline, ...targets]) spawn(t.args)
const samples = new Map<string, Array<number>>([baseline, ...targets].map((t) => [t.label, []]))
for (let i = 0; i < runs; i++) {
  for (const t of [baseline, ...targets]) samples.get(t.label)!.push(spawn(t.args).ms)
}

// Peak RSS of `medusa tasks`, read by the process itself as it exits.
const rssHook = `data:text/javascript,${
  encodeURIComponent(
    "import{writeSync}from'node:fs';process.on('exit',()=>writeSync(2,'\\nMAXRSS '+process.resourceUsage().maxRSS+'\\n'))"
  )
}`
const rss = (args: ReadonlyArray<string>) =>
  median(Array.from({ length: 3 }, () => Number(/MAXRSS (\d+)/.exec(spawn(["--import", rssHook, ...args]).stderr)![1])))
const tasksRss = rss(targets[1]!.args) / 1024
const baselineRss = rss(baseline.args) / 1024

// `npm run demo`, as a user runs it (npm's own start-up included), and the same command without npm
// (scripts/medusa.mjs: the staleness check, then the CLI in the same process), alternating with `node -e 0`.
const npm = process.platform === "win32" ? "npm.cmd" : "npm"
const demoArgs = [
  path.join(root, "scripts/medusa.mjs"),
  "publish",
  "examples/media/sample.mp4",
  "--sandbox",
  "--request",
  "examples/demo-request.json"
]
const timed = (command: string, args: ReadonlyArray<string>): number => {
  const start = process.hrtime.bigint()
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } })
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}: ${r.stderr}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const demo: Array<number> = []
const demoDirect: Array<number> = []
const demoNode: Array<number> = []
timed(npm, ["run", "--silent", "demo"]) // warms the caches
for (let i = 0; i < demoRuns; i++) {
  demo.push(timed(npm, ["run", "--silent", "demo"]))
  demoDirect.push(timed(process.execPath, demoArgs))
  demoNode.push(spawn(baseline.args).ms)
}
const demoBaseline = median(demoNode)

fs.rmSync(dir, { recursive: true, force: true })

const base = median(samples.get(baseline.label)!)
const out = (s: string) => process.stdout.write(s + "\n")
out(
  `\nmedusa start-up, median of ${runs} alternating runs on Node ${process.versions.node} (${os.cpus().length} CPUs, load average ${
    os.loadavg()[0]!.toFixed(1)
  })\n`
)
out(
  `${"command".padEnd(26)} ${"median".padStart(8)} ${"min".padStart(7)} ${"max".padStart(7)} ${
    "× node".padStart(7)
  }  target`
)
out(
  `${baseline.label.padEnd(26)} ${`${base.toFixed(0)} ms`.padStart(8)} ${
    Math.min(...samples.get(baseline.label)!).toFixed(0).padStart(7)
  } ${Math.max(...samples.get(baseline.label)!).toFixed(0).padStart(7)} ${"1.00".padStart(7)}  (baseline)`
)
let met = 0
let total = 0
for (const t of targets) {
  const xs = samples.get(t.label)!
  const m = median(xs)
  const ok = m <= 350 && m / base <= 3.5
  total++
  if (ok) met++
  out(
    `${t.label.padEnd(26)} ${`${m.toFixed(0)} ms`.padStart(8)} ${Math.min(...xs).toFixed(0).padStart(7)} ${
      Math.max(...xs).toFixed(0).padStart(7)
    } ${(m / base).toFixed(2).padStart(7)}  ≤ 350 ms and ≤ 3.5×: ${ok ? "met" : "NOT met"}`
  )
}
const rssOk = tasksRss <= 100
const demoMedian = median(demo)
const demoOk = demoMedian <= 1500
out(
  `\npeak RSS, medusa tasks: ${tasksRss.toFixed(1)} MB (node -e 0: ${baselineRss.toFixed(1)} MB; target ≤ 100 MB: ${
    rssOk ? "met" : "NOT met"
  })`
)
out(
  `npm run demo: ${demoMedian.toFixed(0)} ms median of ${demoRuns} (${
    (demoMedian / demoBaseline).toFixed(1)
  } × node -e 0, ${demoBaseline.toFixed(0)} ms in the same rounds; target ≤ 1500 ms: ${demoOk ? "met" : "NOT met"})`
)
out(
  `  of which the command without npm (node scripts/medusa.mjs publish …): ${median(demoDirect).toFixed(0)} ms (${
    (median(demoDirect) / demoBaseline).toFixed(1)
  } × node -e 0); npm's start-up: ${(demoMedian - median(demoDirect)).toFixed(0)} ms`
)
out(`\n${met + (rssOk ? 1 : 0) + (demoOk ? 1 : 0)} of ${total + 2} targets met`)
