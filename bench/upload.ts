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
 * Roles (the same file runs as each child): `--role sandbox`, `--role medusa`,
 * `--role googleapis`.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Transform } from "node:stream"
import { fileURLToPath } from "node:url"
import { MediaFile, YouTubeHost } from "../src/Platform.js"
import { YouTubeMetadata } from "../src/PublishRequest.js"
import * as Sandbox from "../src/sandbox/Sandbox.js"
import * as TaskId from "../src/TaskId.js"
import * as YouTube from "../src/YouTube.js"

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

const runMedusa = async () => {
  const file = arg("file")!
  const dir = arg("dir")!
  const size = Number(arg("size"))
  const client = arg("client") === "undici" ? NodeHttpClient.layerUndici : NodeHttpClient.layer
  let bytesSent = 0
  const program = Effect.gen(function*() {
    const ctx = yield* Layer.build(
      YouTube.layer({
        clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
        credentialsFile: path.join(dir, "youtube-credentials.json"),
        baseUrl: arg("base")!,
        quota: { uploadsPerDay: 1_000_000 },
        retry: { baseDelay: "50 millis", maxRetries: 5 }
      }).pipe(Layer.provide(Layer.merge(client, NodeFileSystem.layer)))
    )
    const host = Context.get(ctx, YouTubeHost)
    const taskId = yield* TaskId.make
    // Timed from the session's creation, like curl's PUT (auth loading and the initiate call excluded).
    let start = performance.now()
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
        })
    })
    return { ms: performance.now() - start, videoId: video.videoId }
  })
  const result = await Effect.runPromise(Effect.scoped(program))
  process.stdout.write(
    JSON.stringify({ ...result, bytesSent, maxRssKiB: process.resourceUsage().maxRSS }) + "\n"
  )
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
      // A 4xx after the whole body was sent is the sandbox refusing multipart (see the report); stop there.
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
const bundleChild = async (dir: string) => {
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
    const p = spawn(process.execPath, [...childArgs, childScript, "--role", role, ...extra], {
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

    const medusa = (file: string, size: number, client = "node") =>
      child("medusa", [
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
      ]) as Promise<{ ms: number; bytesSent: number; maxRssKiB: number; videoId: string }>

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

    process.stderr.write("throughput: curl and Medusa, 1 GiB each...\n")
    await curl(big, GiB) // warm the page cache
    const curlMs = await curl(big, GiB)
    const bigRun = await medusa(big, GiB)
    const bigUndici = await medusa(big, GiB, "undici")
    if ((await storedSha(bigRun.videoId)) !== bigSha) throw new Error("stored sha256 differs from the file's")

    process.stderr.write("peak RSS: 1 KiB and 256 MiB...\n")
    const smallRun = await medusa(small, 1024)
    const midRun = await medusa(mid, MID)

    process.stderr.write("resume cost: drop at 50% of 256 MiB, Medusa then googleapis...\n")
    const size = MID
    await control("/_sandbox/faults", {
      platform: "youtube",
      route: "upload",
      action: { kind: "drop", afterBytes: size / 2 }
    })
    const beforeMedusa = await bodyBytes()
    const resumeRun = await medusa(mid, size)
    const medusaServerBytes = (await bodyBytes()) - beforeMedusa
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

    const mbps = (bytes: number, ms: number) => (bytes / MiB) / (ms / 1000)
    const mb = (kib: number) => (kib / 1024).toFixed(0)
    const ratio = mbps(GiB, bigRun.ms) / mbps(GiB, curlMs)
    const rows: Array<[string, string, string]> = [
      ["Throughput 1 GiB, curl -T", `${mbps(GiB, curlMs).toFixed(0)} MiB/s`, ""],
      [
        "Throughput 1 GiB, Medusa (node:http)",
        `${mbps(GiB, bigRun.ms).toFixed(0)} MiB/s`,
        `${ratio.toFixed(2)} × curl (target ≥ 0.9)`
      ],
      [
        "Throughput 1 GiB, Medusa (undici)",
        `${mbps(GiB, bigUndici.ms).toFixed(0)} MiB/s`,
        `${(mbps(GiB, bigUndici.ms) / mbps(GiB, curlMs)).toFixed(2)} × curl`
      ],
      ["Peak RSS, 1 KiB upload (baseline)", `${mb(smallRun.maxRssKiB)} MB`, ""],
      ["Peak RSS, 256 MiB upload", `${mb(midRun.maxRssKiB)} MB`, "target ≤ 150 MB"],
      [
        "Peak RSS, 1 GiB upload",
        `${mb(bigRun.maxRssKiB)} MB`,
        `${((bigRun.maxRssKiB / midRun.maxRssKiB - 1) * 100).toFixed(1)}% vs 256 MiB (target within 10%)`
      ],
      [
        "Resume after drop at 50%, Medusa",
        `${(resumeRun.bytesSent / size).toFixed(3)} × size sent`,
        `server received ${(medusaServerBytes / size).toFixed(3)} × (target ≤ 1.05)`
      ],
      [
        "Resume after drop at 50%, googleapis videos.insert",
        `${(google.bytesSent / size).toFixed(3)} × size sent`,
        `server received ${(googleServerBytes / size).toFixed(3)} ×; attempts: ${google.attempts.join(", ")}`
      ]
    ]
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
else if (role === "googleapis") void runGoogleapis()
else {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  })
}
