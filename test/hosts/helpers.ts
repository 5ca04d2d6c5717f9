/**
 * Shared fixtures for the host tests: files of pseudo-random bytes, a sandbox
 * per test, and the hosts wired to it over real loopback HTTP.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import { mkdtempSync, writeFileSync } from "node:fs"
import { rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { MediaFile, UploadProgress, UploadSession } from "../../src/Platform.js"
import type { UploadContext } from "../../src/Platform.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import * as TaskId from "../../src/TaskId.js"
import { sha256, xorshiftBytes } from "../contract/bytes.js"

/** Deterministic bytes (xorshift, the seed spread by a multiplicative hash) so a failing case can be replayed from its seed. */
export const bytes = (size: number, seed = 1): Buffer => xorshiftBytes(size, seed * 2654435761)

export { sha256 }

/** A temporary directory removed with the scope. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(path.join(tmpdir(), "medusa-hosts-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

/** Writes a media file of `size` pseudo-random bytes. */
export const mediaFile = (dir: string, size: number, seed = 1, name = "video.mp4") => {
  const data = bytes(size, seed)
  const file = path.join(dir, name)
  writeFileSync(file, data)
  return {
    media: new MediaFile({ path: file, name, size, mimeType: "video/mp4" }),
    sha256: sha256(data)
  }
}

export const sandbox = (options: Sandbox.SandboxOptions = {}): Effect.Effect<Sandbox.Sandbox, never, Scope.Scope> =>
  Sandbox.make(options)

/** Node's http client (the one the benchmark found fastest) plus the file system. */
export const platform: Layer.Layer<HttpClient.HttpClient | FileSystem.FileSystem> = Layer.merge(
  NodeHttpClient.layer,
  NodeFileSystem.layer
)

/** Undici, the other client applications may provide. */
export const platformUndici: Layer.Layer<HttpClient.HttpClient | FileSystem.FileSystem> = Layer.merge(
  NodeHttpClient.layerUndici,
  NodeFileSystem.layer
)

/** A retry policy fast enough for tests. */
export const fastRetry = { baseDelay: "1 millis", maxDelay: "5 millis", maxRetries: 6 } as const

/** Builds a host's layer on an HTTP client and the file system (node's by default) and returns the host. */
export const buildHost = <I, S, E>(
  tag: Context.Tag<I, S>,
  layer: Layer.Layer<I, E, HttpClient.HttpClient | FileSystem.FileSystem>,
  client: Layer.Layer<HttpClient.HttpClient | FileSystem.FileSystem> = platform
): Effect.Effect<S, E, Scope.Scope> =>
  Layer.build(Layer.provide(layer, client)).pipe(Effect.map((ctx) => Context.get(ctx, tag)))

/** Records every session and progress report of an upload. */
export const recorder = Effect.gen(function*() {
  const sessions = yield* Ref.make<ReadonlyArray<UploadSession>>([])
  const progress = yield* Ref.make<ReadonlyArray<UploadProgress>>([])
  // A session without a link is a host's creation intent (Vimeo), not a session.
  const onSession = (s: UploadSession) => s.uri === "" ? Effect.void : Ref.update(sessions, (all) => [...all, s])
  const onProgress = (p: UploadProgress) => Ref.update(progress, (all) => [...all, p])
  return {
    sessions,
    progress,
    onSession,
    onProgress,
    /** The same hooks, with `f` run after each session is recorded (to arm a fault at a known offset); not after an intent. */
    afterSession: (f: (s: UploadSession) => void) => ({
      onSession: (s: UploadSession) =>
        s.uri === "" ? Effect.void : Effect.zipRight(onSession(s), Effect.sync(() => f(s))),
      onProgress
    })
  }
})

/** `f`, run on the first call only. */
export const once = (f: () => void): () => void => {
  let done = false
  return () => {
    if (!done) {
      done = true
      f()
    }
  }
}

export const context = <M>(
  media: MediaFile,
  metadata: M,
  hooks: Pick<UploadContext<M>, "onSession" | "onProgress">,
  resume: Option.Option<UploadSession> = Option.none()
) =>
  Effect.map(TaskId.make, (taskId): UploadContext<M> => ({
    taskId,
    media,
    metadata,
    resume,
    onSession: hooks.onSession,
    onProgress: hooks.onProgress
  }))

/** Request-log entries of one platform's route path (the log is redacted by the sandbox). */
export const requests = (sb: Sandbox.Sandbox, platform: string, method?: string, pathPrefix?: string) =>
  sb.state().requestLog.filter((e) =>
    e.platform === platform && (method === undefined || e.method === method) &&
    (pathPrefix === undefined || e.path.startsWith(pathPrefix))
  )
