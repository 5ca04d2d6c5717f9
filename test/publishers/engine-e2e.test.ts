/**
 * Full tasks through the engine against the sandbox: the real YouTube and
 * Vimeo hosts upload the sample video, then the real Facebook, X and LinkedIn
 * publishers post with the templates filled with the uploads' links. Real
 * time (`it.live`): uploads run their own back-off schedules.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Medusa from "../../src/Medusa.js"
import * as Facebook from "../../src/platforms/facebook/Facebook.js"
import * as LinkedIn from "../../src/platforms/linkedin/LinkedIn.js"
import * as Mastodon from "../../src/platforms/mastodon/Mastodon.js"
import * as Threads from "../../src/platforms/threads/Threads.js"
import * as Vimeo from "../../src/platforms/vimeo/Vimeo.js"
import * as X from "../../src/platforms/x/X.js"
import * as YouTube from "../../src/platforms/youtube/YouTube.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { Http, sandbox } from "./helpers.js"

const sample = path.resolve(import.meta.dirname, "../../examples/media/sample.mp4")

/** Medusa with the five real adapters pointed at the sandbox. */
const live = (sb: Sandbox.Sandbox, dir: string) =>
  Effect.promise(() => sb.writeConfig(dir)).pipe(
    Effect.map(() =>
      Medusa.layerMemory({ retention: "1 hour" }).pipe(
        Layer.provide(Layer.mergeAll(
          YouTube.layer({
            clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
            credentialsFile: path.join(dir, "youtube-credentials.json"),
            quotaFile: path.join(dir, "youtube-quota.json"),
            baseUrl: sb.urls.youtube
          }),
          Vimeo.layer({ accessToken: Redacted.make(sb.credentials.vimeo.accessToken), baseUrl: sb.urls.vimeo }),
          Facebook.layer({
            pageId: sb.credentials.facebook.pageId,
            accessToken: Redacted.make(sb.credentials.facebook.pageAccessToken),
            baseUrl: sb.urls.facebook
          }),
          X.layer({
            apiKey: Redacted.make(sb.credentials.x.apiKey),
            apiSecret: Redacted.make(sb.credentials.x.apiSecret),
            accessToken: Redacted.make(sb.credentials.x.accessToken),
            accessTokenSecret: Redacted.make(sb.credentials.x.accessTokenSecret),
            baseUrl: sb.urls.x
          }),
          LinkedIn.layer({
            accessToken: Redacted.make(sb.credentials.linkedin.accessToken),
            authorUrn: sb.credentials.linkedin.authorUrn,
            baseUrl: sb.urls.linkedin
          }),
          Threads.layer({
            accessToken: Redacted.make(sb.credentials.threads.accessToken),
            userId: sb.credentials.threads.userId,
            baseUrl: sb.urls.threads
          }),
          Mastodon.layer({
            accessToken: Redacted.make(sb.credentials.mastodon.accessToken),
            instanceUrl: sb.urls.mastodon
          })
        )),
        Layer.provide(Layer.mergeAll(Http, NodeFileSystem.layer))
      )
    )
  )

const scratch = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(path.join(tmpdir(), "medusa-e2e-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const request = (overrides: Partial<PublishRequestInput> = {}): PublishRequestInput => ({
  mediaFile: sample,
  platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
  metadata: {
    youtube: { title: "Medusa launch", privacy: "unlisted" },
    vimeo: { title: "Medusa launch" },
    facebook: { message: "New video on YouTube: {youtube_url}", link: "{vimeo_url}" },
    x: { text: "Watch {youtube_url} or on Vimeo {vimeo_url} (#{vimeo_video_id})" },
    linkedin: { text: "We shipped (finally) #medusa: {youtube_url}" }
  },
  ...overrides
})

describe("full tasks through the engine", () => {
  it.live("YouTube and Vimeo uploads, then all three posts carrying the right links", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox()
      const dir = yield* scratch
      const layer = yield* live(sb, dir)
      const task = yield* Medusa.publish(request()).pipe(Effect.provide(layer))
      expect(task.state).toBe("completed")

      const youtube = task.videos.find((v) => v.host === "youtube")!
      const vimeo = task.videos.find((v) => v.host === "vimeo")!
      expect(youtube.url).toContain(youtube.videoId)
      expect(vimeo.url).toBe(`https://vimeo.com/${vimeo.videoId}`)
      // Both hosts got the whole file.
      const size = statSync(sample).size
      const uploads = sb.state().uploads.filter((u) => u.platform === "youtube" || u.platform === "vimeo")
      expect(uploads.filter((u) => u.complete && u.bytes === size).map((u) => u.platform).sort()).toEqual([
        "vimeo",
        "youtube"
      ])

      const facebook = sb.raw.postsOf("facebook")
      const x = sb.raw.postsOf("x")
      const linkedin = sb.raw.postsOf("linkedin")
      expect(facebook).toHaveLength(1)
      expect(x).toHaveLength(1)
      expect(linkedin).toHaveLength(1)
      expect(facebook[0]!.text).toBe(`New video on YouTube: ${youtube.url}`)
      expect(facebook[0]!.link).toBe(vimeo.url)
      expect(x[0]!.text).toBe(`Watch ${youtube.url} or on Vimeo ${vimeo.url} (#${vimeo.videoId})`)
      expect(linkedin[0]!.text).toBe(`We shipped (finally) #medusa: ${youtube.url}`)
      // The first host's link is LinkedIn's article.
      expect(linkedin[0]!.link).toBe(youtube.url)

      const byPublisher = Object.fromEntries(task.posts.map((p) => [p.publisher, p.postId]))
      expect(byPublisher).toEqual({ facebook: facebook[0]!.id, x: x[0]!.id, linkedin: linkedin[0]!.id })
    }).pipe(Effect.scoped))

  it.live("Threads and Mastodon: the YouTube link in the thread, the status with the video attached", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox()
      const dir = yield* scratch
      const layer = yield* live(sb, dir)
      const task = yield* Medusa.publish({
        mediaFile: sample,
        platforms: ["youtube", "threads", "mastodon"],
        metadata: {
          youtube: { title: "Medusa launch", privacy: "unlisted" },
          threads: { text: "New video: {youtube_url}" },
          mastodon: { status: "Out now {youtube_url} #medusa", attachVideo: true, visibility: "unlisted" }
        }
      }).pipe(Effect.provide(layer))
      expect(task.state).toBe("completed")
      const youtube = task.videos.find((v) => v.host === "youtube")!
      const [thread] = sb.raw.postsOf("threads")
      const [status] = sb.raw.postsOf("mastodon")
      expect(thread!.text).toBe(`New video: ${youtube.url}`)
      expect(status!.text).toBe(`Out now ${youtube.url} #medusa`)
      const [attached] = sb.state().uploads.filter((u) => u.platform === "mastodon")
      expect(attached!.bytes).toBe(statSync(sample).size)
      expect((status!.extra as { mediaIds: Array<string> }).mediaIds).toEqual([attached!.id])
      expect(Object.fromEntries(task.posts.map((p) => [p.publisher, p.postId]))).toEqual({
        threads: thread!.id,
        mastodon: status!.id
      })
    }).pipe(Effect.scoped))

  it.live("a Threads text over 500 and a Mastodon status over the instance's limit: refused at submit, nothing sent", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox({ mastodon: { maxCharacters: 100 } })
      const dir = yield* scratch
      const layer = yield* live(sb, dir)
      const error = yield* Effect.flip(
        Medusa.publish({
          mediaFile: sample,
          platforms: ["youtube", "threads", "mastodon"],
          metadata: {
            youtube: { title: "Medusa launch" },
            threads: { text: `${"x".repeat(480)} {youtube_url}` },
            mastodon: { status: `${"y".repeat(80)} {youtube_url}` }
          }
        }).pipe(Effect.provide(layer))
      )
      expect(error._tag).toBe("InvalidRequest")
      const issues = (error as unknown as { issues: ReadonlyArray<{ path: ReadonlyArray<string>; message: string }> })
        .issues
      expect(issues.map((i) => i.path.join("."))).toEqual(["metadata.threads.text", "metadata.mastodon.status"])
      expect(issues[1]!.message).toMatch(/104 characters once filled \(every URL counts 23\).*allows 100: remove 4/)
      // Only the instance's limits were read; nothing was uploaded or posted.
      expect(sb.raw.log.filter((e) => e.method !== "GET" || e.platform !== "mastodon")).toEqual([])
    }).pipe(Effect.scoped))

  it.live("a failed upload produces no post at all", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox()
      const dir = yield* scratch
      const layer = yield* live(sb, dir)
      sb.inject({
        platform: "youtube",
        route: "upload.initiate",
        action: { kind: "status", status: 403, code: "forbidden", message: "The request is not properly authorized." }
      })
      const error = yield* Effect.flip(Medusa.publish(request()).pipe(Effect.provide(layer)))
      expect(error._tag).toBe("AuthExpired")
      expect((error as { platform?: string }).platform).toBe("youtube")
      expect(sb.raw.posts).toHaveLength(0)
      const requests = sb.raw.log.filter((e) => ["facebook", "x", "linkedin"].includes(e.platform))
      expect(requests).toHaveLength(0)
    }).pipe(Effect.scoped))
})
