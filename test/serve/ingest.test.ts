import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as path from "node:path"
import * as tus from "tus-js-client"
import * as Ingest from "../../src/Ingest.js"
import * as Medusa from "../../src/Medusa.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"

const router = HttpRouter.empty.pipe(
  HttpRouter.all("/v1/uploads", Ingest.app),
  HttpRouter.all("/v1/uploads/*", Ingest.app)
)

const serverLayer = (uploads: string, options: Partial<Ingest.Options> = {}) =>
  HttpServer.serve(router).pipe(
    Layer.provideMerge(NodeHttpServer.layer(http.createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(Ingest.layer({ directory: uploads, ...options })),
    Layer.provideMerge(Medusa.layerMemory()),
    Layer.provide(TestPlatforms.layerFor(["youtube"]))
  )

const portOf = Effect.map(HttpServer.HttpServer, (server) => (server.address as HttpServer.TcpAddress).port)

/**
 * A TCP proxy that cuts its first connection once it has carried `dropAfter`
 * bytes from the client, and records the request heads it forwards.
 */
const startProxy = (target: number, dropAfter: number) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const heads: Array<string> = []
      let drops = 0
      const sockets = new Set<net.Socket>()
      const server = net.createServer((client) => {
        const upstream = net.connect(target, "127.0.0.1")
        sockets.add(client)
        sockets.add(upstream)
        let carried = 0
        const cut = drops === 0
        client.on("data", (chunk: Buffer) => {
          const text = chunk.subarray(0, 512).toString("latin1")
          if (/^(POST|PATCH|HEAD|GET|DELETE|OPTIONS) /.test(text)) heads.push(text.split("\r\n\r\n")[0]!)
          carried += chunk.length
          if (cut && drops === 0 && carried > dropAfter) {
            drops++
            client.destroy()
            upstream.destroy()
            return
          }
          upstream.write(chunk)
        })
        upstream.on("data", (chunk) => client.write(chunk))
        client.on("close", () => upstream.destroy())
        upstream.on("close", () => client.destroy())
        client.on("error", () => {})
        upstream.on("error", () => {})
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      return {
        port: (server.address() as net.AddressInfo).port,
        heads,
        drops: () => drops,
        close: () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy()
            server.close(() => resolve())
          })
      }
    }),
    (proxy) => Effect.promise(proxy.close)
  )

const upload = (data: Buffer, endpoint: string, options: Partial<tus.UploadOptions> = {}) =>
  new Promise<string>((resolve, reject) => {
    const u = new tus.Upload(data, {
      endpoint,
      retryDelays: [0, 50, 100, 200],
      metadata: { filename: "talk.mp4", filetype: "video/mp4" },
      onSuccess: () => resolve(u.url!),
      onError: reject,
      ...options
    })
    u.start()
  })

const sha = (data: Buffer | string) =>
  createHash("sha256").update(typeof data === "string" ? fs.readFileSync(data) : data).digest("hex")

describe("Ingest (tus 1.0 at /v1/uploads)", () => {
  it.live("tus-js-client resumes after a dropped connection; the media_id publishes, then is deleted", () =>
    Effect.gen(function*() {
      const dir = tempDir("medusa-ingest-")
      const uploads = path.join(dir, "uploads")
      const data = fs.readFileSync(writeVideo(dir, 3 * 1024 * 1024 + 17))
      yield* Effect.gen(function*() {
        const proxy = yield* startProxy(yield* portOf, 1_000_000)
        const url = yield* Effect.promise(() => upload(data, `http://127.0.0.1:${proxy.port}/v1/uploads`))
        assert.strictEqual(proxy.drops(), 1, "the proxy cut the connection once")
        const patches = proxy.heads.filter((h) => h.startsWith("PATCH"))
        const offsets = patches.map((h) => Number(/upload-offset: (\d+)/i.exec(h)?.[1]))
        assert.isTrue(offsets.length >= 2, `a second PATCH after the drop: ${offsets}`)
        assert.strictEqual(offsets[0], 0)
        assert.isTrue(offsets.at(-1)! > 0, `the last PATCH resumed from an offset: ${offsets}`)
        assert.isTrue(proxy.heads.some((h) => h.startsWith("HEAD")), "the client asked for the offset")

        const mediaId = url.split("/").at(-1)!
        assert.isTrue(Ingest.isMediaId(mediaId), mediaId)
        const file = path.join(uploads, mediaId)
        assert.strictEqual(sha(file), sha(data), "every byte arrived once, in order")

        const task = yield* Ingest.useMedia(
          mediaId,
          (mediaFile) =>
            Medusa.publish({ mediaFile, platforms: ["youtube"], metadata: { youtube: { title: "From a browser" } } })
        )
        assert.strictEqual(task.state, "completed")
        assert.strictEqual(task.media.path, file)
        // Cleaned once its task ended.
        const gone = () => !fs.existsSync(file) && !fs.existsSync(`${file}.json`)
        for (let i = 0; i < 200 && !gone(); i++) yield* Effect.sleep("10 millis")
        assert.isFalse(fs.existsSync(file), "the upload is deleted after its task ended")
        assert.isFalse(fs.existsSync(`${file}.json`))
        const again = yield* Effect.flip(Ingest.useMedia(mediaId, () => Effect.void))
        assert.include(again.message, "media_id")
      }).pipe(Effect.provide(serverLayer(uploads)))
    }).pipe(Effect.scoped))

  it.live("storage is bounded: an upload past the total is refused with 413; unknown and unfinished ids are named", () =>
    Effect.gen(function*() {
      const dir = tempDir("medusa-ingest-")
      const uploads = path.join(dir, "uploads")
      yield* Effect.gen(function*() {
        const port = yield* portOf
        const endpoint = `http://127.0.0.1:${port}/v1/uploads`
        yield* Effect.promise(() => upload(Buffer.alloc(600_000, 1), endpoint))
        const refused = yield* Effect.flip(
          Effect.tryPromise({
            try: () => upload(Buffer.alloc(600_000, 2), endpoint, { retryDelays: [] }),
            catch: (e) => String(e)
          })
        )
        assert.include(refused, "413")
        assert.include(refused, "storage is full")
        const unknown = yield* Effect.flip(Ingest.useMedia(`media_${"0".repeat(32)}`, () => Effect.void))
        assert.include(unknown.message, "media_id")
        const bad = yield* Effect.flip(Ingest.useMedia("../etc/passwd", () => Effect.void))
        assert.include(bad.message, "is not a media id")
        // An upload created but not finished is refused by name.
        const created = yield* Effect.promise(() =>
          fetch(endpoint, {
            method: "POST",
            headers: { "Tus-Resumable": "1.0.0", "Upload-Length": "100" }
          })
        )
        assert.strictEqual(created.status, 201)
        const partialId = created.headers.get("location")!.split("/").at(-1)!
        const partial = yield* Effect.flip(Ingest.useMedia(partialId, () => Effect.void))
        assert.include(partial.message, "is not finished (0 of 100 bytes)")
      }).pipe(Effect.provide(serverLayer(uploads, { maxTotalBytes: 1_000_000 })))
    }).pipe(Effect.scoped))
})
