/**
 * A status-stream subscriber: prints the status JSON of every change to every
 * task as one JSON line, while two tasks run (one of them fails on Vimeo and,
 * being best-effort, still posts where it can).
 *
 *   npx tsx examples/status-subscriber.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Fiber, Layer, Stream } from "effect"
import { Medusa, PublishError, TaskStatus, TestPlatforms } from "medusa"
import * as path from "node:path"

const mediaFile = path.join(import.meta.dirname, "media", "sample.mp4")

const program = Effect.gen(function*() {
  // Subscribe first, then submit: `changes` delivers from subscription on.
  const subscriber = yield* Medusa.changes.pipe(
    Stream.map((change) => TaskStatus.toJSON(change.task)),
    Stream.tap((status) => Console.log(JSON.stringify(status))),
    Stream.filter((status) => status.status === "completed" || status.status === "failed"),
    Stream.take(2),
    Stream.runDrain,
    Effect.fork
  )
  yield* Effect.yieldNow()
  yield* Medusa.submit({
    mediaFile,
    platforms: ["youtube", "facebook"],
    metadata: { youtube: { title: "First" }, facebook: { message: "First: {youtube_url}" } }
  })
  yield* Medusa.submit({
    mediaFile,
    platforms: ["youtube", "vimeo", "x", "linkedin"],
    policy: "best-effort",
    metadata: {
      youtube: { title: "Second" },
      vimeo: { title: "Second" },
      x: { text: "Vimeo only: {vimeo_url}" },
      linkedin: { text: "YouTube: {youtube_url}" }
    }
  })
  yield* Fiber.join(subscriber)
})

const MedusaLive = Medusa.layerMemory().pipe(
  Layer.provide(TestPlatforms.layer({
    youtube: { delay: "300 millis", progressEvents: 3 },
    vimeo: {
      fail: {
        at: "upload",
        afterProgress: 1,
        error: new PublishError.QuotaExceeded({
          platform: "vimeo",
          reason: "upload_limit_exceeded",
          status: 403,
          platformMessage: "Your weekly upload quota is used up"
        })
      }
    }
  }))
)

program.pipe(Effect.provide(MedusaLive), NodeRuntime.runMain)
