/**
 * The examples import "medusa" as a consumer does. In a checkout, tsconfig.json
 * maps that name to src/ (so `npx tsx examples/…` runs the sources); here they
 * run against the built package instead: tsconfig.examples.json has no such
 * mapping, so Node resolves "medusa" through the package's own `exports` to
 * dist/, which is built first when missing or older than the sources.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { execFile, execFileSync } from "node:child_process"
import * as path from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)
const root = path.resolve(import.meta.dirname, "..", "..")
const env = { ...process.env, NODE_NO_WARNINGS: "1", TSX_TSCONFIG_PATH: path.join(root, "tsconfig.examples.json") }

/** Runs an example the way the README says (`npx tsx`), minus npx's start-up. */
const example = async (name: string) => {
  const { stdout } = await run(process.execPath, ["--import", "tsx", path.join("examples", name)], {
    cwd: root,
    timeout: 60_000,
    env
  })
  return stdout
}

describe("examples", () => {
  beforeAll(() => {
    execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale"], { cwd: root, stdio: "inherit" })
  }, 300_000)

  it("run against the built package (dist/), not the sources", async () => {
    const { stdout } = await run(process.execPath, [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      "console.log(import.meta.resolve(\"medusa\"), import.meta.resolve(\"medusa/promise\"))"
    ], { cwd: path.join(root, "examples"), env })
    assert.strictEqual(
      stdout.trim(),
      `${new URL("dist/index.js", `file://${root}/`).href} ${new URL("dist/promise.js", `file://${root}/`).href}`
    )
  })

  it("effect-publish prints a completed status with every result", async () => {
    const status = JSON.parse(await example("effect-publish.ts"))
    assert.strictEqual(status.status, "completed")
    for (const key of ["youtube_url", "vimeo_url", "facebook_post_id", "x_post_id", "linkedin_post_id"]) {
      assert.ok(status.results[key], key)
    }
  })

  it("promise-publish watches a task to completion and shows a typed rejection", async () => {
    const out = await example("promise-publish.ts")
    assert.match(out, /^submitted medusa_task_/)
    assert.include(out, "in_progress Uploading to YouTube...")
    assert.include(out, "\"status\": \"completed\"")
    assert.include(out, "rejected with InvalidRequest")
    assert.include(out, "metadata.vimeo: is required")
  })

  it("status-subscriber prints one status JSON line per change, ending with both final states", async () => {
    const lines = (await example("status-subscriber.ts")).trim().split("\n").map((l) => JSON.parse(l))
    const finals = lines.filter((s) => s.status === "completed" || s.status === "failed")
    assert.deepStrictEqual(finals.map((s) => s.status).sort(), ["completed", "failed"])
    const failed = finals.find((s) => s.status === "failed")
    assert.strictEqual(failed.failed_platform, "vimeo")
    assert.deepStrictEqual(failed.skipped, ["x"])
    assert.ok(failed.results.linkedin_post_id)
    assert.ok(lines.some((s) => s.status === "in_progress" && /Uploading to YouTube\.\.\. \d+%/.test(s.message)))
  })
})
