import { expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as http from "node:http"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, json, request, sha256 } from "./sandbox-http.js"

const create = (sb: Sandbox.Sandbox, body: unknown, token = sb.credentials.vimeo.accessToken) =>
  request(`${sb.urls.vimeo}/me/videos?fields=uri,name,link,upload`, {
    method: "POST",
    headers: {
      authorization: `bearer ${token}`,
      "content-type": "application/json",
      accept: "application/vnd.vimeo.*+json;version=3.4"
    },
    body: typeof body === "string" ? body : json(body)
  })

const patch = (link: string, offset: number, body: Buffer, headers: Record<string, string> = {}) =>
  request(link, {
    method: "PATCH",
    headers: {
      "tus-resumable": "1.0.0",
      "upload-offset": offset,
      "content-type": "application/offset+octet-stream",
      ...headers
    },
    body
  })

const head = (link: string, headers: Record<string, string> = { "tus-resumable": "1.0.0" }) =>
  request(link, { method: "HEAD", headers })

layer(Sandbox.layer())("vimeo emulator", (it) => {
  it.effect("create + tus HEAD/PATCH stores the file; 409 on offset mismatch changes nothing", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(100_000, 5)
      const c = yield* Effect.promise(() =>
        create(sb, {
          upload: { approach: "tus", size: String(data.length) },
          name: "Launch",
          privacy: { view: "anybody" }
        })
      )
      expect(c.status).toBe(201)
      expect(c.json.uri).toMatch(/^\/videos\/\d+$/)
      expect(c.json.link).toBe(`https://vimeo.com/${c.json.uri.split("/")[2]}`)
      expect(c.json.upload.approach).toBe("tus")
      expect(c.json.upload.size).toBe(data.length)
      const link: string = c.json.upload.upload_link
      expect(link.startsWith(sb.urls.vimeo)).toBe(true)

      const h0 = yield* Effect.promise(() => head(link))
      expect(h0.status).toBe(200)
      expect(h0.headers["upload-offset"]).toBe("0")
      expect(h0.headers["upload-length"]).toBe(String(data.length))
      expect(h0.headers["cache-control"]).toBe("no-store")
      expect(h0.headers["tus-resumable"]).toBe("1.0.0")

      const p1 = yield* Effect.promise(() => patch(link, 0, data.subarray(0, 40_000)))
      expect(p1.status).toBe(204)
      expect(p1.headers["upload-offset"]).toBe("40000")
      const conflict = yield* Effect.promise(() => patch(link, 0, data.subarray(0, 10)))
      expect(conflict.status).toBe(409)
      expect(conflict.headers["tus-resumable"]).toBe("1.0.0")
      const h1 = yield* Effect.promise(() => head(link))
      expect(h1.headers["upload-offset"]).toBe("40000")
      const p2 = yield* Effect.promise(() => patch(link, 40_000, data.subarray(40_000)))
      expect(p2.status).toBe(204)
      expect(p2.headers["upload-offset"]).toBe(String(data.length))

      const video = sb.state().uploads.find((u) => u.platform === "vimeo" && u.videoId === c.json.uri.split("/")[2])!
      expect(video.complete).toBe(true)
      expect(video.sha256).toBe(sha256(data))
      const got = yield* Effect.promise(() =>
        request(`${sb.urls.vimeo}${c.json.uri}`, {
          headers: { authorization: `bearer ${sb.credentials.vimeo.accessToken}` }
        })
      )
      expect(got.status).toBe(200)
      expect(got.json.upload.status).toBe("complete")
    }))

  it.effect("tus rejects a wrong version (412 + Tus-Version) and a wrong content type (415)", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const c = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: 10 } }))
      const link: string = c.json.upload.upload_link
      const v = yield* Effect.promise(() => head(link, { "tus-resumable": "0.2.2" }))
      expect(v.status).toBe(412)
      expect(v.headers["tus-version"]).toBe("1.0.0")
      const t = yield* Effect.promise(() => patch(link, 0, Buffer.alloc(10), { "content-type": "application/json" }))
      expect(t.status).toBe(415)
      expect(t.headers["tus-resumable"]).toBe("1.0.0")
    }))

  it.effect("Vimeo error bodies: bad token 8002, bad JSON 2205, wrong approach 2230, `type` 3116", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const bad = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: 1 } }, "wrong"))
      expect(bad.status).toBe(401)
      expect(bad.json).toMatchObject({ error_code: 8002, link: null })
      expect(typeof bad.json.developer_message).toBe("string")
      const malformed = yield* Effect.promise(() => create(sb, "{not json"))
      expect(malformed.status).toBe(400)
      expect(malformed.json.error_code).toBe(2205)
      const post = yield* Effect.promise(() => create(sb, { upload: { approach: "post", size: 1 } }))
      expect(post.json.error_code).toBe(2230)
      const type = yield* Effect.promise(() => create(sb, { type: "streaming", upload: { size: 1 } }))
      expect(type.json.error_code).toBe(3116)
    }))
})

layer(Sandbox.layer({ vimeo: { quotaBytes: 1_000_000 } }))("vimeo faults and limits", (it) => {
  it.effect("a drop mid-PATCH keeps what arrived; HEAD reports it; partial acks hold back a tail", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(200_000, 6)
      const c = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: data.length } }))
      const link: string = c.json.upload.upload_link
      sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "drop", afterBytes: 50_000 } })
      const dropped = yield* Effect.promise(() => patch(link, 0, data).then(() => "answered", () => "dropped"))
      expect(dropped).toBe("dropped")
      expect((yield* Effect.promise(() => head(link))).headers["upload-offset"]).toBe("50000")
      sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "partialAck", bytes: 999 } })
      const partial = yield* Effect.promise(() => patch(link, 50_000, data.subarray(50_000)))
      expect(partial.status).toBe(204)
      expect(partial.headers["upload-offset"]).toBe(String(data.length - 999))
      const rest = yield* Effect.promise(() => patch(link, data.length - 999, data.subarray(data.length - 999)))
      expect(rest.headers["upload-offset"]).toBe(String(data.length))
      const video = sb.state().uploads.find((u) => u.platform === "vimeo" && u.videoId === c.json.uri.split("/")[2])!
      expect(video.sha256).toBe(sha256(data))
    }))

  it.effect("status faults on tus routes answer plain text with Tus-Resumable; OPTIONS lists the version", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const c = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: 5 } }))
      const link: string = c.json.upload.upload_link
      sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "status", status: 500 } })
      const r = yield* Effect.promise(() => patch(link, 0, Buffer.from("hello")))
      expect(r.status).toBe(500)
      expect(r.headers["tus-resumable"]).toBe("1.0.0")
      expect(r.headers["content-type"]).toContain("text/plain")
      const o = yield* Effect.promise(() => request(link, { method: "OPTIONS" }))
      expect(o.status).toBe(204)
      expect(o.headers["tus-version"]).toBe("1.0.0")
      const override = yield* Effect.promise(() =>
        request(link, {
          method: "POST",
          headers: {
            "x-http-method-override": "PATCH",
            "tus-resumable": "1.0.0",
            "upload-offset": 0,
            "content-type": "application/offset+octet-stream"
          },
          body: "hello"
        })
      )
      expect(override.status).toBe(204)
      expect(override.headers["upload-offset"]).toBe("5")
      const del = yield* Effect.promise(() =>
        request(link, { method: "DELETE", headers: { "tus-resumable": "1.0.0" } })
      )
      expect(del.status).toBe(405)
      expect(del.headers["tus-resumable"]).toBe("1.0.0")
      const missing = yield* Effect.promise(() => head(`${sb.urls.vimeo}/files/unknown`))
      expect(missing.status).toBe(404)
      expect(missing.headers["upload-offset"]).toBeUndefined()
    }))

  it.effect("quota 4102, privacy validation 2204, fields filtering, revoked tokens 8002", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const big = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: 2_000_000 } }))
      expect(big.status).toBe(403)
      expect(big.json.error_code).toBe(4102)
      const privacy = yield* Effect.promise(() =>
        create(sb, { upload: { approach: "tus", size: 1 }, privacy: { view: "friends" } })
      )
      expect(privacy.status).toBe(400)
      expect(privacy.json.error_code).toBe(2204)
      expect(privacy.json.error).toContain("privacy.view")
      const password = yield* Effect.promise(() =>
        create(sb, { upload: { approach: "tus", size: 1 }, privacy: { view: "password" } })
      )
      expect(password.json.error_code).toBe(2204)
      const ok = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: 1 } }))
      expect(Object.keys(ok.json).sort()).toEqual(["link", "name", "upload", "uri"])
      sb.exhaustQuota("vimeo")
      const exhausted = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: 1 } }))
      expect(exhausted.json.error_code).toBe(4102)
      sb.expireToken("vimeo")
      const revoked = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: 1 } }))
      expect(revoked.status).toBe(401)
      expect(revoked.json.error_code).toBe(8002)
    }))
})

layer(Sandbox.layer({ hashing: "worker" }))("vimeo large uploads", (it) => {
  it.effect("a 40 MiB tus upload in PATCHes with a drop stores the right sha256", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(40 * 1024 * 1024, 32)
      const c = yield* Effect.promise(() => create(sb, { upload: { approach: "tus", size: data.length } }))
      const link: string = c.json.upload.upload_link
      sb.inject({ platform: "vimeo", route: "tus.patch", action: { kind: "drop", afterBytes: 15_000_000 } })
      yield* Effect.promise(() => patch(link, 0, data).then(() => undefined, () => undefined))
      const offset = Number((yield* Effect.promise(() => head(link))).headers["upload-offset"])
      expect(offset).toBe(15_000_000)
      const done = yield* Effect.promise(() => patch(link, offset, data.subarray(offset)))
      expect(done.headers["upload-offset"]).toBe(String(data.length))
      const video = sb.state().uploads.find((u) => u.platform === "vimeo" && u.videoId === c.json.uri.split("/")[2])!
      expect(video.complete).toBe(true)
      expect(video.sha256).toBe(sha256(data))
    }), 60_000)
})

layer(Sandbox.layer())("vimeo deletes", (it) => {
  it.effect("bytes a PATCH still streams after its video was deleted are discarded, not held or re-sent", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(200_000, 9)
      const before = { ...sb.state().counters.vimeo }
      const creation = json({ upload: { approach: "tus", size: String(data.length) } })
      const c = yield* Effect.promise(() => create(sb, creation))
      expect(c.status).toBe(201)
      const videoId: string = c.json.uri.split("/")[2]
      const stored = () => sb.state().uploads.find((u) => u.platform === "vimeo" && u.videoId === videoId)!
      // One PATCH whose body is written in two halves, the video deleted in between.
      const req = http.request(c.json.upload.upload_link, {
        method: "PATCH",
        agent: false,
        headers: {
          "tus-resumable": "1.0.0",
          "upload-offset": 0,
          "content-type": "application/offset+octet-stream",
          "content-length": data.length
        }
      })
      const reply = new Promise<number>((resolve, reject) => {
        req.on("response", (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on("error", reject)
      })
      req.write(data.subarray(0, 100_000))
      // Bounded polling: the first half is stored.
      for (let i = 0; i < 500 && stored().bytes < 100_000; i++) {
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
      }
      expect(stored().bytes).toBe(100_000)
      const del = yield* Effect.promise(() =>
        request(`${sb.urls.vimeo}/videos/${videoId}`, {
          method: "DELETE",
          headers: { authorization: `bearer ${sb.credentials.vimeo.accessToken}` }
        })
      )
      expect(del.status).toBe(204)
      req.end(data.subarray(100_000))
      expect(yield* Effect.promise(() => reply)).toBe(404)
      const after = sb.state().counters.vimeo
      const received = after.bodyBytes - before.bodyBytes
      const discarded = after.discardedBytes - before.discardedBytes
      expect(received).toBe(creation.length + data.length)
      // Every byte of the file was thrown away with the video: nothing counts as re-sent.
      expect(discarded).toBe(data.length)
      expect(stored().bytes).toBe(100_000)
      expect(stored().discarded).toBe(true)
      expect(sb.state().orphans.vimeo).not.toContain(videoId)
    }))
})
