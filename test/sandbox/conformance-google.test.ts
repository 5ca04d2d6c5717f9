/**
 * Google's official Node clients, unchanged except for their base URL, against
 * the YouTube emulator. A protocol deviation they trip over is a sandbox bug.
 */
import { expect, layer } from "@effect/vitest"
import { youtube } from "@googleapis/youtube"
import * as Effect from "effect/Effect"
import { OAuth2Client } from "google-auth-library"
import { Readable } from "node:stream"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, json, request, sha256 } from "./sandbox-http.js"

const oauthClient = (sb: Sandbox.Sandbox, redirectUri?: string) =>
  new OAuth2Client({
    clientId: sb.credentials.youtube.clientId,
    clientSecret: sb.credentials.youtube.clientSecret,
    ...(redirectUri ? { redirectUri } : {}),
    forceRefreshOnFailure: true,
    endpoints: {
      oauth2TokenUrl: `${sb.urls.youtube}/token`,
      oauth2AuthBaseUrl: `${sb.urls.youtube}/o/oauth2/v2/auth`
    }
  })

/** Uploads a video with the resumable protocol by hand (the Node client never uses it). */
const uploadVideo = async (sb: Sandbox.Sandbox, token: string, data: Buffer) => {
  const init = await request(`${sb.urls.youtube}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json; charset=UTF-8",
      "x-upload-content-length": data.length,
      "x-upload-content-type": "video/mp4"
    },
    body: json({ snippet: { title: "Conformance", categoryId: "22" }, status: { privacyStatus: "unlisted" } })
  })
  const put = await request(init.headers.location!, { method: "PUT", body: data })
  return put.json.id as string
}

layer(Sandbox.layer())("google official clients", (it) => {
  it.effect("OAuth2Client refreshes a token at the overridden token URL", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const client = oauthClient(sb)
      client.setCredentials({ refresh_token: sb.credentials.youtube.refreshToken })
      const seen: Array<unknown> = []
      client.on("tokens", (t) => seen.push(t))
      const { token } = yield* Effect.promise(() => client.getAccessToken())
      expect(token).toMatch(/^ya29\.sandbox-/)
      expect(client.credentials.expiry_date).toBeGreaterThan(Date.now() + 3_000_000)
      expect(seen).toHaveLength(1)
      // The token it got really works.
      const list = yield* Effect.promise(() =>
        request(`${sb.urls.youtube}/youtube/v3/videos?part=id&id=none`, {
          headers: { authorization: `Bearer ${token}` }
        })
      )
      expect(list.status).toBe(200)
    }))

  it.effect("OAuth2Client surfaces invalid_grant from the sandbox", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const client = oauthClient(sb)
      client.setCredentials({ refresh_token: "revoked" })
      const error = yield* Effect.promise(() => client.getAccessToken().then(() => undefined, (e: any) => e))
      expect(String(error?.message ?? error)).toContain("invalid_grant")
    }))

  it.effect("authorization code + PKCE S256: the auth endpoint redirects to the loopback URI, getToken verifies", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const redirectUri = "http://127.0.0.1:53682/callback"
      const client = oauthClient(sb, redirectUri)
      const { codeChallenge, codeVerifier } = yield* Effect.promise(() => client.generateCodeVerifierAsync())
      const url = client.generateAuthUrl({
        access_type: "offline",
        scope: ["https://www.googleapis.com/auth/youtube.upload"],
        state: "xyz",
        code_challenge: codeChallenge!,
        code_challenge_method: "S256" as any
      })
      expect(url.startsWith(`${sb.urls.youtube}/o/oauth2/v2/auth?`)).toBe(true)
      // Play the browser: follow nothing, read the redirect.
      const consent = yield* Effect.promise(() => request(url))
      expect(consent.status).toBe(302)
      const back = new URL(consent.headers.location!)
      expect(`${back.origin}${back.pathname}`).toBe(redirectUri)
      expect(back.searchParams.get("state")).toBe("xyz")
      const code = back.searchParams.get("code")!

      // A wrong verifier is refused, and the code is single-use.
      const wrong = yield* Effect.promise(() =>
        client.getToken({ code, codeVerifier: "x".repeat(43) }).then(() => undefined, (e: any) => e)
      )
      expect(String(wrong?.message)).toContain("invalid_grant")

      const again = yield* Effect.promise(() => request(url))
      const code2 = new URL(again.headers.location!).searchParams.get("code")!
      const { tokens } = yield* Effect.promise(() => client.getToken({ code: code2, codeVerifier: codeVerifier! }))
      expect(tokens.access_token).toMatch(/^ya29\.sandbox-/)
      expect(tokens.refresh_token).toBeTruthy()
      // The new refresh token refreshes.
      const fresh = oauthClient(sb)
      fresh.setCredentials({ refresh_token: tokens.refresh_token! })
      expect((yield* Effect.promise(() => fresh.getAccessToken())).token).toMatch(/^ya29\./)
    }))

  it.effect("@googleapis/youtube videos.list and thumbnails.set with rootUrl per call", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const auth = oauthClient(sb)
      auth.setCredentials({ refresh_token: sb.credentials.youtube.refreshToken })
      const token = (yield* Effect.promise(() => auth.getAccessToken())).token!
      const data = bytes(700_000, 21)
      const videoId = yield* Effect.promise(() => uploadVideo(sb, token, data))
      expect(sb.state().uploads.find((u) => u.videoId === videoId)?.sha256).toBe(sha256(data))

      const yt = youtube({ version: "v3", auth })
      const rootUrl = `${sb.urls.youtube}/`
      const listed = yield* Effect.promise(() =>
        yt.videos.list({ part: ["snippet", "status", "processingDetails"], id: [videoId] }, { rootUrl })
      )
      expect(listed.status).toBe(200)
      expect(listed.data.items?.[0]?.id).toBe(videoId)
      expect(listed.data.items?.[0]?.snippet?.title).toBe("Conformance")
      expect(listed.data.items?.[0]?.processingDetails?.processingStatus).toBe("processing")

      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), bytes(30_000, 8)])
      const set = yield* Effect.promise(() =>
        yt.thumbnails.set({ videoId, media: { mimeType: "image/png", body: Readable.from([png]) } }, { rootUrl })
      )
      expect(set.status).toBe(200)
      expect(set.data.kind).toBe("youtube#thumbnailSetResponse")
      const stored = (sb.state().platforms.youtube as any).thumbnails.find((t: any) => t.videoId === videoId)
      expect(stored).toMatchObject({ mimeType: "image/png", bytes: png.length, sha256: sha256(png) })
    }))

  it.effect("@googleapis/youtube videos.insert (multipart/related, streamed) stores the media and the resource", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const auth = oauthClient(sb)
      auth.setCredentials({ refresh_token: sb.credentials.youtube.refreshToken })
      const yt = youtube({ version: "v3", auth })
      const data = bytes(1_500_000, 23)
      const inserted = yield* Effect.promise(() =>
        yt.videos.insert(
          {
            part: ["snippet", "status"],
            requestBody: {
              snippet: { title: "Inserted by googleapis", description: "multipart", tags: ["sandbox"] },
              status: { privacyStatus: "private" }
            },
            media: { mimeType: "video/mp4", body: Readable.from([data.subarray(0, 700_000), data.subarray(700_000)]) }
          },
          { rootUrl: `${sb.urls.youtube}/` }
        )
      )
      expect(inserted.status).toBe(200)
      expect(inserted.data.snippet?.title).toBe("Inserted by googleapis")
      const stored = sb.state().uploads.find((u) => u.videoId === inserted.data.id)!
      expect(stored.bytes).toBe(data.length)
      expect(stored.sha256).toBe(sha256(data))
      expect(stored.metadata).toMatchObject({ snippet: { title: "Inserted by googleapis" } })
    }))

  it.effect("@googleapis/youtube captions.insert (multipart) and captions.list; a body that is not SRT or WebVTT is refused", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const auth = oauthClient(sb)
      auth.setCredentials({ refresh_token: sb.credentials.youtube.refreshToken })
      const token = (yield* Effect.promise(() => auth.getAccessToken())).token!
      const videoId = yield* Effect.promise(() => uploadVideo(sb, token, bytes(10_000, 24)))
      const yt = youtube({ version: "v3", auth })
      const rootUrl = `${sb.urls.youtube}/`
      const vtt = Buffer.from("WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n")
      const inserted = yield* Effect.promise(() =>
        yt.captions.insert(
          {
            part: ["snippet"],
            requestBody: { snippet: { videoId, language: "en", name: "English", isDraft: false } },
            media: { mimeType: "application/octet-stream", body: Readable.from([vtt]) }
          },
          { rootUrl }
        )
      )
      expect(inserted.status).toBe(200)
      expect(inserted.data.kind).toBe("youtube#caption")
      expect(inserted.data.snippet).toMatchObject({ videoId, language: "en", name: "English", isDraft: false })

      const listed = yield* Effect.promise(() => yt.captions.list({ part: ["snippet"], videoId }, { rootUrl }))
      expect(listed.status).toBe(200)
      expect(listed.data.items?.map((c) => [c.id, c.snippet?.language, c.snippet?.name])).toEqual([
        [inserted.data.id, "en", "English"]
      ])
      const stored = (sb.state().platforms.youtube as any).captions
      expect(stored).toHaveLength(1)
      expect(stored[0]).toMatchObject({ videoId, format: "vtt", bytes: vtt.length, sha256: sha256(vtt) })

      const refused: any = yield* Effect.promise(() =>
        yt.captions.insert(
          {
            part: ["snippet"],
            requestBody: { snippet: { videoId, language: "de", name: "" } },
            media: { mimeType: "application/octet-stream", body: Readable.from([Buffer.from("not captions")]) }
          },
          { rootUrl, retry: false }
        ).then(() => undefined, (e) => e)
      )
      expect(refused?.status).toBe(400)
      expect(refused?.response?.data?.error?.errors?.[0]?.reason).toBe("contentRequired")
    }))

  it.effect("the official client refreshes once on a 401 after the sandbox expires its token", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const auth = oauthClient(sb)
      auth.setCredentials({ refresh_token: sb.credentials.youtube.refreshToken })
      yield* Effect.promise(() => auth.getAccessToken())
      sb.expireToken("youtube")
      const yt = youtube({ version: "v3", auth })
      const before = (sb.state().platforms.youtube as any).tokens.refreshes
      const listed = yield* Effect.promise(() =>
        yt.videos.list({ part: ["id"], id: ["nothing"] }, { rootUrl: `${sb.urls.youtube}/` })
      )
      expect(listed.status).toBe(200)
      expect((sb.state().platforms.youtube as any).tokens.refreshes).toBe(before + 1)
    }))

  it.effect("the official client sees YouTube's quotaExceeded error body", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const auth = oauthClient(sb)
      auth.setCredentials({ refresh_token: sb.credentials.youtube.refreshToken })
      yield* Effect.promise(() => auth.getAccessToken())
      sb.exhaustQuota("youtube")
      const yt = youtube({ version: "v3", auth })
      const error: any = yield* Effect.promise(() =>
        yt.videos.list({ part: ["id"], id: ["x"] }, { rootUrl: `${sb.urls.youtube}/`, retry: false }).then(
          () => undefined,
          (e) => e
        )
      )
      expect(error?.status).toBe(403)
      expect(error?.response?.data?.error?.errors?.[0]).toMatchObject({
        reason: "quotaExceeded",
        domain: "youtube.quota"
      })
      expect(error?.response?.data?.error?.status).toBe("PERMISSION_DENIED")
    }))
})
