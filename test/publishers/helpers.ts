/**
 * Shared setup for the publisher tests: a sandbox per test (fresh posts and
 * faults), real loopback HTTP through undici, a post context, and the
 * synchronisation with the TestClock for rate-limit waits.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import * as path from "node:path"
import { MediaFile, type PostContext, type PostWait, UploadedVideo } from "../../src/Platform.js"
import type { PlatformId } from "../../src/PlatformId.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { TaskId } from "../../src/TaskId.js"
import { mediaFile } from "../hosts/helpers.js"
import * as Mp4Header from "../hosts/mp4.js"

/** The sandbox options, with the per-emulator settings the emulators read. */
export type SandboxOptions = Sandbox.SandboxOptions & {
  readonly facebook?: Record<string, unknown>
  readonly x?: Record<string, unknown>
  readonly linkedin?: Record<string, unknown>
}

/** Starts a sandbox for the test's scope. */
export const sandbox = (options: SandboxOptions = {}): Effect.Effect<Sandbox.Sandbox, never, Scope.Scope> =>
  Sandbox.make(options as Sandbox.SandboxOptions)

/** The HTTP client the application would provide. */
export const Http: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici

export const media = new MediaFile({
  path: "/nonexistent/launch-video.mp4",
  name: "launch-video.mp4",
  size: 1_000_000,
  mimeType: "video/mp4"
})

export const youtubeVideo = new UploadedVideo({
  host: "youtube",
  videoId: "dQw4w9WgXcQ",
  url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
  title: "Launch day"
})

export const vimeoVideo = new UploadedVideo({ host: "vimeo", videoId: "76979871", url: "https://vimeo.com/76979871" })

export const context = <M>(
  metadata: M,
  options: {
    readonly videos?: ReadonlyArray<UploadedVideo>
    readonly media?: MediaFile
    /** Collects the waits the publisher announces. */
    readonly waits?: Array<PostWait>
  } = {}
): PostContext<M> => ({
  taskId: TaskId.make("medusa_task_5b1f0c2e-8a4d-4c3b-9e7f-1a2b3c4d5e6f"),
  metadata,
  media: options.media ?? media,
  videos: options.videos ?? [youtubeVideo, vimeoVideo],
  ...(options.waits === undefined ? {} : {
    onWait: (wait: PostWait) => Effect.sync(() => void options.waits!.push(wait))
  })
})

/** Aligns the TestClock with the sandbox clock, so that both sides agree on "now". */
export const alignClocks = (sb: Sandbox.Sandbox): Effect.Effect<void> => TestClock.setTime(sb.clock.now())

/**
 * Waits until the fiber under test sleeps on the TestClock for between `min`
 * and `max` ms from now (a rate-limit wait, not a request timeout). The fiber
 * does real HTTP on the event loop first, so the loop yields to it for real;
 * it is bounded (30 s of real time), and fails the test if the wait never starts.
 *
 * A wait computed from an absolute reset time on the sandbox clock (X's
 * `x-rate-limit-reset`) is longer than the hint by the real time that passed
 * since `alignClocks`, because the sandbox clock runs with real time and the
 * TestClock does not: pass the sandbox as `drifting` to allow exactly that.
 */
export const awaitSleep = (min: number, max: number, drifting?: Sandbox.Sandbox): Effect.Effect<number> =>
  Effect.gen(function*() {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      const now = yield* TestClock.currentTimeMillis
      const drift = drifting === undefined ? 0 : Math.max(0, drifting.clock.now() - now)
      const pending = Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((at) => at - now)
      const match = pending.find((d) => d >= min && d <= max + drift)
      if (match !== undefined) return match
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
    }
    return yield* Effect.dieMessage(`no TestClock sleep between ${min} and ${max} ms was ever scheduled`)
  })

/**
 * Waits until the sandbox has handled `n` requests of `platform` it never
 * answers (the `stall` fault), so that the request's deadline is the sleep
 * the TestClock holds. Bounded (30 s of real time) like `awaitSleep`.
 */
export const awaitStalls = (sb: Sandbox.Sandbox, platform: PlatformId, n: number): Effect.Effect<void> =>
  Effect.gen(function*() {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if (sb.raw.counters[platform].stalls >= n) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
    }
    return yield* Effect.dieMessage(`the sandbox never held ${n} stalled ${platform} requests`)
  })

/** A loopback port nothing listens on (connections to it are refused). */
export const closedPort = (): Effect.Effect<number> =>
  Effect.promise(() =>
    new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        server.close(() => resolve(port))
      })
    })
  )

/** A logger that keeps every line (message and annotations) for the canary checks. */
export const captureLogs = (): { readonly lines: Array<string>; readonly layer: Layer.Layer<never> } => {
  const lines: Array<string> = []
  const logger = Logger.make(({ annotations, cause, message }) => {
    lines.push(JSON.stringify({ message, annotations: [...annotations], cause: String(cause) }))
  })
  return { lines, layer: Logger.add(logger) }
}

/** Everything a user could see of an error: tag, message, JSON and the cause. */
export const exposed = (error: unknown): string =>
  [
    String(error),
    (error as { readonly message?: string }).message ?? "",
    JSON.stringify(error),
    String((error as { readonly cause?: unknown }).cause ?? "")
  ].join("\n")

/** An MP4's first box (`ftyp`, brand `isom`), as the PDS sniffs the type from it. */
export const ftyp: Buffer = Buffer.concat([
  Buffer.from([0, 0, 0, 24]),
  Buffer.from("ftypisom", "latin1"),
  Buffer.from([0, 0, 2, 0]),
  Buffer.from("isommp42", "latin1")
])

/** A file of `size` pseudo-random bytes that starts like an MP4; its sha256. */
export const mp4 = (dir: string, size: number, seed = 3) => {
  const file = mediaFile(dir, size, seed)
  const data = readFileSync(file.media.path)
  ftyp.copy(data, 0)
  writeFileSync(file.media.path, data)
  return { media: file.media, sha256: createHash("sha256").update(data).digest("hex") }
}

/** An MP4 with a readable header (`moov` before `mdat`): one video track of `width`×`height`, `durationSeconds` long. */
export const mp4Video = (
  dir: string,
  spec: {
    readonly durationSeconds: number
    readonly width: number
    readonly height: number
    readonly mdatBytes: number
  },
  name = "clip.mp4"
) => {
  const data = Mp4Header.mp4({
    durationSeconds: spec.durationSeconds,
    tracks: [{ handler: "vide", width: spec.width, height: spec.height }],
    mdatBytes: spec.mdatBytes
  })
  const file = path.join(dir, name)
  writeFileSync(file, data)
  return {
    media: new MediaFile({ path: file, name, size: data.length, mimeType: "video/mp4" }),
    sha256: createHash("sha256").update(data).digest("hex")
  }
}
