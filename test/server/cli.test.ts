/**
 * `medusa serve` as a user runs it: the real CLI, an embedded sandbox, the
 * default durable SQLite store.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { demoRequest, eventually, root, run, scratch, start } from "../cli/helpers.js"

describe("medusa serve", () => {
  it("prints one Listening line, publishes through the API to the sandbox, stops on Ctrl+C", async () => {
    const dir = scratch()
    fs.cpSync(path.join(root, "examples/media"), path.join(dir, "media"), { recursive: true })
    const server = start(["serve", "--port", "0", "--sandbox", "--store", ".medusa/medusa.db"], {
      cwd: dir,
      env: { MEDUSA_SERVER_API_KEY: "cli-test-key" }
    })
    try {
      await eventually(
        () => /Listening on /.test(server.stdout()),
        () => `the server to start; printed:\n${server.stdout()}${server.stderr()}`,
        60_000
      )
      assert.match(server.stdout(), /^Listening on http:\/\/127\.0\.0\.1:\d+\n$/)
      const url = server.stdout().trim().slice("Listening on ".length)
      const request = JSON.parse(fs.readFileSync(demoRequest, "utf8")) as Record<string, unknown>
      const submitted = await fetch(`${url}/v1/tasks`, {
        method: "POST",
        headers: { authorization: "Bearer cli-test-key", "content-type": "application/json" },
        body: JSON.stringify(request)
      })
      assert.strictEqual(submitted.status, 202, await submitted.clone().text())
      const { task_id } = (await submitted.json()) as { task_id: string }
      let status: { status: string; results?: Record<string, string>; history?: Array<unknown> } = { status: "" }
      await eventually(
        async () => {
          status = await (await fetch(`${url}/v1/tasks/${task_id}`, {
            headers: { authorization: "Bearer cli-test-key" }
          })).json() as typeof status
          return status.status === "completed" || status.status === "failed"
        },
        () => `the task to finish: ${JSON.stringify(status)}`,
        60_000
      )
      assert.strictEqual(status.status, "completed", JSON.stringify(status))
      assert.isString(status.results?.linkedin_post_url)
      assert.isAtLeast(status.history?.length ?? 0, 3)
      // With --sandbox, tasks live in memory unless --store names a file (as here).
      assert.isTrue(fs.existsSync(path.join(dir, ".medusa", "medusa.db")))
      // `medusa status` reads the same store, and prints the history.
      const printed = await run(["status", task_id], { cwd: dir })
      assert.strictEqual(printed.code, 0, printed.stderr)
      assert.match(
        printed.stdout,
        /^History\n {2}\S+Z {2}pending\s*\n {2}\S+Z {2}in_progress {2}.+\n {2}\S+Z {2}completed/m
      )
      const json = await run(["status", task_id, "--json"], { cwd: dir })
      const parsed = JSON.parse(json.stdout) as { history: Array<{ state: string; at: string }> }
      assert.deepStrictEqual(parsed.history.map((h) => h.state), ["pending", "in_progress", "completed"])
    } finally {
      server.child.kill("SIGINT")
      await server.done
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
