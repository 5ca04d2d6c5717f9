/**
 * Conformance: X's community Node client (`twitter-api-v2`), unchanged except
 * for its URL prefix, against the sandbox. Its own OAuth 1.0a signer must
 * pass the emulator's signature check, and its v2 chunked media upload must
 * store the exact bytes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as http from "node:http"
import { TwitterApi, TwitterApiv2 } from "twitter-api-v2"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, sha256 } from "./sandbox-http.js"

/**
 * Pointed at the sandbox with the client's own knobs: `cloneWithPrefix` would
 * be the documented way, but in twitter-api-v2 1.29.1 it calls the class
 * constructor without `new` and throws, so this uses the (protected)
 * `setPrefix` it wraps; and an `http.Agent` (the `httpAgent` setting) because
 * the client always calls `https.request`, which then accepts `http:` URLs.
 */
class SandboxClient extends TwitterApiv2 {
  constructor(
    tokens: { appKey: string; appSecret: string; accessToken: string; accessSecret: string },
    prefix: string
  ) {
    super(new TwitterApi(tokens, { httpAgent: new http.Agent() }))
    this.setPrefix(prefix)
  }
}

const clientFor = (sb: Sandbox.Sandbox, secrets: Partial<{ appSecret: string }> = {}) =>
  new SandboxClient({
    appKey: sb.credentials.x.apiKey,
    appSecret: secrets.appSecret ?? sb.credentials.x.apiSecret,
    accessToken: sb.credentials.x.accessToken,
    accessSecret: sb.credentials.x.accessTokenSecret
  }, `${sb.urls.x}/2/`)

describe("twitter-api-v2 against the X emulator", () => {
  it.scoped("posts a tweet signed by the client's own OAuth 1.0a signer; reads it back", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make()
      const client = clientFor(sb)
      const text = "Conformance: a signed OAuth request! (with !*'() and a link https://youtu.be/abc123)"
      const result = yield* Effect.promise(() => client.tweet(text))
      assert.strictEqual(result.data.text, text)
      const stored = sb.state().posts.filter((p) => p.platform === "x")
      assert.deepStrictEqual(stored.map((p) => [p.id, p.text, p.link]), [[
        result.data.id,
        text,
        "https://youtu.be/abc123"
      ]])

      const me = yield* Effect.promise(() => client.me())
      assert.strictEqual(me.data.username, "medusa_sandbox")
      const timeline = yield* Effect.promise(() => client.userTimeline(me.data.id, { max_results: 5 }))
      assert.deepStrictEqual(timeline.tweets.map((t) => t.id), [result.data.id])

      const rejected = yield* Effect.promise(() =>
        clientFor(sb, { appSecret: "wrong" }).tweet("nope").then(
          () => undefined,
          (error: { code?: number }) => error
        )
      )
      assert.strictEqual(rejected?.code, 401)
      const duplicate = yield* Effect.promise(() =>
        client.tweet(text).then(() => undefined, (error: { code?: number; data?: { detail?: string } }) => error)
      )
      assert.strictEqual(duplicate?.code, 403)
      assert.strictEqual(duplicate?.data?.detail, "You are not allowed to create a Tweet with duplicate content.")
      assert.strictEqual(sb.state().posts.length, 1)
    }))

  it.scoped("uploads a video through the client's v2 chunked upload (polling STATUS) and attaches it", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make()
      const client = clientFor(sb)
      // Three 1 MiB appends and a short last one.
      const video = bytes(3 * 1024 * 1024 + 12_345, 77)
      const mediaId = yield* Effect.promise(() => client.uploadMedia(video, { media_type: "video/mp4" }))
      const upload = sb.state().uploads.find((u) => u.videoId === mediaId)
      assert.deepInclude(upload, {
        platform: "x",
        complete: true,
        bytes: video.length,
        totalBytes: video.length,
        sha256: sha256(video),
        requests: 4
      })
      const posted = yield* Effect.promise(() =>
        client.tweet({ text: "Now with native video", media: { media_ids: [mediaId] } })
      )
      const stored = sb.state().posts.find((p) => p.id === posted.data.id)
      assert.strictEqual(stored?.text, "Now with native video")
      assert.deepStrictEqual(stored?.extra, { mediaIds: [mediaId], mediaSha256: [sha256(video)] })
    }))
})
