/**
 * Conformance: LinkedIn's official JS client (`linkedin-api-client`,
 * `RestliClient`), unchanged except for its origin, against the LinkedIn
 * emulator: the Rest.li calls Medusa's adapter makes (create a post, the
 * author finder reconciliation reads, delete, the Videos API actions) and
 * LinkedIn's error bodies as the client surfaces them.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { RestliClient } from "linkedin-api-client"
import { defaultApiVersion } from "../../src/platforms/linkedin/LinkedIn.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, sha256 } from "./sandbox-http.js"

/** The `LinkedIn-Version` Medusa sends by default. */
const versionString = defaultApiVersion

interface Sent {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, unknown>
}

/**
 * The client builds absolute `https://api.linkedin.com/rest/…` URLs from a
 * constant and has no base-URL setting, so a request interceptor on its own
 * (public) axios instance swaps that origin for the sandbox's; anything else
 * that is not loopback is refused before it is sent. `proxy: false` keeps
 * axios from routing loopback through a proxy taken from the environment.
 */
const clientFor = (sb: Sandbox.Sandbox) => {
  const client = new RestliClient({ proxy: false })
  const sent: Array<Sent> = []
  client.axiosInstance.interceptors.request.use((config) => {
    const url = String(config.url).replace(/^https:\/\/api\.linkedin\.com(?=\/)/, sb.urls.linkedin)
    if (new URL(url).hostname !== "127.0.0.1") throw new Error(`refusing to leave loopback: ${url}`)
    sent.push({ method: String(config.method).toUpperCase(), url, headers: { ...config.headers } })
    return { ...config, url }
  })
  return { client, sent }
}

/** The axios error the client rejects with, or undefined when the call succeeded. */
const failure = <A>(promise: Promise<A>) =>
  Effect.promise(() =>
    promise.then(
      () => undefined,
      (e: { response?: { status: number; data: any; headers: Record<string, unknown> } }) => e.response
    )
  )

const post = (author: string, commentary: string, content?: object) => ({
  author,
  commentary,
  visibility: "PUBLIC",
  distribution: { feedDistribution: "MAIN_FEED", targetEntities: [], thirdPartyDistributionChannels: [] },
  lifecycleState: "PUBLISHED",
  isReshareDisabledByAuthor: false,
  ...(content === undefined ? {} : { content })
})

describe("linkedin-api-client against the LinkedIn emulator", () => {
  it.scoped("creates a post (x-restli-id), finds it with the author finder, reads it, deletes it", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make()
      const { client, sent } = clientFor(sb)
      const { accessToken, authorUrn } = sb.credentials.linkedin
      // Escaped as Medusa's little-text escaping sends it.
      const commentary = "Conformance \\(official client\\) \\#medusa"
      const created = yield* Effect.promise(() =>
        client.create({
          resourcePath: "/posts",
          entity: post(authorUrn, commentary, {
            article: { source: "https://youtu.be/abc123", title: "The video" }
          }),
          versionString,
          accessToken
        })
      )
      assert.strictEqual(created.status, 201)
      assert.match(created.createdEntityId as string, /^urn:li:share:\d+$/)
      const urn = created.createdEntityId as string
      // The client sent LinkedIn's headers itself.
      assert.deepInclude(sent[0]!.headers, {
        "LinkedIn-Version": versionString,
        "X-RestLi-Protocol-Version": "2.0.0",
        Authorization: `Bearer ${accessToken}`
      })
      assert.deepStrictEqual(sb.state().posts.map((p) => [p.platform, p.id, p.text, p.link]), [[
        "linkedin",
        urn,
        "Conformance (official client) #medusa",
        "https://youtu.be/abc123"
      ]])

      // The finder reconciliation reads (q=author), with Medusa's parameters.
      const found = yield* Effect.promise(() =>
        client.finder({
          resourcePath: "/posts",
          finderName: "author",
          queryParams: { author: authorUrn, count: 20, sortBy: "LAST_MODIFIED" },
          versionString,
          accessToken
        })
      )
      assert.strictEqual(found.status, 200)
      assert.deepStrictEqual(found.data.elements.map((e: any) => [e.id, e.author, e.commentary]), [[
        urn,
        authorUrn,
        commentary
      ]])
      assert.isNumber(found.data.elements[0].createdAt)
      assert.deepInclude(found.data.paging, { start: 0, count: 20, total: 1 })

      // One post by its URN (the client encodes the URN as the path key).
      const read = yield* Effect.promise(() =>
        client.get({ resourcePath: "/posts/{id}", pathKeys: { id: urn }, versionString, accessToken })
      )
      assert.strictEqual(read.data.id, urn)
      assert.strictEqual(read.data.commentary, commentary)
      assert.deepStrictEqual(read.data.content, { article: { source: "https://youtu.be/abc123", title: "The video" } })

      const deleted = yield* Effect.promise(() =>
        client.delete({ resourcePath: "/posts/{id}", pathKeys: { id: urn }, versionString, accessToken })
      )
      assert.strictEqual(deleted.status, 204)
      assert.lengthOf(sb.state().posts, 0)
      // Deleting it again is a 404 (Medusa's retract reads that as "gone").
      const again = yield* failure(
        client.delete({ resourcePath: "/posts/{id}", pathKeys: { id: urn }, versionString, accessToken })
      )
      assert.strictEqual(again?.status, 404)
      assert.strictEqual(again?.data.status, 404)
      assert.deepStrictEqual(sent.map((s) => `${s.method} ${new URL(s.url).pathname}`), [
        "POST /rest/posts",
        "GET /rest/posts",
        `GET /rest/posts/${encodeURIComponent(urn)}`,
        `DELETE /rest/posts/${encodeURIComponent(urn)}`,
        `DELETE /rest/posts/${encodeURIComponent(urn)}`
      ])
    }))

  it.scoped("uploads a video through the Videos API actions and PUTs to the upload URLs; posts it", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({ linkedin: { videoPartBytes: 256 * 1024 } })
      const { client } = clientFor(sb)
      const { accessToken, authorUrn } = sb.credentials.linkedin
      const video = bytes(600_000, 31)
      const init = yield* Effect.promise(() =>
        client.action({
          resourcePath: "/videos",
          actionName: "initializeUpload",
          data: {
            initializeUploadRequest: {
              owner: authorUrn,
              fileSizeBytes: video.length,
              uploadCaptions: false,
              uploadThumbnail: false
            }
          },
          versionString,
          accessToken
        })
      )
      assert.strictEqual(init.status, 200)
      const value = init.data.value as {
        video: string
        uploadToken: string
        uploadInstructions: Array<{ uploadUrl: string; firstByte: number; lastByte: number }>
      }
      assert.match(value.video, /^urn:li:video:/)
      assert.deepStrictEqual(value.uploadInstructions.map((i) => [i.firstByte, i.lastByte]), [
        [0, 262_143],
        [262_144, 524_287],
        [524_288, 599_999]
      ])
      // The client has no call for the pre-signed upload URLs (LinkedIn's own instructions use a plain PUT),
      // so each part goes through the client's axios instance, without the token.
      const etags: Array<string> = []
      for (const part of value.uploadInstructions) {
        const put = yield* Effect.promise(() =>
          client.axiosInstance.put(part.uploadUrl, video.subarray(part.firstByte, part.lastByte + 1), {
            headers: { "Content-Type": "application/octet-stream" }
          })
        )
        assert.strictEqual(put.status, 200)
        etags.push(String(put.headers.etag))
      }
      const finalized = yield* Effect.promise(() =>
        client.action({
          resourcePath: "/videos",
          actionName: "finalizeUpload",
          data: {
            finalizeUploadRequest: { video: value.video, uploadToken: value.uploadToken, uploadedPartIds: etags }
          },
          versionString,
          accessToken
        })
      )
      assert.strictEqual(finalized.status, 200)
      const stored = sb.state().uploads.find((u) => u.videoId === value.video)
      assert.deepInclude(stored, { complete: true, bytes: video.length, sha256: sha256(video), requests: 3 })

      const status = yield* Effect.promise(() =>
        client.get({ resourcePath: "/videos/{id}", pathKeys: { id: value.video }, versionString, accessToken })
      )
      assert.strictEqual(status.data.status, "AVAILABLE")

      const created = yield* Effect.promise(() =>
        client.create({
          resourcePath: "/posts",
          entity: post(authorUrn, "With the native video", { media: { id: value.video, title: "The video" } }),
          versionString,
          accessToken
        })
      )
      const stored2 = sb.state().posts.find((p) => p.id === created.createdEntityId)
      assert.strictEqual(stored2?.extra?.video, value.video)
    }))

  it.scoped("a bad token is LinkedIn's 401 body, a sunset version 426, the daily limit 429, as the client raises them", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make()
      const { client } = clientFor(sb)
      const { accessToken, authorUrn } = sb.credentials.linkedin
      const unauthorized = yield* failure(
        client.finder({
          resourcePath: "/posts",
          finderName: "author",
          queryParams: { author: authorUrn },
          versionString,
          accessToken: "wrong"
        })
      )
      assert.strictEqual(unauthorized?.status, 401)
      assert.deepStrictEqual(unauthorized?.data, {
        message: "Invalid access token",
        serviceErrorCode: 65600,
        status: 401
      })

      // A version LinkedIn no longer serves (Medusa tells the user to raise linkedin.api_version).
      const sunset = yield* failure(
        client.finder({
          resourcePath: "/posts",
          finderName: "author",
          queryParams: { author: authorUrn },
          versionString: "202401",
          accessToken
        })
      )
      assert.strictEqual(sunset?.status, 426)
      assert.strictEqual(sunset?.data.status, 426)

      sb.exhaustQuota("linkedin")
      const throttled = yield* failure(
        client.create({ resourcePath: "/posts", entity: post(authorUrn, "One too many"), versionString, accessToken })
      )
      assert.strictEqual(throttled?.status, 429)
      assert.strictEqual(throttled?.data.status, 429)
      assert.match(throttled?.data.message, /throttle/)
      assert.lengthOf(sb.state().posts, 0)
    }))
})
