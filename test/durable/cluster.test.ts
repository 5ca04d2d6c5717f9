/**
 * Distributed mode with real processes on PostgreSQL: three runner
 * processes, a client that submits a dozen tasks, a watcher process, and one
 * runner killed (`SIGKILL`) mid-upload.
 *
 * Needs `MEDUSA_TEST_PG_URL`; skipped with a notice otherwise.
 */
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, assert, describe, it } from "vitest"
import * as Durable from "../../src/Durable.js"
import { clusterDefaults } from "../../src/Durable.js"
import * as Medusa from "../../src/Medusa.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import type { Task } from "../../src/Task.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { sha256, tempDir, writeVideo } from "./fixtures/media.js"
import { freePort } from "./fixtures/net.js"
import { dropDatabase, freshDatabase, pgUrl, readTasks, warnIfNoPg } from "./fixtures/pg.js"
import { startWorker, type Worker } from "./fixtures/processes.js"

warnIfNoPg("Durable.layerCluster multi-process suite")

const size = 2 * 1024 * 1024 + 777
const taskCount = 12

const workers: Array<Worker> = []
const databases: Array<string> = []
afterEach(() => {
  for (const w of workers.splice(0)) if (w.child.exitCode === null) w.child.kill("SIGKILL")
})
afterAll(async () => {
  for (const url of databases) await dropDatabase(url).catch(() => {})
})

describe.skipIf(!pgUrl)("Durable.layerCluster (PostgreSQL, real processes)", { timeout: 240_000 }, () => {
  it("three runners, a dozen tasks, one runner killed mid-upload: all complete once, watched", async () => {
    const url = await freshDatabase()
    databases.push(url)
    const dir = tempDir()
    const sandbox = await Sandbox.start()
    try {
      const config = await sandbox.writeConfig(path.join(dir, "sandbox"))
      const video = writeVideo(dir, size)
      const requestFile = path.join(dir, "request.json")
      writeFileSync(
        requestFile,
        JSON.stringify({
          mediaFile: video,
          platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
          metadata: {
            youtube: { title: "Cluster" },
            vimeo: { title: "Cluster" },
            facebook: { message: "FB {youtube_url}" },
            x: { text: "X {vimeo_url}" },
            linkedin: { text: "LI {youtube_url}" }
          }
        })
      )
      // Uploads take seconds, so the kill lands mid-upload.
      sandbox.inject({
        platform: "youtube",
        route: "upload",
        times: Infinity,
        action: { kind: "latency", millis: 250 }
      })
      sandbox.inject({
        platform: "vimeo",
        route: "tus.patch",
        times: Infinity,
        action: { kind: "latency", millis: 1500 }
      })
      const env = { MEDUSA_PG: url, MEDUSA_SANDBOX_CONFIG: config }

      // The first runner creates the schema; the others join it.
      const runners: Array<Worker> = []
      for (let i = 0; i < 3; i++) {
        const w = startWorker({ ...env, MEDUSA_RUNNER_PORT: String(await freePort()), MEDUSA_EXIT: "never" })
        workers.push(w)
        runners.push(w)
        if (i === 0) await w.line("READY", 90_000)
      }
      await Promise.all(runners.map((w) => w.line("READY", 90_000)))
      const watcher = startWorker({ ...env, MEDUSA_WATCH: "1", MEDUSA_EXIT: "never" })
      workers.push(watcher)
      await watcher.line("READY", 90_000)

      const client = startWorker({
        ...env,
        MEDUSA_SUBMIT: requestFile,
        MEDUSA_SUBMIT_COUNT: String(taskCount),
        MEDUSA_EXIT: "after-submit"
      })
      workers.push(client)
      assert.strictEqual((await client.exited).code, 0, client.stderr())
      const ids = client.lines.filter((l) => l.startsWith("TASK ")).map((l) => l.slice(5))
      assert.strictEqual(ids.length, taskCount)

      // Kill a runner once uploads are under way (polling the sandbox across
      // the process boundary, bounded).
      const killAt = 0.25 * taskCount * size
      for (let i = 0; i < 600 && sandbox.raw.counters.youtube.bodyBytes < killAt; i++) {
        await new Promise((r) => setTimeout(r, 100))
      }
      assert.isAtLeast(sandbox.raw.counters.youtube.bodyBytes, killAt, "uploads never got under way")
      const victim = runners[0]!
      victim.child.kill("SIGKILL")
      const killedAt = Date.now()
      await victim.exited

      // Every task completes (bounded wait on the shared database).
      let tasks: ReadonlyArray<Task> = []
      for (let i = 0; i < 1200; i++) {
        tasks = await readTasks(url)
        if (tasks.length === taskCount && tasks.every((t) => t.state === "completed" || t.state === "failed")) break
        await new Promise((r) => setTimeout(r, 250))
      }
      assert.deepStrictEqual(
        tasks.map((t) => t.state),
        Array(taskCount).fill("completed"),
        JSON.stringify(tasks.flatMap((t) => t.failures))
      )

      // Takeover: every task unfinished at the kill shows a change (state or
      // progress) within the takeover bound. Tasks on the surviving runners change continuously;
      // the dead runner's tasks change again once another runner took over.
      const changes = watcher.lines.filter((l) => l.startsWith("CHANGE ")).map((l) => {
        const [, at, id, previous, state, kind] = l.split(" ")
        return { at: Number(at), id: id!, previous: previous!, state: state!, kind: kind! }
      })
      const finishedAt = new Map(changes.filter((c) => c.state === "completed").map((c) => [c.id, c.at]))
      const unfinished = ids.filter((id) => (finishedAt.get(id) ?? Infinity) > killedAt)
      const gaps = unfinished.map((id) => {
        const next = changes.find((c) => c.id === id && c.at > killedAt)
        return next === undefined ? Infinity : next.at - killedAt
      })
      const takeover = Math.max(...gaps, 0)
      console.log(
        `[medusa] cluster takeover: ${unfinished.length} tasks unfinished at the kill; ` +
          `the slowest changed again ${takeover} ms after it (gaps: ${[...gaps].sort((a, b) => a - b).join(", ")})`
      )
      // The lock expiry, then the runner's heartbeat expiry, a one-second
      // acquisition pause and the storage polls: the bound is 10 s.
      const budget = Duration.toMillis(clusterDefaults.takeoverWithin)
      const slowest = unfinished[gaps.indexOf(takeover)]
      const before = changes.filter((c) => c.id === slowest && c.at <= killedAt).at(-1)
      assert.isAtMost(
        takeover,
        budget,
        `takeover took ${takeover} ms (task ${slowest}, last change before the kill: ${JSON.stringify(before)})`
      )

      // Zero duplicate posts: one per task per publisher.
      for (const publisher of ["facebook", "x", "linkedin"] as const) {
        const texts = sandbox.raw.postsOf(publisher).map((p) => p.text)
        assert.strictEqual(texts.length, taskCount, `${publisher}: ${texts.length} posts`)
        assert.strictEqual(new Set(texts.map((t) => t.match(/#\d+/)?.[0])).size, taskCount, `${publisher}: duplicates`)
      }
      const expected = sha256(video)
      for (const host of ["youtube", "vimeo"] as const) {
        const complete = [...sandbox.raw.uploads.values()].filter((u) => u.platform === host && u.complete)
        assert.strictEqual(complete.length, taskCount, `${host}: complete uploads`)
        for (const u of complete) assert.strictEqual(u.sha256, expected)
      }

      // The watcher saw every status change of every task.
      for (const task of tasks) {
        const seen = changes.filter((c) => c.id === task.id && c.kind === "state").map((c) => c.state)
        assert.deepStrictEqual(seen, task.history.map((h) => h.state), `watched changes of ${task.id}`)
      }
    } finally {
      await sandbox.close()
    }
  })
})

describe.skipIf(!pgUrl)(
  "Durable.layerCluster (PostgreSQL, runner and client in one process)",
  { timeout: 120_000 },
  () => {
    it("a client submits, watches and cancels a task a runner is uploading", async () => {
      const url = await freshDatabase()
      databases.push(url)
      const dir = tempDir()
      const video = writeVideo(dir, 4096)
      const port = await freePort()
      const program = Effect.gen(function*() {
        const runnerLayer = Durable.layerCluster({
          postgres: url,
          runner: { host: "127.0.0.1", port },
          maxConnections: 4
        })
          .pipe(Layer.provideMerge(TestPlatforms.layer({ youtube: { gated: true } })))
        const runner = yield* Layer.build(runnerLayer)
        const control = Context.get(runner, TestPlatforms.TestPlatforms)
        // The client has the platform layers too (requests are validated where they are submitted).
        const client = yield* Layer.build(
          Durable.layerCluster({ postgres: url, runner: "client", maxConnections: 4 }).pipe(
            Layer.provide(TestPlatforms.layer())
          )
        )
        const medusa = Context.get(client, Medusa.Medusa)
        const id = yield* medusa.submit({
          mediaFile: video,
          platforms: ["youtube", "facebook"],
          metadata: { youtube: { title: "Cancel me" }, facebook: { message: "{youtube_url}" } }
        })
        yield* control.started("youtube").pipe(Effect.timeout("60 seconds"))
        const states = yield* medusa.watch(id).pipe(Stream.map((t) => t.state), Stream.runCollect, Effect.fork)
        const cancelled = yield* medusa.cancel(id)
        assert.strictEqual(cancelled.state, "cancelled")
        // The runner's upload stops: it watched the task through LISTEN/NOTIFY.
        yield* control.interrupted("youtube").pipe(Effect.timeout("30 seconds"))
        const seen = Chunk.toReadonlyArray(yield* Fiber.join(states).pipe(Effect.timeout("30 seconds")))
        assert.strictEqual(seen[seen.length - 1], "cancelled")
        assert.deepStrictEqual(yield* control.posts("facebook"), [])
        const fromRunner = yield* Context.get(runner, Medusa.Medusa).status(id)
        assert.strictEqual(fromRunner.state, "cancelled")
      })
      await Effect.runPromise(Effect.scoped(program))
    })
  }
)
