/**
 * The Promise facade, for programs that do not use Effect.
 *
 *   npx tsx examples/promise-publish.ts
 *
 * `createMedusa({ configFile: "medusa.config.json" })` reads real
 * credentials; here the config is inline and the platforms are the
 * in-process test platforms, so it runs anywhere.
 */
import { TestPlatforms } from "medusa"
import { createMedusa } from "medusa/promise"
import * as path from "node:path"

const mediaFile = path.join(import.meta.dirname, "media", "sample.mp4")

const medusa = await createMedusa({
  config: { medusa: { max_concurrent_tasks: 2 } },
  platforms: TestPlatforms.layer({ youtube: { delay: "200 millis" } })
})

try {
  const taskId = await medusa.publishAsync({
    mediaFile,
    platforms: ["youtube", "facebook", "linkedin"],
    metadata: {
      youtube: { title: "Medusa example" },
      facebook: { message: "Watch: {youtube_url}" },
      linkedin: { text: "New video {youtube_url}" }
    }
  })
  console.log(`submitted ${taskId}`)
  for await (const status of medusa.watch(taskId)) {
    console.log(status.status, status.message ?? "")
  }
  const final = await medusa.waitForTask(taskId)
  console.log(JSON.stringify(final, null, 2))

  // A rejected promise carries Medusa's typed error.
  await medusa.publishAsync({ mediaFile, platforms: ["vimeo"], metadata: {} }).catch((error) => {
    console.log(`rejected with ${error._tag}:\n${error.message}`)
  })
} finally {
  await medusa.close()
}
