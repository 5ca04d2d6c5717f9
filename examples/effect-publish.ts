/**
 * An Effect program composing `Medusa.publish`: upload to YouTube and Vimeo,
 * then post to Facebook, X and LinkedIn with the links filled in.
 *
 * Runs on the in-process test platforms (no credentials, no network):
 *
 *   npx tsx examples/effect-publish.ts
 *
 * With real accounts, replace `TestPlatforms.layer(...)` by the adapters'
 * layers (or build everything from medusa.config.json with
 * `Medusa.layerFromConfigFile`).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Medusa, TaskStatus, TestPlatforms } from "medusa"
import * as path from "node:path"

const mediaFile = path.join(import.meta.dirname, "media", "sample.mp4")

const program = Effect.gen(function*() {
  const task = yield* Medusa.publish({
    mediaFile,
    platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
    metadata: {
      youtube: { title: "Medusa example", privacy: "unlisted" },
      vimeo: { title: "Medusa example" },
      facebook: { message: "New video: {youtube_url}", link: "{youtube_url}" },
      x: { text: "New video: {youtube_url} (also on Vimeo: {vimeo_url})" },
      linkedin: { text: "We published a new video: {youtube_url}" }
    }
  })
  yield* Console.log(JSON.stringify(TaskStatus.toJSON(task), null, 2))
})

const MedusaLive = Medusa.layerMemory().pipe(
  Layer.provide(TestPlatforms.layer({ youtube: { delay: "300 millis" }, vimeo: { delay: "200 millis" } }))
)

program.pipe(Effect.provide(MedusaLive), NodeRuntime.runMain)
