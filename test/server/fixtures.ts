import * as HttpServer from "@effect/platform/HttpServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Medusa from "../../src/Medusa.js"
import * as Server from "../../src/Server.js"
import type { TaskStore } from "../../src/TaskStore.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"

export const writeKey = "test-write-key-0123456789"
export const readKey = "test-read-key-0123456789"

/** A media root with a video, and things outside it that must never be read. */
export const makeMedia = () => {
  const base = mkdtempSync(path.join(tmpdir(), "medusa-server-"))
  const root = path.join(base, "media")
  const outside = path.join(base, "outside")
  mkdirSync(root)
  mkdirSync(outside)
  const mp4 = new Uint8Array(4096)
  mp4.set([0, 0, 0, 0x20, ...[..."ftypisom"].map((c) => c.charCodeAt(0))])
  writeFileSync(path.join(root, "video.mp4"), mp4)
  writeFileSync(path.join(outside, "secret.mp4"), mp4)
  // A FIFO: opening it for reading blocks until a writer comes, so a request
  // that answers at once proves nothing opened it.
  const fifo = path.join(outside, "fifo.mp4")
  execFileSync("mkfifo", [fifo])
  symlinkSync(fifo, path.join(root, "link-to-fifo.mp4"))
  symlinkSync(path.join(outside, "secret.mp4"), path.join(root, "link-out.mp4"))
  symlinkSync(path.join(root, "video.mp4"), path.join(root, "link-in.mp4"))
  return {
    base,
    root,
    outside,
    video: path.join(root, "video.mp4"),
    cleanup: () => rmSync(base, { recursive: true, force: true })
  }
}

export type Media = ReturnType<typeof makeMedia>

export const request = (_media: Media, overrides: Record<string, unknown> = {}) => ({
  mediaFile: "video.mp4",
  platforms: ["youtube", "x"] as Array<"youtube" | "x" | "linkedin">,
  metadata: { youtube: { title: "Launch" }, x: { text: "New video: {youtube_url}" } },
  ...overrides
})

export const keys: ReadonlyArray<Server.ApiKey> = [
  { key: Redacted.make(writeKey), scopes: ["read", "write"] },
  { key: Redacted.make(readKey), scopes: ["read"] }
]

export interface Running {
  readonly url: string
  readonly media: Media
  /** fetch with the write key (unless `key` is given; `null` for none). */
  readonly call: (
    pathname: string,
    init?: RequestInit & { readonly key?: string | null; readonly json?: unknown }
  ) => Promise<Response>
}

/** A server on an ephemeral loopback port over `engine` (default: memory store, test platforms). */
export const startServer = (
  options: {
    readonly server?: Partial<Server.Options>
    readonly engine?: Layer.Layer<Medusa.Medusa | TaskStore>
    readonly platforms?: TestPlatforms.Options
  } = {}
): Effect.Effect<Running, never, Scope.Scope> =>
  Effect.gen(function*() {
    const media = makeMedia()
    yield* Effect.addFinalizer(() => Effect.sync(media.cleanup))
    const platforms = TestPlatforms.layer(options.platforms ?? {})
    const engine = options.engine ?? Medusa.layerMemory().pipe(Layer.provide(platforms))
    const context = yield* Layer.build(
      Server.layerNode({
        apiKeys: keys,
        mediaRoots: [media.root],
        heartbeat: "200 millis",
        ...options.server,
        port: 0,
        host: "127.0.0.1"
      }).pipe(Layer.provide(Layer.merge(engine, platforms)), Layer.orDie)
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    const url = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
    const call: Running["call"] = (pathname, init = {}) => {
      const { json, key, ...rest } = init
      const headers = new Headers(rest.headers)
      const k = key === undefined ? writeKey : key
      if (k !== null) headers.set("authorization", `Bearer ${k}`)
      if (json !== undefined) headers.set("content-type", "application/json")
      return fetch(url + pathname, {
        ...rest,
        headers,
        ...(json !== undefined ? { method: rest.method ?? "POST", body: JSON.stringify(json) } : {})
      })
    }
    return { url, media, call }
  })

export const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
