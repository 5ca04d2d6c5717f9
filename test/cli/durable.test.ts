/**
 * Across processes, with the CLI's default durable SQLite store: a detached
 * task followed from a second process, Ctrl+C during an upload leaving a
 * task that `medusa resume` completes without re-sending what the server
 * holds, and `medusa cancel` from a second process, with and without a
 * process running the task.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { type Env, eventually, holdYouTubeUpload, makeEnv, makeVideo, run, sampleMp4, start } from "./helpers.js"

let env: Env
const MiB = 1024 * 1024

beforeAll(async () => {
  env = await makeEnv()
})

afterAll(async () => {
  await env.close()
})

const uploadsOf = (platform: string) => [...env.sandbox.raw.uploads.values()].filter((u) => u.platform === platform)

describe("durable store across processes", () => {
  it("publish --detach returns the task id; status --watch from another process follows it to the end", async () => {
    const video = makeVideo(env.dir, 4 * MiB)
    // Keep it in progress, part-way through the upload, while the watcher attaches: the hold is in
    // place before the task exists (the detached runner may start uploading before `run` returns).
    const held = holdYouTubeUpload(env.sandbox, MiB)
    const detached = await run(
      [
        "publish",
        video,
        "--to",
        "youtube,linkedin",
        "--title",
        "Detached",
        "--linkedin-text",
        "see {youtube_url}",
        "--detach",
        ...env.flags
      ],
      { cwd: env.dir }
    )
    assert.strictEqual(detached.code, 0, detached.stderr)
    const id = /^(medusa_task_[0-9a-f-]{36})$/m.exec(detached.stdout)?.[1]
    assert.isDefined(id, detached.stdout)
    assert.include(detached.stdout, `medusa status ${id} --watch`)

    const hold = await held

    const watcher = start(["status", id!, "--watch", ...env.flags], { cwd: env.dir })
    await eventually(
      () => /in_progress/.test(watcher.stdout()) && watcher.stdout(),
      () => `the watcher to see the task in progress; it printed:\n${watcher.stdout()}${watcher.stderr()}`
    )
    hold.release()
    const result = await watcher.done
    assert.strictEqual(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout, new RegExp(`task ${id} in_progress`))
    assert.match(result.stdout, /YouTube: uploading \d+%/)
    assert.match(result.stdout, new RegExp(`task ${id} completed`))
    assert.match(result.stdout, /^LinkedIn\s+posted\s+\S+/m)
    const posts = env.sandbox.raw.posts.filter((p) => p.platform === "linkedin" && p.text.startsWith("see "))
    assert.strictEqual(posts.length, 1)

    const json = await run(["status", id!, "--json", ...env.flags], { cwd: env.dir })
    assert.strictEqual(json.code, 0, json.stderr)
    const status = JSON.parse(json.stdout) as { status: string; results: Record<string, string> }
    assert.strictEqual(status.status, "completed")
    assert.strictEqual(status.results["linkedin_post_id"], posts[0]!.id)
  }, 120_000)

  it(
    "Ctrl+C during an upload detaches; `medusa resume` finishes it without re-sending what the server holds",
    async () => {
      env.sandbox.clearFaults()
      const size = 8 * MiB
      const video = makeVideo(env.dir, size)
      const sha256 = crypto.createHash("sha256").update(fs.readFileSync(video)).digest("hex")
      const postsBefore = env.sandbox.raw.posts.length
      const received = () => uploadsOf("youtube").find((u) => !u.complete)?.bytes ?? 0
      const receivedBefore = env.sandbox.raw.counters.youtube.bodyBytes

      // The hold is in place before the task exists: its upload may start before the next line returns.
      const held = holdYouTubeUpload(env.sandbox, 3 * MiB)
      const cli = start(
        ["publish", video, "--to", "youtube,x", "--title", "Ctrl+C", "--x-text", "resumed {youtube_url}", ...env.flags],
        { cwd: env.dir }
      )
      const id = await eventually(() => /task (medusa_task_\S+) submitted/.exec(cli.stdout())?.[1], "the task id")
      // 3 MiB reach the server; the client then backs off, unable to learn what the server holds.
      const hold = await held
      assert.strictEqual(
        received(),
        3 * MiB,
        env.sandbox.raw.log.filter((e) => e.platform === "youtube").slice(-8).map((e) =>
          `${e.method} ${String(e.headers["content-range"] ?? "")} ${
            String(e.headers["content-length"] ?? "")
          } -> ${e.status}`
        ).join("\n")
      )
      cli.child.kill("SIGINT")
      const interrupted = await cli.done
      hold.release()
      assert.strictEqual(interrupted.code, 130, interrupted.stdout + interrupted.stderr)
      assert.include(interrupted.stderr, `Resume it with: medusa resume ${id}`)
      assert.strictEqual(env.sandbox.raw.posts.length, postsBefore, "nothing posted yet")

      const pending = await run(["status", id, "--json", ...env.flags], { cwd: env.dir })
      assert.strictEqual((JSON.parse(pending.stdout) as { status: string }).status, "in_progress")

      const resumed = await run(["resume", id, ...env.flags], { cwd: env.dir })
      assert.strictEqual(resumed.code, 0, resumed.stdout + resumed.stderr)
      assert.match(resumed.stdout, new RegExp(`Task ${id} completed\\.`))
      const upload = uploadsOf("youtube").at(-1)
      assert.isDefined(upload)
      assert.strictEqual(upload!.sha256, sha256)
      // The resumed upload continued from the server's offset: about one file's worth crossed the wire in all.
      const sent = env.sandbox.raw.counters.youtube.bodyBytes - receivedBefore
      assert.isAtMost(sent, size * 1.05 + 64 * 1024, `bytes received by the sandbox for an ${size}-byte file`)
      const posts = env.sandbox.raw.posts.filter((p) => p.platform === "x" && p.text.startsWith("resumed "))
      assert.strictEqual(posts.length, 1)
    },
    120_000
  )
  it("cancel from another process while a detached worker uploads: it stops, nothing is posted", async () => {
    env.sandbox.clearFaults()
    const video = makeVideo(env.dir, 4 * MiB)
    const postsBefore = env.sandbox.raw.posts.length
    // The hold is in place before the task exists: its upload may start before the next line returns.
    const held = holdYouTubeUpload(env.sandbox, MiB)
    const detached = await run(
      ["publish", video, "--to", "youtube,x", "--title", "Cancelled", "--x-text", "never {youtube_url}", "--detach"]
        .concat(env.flags),
      { cwd: env.dir }
    )
    assert.strictEqual(detached.code, 0, detached.stderr)
    const id = /^(medusa_task_[0-9a-f-]{36})$/m.exec(detached.stdout)![1]!
    // Part-way through the upload, with the worker retrying: the worker owns the store.
    const hold = await held

    const cancelled = await run(["cancel", id, ...env.flags], { cwd: env.dir })
    hold.release()
    assert.strictEqual(cancelled.code, 0, cancelled.stdout + cancelled.stderr)
    assert.include(cancelled.stdout, `Task ${id} cancelled.`)
    const status = await run(["status", id, "--json", ...env.flags], { cwd: env.dir })
    assert.strictEqual((JSON.parse(status.stdout) as { status: string }).status, "cancelled")
    // The worker carried the request out and removed it, then saw its task end cancelled.
    assert.deepStrictEqual(fs.readdirSync(`${env.store}.requests`), [])
    const log = /\(log: (.+)\)/.exec(detached.stdout)![1]!
    await eventually(
      () => /cancelled/i.test(fs.readFileSync(log, "utf8")),
      () => `the detached worker to report the cancellation; its log:\n${fs.readFileSync(log, "utf8")}`
    )
    assert.isFalse([...env.sandbox.raw.uploads.values()].at(-1)!.complete, "the upload went on after the cancel")
    assert.strictEqual(env.sandbox.raw.posts.length, postsBefore)

    const again = await run(["cancel", id, ...env.flags], { cwd: env.dir })
    assert.strictEqual(again.code, 2, again.stdout + again.stderr)
    assert.match(again.stderr, /cancelled/)
  }, 120_000)

  it("cancel with no process running the store records it; resume then has nothing to do", async () => {
    env.sandbox.clearFaults()
    const video = makeVideo(env.dir, 4 * MiB)
    // The hold is in place before the task exists: its upload may start before the next line returns.
    const held = holdYouTubeUpload(env.sandbox, MiB)
    const cli = start(["publish", video, "--to", "youtube", "--title", "Left behind", ...env.flags], { cwd: env.dir })
    const id = await eventually(() => /task (medusa_task_\S+) submitted/.exec(cli.stdout())?.[1], "the task id")
    const hold = await held
    cli.child.kill("SIGINT")
    const interrupted = await cli.done
    hold.release()
    assert.strictEqual(interrupted.code, 130, interrupted.stdout + interrupted.stderr)

    const cancelled = await run(["cancel", id, ...env.flags], { cwd: env.dir })
    assert.strictEqual(cancelled.code, 0, cancelled.stdout + cancelled.stderr)
    const status = await run(["status", id, "--json", ...env.flags], { cwd: env.dir })
    assert.strictEqual((JSON.parse(status.stdout) as { status: string }).status, "cancelled")
    const resumed = await run(["resume", ...env.flags], { cwd: env.dir })
    assert.strictEqual(resumed.code, 0, resumed.stdout + resumed.stderr)
    assert.include(resumed.stdout, "Nothing to resume")
  }, 120_000)

  it("two publishes started at once in the same folder both complete, each platform once", async () => {
    env.sandbox.clearFaults()
    const postsBefore = env.sandbox.raw.posts.length
    const [a, b] = await Promise.all(["first", "second"].map((name) =>
      run(
        ["publish", sampleMp4, "--to", "youtube,x", "--title", name, "--x-text", `${name} at once {youtube_url}`]
          .concat(env.flags),
        { cwd: env.dir }
      )
    ))
    assert.strictEqual(a!.code, 0, a!.stdout + a!.stderr)
    assert.strictEqual(b!.code, 0, b!.stdout + b!.stderr)
    for (const r of [a!, b!]) assert.match(r.stdout, /completed/)
    const texts = env.sandbox.raw.posts.slice(postsBefore).map((p) => p.text.replace(/ http.*$/, ""))
    assert.deepStrictEqual(texts.sort(), ["first at once", "second at once"])
  }, 120_000)

  it("the owner exits when its task is done; the other process takes over and finishes its own task", async () => {
    env.sandbox.clearFaults()
    const video = makeVideo(env.dir, 8 * MiB)
    const sha256 = crypto.createHash("sha256").update(fs.readFileSync(video)).digest("hex")
    // The owner's task (a LinkedIn post) answers late, so that the owner is still there when the guest submits.
    env.sandbox.inject({ platform: "linkedin", route: "posts", action: { kind: "latency", millis: 30_000 } })
    const owner = start(["publish", sampleMp4, "--to", "linkedin", "--linkedin-text", "owner's post", ...env.flags], {
      cwd: env.dir
    })
    await eventually(() => /task (medusa_task_\S+) submitted/.exec(owner.stdout())?.[1], "the owner's task id", 60_000)
    // The hold is in place before the task exists: its upload may start before the next line returns.
    const held = holdYouTubeUpload(env.sandbox, 2 * MiB)
    const guest = start(
      ["publish", video, "--to", "youtube,x", "--title", "Handed over", "--x-text", "handed over {youtube_url}"]
        .concat(env.flags),
      { cwd: env.dir }
    )
    const id = await eventually(
      () => /task (medusa_task_\S+) submitted/.exec(guest.stdout())?.[1],
      () => `the guest's task id; it printed:\n${guest.stdout()}${guest.stderr()}`,
      60_000
    )
    // The guest's task is run by the owner: held part-way through the upload there.
    const hold = await held
    const ownerDone = await owner.done
    assert.strictEqual(ownerDone.code, 0, ownerDone.stdout + ownerDone.stderr)
    assert.match(ownerDone.stdout, /completed/)
    assert.isNull(guest.child.exitCode, "the guest waits for its task")
    const left = await run(["status", id, "--json", ...env.flags], { cwd: env.dir })
    assert.strictEqual((JSON.parse(left.stdout) as { status: string }).status, "in_progress")

    hold.release()
    const done = await guest.done
    assert.strictEqual(done.code, 0, done.stdout + done.stderr)
    assert.match(done.stdout, /completed/)
    const upload = uploadsOf("youtube").at(-1)
    assert.strictEqual(upload!.sha256, sha256)
    assert.strictEqual(env.sandbox.raw.posts.filter((p) => p.text.startsWith("handed over ")).length, 1)
    assert.strictEqual(env.sandbox.raw.posts.filter((p) => p.text === "owner's post").length, 1)
  }, 180_000)

  it("resume works while another process publishes: it finishes a task left by Ctrl+C", async () => {
    env.sandbox.clearFaults()
    const video = makeVideo(env.dir, 4 * MiB)
    // The hold is in place before the task exists: its upload may start before the next line returns.
    const held = holdYouTubeUpload(env.sandbox, MiB)
    const left = start(
      ["publish", video, "--to", "youtube,x", "--title", "Left", "--x-text", "left {youtube_url}"]
        .concat(env.flags),
      { cwd: env.dir }
    )
    const id = await eventually(
      () => /task (medusa_task_\S+) submitted/.exec(left.stdout())?.[1],
      "the task id",
      60_000
    )
    const hold = await held
    left.child.kill("SIGINT")
    assert.strictEqual((await left.done).code, 130)
    // Another publish now owns the store (its post answers late) and picks the task up, still held; a resume joins it.
    env.sandbox.inject({ platform: "linkedin", route: "posts", action: { kind: "latency", millis: 5_000 } })
    const busy = start(["publish", sampleMp4, "--to", "linkedin", "--linkedin-text", "busy owner", ...env.flags], {
      cwd: env.dir
    })
    await eventually(() => /submitted/.test(busy.stdout()), "the other publish to submit", 60_000)
    const resuming = start(["resume", id, ...env.flags], { cwd: env.dir })
    await eventually(() => resuming.stdout().includes(`Resuming task ${id}`), "the resume to follow the task", 60_000)
    hold.release()
    const resumed = await resuming.done
    assert.strictEqual(resumed.code, 0, resumed.stdout + resumed.stderr)
    assert.match(resumed.stdout, new RegExp(`Task ${id} completed\\.`))
    assert.strictEqual((await busy.done).code, 0)
    assert.strictEqual(env.sandbox.raw.posts.filter((p) => p.text.startsWith("left ")).length, 1)
  }, 180_000)
})
