/**
 * While a detached worker owns the SQLite store, `reschedule` and `retract`
 * from a second process go through the store's requests folder (as `cancel`
 * does): the owner carries them out and answers; the asker prints the result.
 * A retraction shows in the task's history.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import { type Env, holdYouTubeUpload, makeEnv, makeVideo, run } from "./helpers.js"

let env: Env
const MiB = 1024 * 1024

beforeAll(async () => {
  env = await makeEnv()
})

afterAll(async () => {
  await env.close()
})

const taskIdOf = (stdout: string): string => {
  const id = /(medusa_task_[0-9a-f-]{36})/.exec(stdout)?.[1]
  assert.isDefined(id, stdout)
  return id!
}

describe("a store another process owns", { timeout: 180_000 }, () => {
  it("reschedule and retract from a second process are carried out by the owner; the retraction is in the history", async () => {
    // A finished task with a post, and a scheduled one, before any worker runs.
    const done = await run(
      ["publish", makeVideo(env.dir, MiB), "--to", "youtube,x", "--title", "Owned", "--x-text", "owned {youtube_url}"]
        .concat(env.flags, ["--json"]),
      { cwd: env.dir }
    )
    assert.strictEqual(done.code, 0, done.stdout + done.stderr)
    const finished = JSON.parse(done.stdout.trim().split("\n").pop()!) as {
      task_id: string
      status: string
      results: { x_post_id: string }
    }
    assert.strictEqual(finished.status, "completed")
    const postId = finished.results.x_post_id
    const live = () => env.sandbox.state().posts.filter((p) => p.id === postId).length
    assert.strictEqual(live(), 1)

    const scheduled = await run(
      ["publish", makeVideo(env.dir, MiB), "--to", "youtube", "--title", "Later", "--at", "2031-01-31T09:00:00Z"]
        .concat(env.flags, ["--json"]),
      { cwd: env.dir }
    )
    assert.strictEqual(scheduled.code, 0, scheduled.stderr)
    const later = taskIdOf(scheduled.stdout)

    // A detached worker held part-way through an upload owns the store.
    // The hold is in place before the task exists: its upload may start before the next line returns.
    const held = holdYouTubeUpload(env.sandbox, MiB)
    const detached = await run(
      ["publish", makeVideo(env.dir, 4 * MiB), "--to", "youtube", "--title", "Owner", "--detach"].concat(env.flags),
      { cwd: env.dir }
    )
    assert.strictEqual(detached.code, 0, detached.stderr)
    const owner = taskIdOf(detached.stdout)
    const hold = await held
    try {
      const moved = await run(["reschedule", later, "2031-02-01T10:00:00Z", ...env.flags], { cwd: env.dir })
      assert.strictEqual(moved.code, 0, moved.stdout + moved.stderr)
      assert.include(moved.stdout, "2031-02-01T10:00:00.000Z")

      const retracted = await run(["retract", finished.task_id, ...env.flags], { cwd: env.dir })
      assert.strictEqual(retracted.code, 0, retracted.stdout + retracted.stderr)
      assert.strictEqual(live(), 0, "the owner deleted the post")
    } finally {
      hold.release()
    }

    // Both calls were answered and removed from the requests folder.
    assert.deepStrictEqual(fs.readdirSync(`${env.store}.requests`).filter((f) => !f.startsWith(".")), [])

    const laterStatus = await run(["status", later, "--json", ...env.flags], { cwd: env.dir })
    assert.strictEqual(JSON.parse(laterStatus.stdout).run_at, "2031-02-01T10:00:00.000Z")

    const status = await run(["status", finished.task_id, "--json", ...env.flags], { cwd: env.dir })
    const json = JSON.parse(status.stdout) as {
      history: ReadonlyArray<{ state: string; event?: string; platform?: string }>
    }
    assert.deepStrictEqual(
      json.history.filter((h) => h.event !== undefined).map((h) => [h.event, h.platform]),
      [["retracted", "x"]]
    )
    const text = await run(["status", finished.task_id, ...env.flags], { cwd: env.dir })
    assert.match(text.stdout, /retracted/i)

    // The owner's own task still finishes.
    const ownerStatus = await run(["status", owner, "--watch", ...env.flags], { cwd: env.dir })
    assert.strictEqual(ownerStatus.code, 0, ownerStatus.stdout + ownerStatus.stderr)
  })
})
