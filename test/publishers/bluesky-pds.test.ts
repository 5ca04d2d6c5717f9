/**
 * The Bluesky publisher against a real PDS (`@atproto/pds`) run in this
 * process on loopback: the records it writes, the record key that makes a
 * re-send harmless, find, retract, the limits and the credential check, as
 * the real server answers them.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Bluesky from "../../src/platforms/bluesky/Bluesky.js"
import { BlueskyMetadata } from "../../src/PublishRequest.js"
import { TaskId } from "../../src/TaskId.js"
import * as Mp4Header from "../hosts/mp4.js"
import { captureLogs, context, exposed, mp4Video, youtubeVideo } from "./helpers.js"
import { startPds, type TestPds } from "./pds.js"

let server: TestPds
let alice: Awaited<ReturnType<TestPds["account"]>>

beforeAll(async () => {
  server = await startPds()
  alice = await server.account("alice")
  console.log(`PLC + PDS started in ${server.startMillis.toFixed(0)} ms at ${server.url}`)
}, 120_000)

afterAll(async () => {
  await server?.close()
})

const publisher = (appPassword = alice.appPassword) =>
  Bluesky.make({ identifier: alice.handle, appPassword: Redacted.make(appPassword), service: server.url })

const task = (n: number) => TaskId.make(`medusa_task_0d6f1c9a-3b2e-4f5a-8c7d-${n.toString(16).padStart(12, "0")}`)
const posting = (
  taskNumber: number,
  text: string,
  extra: Partial<ConstructorParameters<typeof BlueskyMetadata>[0]> = {}
) => ({
  ...context(new BlueskyMetadata({ text, ...extra })),
  taskId: task(taskNumber),
  taskCreatedAt: Date.now()
})
const rkeyOf = (uri: string) => uri.split("/").pop()!
const records = async () =>
  (await alice.agent.com.atproto.repo.listRecords({ repo: alice.did, collection: "app.bsky.feed.post" })).data.records

describe("Bluesky publisher against a real PDS", () => {
  it.live("writes the post with link and hashtag facets and the link card, under the task's record key", () =>
    Effect.gen(function*() {
      const bsky = yield* publisher()
      const text = "Our launch video https://youtu.be/dQw4w9WgXcQ #launch 🚀"
      const made = yield* bsky.post(posting(1, text, { langs: ["en"] }))
      expect(made.postId).toMatch(new RegExp(`^at://${alice.did}/app\\.bsky\\.feed\\.post/[2-7a-j][2-7a-z]{12}$`))
      expect(made.url).toBe(`https://bsky.app/profile/${alice.handle}/post/${rkeyOf(made.postId)}`)
      const stored = yield* Effect.promise(() =>
        alice.agent.com.atproto.repo.getRecord({
          repo: alice.did,
          collection: "app.bsky.feed.post",
          rkey: rkeyOf(made.postId)
        })
      )
      const value = stored.data.value as any
      expect(value.text).toBe(text)
      expect(value.langs).toEqual(["en"])
      expect(value.embed).toEqual({
        $type: "app.bsky.embed.external",
        external: { uri: youtubeVideo.url, title: "Launch day", description: "" }
      })
      const bytes = Buffer.from(text)
      expect(
        value.facets.map((
          f: any
        ) => [bytes.subarray(f.index.byteStart, f.index.byteEnd).toString(), f.features[0].$type])
      )
        .toEqual([
          ["https://youtu.be/dQw4w9WgXcQ", "app.bsky.richtext.facet#link"],
          ["#launch", "app.bsky.richtext.facet#tag"]
        ])
    }))

  it.live("a second send of the same task is refused by the repository and answered with the first post: one record", () =>
    Effect.gen(function*() {
      const bsky = yield* publisher()
      const before = (yield* Effect.promise(records)).length
      const context = posting(2, "Posted once, whatever happens")
      const first = yield* bsky.post(context)
      // Another process (a resumed task) sends the same task again.
      const again = yield* (yield* publisher()).post(context)
      expect(again.postId).toBe(first.postId)
      const after = yield* Effect.promise(records)
      expect(after.length - before).toBe(1)
      expect(after.filter((r) => r.uri === first.postId)).toHaveLength(1)
    }))

  it.live("the real PDS refuses a duplicate record key outright (what the publisher's look-up resolves)", () =>
    Effect.gen(function*() {
      const bsky = yield* publisher()
      const made = yield* bsky.post(posting(3, "key taken"))
      const error = yield* Effect.flip(Effect.tryPromise(() =>
        alice.agent.com.atproto.repo.createRecord({
          repo: alice.did,
          collection: "app.bsky.feed.post",
          rkey: rkeyOf(made.postId),
          record: { $type: "app.bsky.feed.post", text: "second", createdAt: new Date().toISOString() }
        })
      ))
      const status = (error.error as { status?: number }).status
      expect(status).toBe(500)
    }))

  it.live("attachVideo: the file goes up as a blob, the record's video embed references it, getBlob gives the bytes back", () =>
    Effect.gen(function*() {
      const bsky = yield* publisher()
      const dir = mkdtempSync(path.join(tmpdir(), "medusa-bsky-video-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const file = mp4Video(dir, { durationSeconds: 12, width: 1280, height: 720, mdatBytes: 200_000 })
      const made = yield* bsky.post({
        ...posting(20, "The video itself #launch", { attachVideo: true, alt: "A rocket" }),
        media: file.media
      })
      const stored = yield* Effect.promise(() =>
        alice.agent.com.atproto.repo.getRecord({
          repo: alice.did,
          collection: "app.bsky.feed.post",
          rkey: rkeyOf(made.postId)
        })
      )
      const embed = stored.data.value.embed as any
      expect(embed.$type).toBe("app.bsky.embed.video")
      expect(embed.alt).toBe("A rocket")
      expect([embed.video.mimeType, embed.video.size]).toEqual(["video/mp4", file.media.size])
      expect(embed.aspectRatio).toEqual({ width: 1280, height: 720 })
      const cid = embed.video.ref.toString()
      expect(cid).toMatch(/^bafkrei/)
      const blob = yield* Effect.promise(() => alice.agent.com.atproto.sync.getBlob({ did: alice.did, cid }))
      expect(createHash("sha256").update(blob.data).digest("hex")).toBe(file.sha256)
    }).pipe(Effect.scoped))

  it.live("find looks the task's record key up: the task's post, None for another task", () =>
    Effect.gen(function*() {
      const bsky = yield* publisher()
      const context = posting(4, "find me")
      const made = yield* bsky.post(context)
      expect(Option.getOrThrow(yield* bsky.find({ ...context, intentAt: Date.now() })).postId).toBe(made.postId)
      expect(Option.isNone(yield* bsky.find({ ...posting(5, "find me"), intentAt: Date.now() }))).toBe(true)
    }))

  it.live("retract deletes the record; a second retract finds it gone", () =>
    Effect.gen(function*() {
      const bsky = yield* publisher()
      const made = yield* bsky.post(posting(6, "short-lived"))
      expect(yield* bsky.retract!(made)).toBe("deleted")
      expect((yield* Effect.promise(records)).some((r) => r.uri === made.postId)).toBe(false)
      expect(yield* bsky.retract!(made)).toBe("gone")
    }))

  it.live("the PDS's limit is the publisher's: 300 graphemes pass, 301 are refused by both", () =>
    Effect.gen(function*() {
      const bsky = yield* publisher()
      const media = context(new BlueskyMetadata({ text: "" })).media
      const at300 = "é".repeat(300)
      const at301 = "é".repeat(301)
      expect(yield* bsky.validate(new BlueskyMetadata({ text: at300 }), media)).toEqual([])
      expect((yield* bsky.validate(new BlueskyMetadata({ text: at301 }), media)).map((i) => i.path)).toEqual([["text"]])
      const made = yield* bsky.post(posting(7, at300))
      expect(made.postId).toMatch(/^at:/)
      const refused = yield* Effect.flip(Effect.tryPromise(() =>
        alice.agent.com.atproto.repo.createRecord({
          repo: alice.did,
          collection: "app.bsky.feed.post",
          record: { $type: "app.bsky.feed.post", text: at301, createdAt: new Date().toISOString() }
        })
      ))
      expect(String((refused.error as Error).message)).toMatch(
        /grapheme too big \(maximum 300, got 301\) at \$\.record\.text/
      )
    }))

  it.live("credential check: the DID and handle for the app password, valid: false for a wrong one", () =>
    Effect.gen(function*() {
      const ok = yield* Bluesky.checkCredentials({
        identifier: alice.handle,
        appPassword: Redacted.make(alice.appPassword),
        service: server.url
      })
      expect([ok.ok, ok.did, ok.handle]).toEqual([true, alice.did, alice.handle])
      const bad = yield* Bluesky.checkCredentials({
        identifier: alice.handle,
        appPassword: Redacted.make("CANARY-aaaa-bbbb-cccc"),
        service: server.url
      })
      expect([bad.ok, bad.valid]).toEqual([false, false])
      expect(JSON.stringify(bad)).not.toContain("CANARY")
    }))

  it.live("canary: the app password never appears in errors, logs or reports", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const seen: Array<string> = []
      yield* Effect.gen(function*() {
        const good = yield* publisher()
        yield* good.post(posting(8, "canary run"))
        const wrong = yield* publisher(`${alice.appPassword.slice(0, 5)}CANARY`)
        seen.push(exposed(yield* Effect.flip(wrong.post(posting(9, "refused")))))
        seen.push(JSON.stringify(
          yield* Bluesky.checkCredentials({
            identifier: alice.handle,
            appPassword: Redacted.make(alice.appPassword),
            service: server.url
          })
        ))
      }).pipe(Effect.provide(logs.layer))
      const all = [...seen, ...logs.lines].join("\n")
      expect(seen[0]).toMatch(/auth_invalid|app password/)
      expect(all).not.toContain(alice.appPassword)
      expect(all).not.toContain("CANARY")
    }))
})

/**
 * The same calls, through the official client, to the real PDS and to the
 * sandbox's emulator: what each answers (status and XRPC error name, or the
 * fields the publisher reads) must be the same.
 */
const conversation = async (service: string, identifier: string, password: string) => {
  const { AtpAgent } = await import("@atproto/api")
  const outcome = async (call: () => Promise<unknown>): Promise<string> => {
    try {
      const res = await call() as { data?: Record<string, unknown> }
      return `ok ${
        Object.keys(res.data ?? {}).filter((k) => ["uri", "cid", "value", "did", "handle", "blob"].includes(k)).sort()
      }`
    } catch (error) {
      const e = error as { status?: number; error?: string; message?: string }
      const grapheme = /grapheme too big \(maximum 300, got 301\)/.test(e.message ?? "") ? " (grapheme limit)" : ""
      return `${e.status} ${e.error}${grapheme}`
    }
  }
  const agent = new AtpAgent({ service })
  const said: Array<string> = []
  said.push(await outcome(() => new AtpAgent({ service }).login({ identifier, password: "wrong-pass-word" })))
  said.push(await outcome(() => agent.login({ identifier, password })))
  const repo = agent.session!.did
  const collection = "app.bsky.feed.post"
  const rkey = "3kzzzzzzzzz22"
  const post = (text: string) => ({ $type: collection, text, createdAt: new Date().toISOString() })
  const repoApi = agent.com.atproto.repo
  said.push(await outcome(() => repoApi.createRecord({ repo, collection, rkey, record: post("first") })))
  said.push(await outcome(() => repoApi.createRecord({ repo, collection, rkey, record: post("again") })))
  said.push(await outcome(() => repoApi.getRecord({ repo, collection, rkey })))
  said.push(await outcome(() => repoApi.getRecord({ repo, collection, rkey: "3kzzzzzzzzz33" })))
  said.push(await outcome(() => repoApi.createRecord({ repo, collection, record: post("é".repeat(301)) })))
  said.push(await outcome(() => repoApi.deleteRecord({ repo, collection, rkey })))
  said.push(await outcome(() => repoApi.deleteRecord({ repo, collection, rkey })))
  said.push(await outcome(() => repoApi.getRecord({ repo, collection, rkey })))
  // A video: the blob, then posts embedding it (as uploaded, with another type, with an unknown CID).
  const video = Mp4Header.mp4({ durationSeconds: 5, tracks: [{ handler: "vide", width: 640, height: 360 }] })
  let blob: any
  said.push(
    await outcome(async () => {
      const res = await repoApi.uploadBlob(video, { encoding: "video/mp4" })
      blob = res.data.blob.toJSON()
      return res
    })
  )
  said.push(`${blob?.mimeType} ${blob?.size === video.length} ${String(blob?.ref?.$link).slice(0, 7)}`)
  const withVideo = (v: unknown) => ({ ...post("video"), embed: { $type: "app.bsky.embed.video", video: v } })
  said.push(await outcome(() => repoApi.createRecord({ repo, collection, record: withVideo(blob) })))
  said.push(
    await outcome(() =>
      repoApi.createRecord({ repo, collection, record: withVideo({ ...blob, mimeType: "video/webm" }) })
    )
  )
  const unknown = { ...blob, ref: { $link: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" } }
  said.push(await outcome(() => repoApi.createRecord({ repo, collection, record: withVideo(unknown) })))
  return said
}

describe("the sandbox's Bluesky emulator answers as the real PDS", () => {
  it("the same calls through @atproto/api: the same statuses, error names and fields", async () => {
    const bob = await server.account("bob")
    const real = await conversation(server.url, bob.handle, bob.appPassword)
    const { start } = await import("../../src/sandbox/Sandbox.js")
    const sb = await start()
    try {
      const emulated = await conversation(
        sb.urls.bluesky,
        sb.credentials.bluesky.handle,
        sb.credentials.bluesky.appPassword
      )
      expect(real).toEqual([
        "401 AuthenticationRequired",
        "ok did,handle",
        "ok cid,uri",
        "500 InternalServerError",
        "ok cid,uri,value",
        "400 RecordNotFound",
        "400 InvalidRequest (grapheme limit)",
        "ok ",
        "ok ",
        "400 RecordNotFound",
        "ok blob",
        "video/mp4 true bafkrei",
        "ok cid,uri",
        "400 InvalidRequest",
        "400 BlobNotFound"
      ])
      expect(emulated).toEqual(real)
    } finally {
      await sb.close()
    }
  })
})
