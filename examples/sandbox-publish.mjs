/**
 * Plain JavaScript: the Promise facade publishes the sample video to all eight
 * platforms of the sandbox (local emulators on loopback) through the real
 * adapters, then shows what the emulators recorded.
 *
 *   node examples/sandbox-publish.mjs        (in a project where medusa is installed, or in a built checkout)
 */
import { createMedusa } from "medusa/promise"
import { Sandbox } from "medusa/sandbox"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const mediaFile = path.join(import.meta.dirname, "media", "sample.mp4")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-sandbox-"))

const sandbox = await Sandbox.start()
const medusa = await createMedusa({ configFile: await sandbox.writeConfig(dir) })
try {
  const taskId = await medusa.publishAsync({
    mediaFile,
    platforms: ["youtube", "vimeo", "facebook", "x", "linkedin", "threads", "mastodon", "bluesky"],
    metadata: {
      youtube: { title: "Rehearsal", privacy: "unlisted" },
      vimeo: { title: "Rehearsal" },
      facebook: { message: "New video: {youtube_url}", link: "{youtube_url}" },
      x: { text: "New video: {youtube_url} (also on Vimeo: {vimeo_url})" },
      linkedin: { text: "We published a new video: {youtube_url}" },
      threads: { text: "New video: {youtube_url}" },
      mastodon: { status: "New video: {youtube_url} #medusa" },
      bluesky: { text: "New video: {youtube_url}" }
    }
  })
  for await (const status of medusa.watch(taskId)) console.log(status.status, status.message ?? "")
  const final = await medusa.waitForTask(taskId)
  console.log(JSON.stringify(final.results))
  console.log(`${sandbox.state().posts.length} posts recorded by the sandbox`)
} finally {
  await medusa.close()
  await sandbox.close()
  fs.rmSync(dir, { recursive: true, force: true })
}
