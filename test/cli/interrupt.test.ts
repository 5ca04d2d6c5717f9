/**
 * Ctrl+C during an upload.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Env, eventually, makeEnv, makeVideo, start } from "./helpers.js"

let env: Env
const MiB = 1024 * 1024

beforeAll(async () => {
  env = await makeEnv()
})

afterAll(async () => {
  await env.close()
})

const youtubeBytes = () =>
  [...env.sandbox.raw.uploads.values()].filter((u) => u.platform === "youtube").reduce((n, u) => n + u.bytes, 0)

describe("SIGINT during an upload", () => {
  it("with the in-memory store: cancels the task, posts nothing, exits 130", async () => {
    const video = makeVideo(env.dir, 8 * MiB)
    const postsBefore = env.sandbox.raw.posts.length
    // Hold the upload part-way: a drop after 1 MiB, then failing status probes (the client backs off).
    env.sandbox.inject({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes: MiB } })
    const cli = start(
      [
        "publish",
        video,
        "--to",
        "youtube,x",
        "--title",
        "Interrupted",
        "--x-text",
        "{youtube_url}",
        "--config",
        env.config,
        "--store",
        "memory"
      ],
      { cwd: env.dir }
    )
    await eventually(() => youtubeBytes() >= MiB, "the first MiB at the sandbox")
    env.sandbox.inject({ platform: "youtube", route: "upload", times: 3, action: { kind: "status", status: 503 } })
    cli.child.kill("SIGINT")
    const result = await cli.done
    env.sandbox.clearFaults()
    assert.strictEqual(result.code, 130, result.stdout + result.stderr)
    assert.match(result.stderr, /Interrupted: task medusa_task_\S+ cancelled\./)
    assert.notInclude(result.stderr, "    at ", "no stack trace")
    assert.strictEqual(env.sandbox.raw.posts.length, postsBefore, "nothing was posted")
  }, 60_000)
})
