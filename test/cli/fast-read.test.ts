/**
 * The read commands' fast path (`tasks`, `status`, `config validate` run
 * without the `@effect/cli` app) prints exactly what the full command line
 * prints: the same stdout, stderr and exit code for every form it accepts,
 * and it leaves every other form to the full command line.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { readCommand } from "../../src/cli/internal/fastRead.js"
import { type Env, makeEnv, run, sampleMp4 } from "./helpers.js"

let env: Env
let completed: string
let failed: string
let badConfig: string

const taskIdOf = (stdout: string): string => {
  const id = /"task_id":"(medusa_task_[^"]+)"/.exec(stdout)?.[1]
  if (id === undefined) throw new Error(`no task id in ${stdout}`)
  return id
}

describe("read commands' fast path", { timeout: 180_000 }, () => {
  beforeAll(async () => {
    env = await makeEnv()
    const ok = await run(
      ["publish", sampleMp4, "--to", "youtube,x", "--title", "Fast", "--x-text", "fast {youtube_url}", "--json"]
        .concat(env.flags),
      { cwd: env.dir }
    )
    assert.strictEqual(ok.code, 0, ok.stderr)
    completed = taskIdOf(ok.stdout)
    env.sandbox.inject({
      platform: "youtube",
      route: "upload.initiate",
      action: { kind: "status", status: 400, code: "invalidTitle", message: "The title is not valid." }
    })
    const ko = await run(
      ["publish", sampleMp4, "--to", "youtube,x", "--title", "Fails", "--x-text", "{youtube_url}", "--json"]
        .concat(env.flags),
      { cwd: env.dir }
    )
    env.sandbox.clearFaults()
    assert.strictEqual(ko.code, 1, ko.stderr)
    failed = taskIdOf(ko.stdout)
    badConfig = path.join(env.dir, "bad.config.json")
    fs.writeFileSync(badConfig, JSON.stringify({ vimeo: { acess_token: "x" } }), { mode: 0o600 })
  }, 180_000)

  afterAll(async () => {
    await env?.close()
  })

  const forms = (): ReadonlyArray<ReadonlyArray<string>> => [
    ["tasks", "--store", env.store],
    ["tasks", "-n", "1", `--store=${env.store}`, "--json", "--config", env.config],
    ["tasks", "--status", "pending", "--store", env.store],
    ["tasks", "--store", path.join(env.dir, "missing.db")],
    ["status", completed, "--store", env.store],
    ["status", "--json", "--store", env.store, failed],
    ["status", failed, "--store", env.store],
    ["status", "medusa_task_00000000-0000-4000-8000-000000000000", "--store", env.store],
    ["config", "validate", "--config", env.config],
    ["config", "validate", "-c", badConfig]
  ]

  it("every form gives the same stdout, stderr and exit code on both paths", async () => {
    const compare = async (args: ReadonlyArray<string>) => {
      assert.isDefined(readCommand(args), `the fast path takes: ${args.join(" ")}`)
      const [fast, full] = await Promise.all([
        run(args, { cwd: env.dir }),
        run(args, { cwd: env.dir, env: { MEDUSA_NO_FAST_READ: "1" } })
      ])
      assert.deepStrictEqual(
        { code: fast.code, stdout: fast.stdout, stderr: fast.stderr },
        { code: full.code, stdout: full.stdout, stderr: full.stderr },
        args.join(" ")
      )
      return fast.code
    }
    const exits = new Set<number | null>()
    for (const args of forms()) exits.add(await compare(args))
    // The forms cover success, a failed task and bad input.
    assert.deepStrictEqual([...exits].sort(), [0, 1, 2])
  })

  it("prints what the commands print", async () => {
    const list = await run(["tasks", "--store", env.store], { cwd: env.dir })
    assert.match(list.stdout, /^TASK\s+STATE\s+CREATED\s+PLATFORMS\n/)
    assert.include(list.stdout, completed)
    assert.include(list.stdout, failed)
    const status = await run(["status", failed, "--store", env.store], { cwd: env.dir })
    assert.strictEqual(status.code, 1)
    assert.include(status.stdout, "The title is not valid.")
  })

  it("leaves every other form to the full command line", () => {
    const id = "medusa_task_00000000-0000-4000-8000-000000000000"
    for (
      const args of [
        ["tasks", "--help"],
        ["tasks", "--watch"],
        ["tasks", "--json", "--json"],
        ["tasks", "--limit", "0"],
        ["tasks", "--limit", "many"],
        ["tasks", "--status", "done"],
        ["tasks", "extra"],
        ["tasks", "--sandbox"],
        ["tasks", "--store"],
        ["tasks", "--json=yes"],
        ["status"],
        ["status", id, id],
        ["status", id, "--watch"],
        ["status", id, "-w"],
        ["config"],
        ["config", "validate", "--sandbox"],
        ["config", "check"],
        ["publish", "video.mp4"],
        ["cancel", id],
        []
      ]
    ) assert.isUndefined(readCommand(args), args.join(" "))
  })
})
