/**
 * `npm run bench:upload`: the YouTube upload path against the sandbox on
 * loopback, all in one run. The sandbox runs in its own child process, and
 * every upload runs in a fresh child process so its peak RSS is its own.
 *
 * 1. Throughput of a 1 GiB upload beside `curl -T` of the same file into the
 *    same endpoint (a resumable session of the sandbox). Target ≥ 0.9 × curl.
 * 2. Peak RSS of the uploading process for 256 MiB and 1 GiB (and a 1 KiB
 *    baseline). Target ≤ 150 MB, the two within 10%.
 * 3. Resume cost: a connection drop injected at 50%; bytes sent in total by
 *    Medusa beside `@googleapis/youtube`'s own `videos.insert` with a media
 *    body (retried from scratch, as tools built on it do). Target ≤ 1.05 × size.
 *
 * 4. Telemetry: the 1 GiB undici upload with the OTLP exporter on (spans,
 *    metrics and logs sent every second to an OTLP/HTTP receiver in the
 *    orchestrator's process) beside the same upload with it off: pairs of
 *    uploads, off and on alternating in one child process (after a warm-up
 *    upload of each), CPU time of each upload (the exporter's layer built
 *    before and closed with its last export after, for each upload with it
 *    on), and the median and quartiles of each pair's on / off. Target: on
 *    costs ≤ 5%. CPU time, not throughput: on a shared machine wall time
 *    swings by more than the target between two uploads.
 *
 * Environment: `UPLOAD_BENCH_MIB` (size of the big file, default 1024; the mid
 * file is a quarter), `UPLOAD_BENCH_ROUNDS` (default 3), `UPLOAD_BENCH_PAIRS`
 * (telemetry off/on pairs, default 12), `UPLOAD_BENCH_DEBUG=1`
 * (progress of each upload on stderr), `UPLOAD_BENCH_NO_BUNDLE=1` (children under
 * tsx instead of an esbuild bundle), `UPLOAD_BENCH_ONLY=telemetry` (only the
 * telemetry on/off pairs) or `resume`.
 *
 * Roles (the same file runs as each child): `--role sandbox`, `--role medusa`,
 * `--role medusa-pairs` (the telemetry pairs), `--role googleapis`.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { appendFileSync, closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import * as path from "node:path"
import { Transform } from "node:stream"
import { fileURLToPath } from "node:url"
import { MediaFile, YouTubeHost } from "../src/Platform.js"
import * as YouTube from "../src/platforms/youtube/YouTube.js"
import { YouTubeMetadata } from "../src/PublishRequest.js"
import * as Sandbox from "../src/sandbox/Sandbox.js"
import * as TaskId from "../src/TaskId.js"
import * as Telemetry from "../src/Telemetry.js"
import * as Receiver from "../test/telemetry/receiver.js"

const self = fileURLToPath(import.meta.url)
const args = process.argv.slice(2)
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? undefined : args[i + 1]
}
const MiB = 1024 * 1024
/** `UPLOAD_BENCH_MIB=64 npm run bench:upload` for a quick dry run; the figures reported use 1 GiB. */
const GiB = Number(process.env["UPLOAD_BENCH_MIB"] ?? 1024) * MiB
const MID = GiB / 4

// =============================================================================
// Child roles
// =============================================================================

const runSandbox = async () => {
  const dir = arg("dir")!
  const sandbox = await Sandbox.start()
  await sandbox.writeConfig(dir)
  process.stdout.write(
    JSON.stringify({ urls: sandbox.urls, controlUrl: sandbox.controlUrl, creds: sandbox.credentials.youtube }) + "\n"
  )
  const stop = () => void sandbox.close().then(() => process.exit(0))
  process.on("SIGTERM", stop)
  process.on("SIGINT", stop)
}

interface UploadRun {
  readonly ms: number
  readonly videoId: string
  readonly bytesSent: number
  /** CPU time of this process (user + system) over the upload, layers and last export included. */
  readonly cpuMs: number
}

/** The YouTube host of the benchmark (undici or node:http), built once per process. */
const buildHost = (client: string) =>
  Effect.map(
    Layer.build(
      YouTube.layer({
        clientSecretsFile: path.join(arg("dir")!, "youtube-client-secrets.json"),
        credentialsFile: path.join(arg("dir")!, "youtube-credentials.json"),
        baseUrl: arg("base")!,
        quota: { uploadsPerDay: 1_000_000 },
        retry: { baseDelay: "50 millis", maxRetries: 5 },
        // Short enough that a stalled request costs the benchmark two seconds, not a minute.
        idleTimeout: "2 seconds",
        requestTimeout: "2 seconds"
      }).pipe(
        Layer.provide(
          Layer.merge(client === "undici" ? NodeHttpClient.layerUndici : NodeHttpClient.layer, NodeFileSystem.layer)
        )
      )
    ),
    (ctx) => Context.get(ctx, YouTubeHost)
  )

/** The OTLP exporter sending every second to `url` (the orchestrator's receiver). */
const telemetryLayer = (url: string) =>
  Telemetry.layer({ endpoint: url, serviceName: "bench-upload", exportInterval: "1 second" }).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )

/**
 * One upload of `file` through `host`; with `telemetry`, inside its own
 * exporter layer (built before, closed with its last export after, both
 * counted in the CPU time).
 */
const uploadOnce = (
  host: Context.Tag.Service<typeof YouTubeHost>,
  file: string,
  size: number,
  telemetry: string | undefined
): Effect.Effect<UploadRun, unknown> => {
  let bytesSent = 0
  let start = 0
  let cpuBefore = process.cpuUsage()
  const upload = Effect.gen(function*() {
    const taskId = yield* TaskId.make
    // Timed from the session's creation, like curl's PUT (auth loading and the initiate call excluded).
    start = performance.now()
    const video = yield* host.upload({
      taskId,
      media: new MediaFile({ path: file, name: path.basename(file), size, mimeType: "video/mp4" }),
      metadata: new YouTubeMetadata({ title: "Benchmark", privacy: "private" }),
      resume: Option.none(),
      onSession: (s) =>
        Effect.sync(() => {
          if (s.acknowledged === 0) start = performance.now()
        }),
      onProgress: (p) =>
        Effect.sync(() => {
          bytesSent = p.bytesSent
          if (process.env["UPLOAD_BENCH_DEBUG"]) {
            process.stderr.write(
              `${(performance.now() - start).toFixed(0)}ms sent=${p.bytesSent} ack=${p.bytesAcknowledged}\n`
            )
          }
        })
    })
    return { ms: performance.now() - start, videoId: video.videoId }
  })
  return Effect.suspend(() => {
    cpuBefore = process.cpuUsage()
    return telemetry === undefined ? upload : Effect.provide(upload, telemetryLayer(telemetry))
  }).pipe(
    Effect.map((r) => {
      const cpu = process.cpuUsage(cpuBefore)
      return { ...r, bytesSent, cpuMs: (cpu.user + cpu.system) / 1000 }
    })
  )
}

const runMedusa = async () => {
  const file = arg("file")!
  const size = Number(arg("size"))
  const cpuBefore = process.cpuUsage()
  const result = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const host = yield* buildHost(arg("client") ?? "node")
    return yield* uploadOnce(host, file, size, arg("telemetry"))
  })))
  const cpu = process.cpuUsage(cpuBefore)
  process.stdout.write(
    JSON.stringify({
      ...result,
      maxRssKiB: process.resourceUsage().maxRSS,
      cpuMs: (cpu.user + cpu.system) / 1000
    }) + "\n"
  )
  process.exit(0)
}

/**
 * Telemetry off and on in alternating uploads in this one process (off, on,
 * then on, off, …), after one warm-up upload of each: each pair's two
 * uploads run seconds apart on the same warmed-up process, which separate
 * processes a minute apart on a shared machine do not.
 */
const runPairs = async () => {
  const file = arg("file")!
  const size = Number(arg("size"))
  const url = arg("telemetry")!
  const pairs = Number(arg("pairs"))
  const scope = Effect.runSync(Scope.make())
  const host = await Effect.runPromise(Scope.extend(buildHost("undici"), scope))
  const marks = process.env["UPLOAD_BENCH_MARKS"]
  // Each upload in a fiber of its own, so that one upload's tracer and loggers cannot outlive it into the next.
  const once = async (telemetry: string | undefined) => {
    const start = process.hrtime.bigint() / 1000n
    const run = await Effect.runPromise(uploadOnce(host, file, size, telemetry))
    // With UPLOAD_BENCH_MARKS=file, each upload's start and end (µs, the clock of `--cpu-prof` samples).
    if (marks !== undefined) {
      appendFileSync(marks, `${telemetry === undefined ? "off" : "on"} ${start} ${process.hrtime.bigint() / 1000n}\n`)
    }
    return run
  }
  await once(undefined)
  await once(url)
  const out: Array<{ readonly off: UploadRun; readonly on: UploadRun }> = []
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      const off = await once(undefined)
      out.push({ off, on: await once(url) })
    } else {
      const on = await once(url)
      out.push({ off: await once(undefined), on })
    }
    if (process.env["UPLOAD_BENCH_DEBUG"]) process.stderr.write(`pair ${i + 1}: ${JSON.stringify(out.at(-1))}\n`)
  }
  await Effect.runPromise(Scope.close(scope, Exit.void))
  process.stdout.write(JSON.stringify({ pairs: out, load: loadavg()[0] }) + "\n")
  process.exit(0)
}

const runGoogleapis = async () => {
  const file = arg("file")!
  const base = arg("base")!
  const creds = JSON.parse(arg("creds")!) as {
    clientId: string
    clientSecret: string
    refreshToken: string
    accessToken: string
  }
  const { OAuth2Client } = await import("google-auth-library")
  const { youtube } = await import("@googleapis/youtube")
  const auth = new OAuth2Client({
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    endpoints: { oauth2TokenUrl: `${base}/token` }
  })
  auth.setCredentials({
    refresh_token: creds.refreshToken,
    access_token: creds.accessToken,
    expiry_date: Date.now() + 3_000_000
  })
  const yt = youtube({ version: "v3", auth })
  let bytesSent = 0
  const attempts: Array<string> = []
  // As tools built on the Google client do: on failure, upload again from the start.
  for (let attempt = 0; attempt < 2; attempt++) {
    const counter = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        bytesSent += chunk.length
        callback(null, chunk)
      }
    })
    try {
      await yt.videos.insert(
        {
          part: ["snippet", "status"],
          requestBody: { snippet: { title: "Benchmark" }, status: { privacyStatus: "private" } },
          media: { mimeType: "video/mp4", body: createReadStream(file).pipe(counter) }
        },
        { rootUrl: `${base}/`, retry: false }
      )
      attempts.push("ok")
      break
    } catch (error) {
      const status = (error as { response?: { status?: number } }).response?.status
      attempts.push(status === undefined ? "dropped" : `HTTP ${status}`)
      // An HTTP answer is final: only a dropped connection is retried.
      if (status !== undefined) break
    }
  }
  process.stdout.write(JSON.stringify({ bytesSent, attempts, maxRssKiB: process.resourceUsage().maxRSS }) + "\n")
  process.exit(0)
}

// =============================================================================
// Orchestrator
// =============================================================================

/**
 * The children run from an esbuild bundle with plain `node`, so their peak RSS
 * is the application's, not tsx's loader and transform caches.
 */
let childScript = self
let childArgs: ReadonlyArray<string> = ["--import", "tsx"]
/** UPLOAD_BENCH_CPU_PROF=dir: the telemetry pairs' child writes a `--cpu-prof` profile there. */
const cpuProfDir = process.env["UPLOAD_BENCH_CPU_PROF"]
const bundleChild = async (dir: string) => {
  if (process.env["UPLOAD_BENCH_NO_BUNDLE"]) return
  const esbuild = await import("esbuild")
  const outfile = path.join(dir, "bench-upload-child.mjs")
  await esbuild.build({
    entryPoints: [self],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    // CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }
  })
  childScript = outfile
  childArgs = []
}

const child = (role: string, extra: ReadonlyArray<string>) =>
  new Promise<any>((resolve, reject) => {
    const prof = role === "medusa-pairs" && cpuProfDir !== undefined ? ["--cpu-prof", "--cpu-prof-dir", cpuProfDir] : []
    const p = spawn(process.execPath, [...prof, ...childArgs, childScript, "--role", role, ...extra], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    p.stdout.on("data", (d) => {
      out += d
    })
    p.on("exit", (code) => {
      const line = out.trim().split("\n").at(-1) ?? ""
      if (code !== 0) reject(new Error(`${role} child exited ${code}: ${out}`))
      else resolve(JSON.parse(line))
    })
  })

const makeFile = (file: string, size: number) => {
  // 1 MiB of random bytes repeated: incompressible enough, fast to write.
  const block = randomBytes(MiB)
  const fd = openSync(file, "w")
  for (let written = 0; written < size; written += MiB) writeSync(fd, block, 0, Math.min(MiB, size - written))
  closeSync(fd)
}

const sha256OfFile = (file: string) => {
  const r = spawnSync("sha256sum", [file], { encoding: "utf8" })
  return r.stdout.split(" ")[0]
}

const main = async () => {
  const work = mkdtempSync(path.join(tmpdir(), "medusa-bench-upload-"))
  await bundleChild(work)
  const sandboxProcess = spawn(process.execPath, ["--import", "tsx", self, "--role", "sandbox", "--dir", work], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  try {
    const info = await new Promise<{
      urls: Record<string, string>
      controlUrl: string
      creds: { clientId: string; clientSecret: string; refreshToken: string; accessToken: string }
    }>((resolve) => {
      let buf = ""
      sandboxProcess.stdout!.on("data", (d) => {
        buf += d
        if (buf.includes("\n")) resolve(JSON.parse(buf.split("\n")[0]!))
      })
    })
    const base = info.urls.youtube!
    const control = async (route: string, body?: unknown) => {
      const r = await fetch(`${info.controlUrl}${route}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {})
      })
      return r.json() as Promise<any>
    }
    const bodyBytes = async () => (await control("/_sandbox/state")).counters.youtube.bodyBytes as number
    const storedSha = async (videoId: string) =>
      ((await control("/_sandbox/state")).uploads as Array<{ videoId?: string; sha256: string }>).find((u) =>
        u.videoId === videoId
      )?.sha256

    const small = path.join(work, "1k.mp4")
    const mid = path.join(work, "256m.mp4")
    const big = path.join(work, "1g.mp4")
    process.stderr.write("writing test files (1 KiB, 256 MiB, 1 GiB)...\n")
    makeFile(small, 1024)
    makeFile(mid, MID)
    makeFile(big, GiB)
    const bigSha = sha256OfFile(big)

    const medusa = (file: string, size: number, client = "node", telemetry?: string) =>
      child("medusa", [
        ...(telemetry !== undefined ? ["--telemetry", telemetry] : []),
        "--file",
        file,
        "--size",
        String(size),
        "--dir",
        work,
        "--base",
        base,
        "--client",
        client
      ]) as Promise<{ ms: number; bytesSent: number; maxRssKiB: number; videoId: string; cpuMs: number }>

    // --- curl into a fresh resumable session --------------------------------------------------
    const curl = async (file: string, size: number) => {
      const init = await fetch(`${base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${info.creds.accessToken}`,
          "content-type": "application/json; charset=UTF-8",
          "x-upload-content-length": String(size),
          "x-upload-content-type": "video/mp4"
        },
        body: JSON.stringify({ snippet: { title: "curl" }, status: { privacyStatus: "private" } })
      })
      const location = init.headers.get("location")!
      await init.text()
      const r = spawnSync("curl", [
        "-sS",
        "-T",
        file,
        "-H",
        "Content-Type: video/mp4",
        "-H",
        "Expect:",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{time_total}",
        location
      ], { encoding: "utf8" })
      const [code, seconds] = r.stdout.trim().split(" ")
      if (code !== "201") throw new Error(`curl upload answered ${code}: ${r.stderr}`)
      return Number(seconds) * 1000
    }

    const rounds = Number(process.env["UPLOAD_BENCH_ROUNDS"] ?? 3)
    const median = (xs: ReadonlyArray<number>) => {
      const sorted = [...xs].sort((a, b) => a - b)
      const mid = Math.floor(sorted.length / 2)
      return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
    }

    const receiver = await Receiver.start({ keep: false })
    const PAIRS = Number(process.env["UPLOAD_BENCH_PAIRS"] ?? 12)
    /** Telemetry off and on alternating in one child process, `PAIRS` pairs of uploads of the big file. */
    const telemetryPairs = async () => {
      process.stderr.write(
        `telemetry: Medusa (undici), ${GiB / MiB} MiB, ${PAIRS} pairs off/on alternating in one process...\n`
      )
      const loadBefore = loadavg()[0]!
      const r = (await child("medusa-pairs", [
        "--telemetry",
        receiver.url,
        "--pairs",
        String(PAIRS),
        "--file",
        big,
        "--size",
        String(GiB),
        "--dir",
        work,
        "--base",
        base
      ])) as {
        pairs: ReadonlyArray<{ off: { ms: number; cpuMs: number }; on: { ms: number; cpuMs: number } }>
        load: number
      }
      return { pairs: r.pairs, loads: [loadBefore, r.load] as const }
    }
    const quartiles = (xs: ReadonlyArray<number>) => {
      const sorted = [...xs].sort((a, b) => a - b)
      return [sorted[Math.floor(sorted.length / 4)]!, sorted[Math.floor((3 * sorted.length) / 4)]!] as const
    }
    const pct = (ratio: number) => `${ratio >= 1 ? "+" : "−"}${(Math.abs(ratio - 1) * 100).toFixed(1)}%`
    const telemetryRows = (t: Awaited<ReturnType<typeof telemetryPairs>>): Array<[string, string, string]> => {
      const mibps = (ms: number) => (GiB / MiB) / (ms / 1000)
      const off = t.pairs.map((p) => p.off)
      const on = t.pairs.map((p) => p.on)
      const offRate = median(off.map((r) => mibps(r.ms)))
      const onRate = median(on.map((r) => mibps(r.ms)))
      const offCpu = median(off.map((r) => r.cpuMs))
      const onCpu = median(on.map((r) => r.cpuMs))
      const ratios = t.pairs.map((p) => p.on.cpuMs / p.off.cpuMs)
      const cost = median(ratios)
      const [q1, q3] = quartiles(ratios)
      const rateCost = (1 - onRate / offRate) * 100
      const label = `${GiB / MiB} MiB`
      const load = `load average ${t.loads[0].toFixed(1)} → ${t.loads[1].toFixed(1)} on ${cpus().length} cores`
      return [
        [
          `Throughput ${label}, Medusa (undici), telemetry off`,
          `${offRate.toFixed(0)} MiB/s`,
          `median of ${off.length}`
        ],
        [
          `Throughput ${label}, Medusa (undici), telemetry on`,
          `${onRate.toFixed(0)} MiB/s`,
          `${rateCost >= 0 ? "-" : "+"}${
            Math.abs(rateCost).toFixed(1)
          }% vs off (wall clock, not the target's measure); OTLP export to a receiver in another process, ${
            (receiver.bytes() / 1024).toFixed(0)
          } KiB in ${receiver.requests()} requests`
        ],
        [
          `CPU of the uploading process ${label}, telemetry off / on`,
          `${(offCpu / 1000).toFixed(2)} s / ${(onCpu / 1000).toFixed(2)} s`,
          `medians of ${t.pairs.length} uploads each, alternating in one process`
        ],
        [
          `Telemetry cost, on / off CPU per pair`,
          `${pct(cost)} ${cost <= 1.05 ? "✓" : "✗"}`,
          `median of ${t.pairs.length} pairs, quartiles ${pct(q1)} … ${pct(q3)} (target ≤ 5%; ${load})`
        ]
      ]
    }
    const printRows = (title: string, rows: ReadonlyArray<[string, string, string]>) => {
      const w0 = Math.max(...rows.map((r) => r[0].length))
      const w1 = Math.max(...rows.map((r) => r[1].length))
      process.stdout.write(`\n${title}\n\n`)
      process.stdout.write(
        `| ${"Measure".padEnd(w0)} | ${"Value".padEnd(w1)} | Note |\n|${"-".repeat(w0 + 2)}|${
          "-".repeat(w1 + 2)
        }|------|\n`
      )
      for (const [a, b, c] of rows) process.stdout.write(`| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c} |\n`)
    }
    if (process.env["UPLOAD_BENCH_ONLY"] === "telemetry") {
      const t = await telemetryPairs()
      printRows(
        `Medusa upload benchmark, telemetry on/off (sandbox on loopback, node ${process.version})`,
        telemetryRows(t)
      )
      await receiver.close()
      return
    }

    if (process.env["UPLOAD_BENCH_ONLY"] === "resume") {
      // Only the resume measurement (for investigating it without the heavy parts).
      const size = MID
      await control("/_sandbox/faults", {
        platform: "youtube",
        route: "upload",
        action: { kind: "drop", afterBytes: size / 2 }
      })
      const before = await bodyBytes()
      const run = await medusa(mid, size, process.env["UPLOAD_BENCH_CLIENT"] ?? "node")
      const received = ((await bodyBytes()) - before) / size
      process.stdout.write(JSON.stringify({ sent: run.bytesSent / size, received, rssMB: run.maxRssKiB / 1024 }) + "\n")
      return
    }
    process.stderr.write(
      `throughput: curl, Medusa (node:http) and Medusa (undici), 1 GiB each, ${rounds} alternating rounds...\n`
    )
    await curl(big, GiB) // warm the page cache
    const curlMs: Array<number> = []
    const nodeRuns: Array<{ ms: number; maxRssKiB: number; videoId: string }> = []
    const undiciRuns: Array<{ ms: number; maxRssKiB: number; cpuMs: number }> = []
    for (let r = 0; r < rounds; r++) {
      curlMs.push(await curl(big, GiB))
      nodeRuns.push(await medusa(big, GiB))
      undiciRuns.push(await medusa(big, GiB, "undici"))
    }
    if ((await storedSha(nodeRuns[0]!.videoId)) !== bigSha) throw new Error("stored sha256 differs from the file's")

    process.stderr.write("peak RSS: 1 KiB and 256 MiB...\n")
    const smallRun = await medusa(small, 1024)
    const midRun = await medusa(mid, MID)
    const midUndici = await medusa(mid, MID, "undici")

    process.stderr.write("resume cost: drop at 50% of 256 MiB, Medusa (both clients) then googleapis...\n")
    const size = MID
    const resume = async (client: string) => {
      await control("/_sandbox/faults", {
        platform: "youtube",
        route: "upload",
        action: { kind: "drop", afterBytes: size / 2 }
      })
      const before = await bodyBytes()
      const run = await medusa(mid, size, client)
      return { sent: run.bytesSent / size, received: ((await bodyBytes()) - before) / size }
    }
    const resumeUndici = await resume("undici")
    const resumeNode = await resume("node")
    await control("/_sandbox/faults", {
      platform: "youtube",
      route: "upload.initiate",
      action: { kind: "drop", afterBytes: size / 2 }
    })
    const beforeGoogle = await bodyBytes()
    const google = await child("googleapis", [
      "--file",
      mid,
      "--base",
      base,
      "--creds",
      JSON.stringify(info.creds)
    ]) as {
      bytesSent: number
      attempts: Array<string>
    }
    const googleServerBytes = (await bodyBytes()) - beforeGoogle

    const telemetry = await telemetryPairs()

    // --- bytes re-sent beyond what the server discarded, per fault kind --------------------------
    const FAULT = 32 * MiB
    const faultFile = path.join(work, "32m.mp4")
    makeFile(faultFile, FAULT)
    process.stderr.write("re-sent bytes per fault kind (32 MiB, node:http)...\n")
    const youtubeState = async () => {
      const state = await control("/_sandbox/state")
      return {
        body: state.counters.youtube.bodyBytes as number,
        discarded: state.counters.youtube.discardedBytes as number,
        holds: (state.uploads as Array<{ platform: string; id: string; bytes: number; discarded: boolean }>)
          .filter((u) => u.platform === "youtube" && !u.discarded)
          .map((u) => [u.id, u.bytes] as const)
      }
    }
    const faultCases: ReadonlyArray<readonly [string, ReadonlyArray<Record<string, unknown>>]> = [
      ["drop at 50%", [{ route: "upload", action: { kind: "drop", afterBytes: FAULT / 2 } }]],
      ["partial acknowledgement (1 MiB + 1 held back)", [{
        route: "upload",
        action: { kind: "partialAck", bytes: MiB + 1 }
      }]],
      ["stall (stored, never answered)", [{ route: "upload", action: { kind: "stall" } }]],
      ["503 on the upload", [{ route: "upload", action: { kind: "status", status: 503 } }]],
      ["429 Retry-After 1 s on creation", [{
        route: "upload.initiate",
        action: { kind: "rateLimit", retryAfterSeconds: 1 }
      }]],
      ["expired session (404 on the upload)", [{ route: "upload", action: { kind: "status", status: 404 } }]],
      ["creation answer lost (drop after the session was made)", [{
        route: "upload.initiate",
        action: { kind: "drop", afterBytes: 1_000_000 }
      }]]
    ]
    const resentRows: Array<[string, string, string]> = []
    for (const [name, faults] of faultCases) {
      const before = await youtubeState()
      for (const fault of faults) await control("/_sandbox/faults", { platform: "youtube", ...fault })
      await medusa(faultFile, FAULT)
      await fetch(`${info.controlUrl}/_sandbox/faults`, { method: "DELETE" }).then((r) => r.text())
      const after = await youtubeState()
      const held = new Map(before.holds)
      const newlyHeld = after.holds.reduce((sum, [id, bytes]) => sum + bytes - (held.get(id) ?? 0), 0)
      const received = after.body - before.body
      const discarded = after.discarded - before.discarded
      const beyond = received - discarded - newlyHeld
      resentRows.push([
        `Re-sent beyond discards, ${name}`,
        `${(beyond / FAULT).toFixed(3)} × size`,
        `received ${(received / FAULT).toFixed(3)} ×, server discarded ${
          (discarded / FAULT).toFixed(3)
        } × (target ≤ 0.05)`
      ])
    }

    const rate = (ms: number) => (GiB / MiB) / (ms / 1000)
    const mb = (kib: number) => (kib / 1024).toFixed(0)
    const curlRate = median(curlMs.map(rate))
    const nodeRate = median(nodeRuns.map((r) => rate(r.ms)))
    const undiciRate = median(undiciRuns.map((r) => rate(r.ms)))
    const nodeBigRss = Math.max(...nodeRuns.map((r) => r.maxRssKiB))
    const undiciBigRss = Math.max(...undiciRuns.map((r) => r.maxRssKiB))
    const label = `${GiB / MiB} MiB`
    const labelMid = `${MID / MiB} MiB`
    const rows: Array<[string, string, string]> = [
      [`Throughput ${label}, curl -T`, `${curlRate.toFixed(0)} MiB/s`, `median of ${rounds}`],
      [
        `Throughput ${label}, Medusa (node:http)`,
        `${nodeRate.toFixed(0)} MiB/s`,
        `${(nodeRate / curlRate).toFixed(2)} × curl (target ≥ 0.9)`
      ],
      [
        `Throughput ${label}, Medusa (undici)`,
        `${undiciRate.toFixed(0)} MiB/s`,
        `${(undiciRate / curlRate).toFixed(2)} × curl (target ≥ 0.9)`
      ],
      ["Peak RSS, 1 KiB upload (baseline, node:http)", `${mb(smallRun.maxRssKiB)} MB`, ""],
      [`Peak RSS, ${labelMid} upload (node:http)`, `${mb(midRun.maxRssKiB)} MB`, "target ≤ 150 MB"],
      [
        `Peak RSS, ${label} upload (node:http)`,
        `${mb(nodeBigRss)} MB`,
        `${((nodeBigRss / midRun.maxRssKiB - 1) * 100).toFixed(1)}% vs ${labelMid} (target within 10%)`
      ],
      [`Peak RSS, ${labelMid} upload (undici)`, `${mb(midUndici.maxRssKiB)} MB`, "target ≤ 150 MB"],
      [
        `Peak RSS, ${label} upload (undici)`,
        `${mb(undiciBigRss)} MB`,
        `${((undiciBigRss / midUndici.maxRssKiB - 1) * 100).toFixed(1)}% vs ${labelMid} (target within 10%)`
      ],
      [
        "Resume after a drop at 50%, Medusa (undici)",
        `${resumeUndici.sent.toFixed(3)} × size read`,
        `server received ${resumeUndici.received.toFixed(3)} × (target ≤ 1.05)`
      ],
      [
        "Resume after a drop at 50%, Medusa (node:http)",
        `${resumeNode.sent.toFixed(3)} × size read`,
        `server received ${resumeNode.received.toFixed(3)} ×`
      ],
      [
        "Drop at 50%, googleapis videos.insert, retried",
        `${(google.bytesSent / size).toFixed(3)} × size read`,
        `server received ${(googleServerBytes / size).toFixed(3)} ×; attempts: ${google.attempts.join(", ")}`
      ],
      ...resentRows,
      ...telemetryRows(telemetry)
    ]
    await receiver.close()
    const w0 = Math.max(...rows.map((r) => r[0].length))
    const w1 = Math.max(...rows.map((r) => r[1].length))
    process.stdout.write(`\nMedusa upload benchmark (sandbox on loopback, node ${process.version})\n\n`)
    process.stdout.write(
      `| ${"Measure".padEnd(w0)} | ${"Value".padEnd(w1)} | Note |\n|${"-".repeat(w0 + 2)}|${
        "-".repeat(w1 + 2)
      }|------|\n`
    )
    for (const [a, b, c] of rows) process.stdout.write(`| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c} |\n`)
  } finally {
    sandboxProcess.kill("SIGTERM")
    rmSync(work, { recursive: true, force: true })
  }
}

const role = arg("role")
if (role === "sandbox") void runSandbox()
else if (role === "medusa") void runMedusa()
else if (role === "medusa-pairs") void runPairs()
else if (role === "googleapis") void runGoogleapis()
else {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  })
}
