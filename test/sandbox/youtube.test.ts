import { describe, expect, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import fc from "fast-check"
import * as http from "node:http"
import { makeMultipartSplitter, quotaDay, tagsLength } from "../../src/sandbox/emulators/youtube.js"
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

const HOUR = 3_600_000

/** Waits (bounded, yielding to I/O) until `condition` holds. */
const until = async (condition: () => boolean) => {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve))
  if (!condition()) throw new Error("condition never held")
}

describe("multipart splitter", () => {
  it("yields the resource and exactly the media bytes for any chunking", () =>
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30 }),
        (media, cuts) => {
          const boundary = "b0undary-1234"
          const body = Buffer.concat([
            Buffer.from(`--${boundary}\r\ncontent-type: application/json\r\n\r\n{"snippet":{"title":"t"}}\r\n`),
            Buffer.from(`--${boundary}\r\ncontent-type: video/mp4\r\n\r\n`),
            Buffer.from(media),
            Buffer.from(`\r\n--${boundary}--`)
          ])
          const out: Array<Buffer> = []
          const splitter = makeMultipartSplitter(boundary, (c) => out.push(Buffer.from(c)))
          let resource: unknown
          let at = 0
          let i = 0
          while (at < body.length) {
            const size = cuts[i++ % cuts.length]!
            const r = splitter.push(body.subarray(at, at + size))
            if (r !== undefined) resource = r
            at += size
          }
          splitter.end()
          expect(splitter.error).toBeUndefined()
          expect(resource).toEqual({ snippet: { title: "t" } })
          expect(Buffer.concat(out).equals(Buffer.from(media))).toBe(true)
        }
      )
    ))

  it("reports a missing closing delimiter", () => {
    const splitter = makeMultipartSplitter("b", () => {})
    splitter.push(Buffer.from("--b\r\ncontent-type: application/json\r\n\r\n{}\r\n--b\r\n\r\nabc"))
    splitter.end()
    expect(splitter.error).toContain("closing delimiter")
  })
})

describe("metadata checks", () => {
  it("tagsLength counts commas and quotes around tags with spaces", () => {
    expect(tagsLength(["Foo Baz"])).toBe(9)
    expect(tagsLength(["Foo-Baz"])).toBe(7)
    expect(tagsLength(["a", "b c"])).toBe(1 + 1 + 5)
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 30 }), (tags) => {
        const quoted = tags.map((t) => (t.includes(" ") ? `"${t}"` : t)).join(",")
        expect(tagsLength(tags)).toBe([...quoted].length)
      })
    )
  })

  it("quota days turn over at midnight America/Los_Angeles (PST and PDT)", () => {
    expect(quotaDay(Date.parse("2026-01-16T07:59:59Z"))).toBe("2026-01-15")
    expect(quotaDay(Date.parse("2026-01-16T08:00:00Z"))).toBe("2026-01-16")
    expect(quotaDay(Date.parse("2026-07-16T06:59:59Z"))).toBe("2026-07-15")
    expect(quotaDay(Date.parse("2026-07-16T07:00:00Z"))).toBe("2026-07-16")
  })
})

layer(Sandbox.layer())("youtube metadata checks", (it) => {
  const cases: ReadonlyArray<[string, unknown, string, string]> = [
    ["empty title", { snippet: { title: "" } }, "invalidTitle", "snippet.title"],
    ["long title", { snippet: { title: "x".repeat(101) } }, "invalidTitle", "101 characters"],
    ["title with <", { snippet: { title: "a <b>" } }, "invalidTitle", "'<'"],
    [
      "long description",
      { snippet: { title: "t", description: "é".repeat(2501) } },
      "invalidDescription",
      "5002 bytes"
    ],
    ["description with >", { snippet: { title: "t", description: "a > b" } }, "invalidDescription", "'>'"],
    // "ten chars!" has a space, so it counts as quoted: 50 × 12 + 49 commas = 649.
    [
      "tags too long",
      { snippet: { title: "t", tags: Array.from({ length: 50 }, () => "ten chars!") } },
      "invalidTags",
      "649 characters"
    ],
    ["bad category", { snippet: { title: "t", categoryId: "31" } }, "invalidCategoryId", "'31'"],
    ["bad privacy", { snippet: { title: "t" }, status: { privacyStatus: "secret" } }, "invalidValue", "privacyStatus"],
    [
      "publishAt when public",
      { snippet: { title: "t" }, status: { privacyStatus: "public", publishAt: "2099-01-01T00:00:00Z" } },
      "invalidPublishAt",
      "'private'"
    ],
    [
      "publishAt in the past",
      { snippet: { title: "t" }, status: { privacyStatus: "private", publishAt: "2001-01-01T00:00:00Z" } },
      "invalidPublishAt",
      "not in the future"
    ]
  ]
  for (const [name, body, reason, mentions] of cases) {
    it.effect(`${name} → 400 ${reason}`, () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const r = yield* Effect.promise(() => initiate(sb, 10, body))
        expect(r.status).toBe(400)
        expect(r.json.error.errors[0].reason).toBe(reason)
        expect(r.json.error.message).toContain(mentions)
        expect(r.headers.location).toBeUndefined()
      }))
  }

  it.effect("a future publishAt on a private video is accepted and returned", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const at = new Date(sb.clock.now() + 48 * HOUR).toISOString()
      const init = yield* Effect.promise(() =>
        initiate(sb, 3, { snippet: { title: "later" }, status: { privacyStatus: "private", publishAt: at } })
      )
      expect(init.status).toBe(200)
      const put = yield* Effect.promise(() => request(init.headers.location!, { method: "PUT", body: "abc" }))
      expect(put.json.status.publishAt).toBe(at)
    }))
})

layer(Sandbox.layer({ youtube: { uploadsPerDay: 2, channelUploadLimit: 1, sessionLifetimeMillis: HOUR } }))(
  "youtube quota and limits",
  (it) => {
    it.effect("uploadLimitExceeded (400) after the channel limit, Video Uploads 429 after the bucket", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const first = yield* Effect.promise(() => initiate(sb, 10, meta))
        expect(first.status).toBe(200)
        const second = yield* Effect.promise(() => initiate(sb, 10, meta))
        expect(second.status).toBe(400)
        expect(second.json.error.errors[0]).toMatchObject({ reason: "uploadLimitExceeded", domain: "youtube.video" })
        const third = yield* Effect.promise(() => initiate(sb, 10, meta))
        expect(third.status).toBe(429)
        expect(third.json.error.errors[0].reason).toBe("rateLimitExceeded")
        expect(third.json.error.message).toContain("Video Uploads")
        expect(third.json.error.status).toBe("RESOURCE_EXHAUSTED")
        expect((sb.state().platforms.youtube as any).quota.uploadsLeft).toBe(0)

        // The session from the first call expires after its lifetime of sandbox time.
        const probe = () =>
          request(first.headers.location!, { method: "PUT", headers: { "content-range": "bytes */10" }, body: "" })
        expect((yield* Effect.promise(probe)).status).toBe(308)
        sb.clock.advance(HOUR + 1)
        expect((yield* Effect.promise(probe)).status).toBe(404)
      }))

    it.effect("access tokens expire after 3600 s of sandbox time", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const r = yield* Effect.promise(() => refresh(sb))
        const token: string = r.json.access_token
        const list = () =>
          request(`${sb.urls.youtube}/youtube/v3/videos?part=id&id=x`, {
            headers: { authorization: `Bearer ${token}` }
          })
        expect((yield* Effect.promise(list)).status).toBe(200)
        sb.clock.advance(HOUR - 1000)
        expect((yield* Effect.promise(list)).status).toBe(200)
        sb.clock.advance(1000)
        const expired = yield* Effect.promise(list)
        expect(expired.status).toBe(401)
        expect(expired.headers["www-authenticate"]).toContain("Bearer")
      }))

    it.effect("the unit pool: thumbnails cost 50, exhaustion is 403 quotaExceeded, the next Pacific day resets", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const token = (yield* Effect.promise(() => refresh(sb))).json.access_token as string
        const list = () =>
          request(`${sb.urls.youtube}/youtube/v3/videos?part=id&id=x`, {
            headers: { authorization: `Bearer ${token}` }
          })
        const used = (sb.state().platforms.youtube as any).quota.unitsUsed as number
        yield* Effect.promise(list)
        expect((sb.state().platforms.youtube as any).quota.unitsUsed).toBe(used + 1)
        sb.exhaustQuota("youtube")
        const denied = yield* Effect.promise(list)
        expect(denied.status).toBe(403)
        expect(denied.json.error.errors[0]).toMatchObject({ reason: "quotaExceeded", domain: "youtube.quota" })
        sb.clock.advance(24 * HOUR)
        const fresh = (yield* Effect.promise(() => refresh(sb))).json.access_token as string
        const ok = yield* Effect.promise(() =>
          request(`${sb.urls.youtube}/youtube/v3/videos?part=id&id=x`, {
            headers: { authorization: `Bearer ${fresh}` }
          })
        )
        expect(ok.status).toBe(200)
      }))
  }
)

layer(Sandbox.layer())("youtube upload faults", (it) => {
  it.effect("a drop mid-chunk keeps what arrived; the probe reports it and the client resumes", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(4 * KiB256 + 77, 17)
      const init = yield* Effect.promise(() => initiate(sb, data.length, meta))
      const session = init.headers.location!
      sb.inject({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes: 300_000 } })
      const dropped = yield* Effect.promise(() =>
        request(session, { method: "PUT", body: data }).then(() => "answered", () => "dropped")
      )
      expect(dropped).toBe("dropped")
      const probe = yield* Effect.promise(() =>
        request(session, { method: "PUT", headers: { "content-range": `bytes */${data.length}` }, body: "" })
      )
      expect(probe.status).toBe(308)
      expect(probe.headers.range).toBe("bytes=0-299999")
      const rest = yield* Effect.promise(() =>
        request(session, {
          method: "PUT",
          headers: { "content-range": `bytes 300000-${data.length - 1}/${data.length}` },
          body: data.subarray(300_000)
        })
      )
      expect(rest.status).toBe(201)
      expect(sb.state().uploads.find((u) => u.videoId === rest.json.id)!.sha256).toBe(sha256(data))
    }))

  it.effect("a retry that overlaps a still-streaming PUT waits for it instead of interleaving bytes", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(2 * KiB256, 40)
      const init = yield* Effect.promise(() => initiate(sb, 4 * KiB256, meta))
      const session = init.headers.location!
      const headers = { "content-range": `bytes 0-${data.length - 1}/${4 * KiB256}`, "content-length": data.length }
      // The first PUT sends half its body, then stalls until the retry is in flight.
      const before = sb.raw.log.filter((e) => e.method === "PUT").length
      const slow = new Promise<number>((resolve, reject) => {
        const req = http.request(session, { method: "PUT", agent: false, headers }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on("error", reject)
        req.write(data.subarray(0, KiB256))
        const puts = () => sb.raw.log.filter((e) => e.method === "PUT").length - before
        void (async () => {
          // Once the first PUT is being served, send the retry; once the server has taken the retry in, finish
          // the first body (bounded waits on the sandbox's own request log, no sleeps).
          await until(() => puts() === 1)
          retry = request(session, { method: "PUT", headers, body: data })
          await until(() => puts() === 2)
          req.end(data.subarray(KiB256))
        })().catch(reject)
      })
      let retry: Promise<{ status: number; headers: http.IncomingHttpHeaders }> | undefined
      const first = yield* Effect.promise(() => slow)
      const second = yield* Effect.promise(() => retry!)
      expect(first).toBe(308)
      expect(second.status).toBe(308)
      expect(second.headers.range).toBe(`bytes=0-${data.length - 1}`)
      const upload = [...sb.raw.uploads.values()].at(-1)!
      expect(upload.bytes).toBe(data.length)
      expect(upload.hash.copy().digest("hex")).toBe(sha256(data))
    }))

  it.effect("a lost final answer: the probe replays the 201", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(1000, 18)
      const init = yield* Effect.promise(() => initiate(sb, data.length, meta))
      sb.inject({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes: 1_000_000 } })
      const lost = yield* Effect.promise(() =>
        request(init.headers.location!, { method: "PUT", body: data }).then(() => "answered", () => "lost")
      )
      expect(lost).toBe("lost")
      const probe = yield* Effect.promise(() =>
        request(init.headers.location!, { method: "PUT", headers: { "content-range": "bytes */1000" }, body: "" })
      )
      expect(probe.status).toBe(201)
      expect(probe.json.kind).toBe("youtube#video")
    }))

  it.effect("partial acknowledgement: the 308's Range covers only a prefix", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(2 * KiB256 + 5, 19)
      const init = yield* Effect.promise(() => initiate(sb, data.length, meta))
      sb.inject({ platform: "youtube", route: "upload", action: { kind: "partialAck", bytes: 1000 } })
      const first = yield* Effect.promise(() => request(init.headers.location!, { method: "PUT", body: data }))
      expect(first.status).toBe(308)
      expect(first.headers.range).toBe(`bytes=0-${data.length - 1000 - 1}`)
      const rest = yield* Effect.promise(() =>
        request(init.headers.location!, {
          method: "PUT",
          headers: { "content-range": `bytes ${data.length - 1000}-${data.length - 1}/${data.length}` },
          body: data.subarray(data.length - 1000)
        })
      )
      expect(rest.status).toBe(201)
      expect(sb.state().uploads.find((u) => u.videoId === rest.json.id)!.sha256).toBe(sha256(data))
    }))

  it.effect("non-final chunks are stored in whole 256 KiB units", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(3 * KiB256, 20)
      const init = yield* Effect.promise(() => initiate(sb, data.length, meta))
      const odd = KiB256 + 1000
      const r = yield* Effect.promise(() =>
        request(init.headers.location!, {
          method: "PUT",
          headers: { "content-range": `bytes 0-${odd - 1}/${data.length}` },
          body: data.subarray(0, odd)
        })
      )
      expect(r.status).toBe(308)
      expect(r.headers.range).toBe(`bytes=0-${KiB256 - 1}`)
    }))

  it.effect("injected status faults use Google's error body and the upload route name", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const init = yield* Effect.promise(() => initiate(sb, 3, meta))
      sb.inject({ platform: "youtube", route: "upload", action: { kind: "status", status: 503 } })
      const r = yield* Effect.promise(() => request(init.headers.location!, { method: "PUT", body: "abc" }))
      expect(r.status).toBe(503)
      expect(r.json.error).toMatchObject({ code: 503, status: "UNAVAILABLE" })
      const again = yield* Effect.promise(() => request(init.headers.location!, { method: "PUT", body: "abc" }))
      expect(again.status).toBe(201)
      sb.inject({ platform: "youtube", route: "token", action: { kind: "status", status: 400, code: "invalid_grant" } })
      const t = yield* Effect.promise(() => refresh(sb))
      expect(t.json).toEqual({ error: "invalid_grant", error_description: "Sandbox fault" })
    }))
})

layer(Sandbox.layer({ youtube: { playlists: ["PLknown"], thumbnailMaxBytes: 10_000 } }))(
  "youtube thumbnails, playlists, auth",
  (it) => {
    it.effect("thumbnails.set rejects bad MIME, non-images, oversize and unknown videos", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const { put } = yield* Effect.promise(() => uploadWhole(sb, bytes(10)))
        const set = (videoId: string, type: string, body: Buffer) =>
          api(sb, `/upload/youtube/v3/thumbnails/set?videoId=${videoId}`, {
            method: "POST",
            headers: { "content-type": type },
            body
          })
        const jpeg = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), bytes(n)])
        const gif = yield* Effect.promise(() => set(put.json.id, "image/gif", jpeg(10)))
        expect(gif.json.error.errors[0]).toMatchObject({ reason: "invalidImage" })
        expect(gif.json.error.message).toContain("image/gif")
        const text = yield* Effect.promise(() => set(put.json.id, "image/png", Buffer.from("not an image")))
        expect(text.json.error.errors[0].reason).toBe("invalidImage")
        const big = yield* Effect.promise(() => set(put.json.id, "image/jpeg", jpeg(20_000)))
        expect(big.json.error.errors[0].reason).toBe("invalidImage")
        expect(big.json.error.message).toContain("10000 bytes")
        const empty = yield* Effect.promise(() => set(put.json.id, "image/jpeg", Buffer.alloc(0)))
        expect(empty.json.error.errors[0].reason).toBe("mediaBodyRequired")
        const missing = yield* Effect.promise(() => set("nope", "image/jpeg", jpeg(10)))
        expect(missing.status).toBe(404)
        expect(missing.json.error.errors[0].reason).toBe("videoNotFound")
      }))

    it.effect("playlistItems.insert checks the playlist, the resource kind and the video", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const { put } = yield* Effect.promise(() => uploadWhole(sb, bytes(10)))
        const insert = (snippet: unknown) =>
          api(sb, "/youtube/v3/playlistItems?part=snippet", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: json({ snippet })
          })
        const noList = yield* Effect.promise(() =>
          insert({ resourceId: { kind: "youtube#video", videoId: put.json.id } })
        )
        expect(noList.json.error.errors[0].reason).toBe("playlistIdRequired")
        const unknownList = yield* Effect.promise(() =>
          insert({ playlistId: "PLother", resourceId: { kind: "youtube#video", videoId: put.json.id } })
        )
        expect(unknownList.status).toBe(404)
        expect(unknownList.json.error.errors[0].reason).toBe("playlistNotFound")
        const kind = yield* Effect.promise(() =>
          insert({ playlistId: "PLknown", resourceId: { kind: "youtube#channel", videoId: put.json.id } })
        )
        expect(kind.json.error.errors[0].reason).toBe("invalidResourceType")
        const ok = yield* Effect.promise(() =>
          insert({ playlistId: "PLknown", resourceId: { kind: "youtube#video", videoId: put.json.id } })
        )
        expect(ok.status).toBe(200)
        expect(ok.json.snippet.position).toBe(0)
      }))

    it.effect("playlistItems.list filters by playlist and video, and checks the playlist", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const { put } = yield* Effect.promise(() => uploadWhole(sb, bytes(10)))
        const videoId: string = put.json.id
        const list = (query: string) => Effect.promise(() => api(sb, `/youtube/v3/playlistItems?${query}`))
        const before = yield* list(`part=id&playlistId=PLknown&videoId=${videoId}`)
        expect(before.status).toBe(200)
        expect(before.json.kind).toBe("youtube#playlistItemListResponse")
        expect(before.json.items).toEqual([])
        yield* Effect.promise(() =>
          api(sb, "/youtube/v3/playlistItems?part=snippet", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: json({ snippet: { playlistId: "PLknown", resourceId: { kind: "youtube#video", videoId } } })
          })
        )
        const after = yield* list(`part=id&playlistId=PLknown&videoId=${videoId}`)
        expect(after.json.items.map((i: any) => i.snippet.resourceId.videoId)).toEqual([videoId])
        expect((yield* list("part=id&playlistId=PLknown&videoId=other")).json.items).toEqual([])
        expect((yield* list("part=id")).json.error.errors[0].reason).toBe("playlistIdRequired")
        const unknown = yield* list("part=id&playlistId=PLother")
        expect(unknown.status).toBe(404)
        expect(unknown.json.error.errors[0].reason).toBe("playlistNotFound")
      }))

    it.effect("the auth endpoint refuses a non-loopback redirect_uri and an unknown client", () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const auth = (params: Record<string, string>) =>
          request(`${sb.urls.youtube}/o/oauth2/v2/auth?${new URLSearchParams(params)}`)
        const base = {
          client_id: sb.credentials.youtube.clientId,
          response_type: "code",
          scope: "https://www.googleapis.com/auth/youtube.upload",
          redirect_uri: "http://127.0.0.1:9/cb"
        }
        const remote = yield* Effect.promise(() => auth({ ...base, redirect_uri: "https://evil.example/cb" }))
        expect(remote.status).toBe(400)
        expect(remote.json.error).toBe("redirect_uri_mismatch")
        const client = yield* Effect.promise(() => auth({ ...base, client_id: "other" }))
        expect(client.status).toBe(401)
        expect(client.json.error).toBe("invalid_client")
        const noScope = yield* Effect.promise(() => auth({ ...base, scope: "", state: "s1" }))
        expect(noScope.status).toBe(302)
        const back = new URL(noScope.headers.location!)
        expect(back.searchParams.get("error")).toBe("invalid_request")
        expect(back.searchParams.get("state")).toBe("s1")
      }))
  }
)

// Its own sandbox: expiring tokens would break the other tests' default token.
layer(Sandbox.layer())("youtube token expiry mid-upload", (it) => {
  it.effect("an expired token on a session PUT gets 401; the session URI alone still works", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const token = (yield* Effect.promise(() => refresh(sb))).json.access_token as string
      const init = yield* Effect.promise(() => initiate(sb, 3, meta, token))
      sb.expireToken("youtube")
      const denied = yield* Effect.promise(() =>
        request(init.headers.location!, { method: "PUT", headers: { authorization: `Bearer ${token}` }, body: "abc" })
      )
      expect(denied.status).toBe(401)
      expect(denied.json.error.errors[0].reason).toBe("authError")
      const ok = yield* Effect.promise(() => request(init.headers.location!, { method: "PUT", body: "abc" }))
      expect(ok.status).toBe(201)
    }))
})

// Uploads of 32 MiB and more hash on a worker thread (forced here, whatever the env says).
layer(Sandbox.layer({ hashing: "worker" }))("youtube large uploads", (it) => {
  it.effect(
    "a 40 MiB upload with a drop, a partial ack and a probe racing completion stores the right sha256",
    () =>
      Effect.gen(function*() {
        const sb = yield* Sandbox.SandboxService
        const data = bytes(40 * 1024 * 1024, 31)
        const init = yield* Effect.promise(() => initiate(sb, data.length, meta))
        const session = init.headers.location!
        const raw = [...sb.raw.uploads.values()].at(-1)!
        expect(raw.external).toBeDefined()
        sb.inject({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes: 10_000_000 } })
        yield* Effect.promise(() =>
          request(session, { method: "PUT", body: data }).then(() => undefined, () => undefined)
        )
        const probe = () =>
          request(session, { method: "PUT", headers: { "content-range": `bytes */${data.length}` }, body: "" })
        const p1 = yield* Effect.promise(probe)
        expect(p1.headers.range).toBe("bytes=0-9999999")
        sb.inject({ platform: "youtube", route: "upload", action: { kind: "partialAck", bytes: 12_345 } })
        const mid = yield* Effect.promise(() =>
          request(session, {
            method: "PUT",
            headers: { "content-range": `bytes 10000000-${data.length - 1}/${data.length}` },
            body: data.subarray(10_000_000)
          })
        )
        expect(mid.status).toBe(308)
        const stored = Number(/bytes=0-(\d+)/.exec(mid.headers.range!)![1]) + 1
        expect(stored).toBe(data.length - 12_345)
        const [last, racing] = yield* Effect.promise(() =>
          Promise.all([
            request(session, {
              method: "PUT",
              headers: { "content-range": `bytes ${stored}-${data.length - 1}/${data.length}` },
              body: data.subarray(stored)
            }),
            probe()
          ])
        )
        expect(last.status).toBe(201)
        expect([201, 308]).toContain(racing.status)
        if (racing.status === 201) expect(racing.json.id).toBe(last.json.id)
        const upload = sb.state().uploads.find((u) => u.videoId === last.json.id)!
        expect(upload.sha256).toBe(sha256(data))
        expect(raw.external).toBeUndefined()
        expect(sb.state().uploads.filter((u) => u.platform === "youtube" && u.complete)).toHaveLength(1)
      }),
    60_000
  )
})
