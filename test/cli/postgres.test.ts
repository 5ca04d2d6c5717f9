/**
 * The CLI on a PostgreSQL store, with no environment variable: `medusa
 * publish` is a runner and completes; a client (`medusa.runner.role` =
 * `"client"`) with no runner alive says so in the task's message within
 * seconds, `medusa status` shows it, and a runner started later completes it.
 *
 * Needs `MEDUSA_TEST_PG_URL`; skipped with a notice otherwise.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { dropDatabase, freshDatabase, pgUrl, warnIfNoPg } from "../durable/fixtures/pg.js"
import { type Env, eventually, makeEnv, run, sampleMp4, start } from "./helpers.js"

warnIfNoPg("CLI on PostgreSQL")

let env: Env
let url: string
const configs: Record<"runner" | "client", string> = { runner: "", client: "" }

/** The environment without any Medusa variable: what a new user's shell has. */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MEDUSA_")))

describe.skipIf(!pgUrl)("CLI on PostgreSQL", { timeout: 180_000 }, () => {
  beforeAll(async () => {
    env = await makeEnv()
    url = await freshDatabase()
    const base = JSON.parse(fs.readFileSync(env.config, "utf8")) as Record<string, unknown>
    for (const role of ["runner", "client"] as const) {
      const file = path.join(path.dirname(env.config), `medusa.${role}.json`)
      fs.writeFileSync(
        file,
        JSON.stringify({
          ...base,
          medusa: { store: { postgres: url }, ...(role === "client" ? { runner: { role: "client" } } : {}) }
        })
      )
      configs[role] = file
    }
  })

  afterAll(async () => {
    await env?.close()
    if (url) await dropDatabase(url).catch(() => {})
  })

  it("publish with a PostgreSQL config runs the task itself and completes", async () => {
    const result = await run(
      ["publish", sampleMp4, "--to", "youtube,x", "--title", "On PG", "--x-text", "pg {youtube_url}"].concat(
        ["--config", configs.runner]
      ),
      { cwd: env.dir, env: cleanEnv() }
    )
    assert.strictEqual(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /completed/)
    const posts = env.sandbox.raw.posts.filter((p) => p.platform === "x" && p.text.startsWith("pg "))
    assert.strictEqual(posts.length, 1)
  })

  it("a client with no runner alive says so in the task's message; a runner started later completes it", async () => {
    const postsBefore = env.sandbox.raw.posts.length
    const client = start(
      ["publish", sampleMp4, "--to", "x", "--x-text", "client task", "--config", configs.client],
      { cwd: env.dir, env: cleanEnv() }
    )
    const id = await eventually(
      () => /task (medusa_task_\S+) submitted/.exec(client.stdout())?.[1],
      () => `the task id; the client printed:\n${client.stdout()}${client.stderr()}`,
      60_000
    )
    const status = await eventually(async () => {
      const s = await run(["status", id, "--config", configs.client], { cwd: env.dir, env: cleanEnv() })
      return /waiting for a runner: none is alive/.test(s.stdout) && s
    }, "`medusa status` to say that no runner is alive")
    assert.match(status.stdout, /State\s+pending \(waiting for a runner: none is alive/)
    const json = await run(["status", id, "--json", "--config", configs.client], { cwd: env.dir, env: cleanEnv() })
    const task = JSON.parse(json.stdout) as { status: string; message: string; created_at: string; updated_at: string }
    assert.strictEqual(task.status, "pending")
    assert.match(task.message, /^waiting for a runner: none is alive/)
    // Written within seconds of the submit (the client looks at once, then every second).
    const after = Date.parse(task.updated_at) - Date.parse(task.created_at)
    assert.isAtMost(after, 5_000, `the message was written ${after} ms after the submit`)
    console.log(`[medusa] no-runner message written ${after} ms after the submit`)
    assert.strictEqual(env.sandbox.raw.posts.length, postsBefore, "nothing ran")

    // A runner (any process that is not a client): `medusa resume` picks the task up.
    const runner = await run(["resume", id, "--config", configs.runner], { cwd: env.dir, env: cleanEnv() })
    assert.strictEqual(runner.code, 0, runner.stdout + runner.stderr)
    const done = await client.done
    assert.strictEqual(done.code, 0, done.stdout + done.stderr)
    assert.match(done.stdout, /completed/)
    assert.strictEqual(env.sandbox.raw.posts.filter((p) => p.text === "client task").length, 1)
  })
})
