/**
 * LinkedIn's daily post limit and an X monthly post cap in the quota plan,
 * from the outside, against the sandbox: `medusa batch --dry-run` shows the
 * plan; `medusa batch` posts what fits and stores the rest after the reset
 * with a `waits` entry; the posts LinkedIn and X accepted are counted in the
 * ledgers beside the config file, which a later plan (another process, the
 * facade's `validate`) reads. The CLI runs as real processes.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { createMedusa, type MedusaClient } from "../../src/promise.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import { type Env, makeEnv, run, sampleMp4 } from "../cli/helpers.js"

let env: Env
let client: MedusaClient

const nextMidnightUtc = (now: number): number => {
  const d = new Date(now)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
}
const nextMonthUtc = (now: number): number => {
  const d = new Date(now)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

const xRequest: PublishRequestInput = {
  mediaFile: sampleMp4,
  platforms: ["x"],
  metadata: { x: { text: "Capped post" } }
}

beforeAll(async () => {
  env = await makeEnv()
  const config = JSON.parse(fs.readFileSync(env.config, "utf8"))
  config.linkedin.daily_post_limit = 2
  config.twitter.monthly_post_cap = 1
  fs.writeFileSync(env.config, JSON.stringify(config, null, 2))
  client = await createMedusa({ configFile: env.config })
}, 60_000)

afterAll(async () => {
  await client?.close()
  await env?.close()
})

const ledger = (name: string): Record<string, { day: string; posts: number }> =>
  JSON.parse(fs.readFileSync(path.join(path.dirname(env.config), ".medusa", name), "utf8")).entries

describe("post limits in the quota plan", { timeout: 180_000 }, () => {
  it("LinkedIn: the batch plan holds the row past the daily limit until midnight UTC; accepted posts are counted", async () => {
    const manifest = path.join(env.dir, "linkedin.yaml")
    fs.writeFileSync(
      manifest,
      [
        "defaults:",
        "  platforms: [linkedin]",
        "videos:",
        `  - { mediaFile: ${sampleMp4}, metadata: { linkedin: { text: One } } }`,
        `  - { mediaFile: ${sampleMp4}, metadata: { linkedin: { text: Two } } }`,
        `  - { mediaFile: ${sampleMp4}, metadata: { linkedin: { text: Three } } }`
      ].join("\n")
    )
    const midnight = nextMidnightUtc(Date.now())
    const message = "waiting for LinkedIn daily limit: resets 00:00 UTC"
    const waits = [{
      platform: "linkedin",
      reason: "waiting for LinkedIn daily limit",
      until: new Date(midnight).toISOString()
    }]

    const dry = await run(["batch", manifest, ...env.flags, "--dry-run", "--json"], { cwd: env.dir })
    assert.strictEqual(dry.code, 0, dry.stderr)
    const planned = JSON.parse(dry.stdout.trim()).tasks
    assert.deepStrictEqual(planned.map((t: { run_at?: string }) => t.run_at), [
      undefined,
      undefined,
      new Date(midnight).toISOString()
    ])
    assert.strictEqual(planned[2].message, message)
    assert.deepStrictEqual(planned[2].waits, waits)
    const table = await run(["batch", manifest, ...env.flags, "--dry-run"], { cwd: env.dir })
    assert.strictEqual(table.code, 0, table.stderr)
    assert.include(table.stdout, message)
    assert.strictEqual(env.sandbox.state().posts.length, 0)

    const done = await run(["batch", manifest, ...env.flags, "--json"], { cwd: env.dir })
    assert.strictEqual(done.code, 0, done.stderr)
    const lines = done.stdout.trim().split("\n")
    const tasks = JSON.parse(lines[0]!).tasks
    assert.strictEqual(tasks[2].status, "pending")
    assert.strictEqual(tasks[2].message, message)
    assert.deepStrictEqual(tasks[2].waits, waits)
    assert.strictEqual(env.sandbox.state().posts.filter((p) => p.platform === "linkedin").length, 2)
    assert.deepStrictEqual(Object.values(ledger("linkedin-posts.json")).map((e) => e.posts), [2])

    // Another process plans from the ledger: no room today.
    const report = await client.validate({
      mediaFile: sampleMp4,
      platforms: ["linkedin"],
      metadata: { linkedin: { text: "Four" } }
    })
    assert.deepStrictEqual(report.quota, [{
      platform: "linkedin",
      bucket: "posts",
      used: 2,
      needs: 1,
      limit: 2,
      resets_at: new Date(midnight).toISOString(),
      fits: false
    }])
    assert.strictEqual(report.run_at, new Date(midnight).toISOString())
    const cancelled = await run(["cancel", tasks[2].task_id, ...env.flags], { cwd: env.dir })
    assert.strictEqual(cancelled.code, 0, cancelled.stderr)
  })

  it("X: a monthly cap, off unless configured, holds a post past it until the 1st of the month UTC", async () => {
    const reset = new Date(nextMonthUtc(Date.now())).toISOString()
    const requestFile = path.join(env.dir, "x.json")
    fs.writeFileSync(requestFile, JSON.stringify(xRequest))
    const first = await run(["publish", "--request", requestFile, ...env.flags, "--dry-run", "--json"], {
      cwd: env.dir
    })
    assert.strictEqual(first.code, 0, first.stderr)
    assert.deepStrictEqual(JSON.parse(first.stdout.trim()).quota, [
      { platform: "x", bucket: "posts", used: 0, needs: 1, limit: 1, resets_at: reset, fits: true }
    ])
    const posted = await run(["publish", "--request", requestFile, ...env.flags, "--json"], { cwd: env.dir })
    assert.strictEqual(posted.code, 0, posted.stderr)
    assert.deepStrictEqual(Object.values(ledger("x-posts.json")).map((e) => e.posts), [1])

    const dry = await run(["publish", "--request", requestFile, ...env.flags, "--dry-run"], { cwd: env.dir })
    assert.strictEqual(dry.code, 0, dry.stderr)
    assert.match(
      dry.stdout,
      /Quota +X posts: 1 used \+ 1 of 1, resets \S+ \(does not fit: the task waits for the reset\)/
    )
    const held = await run(["publish", "--request", requestFile, ...env.flags, "--json"], { cwd: env.dir })
    assert.strictEqual(held.code, 0, held.stderr)
    const status = JSON.parse(held.stdout.trim().split("\n").pop()!)
    assert.strictEqual(status.status, "pending")
    assert.strictEqual(status.run_at, reset)
    assert.match(status.message, /^waiting for X monthly post cap: resets \d{4}-\d{2}-01 00:00 UTC$/)
    assert.deepStrictEqual(status.waits, [{ platform: "x", reason: "waiting for X monthly post cap", until: reset }])
    assert.strictEqual(env.sandbox.state().posts.filter((p) => p.platform === "x").length, 1)
  })
})
