/**
 * The tus reference client and Vimeo's official Node client, unchanged except
 * for their base URL, against the Vimeo emulator.
 */
import { expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as tus from "tus-js-client"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, json, request, sha256 } from "./sandbox-http.js"

const require = createRequire(import.meta.url)
const vimeoModule = require("@vimeo/vimeo") as {
  Vimeo: new(clientId: string | null, clientSecret: string | null, token: string) => {
    upload: (
      file: string,
      params: object,
      complete: (uri: string) => void,
      progress: (sent: number, total: number) => void,
      error: (e: unknown) => void
    ) => void
  }
  /** The library module, whose `request_defaults` name the API origin. */
  vimeo_module: { request_defaults: { protocol: string; hostname: string; port: number } }
}

const createVideo = async (sb: Sandbox.Sandbox, size: number, name: string) => {
  const r = await request(`${sb.urls.vimeo}/me/videos`, {
    method: "POST",
    headers: { authorization: `bearer ${sb.credentials.vimeo.accessToken}`, "content-type": "application/json" },
    body: json({ upload: { approach: "tus", size: String(size) }, name })
  })
  return r.json as { uri: string; upload: { upload_link: string } }
}

const tusUpload = (data: Buffer, uploadUrl: string, options: Partial<tus.UploadOptions> = {}) =>
  new Promise<void>((resolve, reject) => {
    const upload = new tus.Upload(data, {
      uploadUrl,
      uploadSize: data.length,
      retryDelays: [0, 0, 0],
      onSuccess: () => resolve(),
      onError: reject,
      ...options
    })
    upload.start()
  })

const storedFor = (sb: Sandbox.Sandbox, uri: string) =>
  sb.state().uploads.find((u) => u.platform === "vimeo" && `/videos/${u.videoId}` === uri)!

layer(Sandbox.layer())("vimeo official clients", (it) => {
  it.effect("tus-js-client resumes after a mid-upload drop from the acknowledged offset", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(3_000_000, 13)
      const video = yield* Effect.promise(() => createVideo(sb, data.length, "tus drop"))
      const before = sb.state().counters.vimeo.bodyBytes
      sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "drop", afterBytes: 1_234_567 } })
      yield* Effect.promise(() => tusUpload(data, video.upload.upload_link))
      const stored = storedFor(sb, video.uri)
      expect(stored.complete).toBe(true)
      expect(stored.bytes).toBe(data.length)
      expect(stored.sha256).toBe(sha256(data))
      expect(stored.requests).toBe(2)
      // It resumed at the server's offset: no byte was sent twice.
      expect(sb.state().counters.vimeo.bodyBytes - before).toBe(data.length)
      expect(sb.state().counters.vimeo.faults).toBeGreaterThanOrEqual(1)
      const log = sb.state().requestLog.filter((e) => e.path.startsWith("/files/"))
      expect(log.map((e) => `${e.method} ${e.status}`)).toEqual([
        "HEAD 200",
        "PATCH dropped",
        "HEAD 200",
        "PATCH 204"
      ])
    }))

  it.effect("tus-js-client in chunks follows a partial acknowledgement", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(1_000_000, 14)
      const video = yield* Effect.promise(() => createVideo(sb, data.length, "tus partial"))
      const before = sb.state().counters.vimeo.bodyBytes
      sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "partialAck", bytes: 70_000 } })
      yield* Effect.promise(() => tusUpload(data, video.upload.upload_link, { chunkSize: 400_000 }))
      const stored = storedFor(sb, video.uri)
      expect(stored.sha256).toBe(sha256(data))
      // 0–400,000 acknowledged to 330,000; then 330,000–730,000; then the rest.
      expect(stored.requests).toBe(3)
      expect(sb.state().counters.vimeo.bodyBytes - before).toBe(data.length + 70_000)
    }))

  it.effect("@vimeo/vimeo upload() with request_defaults pointed at the sandbox", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const dir = mkdtempSync(path.join(tmpdir(), "medusa-vimeo-"))
      const file = path.join(dir, "clip.mp4")
      const data = bytes(2_500_000, 15)
      writeFileSync(file, data)
      const url = new URL(sb.urls.vimeo)
      const saved = { ...vimeoModule.vimeo_module.request_defaults }
      Object.assign(vimeoModule.vimeo_module.request_defaults, {
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port)
      })
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => Object.assign(vimeoModule.vimeo_module.request_defaults, saved))
      )
      const client = new vimeoModule.Vimeo(null, null, sb.credentials.vimeo.accessToken)
      let progressed = 0
      const uri = yield* Effect.promise(() =>
        new Promise<string>((resolve, reject) =>
          client.upload(
            file,
            { name: "Official client", description: "via vimeo.js", privacy: { view: "unlisted" } },
            resolve,
            (sent) => (progressed = sent),
            reject
          )
        )
      )
      expect(uri).toMatch(/^\/videos\/\d+$/)
      expect(progressed).toBe(data.length)
      const stored = storedFor(sb, uri)
      expect(stored.sha256).toBe(sha256(data))
      expect(stored.metadata).toMatchObject({ name: "Official client", description: "via vimeo.js" })
    }).pipe(Effect.scoped))
})
