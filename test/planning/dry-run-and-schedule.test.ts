/**
 * Dry runs and scheduling from the outside, against the sandbox: the
 * facade's `validate` and `medusa publish --dry-run` check everything and
 * send nothing (the sandbox's request counters prove it); `--online` checks
 * the credentials and still uploads and posts nothing; `--at` stores a
 * scheduled task that `medusa tasks --scheduled` lists and `medusa
 * reschedule` moves. The CLI runs as real processes.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import type { PlatformId } from "../../src/PlatformId.js"
import { createMedusa, type MedusaClient } from "../../src/promise.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import { type Env, eventually, makeEnv, run, sampleMp4 } from "../cli/helpers.js"

let env: Env
let client: MedusaClient
let requestFile: string

const request: PublishRequestInput = {
  mediaFile: sampleMp4,
  platforms: ["youtube", "x"],
  metadata: { youtube: { title: "Dry run" }, x: { text: "Soon: {youtube_url}" } }
}

/** Requests the sandbox received from clients (control requests aside), per platform. */
const received = (): Record<string, number> => {
  const counters = env.sandbox.state().counters as Record<PlatformId, { readonly requests: number }>
  return Object.fromEntries(Object.entries(counters).map(([p, c]) => [p, c.requests]))
}
const total = () => Object.values(received()).reduce((a, b) => a + b, 0)

beforeAll(async () => {
  env = await makeEnv()
  client = await createMedusa({ configFile: env.config })
  requestFile = path.join(env.dir, "request.json")
  fs.writeFileSync(requestFile, JSON.stringify(request))
}, 60_000)

afterAll(async () => {
  await client?.close()
  await env?.close()
})

describe("dry run", { timeout: 120_000 }, () => {
  it("facade validate: the report, and not one request reached a platform", async () => {
    const before = total()
    const report = await client.validate(request)
    assert.strictEqual(report.valid, true)
    assert.deepStrictEqual(report.platforms, ["youtube", "x"])
    assert.strictEqual(report.media_file, sampleMp4)
    assert.strictEqual(total(), before)
    const error = await client.validate({ ...request, metadata: { ...request.metadata, x: { text: "{yt_url}" } } })
      .then(() => undefined, (e: { _tag: string; message: string }) => e)
    assert.strictEqual(error?._tag, "InvalidRequest")
    assert.include(error!.message, "metadata.x.text")
    assert.strictEqual(total(), before)
    assert.deepStrictEqual((await client.list()).length, 0)
  })

  it("medusa publish --dry-run: exit 0, the report, nothing stored or sent; a bad request exits 2", async () => {
    const before = total()
    const ok = await run(["publish", "--request", requestFile, ...env.flags, "--dry-run", "--json"], { cwd: env.dir })
    assert.strictEqual(ok.code, 0, ok.stderr)
    const report = JSON.parse(ok.stdout.trim())
    assert.strictEqual(report.valid, true)
    assert.deepStrictEqual(report.platforms, ["youtube", "x"])
    const bad = await run(
      ["publish", "--request", requestFile, ...env.flags, "--dry-run", "--x-text", "x".repeat(400)],
      { cwd: env.dir }
    )
    assert.strictEqual(bad.code, 2)
    assert.include(bad.stderr, "metadata.x.text")
    assert.strictEqual(total(), before)
    assert.isFalse(fs.existsSync(env.store), "a dry run creates no store")
  })

  it("--online also checks the selected platforms' credentials, and still uploads and posts nothing", async () => {
    const before = received()
    const online = await run(["publish", "--request", requestFile, ...env.flags, "--dry-run", "--online"], {
      cwd: env.dir
    })
    assert.strictEqual(online.code, 0, online.stderr + online.stdout)
    assert.match(online.stdout, /Credentials YouTube +ok/)
    assert.match(online.stdout, /Credentials X +ok/)
    assert.notInclude(online.stdout, "Facebook")
    const after = received()
    assert.isAbove(after.youtube!, before.youtube!)
    assert.strictEqual(after.facebook, before.facebook)
    const state = env.sandbox.state()
    assert.strictEqual(state.posts.length, 0)
    assert.deepStrictEqual(state.uploads, [], JSON.stringify(state.uploads))
  })
})

describe("scheduling from the command line", { timeout: 120_000 }, () => {
  it("--at stores a scheduled task; tasks --scheduled lists it; reschedule moves it; bad times exit 2", async () => {
    const published = await run(
      ["publish", "--request", requestFile, ...env.flags, "--at", "2031-01-31T09:00:00Z", "--json"],
      { cwd: env.dir }
    )
    assert.strictEqual(published.code, 0, published.stderr)
    const status = JSON.parse(published.stdout.trim().split("\n").pop()!)
    assert.strictEqual(status.status, "pending")
    assert.strictEqual(status.run_at, "2031-01-31T09:00:00.000Z")
    const id: string = status.task_id

    const listed = await run(["tasks", "--scheduled", "--json", ...env.flags], { cwd: env.dir })
    assert.strictEqual(listed.code, 0, listed.stderr)
    assert.deepStrictEqual(
      listed.stdout.trim().split("\n").map((l) => JSON.parse(l)).map((s) => [s.task_id, s.run_at]),
      [[id, "2031-01-31T09:00:00.000Z"]]
    )

    const moved = await run(["reschedule", id, "2031-02-01 10:00", ...env.flags], {
      cwd: env.dir,
      env: { TZ: "UTC" }
    })
    assert.strictEqual(moved.code, 0, moved.stderr)
    assert.include(moved.stdout, "2031-02-01T10:00:00.000Z")
    const text = await run(["tasks", "--scheduled", ...env.flags], { cwd: env.dir })
    assert.include(text.stdout, id)
    assert.include(text.stdout, "2031-02-01 10:00")

    const past = await run(["reschedule", id, "2001-01-01T00:00:00Z", ...env.flags], { cwd: env.dir })
    assert.strictEqual(past.code, 2)
    assert.include(past.stderr, "runAt")
    assert.include(past.stderr, "in the past")
    const unreadable = await run(["publish", "--request", requestFile, ...env.flags, "--at", "someday"], {
      cwd: env.dir
    })
    assert.strictEqual(unreadable.code, 2)
    assert.include(unreadable.stderr, "--at")
    assert.include(unreadable.stderr, "\"someday\"")
    // Nothing of it reached a platform: the task waits in the store.
    assert.strictEqual(env.sandbox.state().posts.length, 0)
  })
})

describe("batches from the command line", { timeout: 180_000 }, () => {
  it("a bad row: exit 2 naming every bad row and field, nothing submitted; a good one: the plan, then status --batch", async () => {
    const bad = path.join(env.dir, "bad.csv")
    fs.writeFileSync(
      bad,
      [
        "mediaFile,platforms,linkedin.text",
        "*,linkedin,Out now",
        `${sampleMp4},,`,
        "missing.mp4,,",
        `${sampleMp4},linkedin;tiktok,`
      ].join("\n")
    )
    const refused = await run(["batch", bad, ...env.flags], { cwd: env.dir })
    assert.strictEqual(refused.code, 2, refused.stdout)
    assert.include(refused.stderr, "2 of 3 rows")
    assert.include(refused.stderr, "row 2 (line 4): mediaFile")
    assert.include(refused.stderr, "row 3 (line 5): platforms[1]")
    assert.include(refused.stderr, "nothing was submitted")

    const good = path.join(env.dir, "season.yaml")
    fs.writeFileSync(
      good,
      [
        "defaults:",
        "  platforms: [linkedin]",
        "  metadata: { linkedin: { text: Out now } }",
        "videos:",
        `  - mediaFile: ${sampleMp4}`,
        `  - mediaFile: ${sampleMp4}`,
        "    metadata: { linkedin: { text: Part two } }"
      ].join("\n")
    )
    const before = env.sandbox.state().posts.length
    const dry = await run(["batch", good, ...env.flags, "--dry-run"], { cwd: env.dir })
    assert.strictEqual(dry.code, 0, dry.stderr)
    assert.include(dry.stdout, "2 videos would be published")
    assert.strictEqual(env.sandbox.state().posts.length, before)

    const done = await run(["batch", good, ...env.flags, "--json"], { cwd: env.dir })
    assert.strictEqual(done.code, 0, done.stderr)
    const batchId: string = JSON.parse(done.stdout.trim().split("\n")[0]!).batch_id
    assert.match(batchId, /^medusa_batch_/)
    const table = await run(["status", "--batch", batchId, ...env.flags], { cwd: env.dir })
    assert.strictEqual(table.code, 0, table.stderr)
    assert.include(table.stdout, "2 tasks: 2 completed")
    assert.strictEqual(env.sandbox.state().posts.length, before + 2)
  })

  it("batch --detach prints the batch id at once; a background worker publishes it; status --batch follows", async () => {
    const manifest = path.join(env.dir, "detached.json")
    fs.writeFileSync(
      manifest,
      JSON.stringify({
        defaults: { platforms: ["linkedin"], metadata: { linkedin: { text: "Detached batch" } } },
        videos: [{ mediaFile: sampleMp4 }, {
          mediaFile: sampleMp4,
          metadata: { linkedin: { text: "Detached, part two" } }
        }]
      })
    )
    const before = env.sandbox.state().posts.length
    const detached = await run(["batch", manifest, ...env.flags, "--detach"], { cwd: env.dir })
    assert.strictEqual(detached.code, 0, detached.stdout + detached.stderr)
    const batchId = /(medusa_batch_\S+?)(?:[\s.,)]|$)/m.exec(detached.stdout)?.[1]
    assert.isDefined(batchId, detached.stdout)
    const log = /\(log: (.+)\)/.exec(detached.stdout)![1]!
    let last = ""
    await eventually(
      async () => {
        const table = await run(["status", "--batch", batchId!, ...env.flags], { cwd: env.dir })
        last = table.stdout + table.stderr
        return table.stdout.includes("2 tasks: 2 completed") && table.stdout
      },
      () =>
        `the detached batch to complete; status --batch printed:\n${last}\nthe worker's log:\n${
          fs.readFileSync(log, "utf8")
        }`
    )
    assert.strictEqual(env.sandbox.state().posts.length, before + 2)
  })
})

describe("retract against the sandbox", { timeout: 120_000 }, () => {
  it("deletes the posts and the uploads through each platform's delete API; again asks nothing; nothing made is refused", async () => {
    const id = await client.publishAsync({
      mediaFile: sampleMp4,
      platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
      metadata: {
        youtube: { title: "Retract me" },
        vimeo: { title: "Retract me" },
        facebook: { message: "Soon gone: {youtube_url}" },
        x: { text: "Soon gone: {vimeo_url}" },
        linkedin: { text: "Soon gone" }
      }
    })
    const done = await client.waitForTask(id)
    assert.strictEqual(done.status, "completed")
    const postIds = [done.results!.facebook_post_id, done.results!.x_post_id, done.results!.linkedin_post_id]
    const live = () => env.sandbox.state().posts.filter((p) => postIds.includes(p.id)).length
    assert.strictEqual(live(), 3)

    const retracted = await client.retract(id, { videos: true })
    assert.strictEqual(live(), 0)
    assert.deepStrictEqual(
      retracted.retracted!.map((r) => `${r.platform}/${r.kind}`).sort(),
      ["facebook/post", "linkedin/post", "vimeo/video", "x/post", "youtube/video"]
    )
    const deletes = () => env.sandbox.raw.log.filter((e) => e.method === "DELETE").length
    const before = deletes()
    const again = await client.retract(id, { videos: true })
    assert.strictEqual(again.retracted!.length, 5)
    assert.strictEqual(deletes(), before, "a second retract sends no delete")

    const onlyUpload = await client.publishAsync({
      mediaFile: sampleMp4,
      platforms: ["vimeo"],
      metadata: { vimeo: { title: "Kept" } }
    })
    await client.waitForTask(onlyUpload)
    const refused = await client.retract(onlyUpload).then(
      () => undefined,
      (e: { _tag: string; message: string }) => e
    )
    assert.strictEqual(refused?._tag, "TaskNotReady")
    assert.include(refused!.message, "made nothing")
    assert.include(refused!.message, onlyUpload)
  })
})
