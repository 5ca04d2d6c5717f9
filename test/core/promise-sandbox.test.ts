/**
 * The Promise facade over the real wiring (`createMedusa({ configFile })` →
 * Live adapters) against the sandbox, with canary tokens: a full publish to
 * the five platforms, then a failing one; no token appears in any status or
 * error. Real time and loopback HTTP only.
 */
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { createMedusa } from "../../src/promise.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import type * as TaskStatus from "../../src/TaskStatus.js"

const CANARY = "canary-5e1f0c2b"
const sample = path.resolve(import.meta.dirname, "../../examples/media/sample.mp4")

describe("Promise facade over the sandbox", () => {
  it("publishes to all five platforms from a config file; tokens never show", { timeout: 120_000 }, async () => {
    const sandbox = await Sandbox.start({
      credentials: {
        vimeo: { accessToken: `${CANARY}-vimeo` },
        facebook: { pageAccessToken: `${CANARY}-facebook` },
        x: {
          accessToken: `1-${CANARY}-x`,
          accessTokenSecret: `${CANARY}-xs`,
          apiKey: `${CANARY}-xk`,
          apiSecret: `${CANARY}-xa`
        },
        linkedin: { accessToken: `${CANARY}-linkedin` }
      }
    })
    const dir = mkdtempSync(path.join(tmpdir(), "medusa-promise-sandbox-"))
    const medusa = await createMedusa({ configFile: await sandbox.writeConfig(dir) })
    const seen: Array<TaskStatus.TaskStatus> = []
    const unsubscribe = medusa.subscribe((status) => seen.push(status))
    try {
      const id = await medusa.publishAsync({
        mediaFile: sample,
        platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
        metadata: {
          youtube: { title: "Promise facade" },
          vimeo: { title: "Promise facade" },
          facebook: { message: "Watch {youtube_url}" },
          x: { text: "Watch {youtube_url} or {vimeo_url}" },
          linkedin: { text: "New: {vimeo_url}" }
        }
      })
      const final = await medusa.waitForTask(id)
      assert.strictEqual(final.status, "completed")
      const posts = sandbox.state().posts
      const fb = posts.find((p) => p.platform === "facebook")
      assert.ok(fb, "the Facebook post reached the sandbox")
      assert.include(JSON.stringify(posts), final.results!.youtube_url!)

      sandbox.inject({
        platform: "facebook",
        route: "feed",
        action: { kind: "status", status: 400, code: "368", message: "It looks like you were misusing this feature" }
      })
      const failedId = await medusa.publishAsync({
        mediaFile: sample,
        platforms: ["facebook"],
        metadata: { facebook: { message: "second" } }
      })
      const error = await medusa.waitForTask(failedId).catch((e: unknown) => e as Error & { _tag: string })
      assert.notStrictEqual(error, undefined)
      const status = await medusa.getTaskStatus(failedId)
      assert.strictEqual(status.status, "failed")
      assert.strictEqual(status.failed_platform, "facebook")
      for (const output of [JSON.stringify(seen), JSON.stringify(status), String(error), JSON.stringify(error)]) {
        assert.notInclude(output, CANARY)
      }
    } finally {
      unsubscribe()
      await medusa.close()
      await sandbox.close()
    }
  })
})
