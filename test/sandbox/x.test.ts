import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import * as OAuth1 from "../../src/platforms/x/internal/oauth1.js"
import { MultipartParser } from "../../src/sandbox/emulators/x.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, request, sha256 } from "./sandbox-http.js"

interface SignOptions {
  readonly formParams?: Record<string, string>
  readonly timestamp?: number
  readonly nonce?: string
  readonly consumerSecret?: string
  readonly consumerKey?: string
}

const auth = (sb: Sandbox.Sandbox, method: string, url: string, options: SignOptions = {}) =>
  OAuth1.sign({
    method,
    url,
    consumerKey: options.consumerKey ?? sb.credentials.x.apiKey,
    consumerSecret: options.consumerSecret ?? sb.credentials.x.apiSecret,
    token: sb.credentials.x.accessToken,
    tokenSecret: sb.credentials.x.accessTokenSecret,
    nonce: options.nonce,
    timestamp: options.timestamp,
    formParams: options.formParams
  })

const tweet = (sb: Sandbox.Sandbox, body: unknown, options: SignOptions = {}) =>
  Effect.promise(() => {
    const url = `${sb.urls.x}/2/tweets`
    return request(url, {
      method: "POST",
      headers: { authorization: auth(sb, "POST", url, options), "content-type": "application/json" },
      body: JSON.stringify(body)
    })
  })

const get = (sb: Sandbox.Sandbox, path: string) =>
  Effect.promise(() => {
    const url = `${sb.urls.x}${path}`
    return request(url, { headers: { authorization: auth(sb, "GET", url) } })
  })

const postJson = (sb: Sandbox.Sandbox, path: string, body: unknown) =>
  Effect.promise(() => {
    const url = `${sb.urls.x}${path}`
    return request(url, {
      method: "POST",
      headers: { authorization: auth(sb, "POST", url), "content-type": "application/json" },
      body: body === undefined ? "" : JSON.stringify(body)
    })
  })

const postForm = (sb: Sandbox.Sandbox, path: string, fields: Record<string, string>) =>
  Effect.promise(() => {
    const url = `${sb.urls.x}${path}`
    return request(url, {
      method: "POST",
      headers: {
        authorization: auth(sb, "POST", url, { formParams: fields }),
        "content-type": "application/x-www-form-urlencoded"
      },
      body: new URLSearchParams(fields).toString()
    })
  })

const BOUNDARY = "----sandbox-test-boundary-42"
const multipart = (parts: ReadonlyArray<readonly [string, string | Buffer]>): Buffer =>
  Buffer.concat([
    ...parts.flatMap(([name, value]) => [
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"` +
          (typeof value === "string" ? "" : `; filename="blob"\r\nContent-Type: application/octet-stream`) +
          "\r\n\r\n"
      ),
      typeof value === "string" ? Buffer.from(value) : value,
      Buffer.from("\r\n")
    ]),
    Buffer.from(`--${BOUNDARY}--\r\n`)
  ])

const postMultipart = (sb: Sandbox.Sandbox, path: string, parts: ReadonlyArray<readonly [string, string | Buffer]>) =>
  Effect.tryPromise(() => {
    const url = `${sb.urls.x}${path}`
    return request(url, {
      method: "POST",
      headers: { authorization: auth(sb, "POST", url), "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart(parts)
    })
  })

let unique = 0
const text = (label: string) => `${label} ${++unique} ${Date.now()}`

/** Uploads `data` in `segment`-byte appends through the v2 endpoints; returns the media id. */
const uploadV2 = (sb: Sandbox.Sandbox, data: Buffer, segment: number) =>
  Effect.gen(function*() {
    const init = yield* postJson(sb, "/2/media/upload/initialize", {
      media_type: "video/mp4",
      total_bytes: data.length,
      media_category: "tweet_video"
    })
    assert.strictEqual(init.status, 200)
    const id: string = init.json.data.id
    assert.strictEqual(init.json.data.media_key, `7_${id}`)
    for (let i = 0; i * segment < data.length; i++) {
      const r = yield* postMultipart(sb, `/2/media/upload/${id}/append`, [
        ["segment_index", String(i)],
        ["media", data.subarray(i * segment, (i + 1) * segment)]
      ]).pipe(Effect.orDie)
      assert.strictEqual(r.status, 200, r.text)
      assert.isNumber(r.json.data.expires_at)
    }
    return id
  })

layer(Sandbox.layer())("x emulator", (it) => {
  it.effect("posts a signed tweet: 201, stored text/link/url, rate-limit headers counting down", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const content = text("New video https://youtu.be/abc123")
      const r = yield* tweet(sb, { text: content })
      assert.strictEqual(r.status, 201, r.text)
      assert.strictEqual(r.json.data.text, content)
      const id: string = r.json.data.id
      assert.match(id, /^\d{18,19}$/)
      assert.deepInclude(sb.state().posts.find((p) => p.id === id), {
        platform: "x",
        text: content,
        link: "https://youtu.be/abc123",
        url: `https://x.com/i/web/status/${id}`
      })
      assert.strictEqual(r.headers["x-rate-limit-limit"], "100")
      const remaining = Number(r.headers["x-rate-limit-remaining"])
      assert.isAtLeast(Number(r.headers["x-rate-limit-reset"]), Math.floor(sb.clock.now() / 1000))
      const r2 = yield* tweet(sb, { text: text("another") })
      assert.strictEqual(Number(r2.headers["x-rate-limit-remaining"]), remaining - 1)
    }))

  it.effect("rejects bad OAuth with X's 401 problem: wrong secret, unknown key, other URL, none", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const before = sb.state().posts.length
      const wrong = yield* tweet(sb, { text: text("x") }, { consumerSecret: "wrong" })
      assert.strictEqual(wrong.status, 401)
      assert.deepInclude(wrong.json, {
        title: "Unauthorized",
        type: "about:blank",
        status: 401,
        detail: "Unauthorized"
      })
      assert.include(wrong.json.sandbox_reason, "signature")
      assert.strictEqual(wrong.headers["x-rate-limit-limit"], "100")
      assert.isDefined(wrong.headers["x-rate-limit-reset"])
      const unknown = yield* tweet(sb, { text: text("x") }, { consumerKey: "someone-else" })
      assert.strictEqual(unknown.status, 401)
      const url = `${sb.urls.x}/2/tweets`
      const otherUrl = yield* Effect.promise(() =>
        request(url, {
          method: "POST",
          headers: {
            authorization: auth(sb, "POST", "https://api.x.com/2/tweets"),
            "content-type": "application/json"
          },
          body: JSON.stringify({ text: text("x") })
        })
      )
      assert.strictEqual(otherUrl.status, 401)
      const none = yield* Effect.promise(() =>
        request(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
      )
      assert.strictEqual(none.status, 401)
      const bearer = yield* Effect.promise(() =>
        request(url, { method: "POST", headers: { authorization: "Bearer abc", "content-type": "application/json" } })
      )
      assert.strictEqual(bearer.status, 401)
      assert.strictEqual(sb.state().posts.length, before)
    }))

  it.effect("checks the timestamp window and rejects a replayed nonce", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const old = yield* tweet(sb, { text: text("old") }, { timestamp: Math.floor(Date.now() / 1000) - 3600 })
      assert.strictEqual(old.status, 401)
      assert.include(old.json.sandbox_reason, "oauth_timestamp")
      const url = `${sb.urls.x}/2/users/me`
      const header = auth(sb, "GET", url, { nonce: "fixed-nonce-1" })
      const first = yield* Effect.promise(() => request(url, { headers: { authorization: header } }))
      assert.strictEqual(first.status, 200)
      const replay = yield* Effect.promise(() => request(url, { headers: { authorization: header } }))
      assert.strictEqual(replay.status, 401)
      assert.include(replay.json.sandbox_reason, "nonce")
    }))

  it.effect("checks the weighted length with URLs counting 23 and emoji 2", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const ok = yield* tweet(sb, { text: "a".repeat(280) })
      assert.strictEqual(ok.status, 201)
      const long = yield* tweet(sb, { text: "b".repeat(281) })
      assert.strictEqual(long.status, 400)
      assert.strictEqual(long.json.type, "https://api.twitter.com/2/problems/invalid-request")
      assert.include(long.json.errors[0].message, "281")
      const url = `https://example.com/${"p".repeat(200)}`
      const withUrl = yield* tweet(sb, { text: `${"c".repeat(256)} ${url}` })
      assert.strictEqual(withUrl.status, 201)
      const emoji = yield* tweet(sb, { text: "😀".repeat(140) })
      assert.strictEqual(emoji.status, 201)
      const tooManyEmoji = yield* tweet(sb, { text: "😃".repeat(141) })
      assert.strictEqual(tooManyEmoji.status, 400)
    }))

  it.effect("property: k letters + a URL of any length is accepted iff k + 24 <= 280", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 200, max: 300 }),
            fc.integer({ min: 0, max: 300 }),
            async (k, pathLength) => {
              const body = `${"z".repeat(k - 8)}${String(++unique).padStart(8, "0")} https://youtu.be/${
                "q".repeat(pathLength)
              }`
              const url = `${sb.urls.x}/2/tweets`
              const r = await request(url, {
                method: "POST",
                headers: { authorization: auth(sb, "POST", url), "content-type": "application/json" },
                body: JSON.stringify({ text: body })
              })
              return k + 24 <= 280 ? r.status === 201 : r.status === 400
            }
          ),
          { numRuns: 30 }
        )
      )
    }))

  it.effect("rejects duplicate content with X's 403 body and stores nothing", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const content = text("dup")
      assert.strictEqual((yield* tweet(sb, { text: content })).status, 201)
      const before = sb.state().posts.length
      const again = yield* tweet(sb, { text: content })
      assert.strictEqual(again.status, 403)
      assert.deepStrictEqual(again.json, {
        detail: "You are not allowed to create a Tweet with duplicate content.",
        type: "about:blank",
        title: "Forbidden",
        status: 403
      })
      assert.strictEqual(sb.state().posts.length, before)
    }))

  it.effect("users/me and users/:id/tweets (newest first, unknown user)", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const me = yield* get(sb, "/2/users/me")
      assert.deepStrictEqual(me.json, {
        data: { id: "1000000001", name: "Medusa Sandbox", username: "medusa_sandbox" }
      })
      const a = yield* tweet(sb, { text: text("first") })
      const b = yield* tweet(sb, { text: text("second") })
      const list = yield* get(sb, `/2/users/${me.json.data.id}/tweets?max_results=5&tweet.fields=created_at`)
      assert.strictEqual(list.status, 200)
      assert.deepStrictEqual(list.json.data.slice(0, 2).map((t: any) => t.id), [b.json.data.id, a.json.data.id])
      assert.strictEqual(list.json.data[0].text, b.json.data.text)
      assert.isString(list.json.data[0].created_at)
      assert.strictEqual(list.json.meta.newest_id, b.json.data.id)
      const since = yield* get(sb, `/2/users/${me.json.data.id}/tweets?since_id=${a.json.data.id}`)
      assert.deepStrictEqual(since.json.data.map((t: any) => t.id), [b.json.data.id])
      const other = yield* get(sb, "/2/users/42/tweets")
      assert.strictEqual(other.json.errors[0].type, "https://api.twitter.com/2/problems/resource-not-found")
    }))

  it.effect("v2 chunked media upload: append, finalize, STATUS pending → in_progress → succeeded, attach", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(300_000, 9)
      const id = yield* uploadV2(sb, data, 128 * 1024)
      const early = yield* tweet(sb, { text: text("too early"), media: { media_ids: [id] } })
      assert.strictEqual(early.status, 400)
      assert.strictEqual(early.json.errors[0].message, "Your media IDs are invalid.")
      const fin = yield* postJson(sb, `/2/media/upload/${id}/finalize`, undefined)
      assert.strictEqual(fin.status, 200)
      assert.deepInclude(fin.json.data, { id, size: data.length })
      assert.deepStrictEqual(fin.json.data.processing_info, {
        state: "pending",
        check_after_secs: 1,
        progress_percent: 0
      })
      const pending = yield* tweet(sb, { text: text("pending"), media: { media_ids: [id] } })
      assert.strictEqual(pending.status, 400)
      const s1 = yield* get(sb, `/2/media/upload?command=STATUS&media_id=${id}`)
      assert.strictEqual(s1.json.data.processing_info.state, "in_progress")
      const s2 = yield* get(sb, `/2/media/upload?command=STATUS&media_id=${id}`)
      assert.strictEqual(s2.json.data.processing_info.state, "succeeded")
      const content = text("with video")
      const posted = yield* tweet(sb, { text: content, media: { media_ids: [id] } })
      assert.strictEqual(posted.status, 201)
      const upload = sb.state().uploads.find((u) => u.videoId === id)
      assert.deepInclude(upload, { platform: "x", bytes: data.length, complete: true, sha256: sha256(data) })
      const stored = sb.state().posts.find((p) => p.id === posted.json.data.id)
      assert.deepStrictEqual(stored?.extra, { mediaIds: [id], mediaSha256: [sha256(data)] })
    }))

  it.effect("append: in-order segments, an idempotent resend, out-of-order and short uploads rejected", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(10_000, 3)
      const init = yield* postJson(sb, "/2/media/upload/initialize", { media_type: "video/mp4", total_bytes: 10_000 })
      const id: string = init.json.data.id
      const seg = (i: number) => data.subarray(i * 4000, (i + 1) * 4000)
      const append = (i: number, chunk = seg(i)) =>
        postMultipart(sb, `/2/media/upload/${id}/append`, [["segment_index", String(i)], ["media", chunk]]).pipe(
          Effect.orDie
        )
      assert.strictEqual((yield* append(0)).status, 200)
      const skip = yield* append(2)
      assert.strictEqual(skip.status, 400)
      assert.include(skip.json.errors[0].message, "segment_index 2")
      assert.strictEqual((yield* append(0)).status, 200) // resent after a lost answer: ignored
      assert.strictEqual((yield* append(1)).status, 200)
      const short = yield* postJson(sb, `/2/media/upload/${id}/finalize`, undefined)
      assert.strictEqual(short.status, 400)
      assert.include(short.json.errors[0].message, "Segments do not add up")
      assert.strictEqual((yield* append(2)).status, 200)
      const fin = yield* postJson(sb, `/2/media/upload/${id}/finalize`, undefined)
      assert.strictEqual(fin.status, 200)
      assert.strictEqual(sb.state().uploads.find((u) => u.videoId === id)?.sha256, sha256(data))
      const unknown = yield* postMultipart(sb, "/2/media/upload/123/append", [["segment_index", "0"], [
        "media",
        Buffer.from("x")
      ]]).pipe(Effect.orDie)
      assert.strictEqual(unknown.status, 400)
      assert.include(unknown.json.errors[0].message, "123")
    }))

  it.effect("a connection dropped mid-append keeps nothing of that segment; the resend completes the file", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(200_000, 4)
      const init = yield* postJson(sb, "/2/media/upload/initialize", { media_type: "video/mp4", total_bytes: 200_000 })
      const id: string = init.json.data.id
      const append = (i: number) =>
        postMultipart(sb, `/2/media/upload/${id}/append`, [
          ["segment_index", String(i)],
          ["media", data.subarray(i * 100_000, (i + 1) * 100_000)]
        ])
      assert.strictEqual((yield* Effect.orDie(append(0))).status, 200)
      sb.inject({ platform: "x", route: "media.append", action: { kind: "drop", afterBytes: 50_000 } })
      const dropped = yield* Effect.either(append(1))
      assert.isTrue(dropped._tag === "Left")
      assert.strictEqual(sb.state().uploads.find((u) => u.videoId === id)?.bytes, 100_000)
      assert.strictEqual((yield* Effect.orDie(append(1))).status, 200)
      const fin = yield* postJson(sb, `/2/media/upload/${id}/finalize`, undefined)
      assert.strictEqual(fin.status, 200)
      assert.strictEqual(sb.state().uploads.find((u) => u.videoId === id)?.sha256, sha256(data))
    }))

  it.effect("the older POST /2/media/upload with command=INIT|APPEND|FINALIZE (form and multipart)", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.SandboxService
      const data = bytes(5000, 11)
      const init = yield* postForm(sb, "/2/media/upload", {
        command: "INIT",
        media_type: "image/png",
        total_bytes: String(data.length)
      })
      assert.strictEqual(init.status, 200, init.text)
      const id: string = init.json.data.id
      assert.strictEqual(init.json.data.media_key, `3_${id}`)
      // media before media_id: the emulator buffers this one part.
      const a0 = yield* postMultipart(sb, "/2/media/upload", [
        ["command", "APPEND"],
        ["media", data.subarray(0, 3000)],
        ["media_id", id],
        ["segment_index", "0"]
      ]).pipe(Effect.orDie)
      assert.strictEqual(a0.status, 200, a0.text)
      const a1 = yield* postForm(sb, "/2/media/upload", {
        command: "APPEND",
        media_id: id,
        segment_index: "1",
        media_data: data.subarray(3000).toString("base64")
      })
      assert.strictEqual(a1.status, 200, a1.text)
      const fin = yield* postForm(sb, "/2/media/upload", { command: "FINALIZE", media_id: id })
      assert.strictEqual(fin.status, 200)
      assert.isUndefined(fin.json.data.processing_info)
      assert.strictEqual(sb.state().uploads.find((u) => u.videoId === id)?.sha256, sha256(data))
      const bad = yield* postForm(sb, "/2/media/upload", { command: "NOPE" })
      assert.strictEqual(bad.status, 400)
    }))
})

describe("x emulator, configured", () => {
  it.scoped("429 with code 88 once the window is used up; the sandbox clock resets it", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({ x: { rateLimits: { tweets: { limit: 2, windowSeconds: 60 } } } })
      assert.strictEqual((yield* tweet(sb, { text: "one" })).status, 201)
      const two = yield* tweet(sb, { text: "two" })
      assert.strictEqual(two.headers["x-rate-limit-remaining"], "0")
      const reset = Number(two.headers["x-rate-limit-reset"])
      const three = yield* tweet(sb, { text: "three" })
      assert.strictEqual(three.status, 429)
      assert.deepStrictEqual(three.json, { errors: [{ code: 88, message: "Rate limit exceeded" }] })
      assert.strictEqual(Number(three.headers["x-rate-limit-reset"]), reset)
      assert.strictEqual(sb.state().posts.length, 2)
      sb.clock.advance(60_000)
      const four = yield* tweet(sb, { text: "four" })
      assert.strictEqual(four.status, 201)
      assert.strictEqual(four.headers["x-rate-limit-remaining"], "1")
      sb.exhaustQuota("x")
      assert.strictEqual((yield* tweet(sb, { text: "five" })).status, 429)
    }))

  it.scoped("a revoked token gets 401; a canary secret never shows in state or answers", () =>
    Effect.gen(function*() {
      const canary = "CANARY-x-91bd"
      const sb = yield* Sandbox.make({
        credentials: { x: { apiSecret: `${canary}-s`, accessToken: `1000000001-${canary}`, accessTokenSecret: canary } }
      })
      const ok = yield* tweet(sb, { text: "canary check" })
      assert.strictEqual(ok.status, 201)
      sb.expireToken("x")
      const revoked = yield* tweet(sb, { text: "after revoke" })
      assert.strictEqual(revoked.status, 401)
      assert.notInclude(revoked.text, canary)
      assert.notInclude(JSON.stringify(sb.state()), canary)
    }))

  it.scoped("processing can fail, and failed media cannot be attached", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({ x: { processingOutcome: "failed", processingPolls: 1 } })
      const id = yield* uploadV2(sb, bytes(1000, 2), 1000)
      yield* postJson(sb, `/2/media/upload/${id}/finalize`, undefined)
      const s = yield* get(sb, `/2/media/upload?command=STATUS&media_id=${id}`)
      assert.strictEqual(s.json.data.processing_info.state, "failed")
      const r = yield* tweet(sb, { text: "x", media: { media_ids: [id] } })
      assert.strictEqual(r.status, 400)
    }))
})

describe("MultipartParser", () => {
  it("parses fields and binary parts however the body is split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), fc.uint8Array({ maxLength: 300 })), {
          minLength: 1,
          maxLength: 5
        }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (parts, cuts) => {
          const body = multipart(parts.map(([n, v]) => [n, Buffer.from(v)] as const))
          const seen: Array<[string, Buffer]> = []
          let current: Array<Buffer> = []
          const parser = new MultipartParser(BOUNDARY, {
            onPart: (name) => {
              current = []
              seen.push([name, Buffer.alloc(0)])
            },
            onData: (c) => current.push(Buffer.from(c)),
            onPartEnd: () => {
              seen[seen.length - 1]![1] = Buffer.concat(current)
            }
          })
          let offset = 0
          let i = 0
          while (offset < body.length) {
            const n = cuts[i++ % cuts.length]!
            parser.write(body.subarray(offset, offset + n))
            offset += n
          }
          return parser.complete && seen.length === parts.length &&
            seen.every(([n, v], k) => n === parts[k]![0] && v.equals(Buffer.from(parts[k]![1])))
        }
      ),
      { numRuns: 200 }
    )
  })
})
