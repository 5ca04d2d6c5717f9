/**
 * Ctrl+C during an upload.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Env, holdYouTubeUpload, makeEnv, makeVideo, start } from "./helpers.js"

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
    // The hold is in place before the task exists: its upload may start before the next line returns.
    const held = holdYouTubeUpload(env.sandbox, MiB)
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
    // Part-way: 1 MiB at the server, the client backing off.
    const hold = await held
    assert.strictEqual(youtubeBytes(), MiB)
    cli.child.kill("SIGINT")
    const result = await cli.done
    hold.release()
    assert.strictEqual(result.code, 130, result.stdout + result.stderr)
    assert.match(result.stderr, /Interrupted: task medusa_task_\S+ cancelled\./)
    assert.notInclude(result.stderr, "    at ", "no stack trace")
    assert.strictEqual(env.sandbox.raw.posts.length, postsBefore, "nothing was posted")
  }, 60_000)
})
