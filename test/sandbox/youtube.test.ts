import { describe, expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, json, request, sha256 } from "./sandbox-http.js"

const KiB256 = 256 * 1024

const creds = Sandbox.SandboxService.pipe(Effect.map((s) => s.credentials.youtube))

const refresh = (sb: Sandbox.Sandbox) =>
  request(`${sb.urls.youtube}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: sb.credentials.youtube.refreshToken,
      client_id: sb.credentials.youtube.clientId,
      client_secret: sb.credentials.youtube.clientSecret
    }).toString()
  })

const initiate = (sb: Sandbox.Sandbox, size: number, metadata: unknown, token = sb.credentials.youtube.accessToken) =>
  request(`${sb.urls.youtube}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json; charset=UTF-8",
      "x-upload-content-length": size,
      "x-upload-content-type": "video/mp4"
    },
    body: json(metadata)
  })

const meta = {
  snippet: { title: "Launch", description: "A video", tags: ["a", "b c"], categoryId: "22" },
  status: { privacyStatus: "private" }
}

const api = (
  sb: Sandbox.Sandbox,
  path: string,
  init: { method?: string; body?: Buffer | string; headers?: Record<string, string | number> } = {}
) =>
  request(`${sb.urls.youtube}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${sb.credentials.youtube.accessToken}`, ...init.headers }
  })

const uploadWhole = async (sb: Sandbox.Sandbox, data: Buffer) => {
  const init = await initiate(sb, data.length, meta)
  const put = await request(init.headers.location!, {
    method: "PUT",
    headers: { "content-type": "video/mp4" },
    body: data
  })
  return { init, put }
}

layer(Sandbox.layer())("youtube emulator", (it) => {
  describe("oauth", () => {
    it.effect("refresh grant issues a working token; expireTokens makes calls 401 in Google's format", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const c = yield* creds
        const r = yield* Effect.promise(() => refresh(sb))
        expect(r.status).toBe(200)
        expect(r.json.token_type).toBe("Bearer")
        expect(r.json.expires_in).toBeGreaterThan(3000)
        const fresh: string = r.json.access_token
        expect(fresh).not.toBe(c.accessToken)

        sb.expireToken("youtube")
        const denied = yield* Effect.promise(() => api(sb, "/youtube/v3/videos?part=status&id=x"))
        expect(denied.status).toBe(401)
        expect(denied.json.error.errors[0].reason).toBe("authError")
        expect(denied.json.error.status).toBe("UNAUTHENTICATED")

        const again = yield* Effect.promise(() => refresh(sb))
        const ok = yield* Effect.promise(() =>
          request(`${sb.urls.youtube}/youtube/v3/videos?part=status&id=x`, {
            headers: { authorization: `Bearer ${again.json.access_token}` }
          })
        )
        expect(ok.status).toBe(200)
        expect(ok.json.items).toEqual([])
      }))

    it.effect("a wrong refresh token gets invalid_grant", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const r = yield* Effect.promise(() =>
          request(`${sb.urls.youtube}/token`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
              grant_type: "refresh_token",
              refresh_token: "nope",
              client_id: sb.credentials.youtube.clientId,
              client_secret: sb.credentials.youtube.clientSecret
            }).toString()
          })
        )
        expect(r.status).toBe(400)
        expect(r.json).toEqual({ error: "invalid_grant", error_description: "Token has been expired or revoked." })
      }))
  })
})

layer(Sandbox.layer())("youtube resumable upload", (it) => {
  it.effect("single PUT stores the bytes' sha256 and answers 201 with the video resource", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(300_000, 7)
      const { init, put } = yield* Effect.promise(() => uploadWhole(sb, data))
      expect(init.status).toBe(200)
      expect(init.headers.location).toMatch(
        new RegExp(`^${sb.urls.youtube}/upload/youtube/v3/videos\\?uploadType=resumable&upload_id=`)
      )
      expect(put.status).toBe(201)
      expect(put.json.kind).toBe("youtube#video")
      expect(put.json.snippet.title).toBe("Launch")
      expect(put.json.status.privacyStatus).toBe("private")
      const stored = sb.state().uploads.find((u) => u.videoId === put.json.id)!
      expect(stored.complete).toBe(true)
      expect(stored.bytes).toBe(data.length)
      expect(stored.sha256).toBe(sha256(data))
    }))

  it.effect("chunked PUTs: 308 with Range, probes, no Range before any byte, replay after completion", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(2 * KiB256 + 1000, 3)
      const init = yield* Effect.promise(() => initiate(sb, data.length, meta))
      const session = init.headers.location!
      const probe = () =>
        request(session, {
          method: "PUT",
          headers: { "content-range": `bytes */${data.length}` },
          body: Buffer.alloc(0)
        })
      const p0 = yield* Effect.promise(probe)
      expect(p0.status).toBe(308)
      expect(p0.headers.range).toBeUndefined()

      const chunk = (from: number, to: number) =>
        request(session, {
          method: "PUT",
          headers: { "content-range": `bytes ${from}-${to - 1}/${data.length}` },
          body: data.subarray(from, to)
        })
      const c1 = yield* Effect.promise(() => chunk(0, KiB256))
      expect(c1.status).toBe(308)
      expect(c1.headers.range).toBe(`bytes=0-${KiB256 - 1}`)
      // A gap: nothing of it is stored.
      const gap = yield* Effect.promise(() => chunk(KiB256 + 10, 2 * KiB256 + 10))
      expect(gap.status).toBe(308)
      expect(gap.headers.range).toBe(`bytes=0-${KiB256 - 1}`)
      const c2 = yield* Effect.promise(() => chunk(KiB256, 2 * KiB256))
      expect(c2.headers.range).toBe(`bytes=0-${2 * KiB256 - 1}`)
      const p1 = yield* Effect.promise(probe)
      expect(p1.status).toBe(308)
      expect(p1.headers.range).toBe(`bytes=0-${2 * KiB256 - 1}`)
      const last = yield* Effect.promise(() => chunk(2 * KiB256, data.length))
      expect(last.status).toBe(201)
      const replay = yield* Effect.promise(probe)
      expect(replay.status).toBe(201)
      expect(replay.json.id).toBe(last.json.id)
      const stored = sb.state().uploads.find((u) => u.videoId === last.json.id)!
      expect(stored.sha256).toBe(sha256(data))
    }))

  it.effect("unknown session is 404", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const r = yield* Effect.promise(() =>
        request(`${sb.urls.youtube}/upload/youtube/v3/videos?uploadType=resumable&upload_id=nope`, {
          method: "PUT",
          body: "x"
        })
      )
      expect(r.status).toBe(404)
      expect(r.json.error.code).toBe(404)
    }))

  it.effect("videos.list reports processing then succeeded; thumbnails.set and playlistItems.insert", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const { put } = yield* Effect.promise(() => uploadWhole(sb, bytes(1000, 9)))
      const id: string = put.json.id
      const list = () => api(sb, `/youtube/v3/videos?part=status,processingDetails&id=${id}`)
      const l1 = yield* Effect.promise(list)
      expect(l1.json.items[0].processingDetails.processingStatus).toBe("processing")
      const l2 = yield* Effect.promise(list)
      expect(l2.json.items[0].processingDetails.processingStatus).toBe("succeeded")
      expect(l2.json.items[0].status.uploadStatus).toBe("processed")

      const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), bytes(2000, 4)])
      const t = yield* Effect.promise(() =>
        api(sb, `/upload/youtube/v3/thumbnails/set?videoId=${id}`, {
          method: "POST",
          headers: { "content-type": "image/jpeg" },
          body: jpeg
        })
      )
      expect(t.status).toBe(200)
      expect(t.json.kind).toBe("youtube#thumbnailSetResponse")
      const p = yield* Effect.promise(() =>
        api(sb, "/youtube/v3/playlistItems?part=snippet", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: json({ snippet: { playlistId: "PLsandbox", resourceId: { kind: "youtube#video", videoId: id } } })
        })
      )
      expect(p.status).toBe(200)
      expect(p.json.snippet.playlistId).toBe("PLsandbox")
      const snap = sb.state().platforms.youtube as any
      expect(snap.thumbnails[0].sha256).toBe(sha256(jpeg))
      expect(snap.playlistItems[0].videoId).toBe(id)
      expect(snap.quota.unitsUsed).toBe(2 + 50 + 50)
    }))
})
