import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as fc from "fast-check"
import { VimeoHost } from "../../src/Platform.js"
import type { UploadSession } from "../../src/Platform.js"
import { VimeoMetadata } from "../../src/PublishRequest.js"
import type { SandboxOptions } from "../../src/sandbox/Sandbox.js"
import * as Vimeo from "../../src/Vimeo.js"
import {
  context,
  fastRetry,
  mediaFile,
  platform,
  platformUndici,
  recorder,
  requests,
  sandbox,
  tempDir
} from "./helpers.js"

const KiB = 1024

const setup = (options: { sandbox?: SandboxOptions; host?: Partial<Vimeo.Options>; undici?: boolean } = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const sb = yield* sandbox(options.sandbox)
    const ctx = yield* Layer.build(
      Vimeo.layer({
        accessToken: Redacted.make(sb.credentials.vimeo.accessToken),
        baseUrl: sb.urls.vimeo,
        retry: fastRetry,
        ...options.host
      }).pipe(Layer.provide(options.undici ? platformUndici : platform))
    )
    return { dir, sb, host: Context.get(ctx, VimeoHost) }
  })

const meta = new VimeoMetadata({ title: "Launch day", description: "A video", privacy: "unlisted" })

const videoOf = (sb: { state: () => { platforms: Record<string, unknown> } }, videoId: string) =>
  (sb.state().platforms.vimeo as { videos: Array<{ id: string; sha256: string; complete: boolean; bytes: number }> })
    .videos.find((v) => v.id === videoId)

describe("Vimeo host", () => {
  it.scopedLive("creates the video with the tus approach and uploads it in one PATCH", () =>
    Effect.gen(function*() {
      const { dir, host, sb } = yield* setup()
      const file = mediaFile(dir, 700 * KiB + 3, 21)
      const rec = yield* recorder
      const video = yield* host.upload(yield* context(file.media, meta, rec))
      assert.strictEqual(video.host, "vimeo")
      assert.strictEqual(video.url, `https://vimeo.com/${video.videoId}`)
      const stored = videoOf(sb, video.videoId)
      assert.strictEqual(stored?.sha256, file.sha256)
      assert.isTrue(stored?.complete)
      assert.strictEqual(requests(sb, "vimeo", "PATCH").length, 1)
      const sessions = yield* Ref.get(rec.sessions)
      assert.strictEqual(sessions[0]?.videoId, video.videoId)
      assert.strictEqual(sessions.at(-1)?.acknowledged, file.media.size)
    }), 10_000)
})
