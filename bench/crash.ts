/**
 * `npm run bench:crash`: a crash campaign with the real CLI.
 *
 * The sandbox runs in this process; each task is a separate `medusa publish
 * <file> --config <sandbox config> --store <SQLite file> --json` process
 * (the CLI bundled once with esbuild and run with plain `node`, so that the
 * signal reaches the CLI itself), killed with `SIGKILL` at a seeded random
 * point: aimed at the uploads, the step between uploads and posts, or the
 * posts (a third each), then a seeded delay, so that kills land inside
 * uploads, between steps and inside posts (latency faults on the upload and
 * post routes widen those windows). Then `medusa resume` runs
 * the unfinished tasks of the store to the end.
 *
 * Each task publishes to every platform (both hosts and the six publishers);
 * every other one posts to Facebook and LinkedIn as native videos and
 * attaches the video on Mastodon.
 *
 * Prints kills (and where they landed; `--kills` counts processes killed,
 * not tasks that ended before their kill), the resumes that waited out a
 * publisher's settle time (an intent without a post), tasks lost (submitted, not completed
 * after the resume), duplicates (a second finished video per host or post per
 * publisher for one task, a second native video), orphans (videos created and
 * neither completed nor deleted), unannounced videos (left unfinished by a
 * creation whose answer was lost) and the bytes re-sent beyond the
 * platforms' discards over the bytes of the files, per receiving platform.
 *
 * Options: `--seed N` (default 1), `--kills N` (default 50), `--mib N` (file
 * size, default 4).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import type { PlatformId } from "../src/PlatformId.js"
import { prng } from "../src/sandbox/internal/framework.js"
import * as Sandbox from "../src/sandbox/Sandbox.js"
import * as SqlTaskStore from "../src/SqlTaskStore.js"
import type { Task } from "../src/Task.js"
import { TaskStore } from "../src/TaskStore.js"
import { followLines } from "../test/durable/fixtures/processes.js"

const args = process.argv.slice(2)
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? undefined : args[i + 1]
}
const seed = Number(arg("seed") ?? 1)
const kills = Number(arg("kills") ?? 50)
const size = Math.round(Number(arg("mib") ?? 4) * 1024 * 1024)
const hosts = ["youtube", "vimeo"] as const
const publishers = ["facebook", "x", "linkedin", "threads", "mastodon", "bluesky"] as const
/** Where bytes of the file go: the hosts, the native videos, Mastodon's attachment. */
const receivers = [...hosts, "facebook", "linkedin", "mastodon"] as const

const bundle = (): string => {
  // Inside the worktree, so that packages resolve through its node_modules.
  const dir = path.resolve(".tmp/medusa-crash")
  mkdirSync(dir, { recursive: true })
  const out = path.join(dir, `cli-${process.pid}.mjs`)
  execFileSync(path.resolve("node_modules/.bin/esbuild"), [
    path.resolve("src/cli/bin.ts"),
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--packages=external",
    `--outfile=${out}`,
    "--log-level=warning"
  ])
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }))
  return out
}

interface Run {
  readonly child: ChildProcess
  readonly lines: Array<string>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** Resolves when `n` status lines were printed (or the process ended). */
  readonly lineCount: (n: number) => Promise<void>
  /** Resolves when a status line satisfies `predicate` (or the process ended). */
  readonly lineWhere: (predicate: (line: string) => boolean) => Promise<void>
}

const run = (cli: string, argv: ReadonlyArray<string>): Run => {
  const child = spawn(process.execPath, [cli, ...argv], { stdio: ["ignore", "pipe", "pipe"] })
  const { lines, until } = followLines(child)
  // `CRASH_DEBUG=1` shows the CLI's own errors (a publish that exits before its kill).
  child.stderr!.on("data", (d) => process.env["CRASH_DEBUG"] && process.stderr.write(d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  )
  return {
    child,
    lines,
    exited,
    lineCount: (n) => until(() => lines.length >= n),
    lineWhere: (predicate) => until(() => lines.some(predicate))
  }
}

const readTasks = (filename: string): Promise<ReadonlyArray<Task>> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(Layer.build(SqlTaskStore.layerSqlite({ filename, readOnly: true })), (ctx) =>
        (ctx.unsafeMap.get(TaskStore.key) as TaskStore["Type"]).list())
    )
  )

interface StatusLine {
  readonly status?: string
  readonly message?: string
  readonly progress?: Record<string, { readonly percent?: number }>
  readonly results?: Record<string, string>
}

const parse = (line: string | undefined): StatusLine | undefined => {
  if (line === undefined) return undefined
  try {
    return JSON.parse(line) as StatusLine
  } catch {
    return undefined
  }
}

/** Both uploads are done (the links are known, or both hosts acknowledged every byte) and no post has started. */
const betweenSteps = (status: StatusLine | undefined): boolean =>
  status?.status === "in_progress" && !/post/i.test(status.message ?? "") &&
  ((status.results?.youtube_url !== undefined && status.results?.vimeo_url !== undefined) ||
    (status.progress?.youtube?.percent === 100 && status.progress?.vimeo?.percent === 100))

const posting = (status: StatusLine | undefined): boolean =>
  status?.status === "in_progress" && /post/i.test(status.message ?? "")

/** Where a kill landed, from the last status line the process printed. */
const phaseOf = (lines: ReadonlyArray<string>): string => {
  const last = lines.at(-1)
  if (last === undefined) return "before submit"
  const status = parse(last)
  if (status === undefined) return "unknown"
  if (status.status === "completed") return "after completion"
  if (posting(status)) return "posting"
  if (betweenSteps(status)) return "between steps"
  if (/upload/i.test(status.message ?? "")) return "uploading"
  return status.status ?? "unknown"
}

/**
 * Where each kill is aimed, a third each from the seed: inside the uploads
 * (0 to 2.5 s after the first status line), between the steps (0 to 0.2 s
 * after both uploads are done) or inside the posts (0 to 0.6 s after the
 * posting message; each post request takes 0.3 s at the sandbox).
 */
const targets = [
  { name: "uploads", when: (_: string) => true, maxDelay: 2500 },
  { name: "between", when: (line: string) => betweenSteps(parse(line)), maxDelay: 200 },
  { name: "posts", when: (line: string) => posting(parse(line)), maxDelay: 600 }
] as const

const main = async () => {
  const started = Date.now()
  const next = prng(seed * 104_729 + 11)
  const cli = bundle()
  // One Page takes every task's calls (a native video is a dozen): Graph's usage grows 0.1 point a call here
  // instead of the emulator's default 1 (100 calls an hour), so that the campaign measures crashes, not the
  // Page's hourly limit.
  const sandbox = await Sandbox.start({ seed, hashing: "in-process", facebook: { usagePerCall: 0.1 } })
  const dir = mkdtempSync(path.join(tmpdir(), "medusa-crash-"))
  try {
    const config = await sandbox.writeConfig(path.join(dir, "sandbox"))
    const db = path.join(dir, "medusa.db")
    const data = Buffer.alloc(size)
    for (let i = 0; i < size; i++) data[i] = Math.floor(next() * 256)
    Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]).copy(data)
    const media = path.join(dir, "crash.mp4")
    writeFileSync(media, data)
    // Slower answers widen the windows in which a kill lands inside a request.
    const slower = (platform: PlatformId, routes: ReadonlyArray<string>, millis: number) => {
      for (const route of routes) {
        sandbox.inject({ platform, route, times: Infinity, action: { kind: "latency", millis } })
      }
    }
    slower("youtube", ["upload", "upload.initiate"], 150)
    slower("vimeo", ["tus.patch", "videos.create"], 150)
    slower("facebook", ["feed"], 300)
    slower("x", ["tweets"], 300)
    slower("linkedin", ["posts"], 300)
    slower("threads", ["publish"], 300)
    slower("mastodon", ["statuses"], 300)
    slower("bluesky", ["createRecord"], 300)
    // Native videos (every other task): their transfers and parts are slower too.
    slower("facebook", ["videos"], 150)
    slower("linkedin", ["videos.part"], 150)

    const phases: Record<string, number> = {}
    const nonces: Array<string> = []
    let killed = 0
    let resumes = 0
    let settleWaits = 0
    // `kills` processes killed: a task that ended before its kill does not count (bounded attempts).
    for (let k = 0; killed < kills && k < 3 * kills; k++) {
      const nonce = `crash-${seed}-${k}`
      nonces.push(nonce)
      const requestFile = path.join(dir, `request-${k}.json`)
      // Every other task posts to Facebook and LinkedIn as native videos and attaches the video on Mastodon.
      const native = k % 2 === 1
      writeFileSync(
        requestFile,
        JSON.stringify({
          platforms: [...hosts, ...publishers],
          metadata: {
            youtube: { title: `Launch ${nonce}` },
            vimeo: { title: `Launch ${nonce}` },
            facebook: { message: `Watch ${nonce} {youtube_url}`, ...(native ? { video: true } : {}) },
            x: { text: `Watch ${nonce} {vimeo_url}` },
            linkedin: { text: `Watch ${nonce} {youtube_url}`, ...(native ? { video: true } : {}) },
            threads: { text: `Watch ${nonce} {youtube_url}` },
            mastodon: { status: `Watch ${nonce} {vimeo_url}`, ...(native ? { attachVideo: true } : {}) },
            bluesky: { text: `Watch ${nonce} {youtube_url}` }
          }
        })
      )
      const publish = run(cli, [
        "publish",
        media,
        "--config",
        config,
        "--store",
        db,
        "--request",
        requestFile,
        "--json"
      ])
      // The first status line says the task exists; then the aimed-at point and a seeded delay.
      const target = targets[Math.floor(next() * targets.length)]!
      await publish.lineCount(1)
      await publish.lineWhere(target.when)
      await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * target.maxDelay)))
      const phase = publish.child.exitCode === null ? phaseOf(publish.lines) : "exited before the kill"
      publish.child.kill("SIGKILL")
      await publish.exited
      if (phase !== "exited before the kill") killed += 1
      phases[phase] = (phases[phase] ?? 0) + 1
      const resume = run(cli, ["resume", "--config", config, "--store", db, "--json"])
      const end = await resume.exited
      resumes += 1
      // A post whose intent the resume found without a post: it waited out the settle time before posting.
      if (resume.lines.some((line) => line.includes("confirming whether an earlier"))) settleWaits += 1
      if (end.code !== 0) process.stderr.write(`resume after kill ${k} exited ${end.code}\n`)
    }

    const tasks = await readTasks(db)
    const state = sandbox.state()
    let lost = 0
    let duplicates = 0
    const byNonce = new Map<string, Task>()
    for (const task of tasks) {
      const title = (task.request.metadata.youtube as { title?: string } | undefined)?.title ?? ""
      byNonce.set(title.replace("Launch ", ""), task)
    }
    let submitted = 0
    for (const nonce of nonces) {
      const task = byNonce.get(nonce)
      if (task === undefined) continue
      submitted += 1
      if (task.state !== "completed") {
        lost += 1
        process.stderr.write(`task of ${nonce} is ${task.state}: ${task.failures.map((f) => f.message).join("; ")}\n`)
      }
      for (const host of hosts) {
        const n = state.uploads.filter((u) =>
          u.platform === host && u.complete && JSON.stringify(u.metadata ?? "").includes(`${nonce}"`)
        ).length
        if (n > 1) {
          duplicates += n - 1
        }
      }
      for (const publisher of publishers) {
        const n = state.posts.filter((p) => p.platform === publisher && p.text.includes(`${nonce} `)).length
        if (n > 1) duplicates += n - 1
      }
    }
    // A second native video for one task: more finished videos on a platform than tasks posting one.
    const nativeTasks = nonces.filter((nonce, k) => k % 2 === 1 && byNonce.has(nonce)).length
    for (const publisher of ["facebook", "linkedin"] as const) {
      const finished = state.uploads.filter((u) => u.platform === publisher && u.complete && !u.discarded).length
      if (finished > nativeTasks) duplicates += finished - nativeTasks
    }
    const orphans = Object.values(state.orphans).flat().length
    const unannounced = Object.values(state.unannounced).flat().length
    const resent: Record<string, string> = {}
    for (const host of receivers) {
      const counters = state.counters[host]
      const holds = state.uploads.filter((u) => u.platform === host && !u.discarded).reduce((s, u) => s + u.bytes, 0)
      const beyond = counters.bodyBytes - counters.discardedBytes - holds
      resent[host] = `${(beyond / 1024 / 1024).toFixed(1)} MiB (${(beyond / (size * submitted)).toFixed(3)}x per task)`
    }
    process.stdout.write(
      `crash seed=${seed} kills=${killed} (${
        Object.entries(phases).map(([p, n]) => `${p}:${n}`).join(", ")
      }) resumes=${resumes} settle_waits=${settleWaits} tasks=${submitted} lost=${lost} duplicates=${duplicates} orphans=${orphans} ` +
        `unannounced=${unannounced} resent_beyond_discarded={${
          receivers.map((r) => `${r}: ${resent[r]}`).join(", ")
        }} file=${(size / 1024 / 1024).toFixed(1)}MiB time=${((Date.now() - started) / 1000).toFixed(0)}s\n`
    )
    process.exitCode = lost > 0 || duplicates > 0 || orphans > 0 ? 1 : 0
  } finally {
    await sandbox.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

void main()
