import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import * as Durable from "../../src/Durable.js"
import * as Medusa from "../../src/Medusa.js"
import { QuotaExceeded } from "../../src/PublishError.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { tempDir, writeVideo } from "./fixtures/media.js"

const request = (mediaFile: string): PublishRequestInput => ({
  mediaFile,
  platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
  metadata: {
    youtube: { title: "Launch" },
    vimeo: { title: "Launch" },
    facebook: { message: "Watch {youtube_url}" },
    x: { text: "Watch {vimeo_url}" },
    linkedin: { text: "New: {youtube_url} {vimeo_url}" }
  }
})

describe("Durable.layerDurable (embedded SQLite)", () => {
  it.live("publishes through the workflow engine with the same Medusa API", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const video = writeVideo(dir, 4096)
      const layer = Durable.layerDurable({ sqlite: path.join(dir, "medusa.db") }).pipe(
        Layer.provideMerge(TestPlatforms.layer())
      )
      const task = yield* Medusa.publish(request(video)).pipe(Effect.provide(layer))
      assert.strictEqual(task.state, "completed")
      assert.deepStrictEqual(task.videos.map((v) => v.host), ["youtube", "vimeo"])
      assert.deepStrictEqual([...task.posts.map((p) => p.publisher)].sort(), ["facebook", "linkedin", "x"])
      assert.deepStrictEqual(task.history.map((h) => h.state), ["pending", "in_progress", "completed"])
    }))

  it.live("a platform failure fails the task with its typed error (fail-fast)", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const video = writeVideo(dir, 4096)
      const layer = Durable.layerDurable({ sqlite: path.join(dir, "medusa.db") }).pipe(
        Layer.provideMerge(TestPlatforms.layer({
          vimeo: { fail: { at: "upload", error: new QuotaExceeded({ platform: "vimeo", reason: "quota_exceeded" }) } }
        }))
      )
      const exit = yield* Medusa.publish(request(video)).pipe(Effect.provide(layer), Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual((error as { _tag?: string } | undefined)?._tag, "QuotaExceeded")
      }
    }))
})
