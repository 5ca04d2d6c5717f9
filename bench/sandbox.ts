/**
 * Sandbox upload throughput and memory.
 *
 *   npm run bench:sandbox [-- --size-mib 1024 --small-mib 128 --rounds 3]
 *
 * 1. Streams SIZE bytes with `curl -T` into the YouTube emulator's resumable
 *    session (single PUT), and the same `curl` into a plain Node `http` sink
 *    that only counts bytes; prints both rates and their ratio (target ≥ 0.9),
 *    plus the same sink hashing sha256 in-process (what hashing alone costs),
 *    and the emulator forced to hash in-process (its default hashes large
 *    uploads on a worker thread).
 *    Rounds alternate between the servers and medians are reported, because
 *    the machine is shared and its load drifts.
 * 2. Prints the sandbox's peak RSS (VmHWM) after a SMALL and a SIZE upload,
 *    each in a fresh sandbox process, to show memory is flat in the upload size.
 *
 * Each server runs in its own child process (`node --import tsx`), so the RSS
 * is the sandbox's own. The file is sparse (no disk I/O to speak of). Loopback only.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import * as path from "node:path"

const MiB = 1024 * 1024

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return fallback
  const n = Number(process.argv[i + 1])
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} needs a positive integer (MiB); got ${process.argv[i + 1]}\n`)
    process.exit(2)
  }
  return n
}

const sizeMiB = arg("size-mib", 1024)
const smallMiB = arg("small-mib", 128)
const work = mkdtempSync(path.join(tmpdir(), "medusa-bench-sandbox-"))

// A plain sink that only counts; with HASH=1 it also sha256s in-process (the floor for any server that must hash).
const SINK = `
const http = require("node:http")
const crypto = require("node:crypto")
const hashing = process.env.HASH === "1"
const server = http.createServer((req, res) => {
  let n = 0
  const h = hashing ? crypto.createHash("sha256") : undefined
  req.on("data", (c) => { n += c.length; if (h) h.update(c) })
  req.on("end", () => { res.writeHead(201, { "content-type": "application/json" }); res.end(JSON.stringify({ bytes: n, sha256: h ? h.digest("hex") : null })) })
})
server.listen(0, "127.0.0.1", () => console.log("SINK http://127.0.0.1:" + server.address().port))
process.on("SIGTERM", () => server.close(() => process.exit(0)))
`

interface Child {
  readonly process: ChildProcess
  readonly output: Promise<string>
  readonly stop: () => Promise<void>
}

/** Starts a child and waits until its stdout matches `ready`. */
const startChild = (
  command: string,
  args: ReadonlyArray<string>,
  ready: RegExp,
  env: Record<string, string> = {}
): Child => {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } })
  let stdout = ""
  const output = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString()
      if (ready.test(stdout)) resolve(stdout)
    })
    child.once("exit", (code) => reject(new Error(`${command} exited (${code}) before it was ready:\n${stdout}`)))
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return {
    process: child,
    output,
    stop: async () => {
      child.kill("SIGTERM")
      await exited
    }
  }
}

/** `hashing: "in-process"` makes the sandbox hash on its own thread instead of a worker thread (for comparison). */
const startSandbox = async (hashing: "default" | "in-process" = "default") => {
  const configOut = path.join(work, `sb-${Date.now()}-${hashing}`, "medusa.config.json")
  const child = startChild(
    process.execPath,
    ["--import", "tsx", "src/sandbox/bin.ts", "--config-out", configOut],
    /Press Ctrl\+C/,
    hashing === "in-process" ? { MEDUSA_SANDBOX_HASH: "in-process" } : {}
  )
  const out = await child.output
  const youtube = /youtube\s+(http:\/\/\S+)/.exec(out)![1]!
  const stateUrl = /state\s+(http:\/\/\S+)/.exec(out)![1]!
  const config = JSON.parse(readFileSync(configOut, "utf8"))
  const credentials = JSON.parse(readFileSync(config.youtube.credentials_file, "utf8"))
  return { child, youtube, stateUrl, token: credentials.access_token as string }
}

const peakRss = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024
}

const curl = (file: string, url: string) =>
  new Promise<{ bytesPerSecond: number; seconds: number; status: number }>((resolve, reject) => {
    execFile(
      "curl",
      ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{speed_upload} %{time_total}", "-T", file, url],
      { maxBuffer: 1 << 20 },
      (error, stdout) => {
        if (error) return reject(error)
        const [status, speed, total] = stdout.trim().split(" ").map(Number)
        resolve({ status: status!, bytesPerSecond: speed!, seconds: total! })
      }
    )
  })

const makeFile = (mib: number) => {
  // Sparse: reading it costs no disk I/O, so curl measures the network path.
  const file = path.join(work, `upload-${mib}.bin`)
  writeFileSync(file, "")
  truncateSync(file, mib * MiB)
  return file
}

const initiate = async (sandbox: Awaited<ReturnType<typeof startSandbox>>, bytes: number) => {
  const res = await fetch(`${sandbox.youtube}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${sandbox.token}`,
      "content-type": "application/json; charset=UTF-8",
      "x-upload-content-length": String(bytes),
      "x-upload-content-type": "video/mp4"
    },
    body: JSON.stringify({ snippet: { title: "bench" }, status: { privacyStatus: "private" } })
  })
  if (res.status !== 200) throw new Error(`initiation failed: ${res.status} ${await res.text()}`)
  return res.headers.get("location")!
}

type Sandboxed = Awaited<ReturnType<typeof startSandbox>>

/** One single-PUT upload of `file` into a new session of a running sandbox; checks what it stored. */
const uploadIntoSandbox = async (sandbox: Sandboxed, file: string, bytes: number) => {
  const session = await initiate(sandbox, bytes)
  const result = await curl(file, session)
  if (result.status !== 201) throw new Error(`upload answered ${result.status}`)
  const state = (await (await fetch(sandbox.stateUrl)).json()) as any
  const stored = state.uploads.at(-1)
  if (!stored?.complete || stored.bytes !== bytes) throw new Error("the sandbox did not store the whole upload")
  return { ...result, sha256: stored.sha256 as string }
}

const uploadIntoSink = async (file: string, hashing: boolean) => {
  const sink = startChild(process.execPath, ["-e", SINK], /SINK http/, { HASH: hashing ? "1" : "0" })
  try {
    const url = /SINK (http:\/\/\S+)/.exec(await sink.output)![1]!
    return await curl(file, `${url}/sink`)
  } finally {
    await sink.stop()
  }
}

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const mbps = (bytesPerSecond: number) => (bytesPerSecond / 1e6).toFixed(1)
const mib = (bytes: number) => (bytes / MiB).toFixed(1)

const main = async () => {
  const rounds = arg("rounds", 3)
  console.log(
    `Sandbox upload benchmark: curl -T ${sizeMiB} MiB (sparse file) over loopback, ${rounds} alternating rounds`
  )
  const bigFile = makeFile(sizeMiB)
  const smallFile = makeFile(smallMiB)

  // Memory: a fresh sandbox process takes one small upload…
  const first = await startSandbox()
  await uploadIntoSandbox(first, smallFile, smallMiB * MiB)
  const smallRss = peakRss(first.child.process.pid!)
  await first.child.stop()

  // …and another fresh one takes the big uploads, alternating with the sinks so that load drifts hit all alike.
  const sandbox = await startSandbox()
  const inProcess = await startSandbox("in-process")
  const rates = {
    sink: [] as Array<number>,
    sandbox: [] as Array<number>,
    inProcess: [] as Array<number>,
    hashing: [] as Array<number>
  }
  let sha = ""
  let bigRss = 0
  try {
    for (let round = 0; round < rounds; round++) {
      rates.sink.push((await uploadIntoSink(bigFile, false)).bytesPerSecond)
      const up = await uploadIntoSandbox(sandbox, bigFile, sizeMiB * MiB)
      rates.sandbox.push(up.bytesPerSecond)
      sha = up.sha256
      const local = await uploadIntoSandbox(inProcess, bigFile, sizeMiB * MiB)
      if (local.sha256 !== sha) throw new Error(`the two hashing paths disagree: ${local.sha256} vs ${sha}`)
      rates.inProcess.push(local.bytesPerSecond)
      rates.hashing.push((await uploadIntoSink(bigFile, true)).bytesPerSecond)
    }
  } finally {
    bigRss = peakRss(sandbox.child.process.pid!)
    await sandbox.child.stop()
    await inProcess.child.stop()
  }
  const sink = median(rates.sink)
  const emulator = median(rates.sandbox)
  const hashing = median(rates.hashing)
  const list = (xs: ReadonlyArray<number>) => xs.map(mbps).join(", ")
  console.log(`  plain Node sink     ${mbps(sink)} MB/s median  (${list(rates.sink)})`)
  console.log(
    `  YouTube emulator    ${mbps(emulator)} MB/s median  (${list(rates.sandbox)}; sha256 ${sha.slice(0, 16)}…)`
  )
  console.log(
    `  … hashing in-process ${mbps(median(rates.inProcess))} MB/s median  (${
      list(rates.inProcess)
    }; MEDUSA_SANDBOX_HASH=in-process)`
  )
  console.log(`  Node sink + sha256  ${mbps(hashing)} MB/s median  (${list(rates.hashing)})`)
  const ratio = emulator / sink
  console.log(
    `  ratio emulator/sink         ${ratio.toFixed(2)}  (target ≥ 0.90) ${ratio >= 0.9 ? "OK" : "BELOW TARGET"}`
  )
  console.log(
    `  ratio emulator/hashing sink ${(emulator / hashing).toFixed(2)}  (the same sha256, on one thread)`
  )
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")
  console.log(`  machine load average ${load} on ${cpus().length} cores`)
  console.log(`Sandbox peak RSS (VmHWM):`)
  console.log(`  fresh process, one ${smallMiB} MiB upload         ${mib(smallRss)} MiB`)
  console.log(`  fresh process, ${rounds} × ${sizeMiB} MiB uploads        ${mib(bigRss)} MiB`)
  const growth = bigRss - smallRss
  console.log(
    `  growth ${mib(growth)} MiB for ${rounds * sizeMiB - smallMiB} MiB more uploaded: ${
      growth < 64 * MiB ? "flat" : "NOT FLAT"
    }`
  )
}

main().then(
  () => rmSync(work, { recursive: true, force: true }),
  (error) => {
    console.error(error)
    rmSync(work, { recursive: true, force: true })
    process.exit(1)
  }
)
