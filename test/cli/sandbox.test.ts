/**
 * The main job (`npm run demo`'s command, with an embedded sandbox) and the
 * foreground `medusa sandbox` command.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { demoRequest, eventually, run, sampleMp4, scratch, start } from "./helpers.js"

describe("the main job", () => {
  it("publishes the sample to all five platforms of an embedded sandbox", async () => {
    const dir = scratch()
    // What `npm run demo` runs, with the store in a scratch directory.
    const result = await run(
      ["publish", sampleMp4, "--sandbox", "--request", demoRequest, "--store", path.join(dir, "demo.db")],
      { cwd: dir }
    )
    assert.strictEqual(result.code, 0, result.stdout + result.stderr)
    const rows = result.stdout.split("\n")
    const youtubeUrl = /^YouTube\s+uploaded\s+\S+\s+(https:\/\/youtube\.com\/watch\?v=\S+)$/m.exec(result.stdout)?.[1]
    const vimeoUrl = /^Vimeo\s+uploaded\s+\d+\s+(https:\/\/vimeo\.com\/\d+)$/m.exec(result.stdout)?.[1]
    assert.isDefined(youtubeUrl, result.stdout)
    assert.isDefined(vimeoUrl, result.stdout)
    for (const name of ["Facebook", "X", "LinkedIn"]) {
      assert.isTrue(rows.some((r) => new RegExp(`^${name}\\s+posted\\s+\\S+`).test(r)), `${name} posted`)
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it("without --store, an embedded sandbox's task lives in memory: nothing is written to .medusa/", async () => {
    const dir = scratch()
    const result = await run(["publish", sampleMp4, "--sandbox", "--request", demoRequest], { cwd: dir })
    assert.strictEqual(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /Task medusa_task_\S+ completed\./)
    assert.isFalse(fs.existsSync(path.join(dir, ".medusa")), "no store file in the working directory")
    const tasks = await run(["tasks"], { cwd: dir })
    assert.strictEqual(tasks.stdout, `No tasks in ${path.join(".medusa", "medusa.db")}.\n`)
    fs.rmSync(dir, { recursive: true, force: true })
  }, 120_000)
})

describe("medusa sandbox", () => {
  it("runs the emulators in the foreground, writes a usable config, stops on Ctrl+C", async () => {
    const dir = scratch()
    const configOut = path.join(dir, "sb", "medusa.config.json")
    const sandbox = start(["sandbox", "--config-out", configOut], { cwd: dir })
    await eventually(
      () => sandbox.stdout().includes("Press Ctrl+C to stop."),
      () => `the sandbox to start; printed:\n${sandbox.stdout()}${sandbox.stderr()}`,
      60_000
    )
    for (const name of ["YouTube", "Vimeo", "Facebook", "X", "LinkedIn"]) {
      assert.match(sandbox.stdout(), new RegExp(`^  ${name}\\s+http://127\\.0\\.0\\.1:\\d+$`, "m"))
    }
    assert.strictEqual(fs.statSync(configOut).mode & 0o777, 0o600)
    const published = await run(
      [
        "publish",
        sampleMp4,
        "--config",
        configOut,
        "--to",
        "linkedin",
        "--linkedin-text",
        "from the foreground sandbox",
        "--store",
        "memory"
      ],
      { cwd: dir }
    )
    assert.strictEqual(published.code, 0, published.stdout + published.stderr)
    const stateUrl = /^  state\s+(\S+)$/m.exec(sandbox.stdout())![1]!
    const state = (await (await fetch(stateUrl)).json()) as { posts: Array<{ platform: string; text: string }> }
    assert.deepStrictEqual(state.posts.map((p) => [p.platform, p.text]), [["linkedin", "from the foreground sandbox"]])
    sandbox.child.kill("SIGINT")
    const stopped = await sandbox.done
    assert.strictEqual(stopped.code, 130)
    fs.rmSync(dir, { recursive: true, force: true })
  }, 120_000)
})
