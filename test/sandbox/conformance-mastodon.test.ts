/**
 * Conformance: the `masto` client (7.x, the last line that runs on Node 20),
 * unchanged, against the sandbox's Mastodon emulator: the instance, the
 * account, a status with an `Idempotency-Key` (folded on a retry), a video
 * through `/api/v2/media` with the client's own wait for processing, the
 * account's statuses, deletion, and Mastodon's error body.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { createRestAPIClient, MastoHttpError } from "masto"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { sha256 } from "./sandbox-http.js"

const clientFor = (sb: Sandbox.Sandbox, accessToken = sb.credentials.mastodon.accessToken) =>
  createRestAPIClient({ url: sb.urls.mastodon, accessToken })

describe("masto against the Mastodon emulator", () => {
  it.scoped("reads the instance's limits and the account; posts with an Idempotency-Key, folded on a retry", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make()
      const masto = clientFor(sb)
      const instance = yield* Effect.promise(() => masto.v2.instance.fetch())
      assert.strictEqual(instance.configuration.statuses.maxCharacters, 500)
      assert.strictEqual(instance.configuration.statuses.charactersReservedPerUrl, 23)
      const me = yield* Effect.promise(() => masto.v1.accounts.verifyCredentials())
      assert.strictEqual(me.id, sb.credentials.mastodon.accountId)
      assert.strictEqual(me.username, "medusa")

      const text = "Conformance: a status with a link https://youtu.be/abc123 #medusa & <friends>"
      const meta = { requestInit: { headers: { "Idempotency-Key": "conformance-1" } } }
      const status = yield* Effect.promise(() =>
        masto.v1.statuses.create({ status: text, visibility: "unlisted" }, meta)
      )
      assert.strictEqual(status.visibility, "unlisted")
      assert.include(status.content, "<a href=\"https://youtu.be/abc123\"")
      const again = yield* Effect.promise(() => masto.v1.statuses.create({ status: text }, meta))
      assert.strictEqual(again.id, status.id)
      assert.deepStrictEqual(sb.raw.postsOf("mastodon").map((p) => [p.id, p.text]), [[status.id, text]])

      const listed = yield* Effect.promise(() => masto.v1.accounts.$select(me.id).statuses.list({ limit: 5 }))
      assert.deepStrictEqual(listed.map((s) => s.id), [status.id])
      const fetched = yield* Effect.promise(() => masto.v1.statuses.$select(status.id).fetch())
      assert.strictEqual(fetched.url, status.url)
      yield* Effect.promise(() => masto.v1.statuses.$select(status.id).remove())
      assert.lengthOf(sb.raw.postsOf("mastodon"), 0)
    }))

  it.scoped("uploads a video through /api/v2/media (202, then the client polls until processed) and attaches it", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({ mastodon: { mediaPolls: 1 } })
      const masto = clientFor(sb)
      const bytes = readFileSync(path.resolve("examples/media/sample.mp4"))
      const media = yield* Effect.promise(() =>
        masto.v2.media.create({ file: new Blob([bytes], { type: "video/mp4" }), description: "the sample" })
      )
      assert.isString(media.url)
      assert.strictEqual(media.type, "video")
      const upload = sb.state().uploads.find((u) => u.platform === "mastodon" && u.id === media.id)
      assert.strictEqual(upload?.sha256, sha256(bytes))
      const status = yield* Effect.promise(() =>
        masto.v1.statuses.create({ status: "With the video", mediaIds: [media.id] })
      )
      assert.deepStrictEqual(status.mediaAttachments.map((m) => m.id), [media.id])
      const log = sb.raw.log.filter((e) => e.platform === "mastodon").map((e) => `${e.method} ${e.path} ${e.status}`)
      assert.deepStrictEqual(log, [
        "POST /api/v2/media 202",
        `GET /api/v1/media/${media.id} 206`,
        `GET /api/v1/media/${media.id} 200`,
        "POST /api/v1/statuses 200"
      ])
    }))

  it.scoped("a status over the limit and a bad token get Mastodon's errors, which the client raises", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({ mastodon: { maxCharacters: 20 } })
      const tooLong = yield* Effect.promise(() =>
        clientFor(sb).v1.statuses.create({ status: "x".repeat(21) }).then(() => undefined, (e: unknown) => e)
      )
      assert.instanceOf(tooLong, MastoHttpError)
      assert.strictEqual((tooLong as MastoHttpError).statusCode, 422)
      assert.match((tooLong as MastoHttpError).message, /character limit of 20/)
      const unauthorized = yield* Effect.promise(() =>
        clientFor(sb, "wrong").v1.accounts.verifyCredentials().then(() => undefined, (e: unknown) => e)
      )
      assert.strictEqual((unauthorized as MastoHttpError).statusCode, 401)
      assert.lengthOf(sb.raw.postsOf("mastodon"), 0)
    }))
})
