/**
 * Crash tests with real processes: a worker is killed (`SIGKILL`, by itself at
 * an exact point of a step) and a new worker on the same SQLite file must
 * finish the task: every byte uploaded once (sha256 equal, ≤ 1.05 × the file
 * sent per host), one post per platform.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import * as SqlTaskStore from "../../src/SqlTaskStore.js"
import type { Task } from "../../src/Task.js"
import { TaskStore } from "../../src/TaskStore.js"
import { sha256, tempDir, writeVideo } from "./fixtures/media.js"
import { startWorker, type Worker } from "./fixtures/processes.js"

const size = 3 * 1024 * 1024 + 12_345

const readTasks = (filename: string): Promise<ReadonlyArray<Task>> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(Layer.build(SqlTaskStore.layerSqlite({ filename, readOnly: true })), (ctx) =>
        (ctx.unsafeMap.get(TaskStore.key) as TaskStore["Type"]).list())
    )
  )

const workers: Array<Worker> = []
afterEach(() => {
  for (const w of workers.splice(0)) if (w.child.exitCode === null) w.child.kill("SIGKILL")
})

const setup = async (sandbox: Sandbox.Sandbox, title: string) => {
  const dir = tempDir()
  const config = await sandbox.writeConfig(path.join(dir, "sandbox"))
  const video = writeVideo(dir, size)
  const nonce = path.basename(dir)
  const requestFile = path.join(dir, "request.json")
  writeFileSync(
    requestFile,
    JSON.stringify({
      mediaFile: video,
      platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
      metadata: {
        youtube: { title },
        vimeo: { title },
        facebook: { message: `Watch ${nonce} {youtube_url}` },
        x: { text: `Watch ${nonce} {vimeo_url}` },
        linkedin: { text: `Watch ${nonce} {youtube_url}` }
      }
    })
  )
  const db = path.join(dir, "medusa.db")
  return { video, nonce, requestFile, db, env: { MEDUSA_DB: db, MEDUSA_SANDBOX_CONFIG: config } }
}

const assertPublishedOnce = (sandbox: Sandbox.Sandbox, video: string, nonce: string) => {
  const expected = sha256(video)
  const uploads = [...sandbox.raw.uploads.values()]
  for (const host of ["youtube", "vimeo"] as const) {
    const complete = uploads.filter((u) => u.platform === host && u.complete)
    assert.strictEqual(complete.length, 1, `${host}: one complete upload`)
    assert.strictEqual(complete[0]!.sha256, expected, `${host}: the stored upload is the file`)
    const sent = sandbox.raw.counters[host].bodyBytes
    assert.isAtMost(sent, 1.05 * size, `${host}: ${sent} bytes sent for a ${size}-byte file`)
  }
  for (const publisher of ["facebook", "x", "linkedin"] as const) {
    const posts = sandbox.raw.postsOf(publisher).filter((p) => p.text.includes(nonce))
    assert.strictEqual(posts.length, 1, `${publisher}: exactly one post`)
  }
}

const scenario = async (crash: string) => {
  const sandbox = await Sandbox.start()
  try {
    const { db, env, nonce, requestFile, video } = await setup(sandbox, `Crash ${crash}`)

    const first = startWorker({ ...env, MEDUSA_SUBMIT: requestFile, MEDUSA_CRASH: crash })
    workers.push(first)
    const { signal } = await first.exited
    const crashedAt = Date.now()
    assert.strictEqual(signal, "SIGKILL", `the worker should have killed itself at ${crash}; stderr: ${first.stderr()}`)
    assert.isTrue(first.lines.some((l) => l.startsWith("CRASH")), first.lines.join("\n"))
    const [before] = await readTasks(db)
    assert.isDefined(before)
    assert.strictEqual(before!.state, "in_progress")

    const second = startWorker(env)
    workers.push(second)
    await second.line("DONE", 90_000)
    const { code } = await second.exited
    assert.strictEqual(code, 0, second.stderr())

    const [task] = await readTasks(db)
    assert.strictEqual(task!.state, "completed", JSON.stringify(task!.failures))
    assert.strictEqual(task!.id, before!.id)

    assertPublishedOnce(sandbox, video, nonce)
    return { task: task!, sandbox, crashedAt }
  } finally {
    await sandbox.close()
  }
}

describe("crash and restart (embedded SQLite, real processes)", { timeout: 150_000 }, () => {
  it("kill -9 right after the upload session is created", () => scenario("after-session"))
  it("kill -9 mid-upload", () => scenario("mid-upload"))
  it("kill -9 between the uploads and the posts", () => scenario("between"))
  it("kill -9 inside a post, after the request was sent", () => scenario("in-post"))
  it("kill -9 after a post's intent, before its request left: the resume waits out the settle time, then posts once", async () => {
    const { crashedAt, sandbox, task } = await scenario("after-intent")
    // The sandbox's configuration has a settle time of 5 s from the intent, which the crash
    // followed within milliseconds: the post went out no sooner (the sandbox clock is real time).
    const post = sandbox.raw.postsOf("x").find((p) => p.id === task.posts.find((q) => q.publisher === "x")?.postId)
    assert.isDefined(post)
    assert.isAtLeast(post!.createdAt - crashedAt, 4_000)
  })
})

describe("one owner per SQLite file (real processes)", { timeout: 150_000 }, () => {
  it("with whenLocked: \"fail\", a second process is refused with a locked error while the first runs the task once", async () => {
    const sandbox = await Sandbox.start()
    try {
      const { db, env, nonce, requestFile, video } = await setup(sandbox, "Two owners")
      // Slow uploads so the second process starts while activities run.
      sandbox.inject({
        platform: "youtube",
        route: "upload",
        times: Infinity,
        action: { kind: "latency", millis: 300 }
      })
      const first = startWorker({ ...env, MEDUSA_SUBMIT: requestFile })
      workers.push(first)
      await first.line("TASK")
      const second = startWorker({ ...env, MEDUSA_WHEN_LOCKED: "fail" })
      workers.push(second)
      const { code } = await second.exited
      assert.strictEqual(code, 1)
      assert.include(second.stderr(), "locked")
      assert.include(second.stderr(), db)
      assert.isFalse(second.lines.includes("READY"))
      await first.line("DONE", 90_000)
      const [task] = await readTasks(db)
      assert.strictEqual(task!.state, "completed", JSON.stringify(task!.failures))
      assertPublishedOnce(sandbox, video, nonce)
    } finally {
      await sandbox.close()
    }
  })
})

describe("runAt across a restart (real processes)", { timeout: 150_000 }, () => {
  it("a scheduled task stays pending through a restart and runs when due", async () => {
    const sandbox = await Sandbox.start()
    try {
      const { db, env, nonce, requestFile, video } = await setup(sandbox, "Scheduled")
      const first = startWorker({
        ...env,
        MEDUSA_SUBMIT: requestFile,
        MEDUSA_EXIT: "after-submit",
        MEDUSA_RUN_AT_DELAY: "6000"
      })
      workers.push(first)
      assert.strictEqual((await first.exited).code, 0, first.stderr())
      const [pending] = await readTasks(db)
      assert.strictEqual(pending!.state, "pending")
      assert.isDefined(pending!.runAt)
      assert.strictEqual(sandbox.raw.counters.youtube.requests, 0)

      const second = startWorker({ ...env, MEDUSA_WHEN_LOCKED: "fail" })
      workers.push(second)
      await second.line("DONE", 90_000)
      const [task] = await readTasks(db)
      assert.strictEqual(task!.state, "completed", JSON.stringify(task!.failures))
      const started = task!.history.find((h) => h.state === "in_progress")!
      assert.isAtLeast(started.at, pending!.runAt!)
      assertPublishedOnce(sandbox, video, nonce)
    } finally {
      await sandbox.close()
    }
  })
})
