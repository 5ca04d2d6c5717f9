/**
 * Conformance: Meta's official Business SDK (`facebook-nodejs-business-sdk`),
 * unchanged except for its Graph origin, against the Facebook emulator: the
 * Page calls Medusa's adapter makes (a feed post with a link, a scheduled
 * post, the feed and scheduled posts that reconciliation reads, deleting a
 * post, the chunked Page video upload) and Graph's error body as the SDK
 * raises it. The sandbox serves the Graph version the SDK pins.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { createRequire } from "node:module"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { bytes, sha256 } from "./sandbox-http.js"

const require = createRequire(import.meta.url)

interface CrudObject {
  readonly id: string
  readonly _data: Record<string, any>
  read(fields: ReadonlyArray<string>, params?: object): Promise<CrudObject>
  delete(params?: object): Promise<Record<string, unknown>>
}
type CrudClass = new(id: string | null, data?: object, parentId?: string, api?: Api) => CrudObject
interface Cursor extends Array<CrudObject> {
  readonly paging: unknown
  hasNext(): boolean
  next(): Promise<Cursor>
}
interface PageObject extends CrudObject {
  createFeed(fields: ReadonlyArray<string>, params: object): Promise<CrudObject>
  getFeed(fields: ReadonlyArray<string>, params: object): Promise<Cursor>
  getScheduledPosts(fields: ReadonlyArray<string>, params: object): Promise<Cursor>
  createVideo(fields: ReadonlyArray<string>, params: object): Promise<CrudObject>
}
interface Api {
  readonly accessToken: string
}
interface ApiClass {
  new(accessToken: string, locale?: string, crashLog?: boolean): Api
  readonly VERSION: string
  readonly GRAPH: string
  readonly GRAPH_VIDEO: string
}
/** What the SDK rejects with: Graph's `error` object as `response`. */
interface FacebookRequestError {
  readonly name: string
  readonly status: number
  readonly message: string
  readonly response: Record<string, any>
  readonly headers: Record<string, string>
}

const sdk = require("facebook-nodejs-business-sdk") as {
  FacebookAdsApi: ApiClass
  Page: new(id: string, data?: object, parentId?: string, api?: Api) => PageObject
  Post: CrudClass
  AdVideo: CrudClass
}
const { AdVideo, FacebookAdsApi, Page, Post } = sdk

/** The axios the SDK calls (its own CommonJS copy, not the ESM one a test import would load). */
const axios = createRequire(require.resolve("facebook-nodejs-business-sdk"))("axios") as {
  interceptors: {
    request: {
      use(f: (config: { url?: string; baseURL?: string; proxy?: unknown }) => unknown): number
      eject(id: number): void
    }
  }
}

/**
 * Points the SDK at the sandbox: its Graph origins are static getters
 * (`FacebookAdsApi.GRAPH`, `GRAPH_VIDEO`), redefined for the test and put
 * back after it. An interceptor on the SDK's axios refuses any request that
 * is not loopback (and turns off proxies from the environment), and records
 * what was sent. The crash reporter stays off: it would hook
 * `uncaughtException` for the whole process and post reports to Graph.
 */
const pointAt = (sb: Sandbox.Sandbox, accessToken = sb.credentials.facebook.pageAccessToken) =>
  Effect.gen(function*() {
    const saved = (["GRAPH", "GRAPH_VIDEO"] as const).map((key) =>
      [key, Object.getOwnPropertyDescriptor(FacebookAdsApi, key)!] as const
    )
    for (const [key] of saved) {
      Object.defineProperty(FacebookAdsApi, key, { get: () => sb.urls.facebook, configurable: true })
    }
    const sent: Array<string> = []
    const interceptor = axios.interceptors.request.use((config) => {
      const url = new URL(String(config.url), config.baseURL)
      if (url.hostname !== "127.0.0.1") throw new Error(`refusing to leave loopback: ${url.href}`)
      sent.push(url.pathname)
      return { ...config, proxy: false }
    })
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        axios.interceptors.request.eject(interceptor)
        for (const [key, descriptor] of saved) Object.defineProperty(FacebookAdsApi, key, descriptor)
      })
    )
    const api = new FacebookAdsApi(accessToken, "en_US", false)
    return { api, page: new Page(sb.credentials.facebook.pageId, {}, undefined, api), sent }
  })

/** The SDK's rejection, or undefined when the call succeeded. */
const failure = <A>(promise: Promise<A>) =>
  Effect.promise(() => promise.then(() => undefined, (e: FacebookRequestError) => e))

/** The SDK pins one Graph version; the sandbox serves that one. */
const make = Sandbox.make({ facebook: { graphVersion: FacebookAdsApi.VERSION } })

describe("facebook-nodejs-business-sdk against the Facebook emulator", () => {
  it.scoped("posts to the Page feed with a link, reads the feed as reconciliation does, deletes the post", () =>
    Effect.gen(function*() {
      const sb = yield* make
      const { api, page, sent } = yield* pointAt(sb)
      const message = "Conformance: the official SDK posts https://youtu.be/abc123"
      const created = yield* Effect.promise(() => page.createFeed([], { message, link: "https://youtu.be/abc123" }))
      assert.match(created.id, new RegExp(`^${sb.credentials.facebook.pageId}_\\d+$`))
      assert.deepStrictEqual(sb.state().posts.map((p) => [p.platform, p.id, p.text, p.link]), [[
        "facebook",
        created.id,
        message,
        "https://youtu.be/abc123"
      ]])

      // The feed with the fields and limit Medusa's reconciliation asks for.
      const feed = yield* Effect.promise(() => page.getFeed(["id", "message", "created_time"], { limit: 50 }))
      assert.deepStrictEqual(feed.map((p) => [p.id, p._data.message]), [[created.id, message]])
      const createdTime = String(feed[0]!._data.created_time)
      assert.match(createdTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/)
      assert.isFalse(feed.hasNext())

      // The post by its id, with the fields the SDK asks for.
      const read = yield* Effect.promise(() =>
        new Post(created.id, {}, undefined, api).read(["id", "message", "created_time", "permalink_url"])
      )
      assert.deepInclude(read._data, {
        id: created.id,
        message,
        created_time: createdTime,
        permalink_url: `https://www.facebook.com/${created.id.replace("_", "/posts/")}`
      })

      const deleted = yield* Effect.promise(() => new Post(created.id, {}, undefined, api).delete())
      assert.deepStrictEqual(deleted, { success: true })
      assert.lengthOf(sb.state().posts, 0)
      const empty = yield* Effect.promise(() => page.getFeed(["id", "message", "created_time"], { limit: 50 }))
      assert.lengthOf(empty, 0)
      // The post is gone: Graph's unknown-object error.
      const again = yield* failure(new Post(created.id, {}, undefined, api).delete())
      assert.strictEqual(again?.name, "FacebookRequestError")
      assert.deepInclude(again?.response, { code: 100, error_subcode: 33, type: "GraphMethodException" })

      const v = FacebookAdsApi.VERSION
      const pageId = sb.credentials.facebook.pageId
      assert.deepStrictEqual(sent, [
        `/${v}/${pageId}/feed`,
        `/${v}/${pageId}/feed`,
        `/${v}/${created.id}`,
        `/${v}/${created.id}`,
        `/${v}/${pageId}/feed`,
        `/${v}/${created.id}`
      ])
    }))

  it.scoped("a scheduled post (published false, a Unix time) is listed in scheduled_posts until due, then in the feed", () =>
    Effect.gen(function*() {
      const sb = yield* make
      const { page } = yield* pointAt(sb)
      const when = Math.floor(sb.clock.now() / 1000) + 86_400
      // The SDK sends JSON: `published` a boolean, the time a number.
      const created = yield* Effect.promise(() =>
        page.createFeed([], { message: "Tomorrow", published: false, scheduled_publish_time: when })
      )
      const fields = ["id", "message", "created_time", "scheduled_publish_time"]
      const scheduled = yield* Effect.promise(() => page.getScheduledPosts(fields, { limit: 50 }))
      assert.deepStrictEqual(scheduled.map((p) => [p.id, p._data.message, p._data.scheduled_publish_time]), [[
        created.id,
        "Tomorrow",
        when
      ]])
      assert.lengthOf(yield* Effect.promise(() => page.getFeed(fields, { limit: 50 })), 0)
      sb.clock.advance(86_400_000 + 1000)
      assert.lengthOf(yield* Effect.promise(() => page.getScheduledPosts(fields, { limit: 50 })), 0)
      const feed = yield* Effect.promise(() => page.getFeed(fields, { limit: 50 }))
      assert.deepStrictEqual(feed.map((p) => p.id), [created.id])
    }))

  it.scoped("the SDK's Cursor pages through the feed by paging.next, newest first, to the end", () =>
    Effect.gen(function*() {
      const sb = yield* make
      const { page, sent } = yield* pointAt(sb)
      const now = sb.clock.now()
      // Five posts, two of them in the same millisecond (the id orders those).
      for (const [i, ago] of [50, 40, 30, 30, 10].entries()) {
        sb.seedPost({ platform: "facebook", text: `post ${i}`, at: now - ago * 60_000 })
      }
      const cursor = yield* Effect.promise(() => page.getFeed(["id", "message"], { limit: 2 }))
      const seen = [cursor.map((p) => p._data.message)]
      while (cursor.hasNext()) {
        yield* Effect.promise(() => cursor.next())
        seen.push(cursor.map((p) => p._data.message))
      }
      assert.deepStrictEqual(seen, [["post 4", "post 3"], ["post 2", "post 1"], ["post 0"]])
      assert.lengthOf(sent, 3)
    }))

  it.scoped("uploads a Page video in Graph's phases (start, transfer, finish), reads it back, deletes it", () =>
    Effect.gen(function*() {
      const sb = yield* Sandbox.make({
        facebook: { graphVersion: FacebookAdsApi.VERSION, videoChunkBytes: 256 * 1024 }
      })
      const { api, page } = yield* pointAt(sb)
      const video = bytes(600_000, 41)
      const start = yield* Effect.promise(() =>
        page.createVideo([], { upload_phase: "start", file_size: video.length })
      )
      const session = start._data as Record<string, string>
      assert.deepInclude(session, { start_offset: "0", end_offset: "262144" })
      assert.isString(session.upload_session_id)
      assert.isString(session.video_id)

      // The SDK cannot send a chunk: its multipart path (`files` / `useMultipartFormData`) deletes the request
      // body before calling axios, and its VideoUploader targets `/{id}/advideos` and JSON.parses an already
      // parsed answer. So each transfer is the multipart form Graph documents, sent with fetch.
      const url = `${FacebookAdsApi.GRAPH_VIDEO}/${FacebookAdsApi.VERSION}/${sb.credentials.facebook.pageId}/videos`
      let offsets = { start: Number(session.start_offset), end: Number(session.end_offset) }
      let transfers = 0
      while (offsets.start < offsets.end) {
        const form = new FormData()
        form.set("access_token", api.accessToken)
        form.set("upload_phase", "transfer")
        form.set("upload_session_id", session.upload_session_id!)
        form.set("start_offset", String(offsets.start))
        form.set("video_file_chunk", new Blob([video.subarray(offsets.start, offsets.end)]), "chunk")
        const answer = yield* Effect.promise(() => fetch(url, { method: "POST", body: form }))
        assert.strictEqual(answer.status, 200)
        const next = (yield* Effect.promise(() => answer.json())) as { start_offset: string; end_offset: string }
        offsets = { start: Number(next.start_offset), end: Number(next.end_offset) }
        transfers += 1
      }
      assert.strictEqual(transfers, 3)

      const finished = yield* Effect.promise(() =>
        page.createVideo([], {
          upload_phase: "finish",
          upload_session_id: session.upload_session_id,
          description: "Conformance video"
        })
      )
      assert.isTrue(finished._data.success)
      const stored = sb.state().uploads.find((u) => u.videoId === session.video_id)
      assert.deepInclude(stored, { complete: true, bytes: video.length, sha256: sha256(video) })

      // What reconciliation reads for a video: the video object.
      const read = yield* Effect.promise(() =>
        new AdVideo(session.video_id!, {}, undefined, api).read(["id", "description", "published", "created_time"])
      )
      assert.deepInclude(read._data, { id: session.video_id, description: "Conformance video", published: true })
      assert.deepStrictEqual(sb.state().posts.map((p) => [p.id, p.text]), [[session.video_id, "Conformance video"]])
      // Retracting a video post deletes the video.
      const deleted = yield* Effect.promise(() => new AdVideo(session.video_id!, {}, undefined, api).delete())
      assert.deepStrictEqual(deleted, { success: true })
      assert.lengthOf(sb.state().posts, 0)
    }))

  it.scoped("an invalid token is Graph's OAuthException 190 with an fbtrace_id, as the SDK raises it", () =>
    Effect.gen(function*() {
      const sb = yield* make
      const { page } = yield* pointAt(sb, "not-a-token")
      const rejected = yield* failure(page.getFeed(["id", "message", "created_time"], { limit: 50 }))
      assert.strictEqual(rejected?.name, "FacebookRequestError")
      assert.strictEqual(rejected?.status, 400)
      assert.strictEqual(rejected?.response.code, 190)
      assert.strictEqual(rejected?.response.type, "OAuthException")
      assert.match(rejected?.response.fbtrace_id, /^[A-Za-z0-9_-]{10,}$/)
      assert.strictEqual(rejected?.message, rejected?.response.message)
      assert.match(rejected?.headers["www-authenticate"] ?? "", /invalid_token/)
      const posting = yield* failure(page.createFeed([], { message: "nope" }))
      assert.strictEqual(posting?.response.code, 190)
      assert.lengthOf(sb.state().posts, 0)
    }))
})
