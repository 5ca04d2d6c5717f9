import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as fc from "fast-check"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { YouTubeHost } from "../../src/Platform.js"
import type { UploadSession } from "../../src/Platform.js"
import { YouTubeMetadata } from "../../src/PublishRequest.js"
import type { SandboxOptions } from "../../src/sandbox/Sandbox.js"
import * as YouTube from "../../src/YouTube.js"
import { context, fastRetry, mediaFile, platform, recorder, requests, sandbox, tempDir } from "./helpers.js"

const KiB = 1024
const MiB = 1024 * KiB

const setup = (options: { sandbox?: SandboxOptions; host?: Partial<YouTube.Options> } = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const sb = yield* sandbox(options.sandbox)
    yield* Effect.promise(() => sb.writeConfig(dir))
    const files = {
      clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
      credentialsFile: path.join(dir, "youtube-credentials.json")
    }
    const ctx = yield* Layer.build(
      YouTube.layer({ ...files, baseUrl: sb.urls.youtube, retry: fastRetry, ...options.host }).pipe(
        Layer.provide(platform)
      )
    )
    return { dir, sb, files, host: Context.get(ctx, YouTubeHost) }
  })

const meta = new YouTubeMetadata({ title: "Launch day", description: "A video", privacy: "private", tags: ["a", "b c"] })

/** Sandbox view of the stored upload of a session URI. */
const stored = (sb: { raw: { uploads: Map<string, { sha256: string; bytes: number; complete: boolean }> } }, uri: string) => {
  const id = new URL(uri).searchParams.get("upload_id") ?? ""
  return sb.raw.uploads.get(id)
}

describe("YouTube host", () => {
  it.scopedLive("uploads a file in one PUT; the stored sha256 equals the file's", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 3 * MiB + 17)
      const rec = yield* recorder
      const video = yield* host.upload(yield* context(file.media, meta, rec))
      assert.strictEqual(video.host, "youtube")
      assert.strictEqual(video.url, `https://youtube.com/watch?v=${video.videoId}`)
      const sessions = yield* Ref.get(rec.sessions)
      assert.isAbove(sessions.length, 0)
      const upload = stored(sb, sessions[0]!.uri)
      assert.strictEqual(upload?.sha256, file.sha256)
      assert.isTrue(upload?.complete)
      // One initiate and exactly one PUT carrying bytes.
      assert.strictEqual(requests(sb, "youtube", "PUT").length, 1)
      const last = (yield* Ref.get(rec.progress)).at(-1)
      assert.strictEqual(last?.bytesAcknowledged, file.media.size)
      assert.strictEqual(last?.bytesSent, file.media.size)
      assert.strictEqual(sessions.at(-1)?.acknowledged, file.media.size)
    }))
})
