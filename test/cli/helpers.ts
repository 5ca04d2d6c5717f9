/**
 * Spawning the real CLI (`node --import tsx src/cli/bin.ts`) against a sandbox
 * running in the test process, and reading a pseudo-terminal through tmux.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as Sandbox from "../../src/sandbox/Sandbox.js"

export const root = fileURLToPath(new URL("../../", import.meta.url))
export const binTs = path.join(root, "src/cli/bin.ts")
/** tsx's loader by absolute URL: the CLI runs from scratch directories outside the project. */
export const tsxLoader = pathToFileURL(path.join(root, "node_modules/tsx/dist/loader.mjs")).href
export const sampleMp4 = path.join(root, "examples/media/sample.mp4")
export const demoRequest = path.join(root, "examples/demo-request.json")

export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Running {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly done: Promise<Result>
}

/** Starts `medusa <args>`; the caller awaits `done`. */
export const start = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv }
): Running => {
  const child = spawn(process.execPath, ["--import", tsxLoader, binTs, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c))
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c))
  const done = new Promise<Result>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  )
  return { child, stdout: () => stdout, stderr: () => stderr, done }
}

export const run = (args: ReadonlyArray<string>, options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv }) =>
  start(args, options).done

/** A scratch directory for one test: the config, the store and the logs live there. */
export const scratch = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "medusa-cli-test-"))

export interface Env {
  readonly sandbox: Sandbox.Sandbox
  readonly dir: string
  readonly config: string
  readonly store: string
  /** `--config <file> --store <file>` */
  readonly flags: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

/** A sandbox in this process plus a config and a store for the CLI in a scratch directory. */
export const makeEnv = async (options: Sandbox.SandboxOptions = {}): Promise<Env> => {
  const sandbox = await Sandbox.start(options)
  const dir = scratch()
  const config = await sandbox.writeConfig(path.join(dir, "sandbox"))
  const store = path.join(dir, "medusa.db")
  return {
    sandbox,
    dir,
    config,
    store,
    flags: ["--config", config, "--store", store],
    close: async () => {
      await sandbox.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Polls `check` until it holds (a process boundary leaves nothing to await), at most `timeoutMillis` (generous: a child process starts slowly on a loaded machine). */
export const eventually = async <A>(
  check: () => A | undefined | false | Promise<A | undefined | false>,
  what: string | (() => string),
  timeoutMillis = 60_000
): Promise<A> => {
  const deadline = Date.now() + timeoutMillis
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${typeof what === "string" ? what : what()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Stops a YouTube upload part-way and keeps it there: the connection drops
 * after `afterBytes` body bytes of the first data PUT, then every status probe
 * fails with 503 (the client backs off and asks again) until `release`.
 *
 * The first data PUT is slowed down: the client fills the socket and reports
 * bytes sent while it waits, and the drop is armed meanwhile.
 */
export const holdYouTubeUpload = async (
  sandbox: Sandbox.Sandbox,
  afterBytes: number
): Promise<{ readonly release: () => void }> => {
  const seen = sandbox.raw.log.length
  const youtubeSince = () => sandbox.raw.log.slice(seen).filter((e) => e.platform === "youtube")
  const describe = () =>
    `requests since:\n${
      youtubeSince().map((e) => `${e.method} ${String(e.headers["content-range"] ?? "")} -> ${e.status}`).join("\n")
    }\nuploads: ${JSON.stringify([...sandbox.raw.uploads.values()].map((u) => [u.bytes, u.complete]))}`
  sandbox.inject({ platform: "youtube", route: "upload", action: { kind: "latency", millis: 1500 } })
  sandbox.inject({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes } })
  await eventually(
    () =>
      [...sandbox.raw.uploads.values()].some((u) => u.platform === "youtube" && !u.complete && u.bytes >= afterBytes),
    () => `${afterBytes} bytes of the YouTube upload at the sandbox; ${describe()}`
  )
  sandbox.inject({ platform: "youtube", route: "upload", times: Infinity, action: { kind: "status", status: 503 } })
  return { release: () => sandbox.clearFaults() }
}

/** A big-enough video for an upload that can be observed mid-way: the sample's `ftyp` header, then padding. */
export const makeVideo = (dir: string, bytes: number): string => {
  const file = path.join(dir, "big.mp4")
  const head = fs.readFileSync(sampleMp4).subarray(0, 64)
  const body = Buffer.alloc(bytes - head.length)
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff
  fs.writeFileSync(file, Buffer.concat([head, body]))
  return file
}

// =============================================================================
// tmux
// =============================================================================

export const hasTmux = (): boolean => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

export const tmux = (...args: ReadonlyArray<string>): string => execFileSync("tmux", args, { encoding: "utf8" })

/** The visible screen of a tmux session. */
export const capture = (session: string): string => tmux("capture-pane", "-p", "-t", session)

export const shellQuote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`
