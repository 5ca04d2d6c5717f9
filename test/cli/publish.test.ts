/**
 * End to end: the real CLI process against a sandbox running in this process.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { demoRequest, type Env, makeEnv, run, sampleMp4 } from "./helpers.js"

let env: Env

beforeAll(async () => {
  env = await makeEnv()
})

afterAll(async () => {
  await env.close()
})

const taskIdPattern = /medusa_task_[0-9a-f-]{36}/

describe("medusa publish", () => {
  it("publishes the sample to all six platforms with the links in the posts", async () => {
    const result = await run(["publish", sampleMp4, "--request", demoRequest, ...env.flags], { cwd: env.dir })
    assert.strictEqual(result.code, 0, result.stderr)
    const state = env.sandbox.raw
    const uploads = [...state.uploads.values()].filter((u) => u.complete)
    // The hosts' uploads, and the video the demo attaches to its Mastodon status.
    assert.sameMembers(uploads.map((u) => u.platform), ["youtube", "vimeo", "mastodon"])
    for (const u of uploads) assert.strictEqual(u.bytes, fs.statSync(sampleMp4).size)
    const youtube = uploads.find((u) => u.platform === "youtube")!
    const vimeo = uploads.find((u) => u.platform === "vimeo")!
    assert.sameMembers(state.posts.map((p) => p.platform), [
      "facebook",
      "x",
      "linkedin",
      "threads",
      "mastodon",
      "bluesky"
    ])
    for (const post of state.posts) {
      assert.include(post.text, youtube.videoId!, `${post.platform} post carries the YouTube link`)
      assert.include(post.text, vimeo.videoId!, `${post.platform} post carries the Vimeo link`)
    }
    // Off a terminal: plain lines, then the summary with every link and post id.
    assert.match(result.stdout, /^Platform\s+Result\s+Id\s+Link$/m)
    assert.match(
      result.stdout,
      new RegExp(`^YouTube\\s+uploaded\\s+${youtube.videoId}\\s+https://youtube\\.com/watch\\?v=`, "m")
    )
    for (const post of state.posts) assert.include(result.stdout, post.id)
    assert.match(result.stdout, /Task medusa_task_\S+ completed\./)
    assert.notMatch(result.stdout, /\u001b\[/, "no escape sequences off a terminal")
  })

  it("--json prints status JSON lines ending with the completed results", async () => {
    const result = await run(
      [
        "publish",
        sampleMp4,
        "--to",
        "youtube,x",
        "--title",
        "JSON run",
        "--x-text",
        "json {youtube_url}",
        "--json",
        ...env.flags
      ],
      { cwd: env.dir }
    )
    assert.strictEqual(result.code, 0, result.stderr)
    const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>)
    assert.isAtLeast(lines.length, 2)
    for (const l of lines) assert.match(l.task_id, taskIdPattern)
    const last = lines[lines.length - 1]!
    assert.strictEqual(last.status, "completed")
    assert.match(last.results.youtube_url, /^https:\/\/youtube\.com\/watch\?v=/)
    assert.isString(last.results.youtube_video_id)
    assert.isString(last.results.x_post_id)
    const post = env.sandbox.raw.posts.find((p) => p.id === last.results.x_post_id)
    assert.strictEqual(post?.text, `json ${last.results.youtube_url}`)
  })

  it("a failed upload exits 1 with the platform's message and posts nothing", async () => {
    const postsBefore = env.sandbox.raw.posts.length
    env.sandbox.inject({
      platform: "youtube",
      route: "upload.initiate",
      action: {
        kind: "status",
        status: 400,
        code: "invalidTitle",
        message: "The request metadata specifies an invalid video title."
      }
    })
    const result = await run(
      [
        "publish",
        sampleMp4,
        "--to",
        "youtube,facebook",
        "--title",
        "Fails",
        "--message",
        "{youtube_url}",
        ...env.flags
      ],
      { cwd: env.dir }
    )
    env.sandbox.clearFaults()
    assert.strictEqual(result.code, 1, result.stdout + result.stderr)
    assert.include(result.stdout, "YouTube API error: The request metadata specifies an invalid video title.")
    assert.match(result.stdout, /^Facebook\s+skipped/m)
    assert.strictEqual(env.sandbox.raw.posts.length, postsBefore, "no post was made")
  })
})

describe("bad input exits 2 with a message naming the problem", () => {
  it("an unknown platform in --to", async () => {
    const result = await run(["publish", sampleMp4, "--to", "youtube,myspace", "--title", "T", ...env.flags], {
      cwd: env.dir
    })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--to: unknown platform \"myspace\"")
    assert.notInclude(result.stderr, "    at ", "no stack trace")
  })

  it("an unknown option", async () => {
    const result = await run(["publish", sampleMp4, "--titel", "T", ...env.flags], { cwd: env.dir })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr + result.stdout, "--titel")
  })

  it("a request the engine rejects names the field", async () => {
    const result = await run(["publish", sampleMp4, "--to", "youtube,x", "--title", "T", ...env.flags], {
      cwd: env.dir
    })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "metadata.x")
  })

  it("a config with a missing field names the file and the field", async () => {
    const config = JSON.parse(fs.readFileSync(env.config, "utf8"))
    delete config.facebook.page_id
    const bad = path.join(env.dir, "bad.config.json")
    fs.writeFileSync(bad, JSON.stringify(config), { mode: 0o600 })
    const result = await run(["config", "validate", "--config", bad], { cwd: env.dir })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, bad)
    assert.include(result.stderr, "facebook.page_id")
    const publish = await run([
      "publish",
      sampleMp4,
      "--to",
      "facebook",
      "--message",
      "m",
      "--config",
      bad,
      "--store",
      env.store
    ], {
      cwd: env.dir
    })
    assert.strictEqual(publish.code, 2)
    assert.include(publish.stderr, "facebook.page_id")
  })

  it("config validate accepts the sandbox config and prints no secret", async () => {
    const result = await run(["config", "validate", "--config", env.config], { cwd: env.dir })
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stdout, "valid")
    for (
      const secret of [
        env.sandbox.credentials.vimeo.accessToken,
        env.sandbox.credentials.facebook.pageAccessToken,
        env.sandbox.credentials.x.accessTokenSecret,
        env.sandbox.credentials.linkedin.accessToken
      ]
    ) {
      assert.notInclude(result.stdout + result.stderr, secret)
    }
  })
})
