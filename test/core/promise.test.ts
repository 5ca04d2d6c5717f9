import { assert, describe, it } from "@effect/vitest"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Medusa from "../../src/Medusa.js"
import { createMedusa } from "../../src/promise.js"
import { ConfigError, InvalidRequest, QuotaExceeded, TaskCancelled } from "../../src/PublishError.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import * as TaskStatus from "../../src/TaskStatus.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { fullRequest } from "./helpers.js"

const decodeStatus = Schema.decodeUnknownSync(TaskStatus.TaskStatus, { onExcessProperty: "error" })

describe("Promise facade", () => {
  it("publishes, watches, subscribes and closes, end to end", async () => {
    const medusa = await createMedusa({
      layer: Medusa.layerMemory().pipe(Layer.provide(TestPlatforms.layer({ youtube: { progressEvents: 3 } })))
    })
    const seen: Array<TaskStatus.TaskStatus> = []
    const unsubscribe = medusa.subscribe((status) => seen.push(status))
    const id = await medusa.publishAsync(fullRequest())
    assert.match(id, /^medusa_task_[0-9a-f-]{36}$/)
    const watched: Array<string> = []
    for await (const status of medusa.watch(id)) watched.push(status.status)
    assert.strictEqual(watched[watched.length - 1], "completed")
    const final = await medusa.waitForTask(id)
    assert.strictEqual(final.status, "completed")
    assert.ok(final.results!.youtube_url && final.results!.linkedin_post_id)
    assert.deepStrictEqual(await medusa.getTaskStatus(id), final)
    // The subscriber saw the task go through every state, in order.
    const states = seen.filter((s) => s.task_id === id).map((s) => s.status)
    assert.deepStrictEqual(states.filter((s, i) => i === 0 || s !== states[i - 1]), [
      "pending",
      "in_progress",
      "completed"
    ])
    unsubscribe()
    const before = seen.length
    await medusa.waitForTask(await medusa.publishAsync(fullRequest()))
    assert.strictEqual(seen.length, before)
    assert.strictEqual((await medusa.list({ status: "completed" })).length, 2)
    // Every status is valid wire format.
    for (const status of [...seen, final]) decodeStatus(status)
    await medusa.close()
  })

  it("rejected promises carry the typed error itself", async () => {
    const medusa = await createMedusa({
      layer: Medusa.layerMemory().pipe(Layer.provide(TestPlatforms.layer({
        youtube: {
          fail: {
            at: "upload",
            error: new QuotaExceeded({ platform: "youtube", reason: "quota_exceeded", platformMessage: "Daily limit" })
          }
        },
        vimeo: { gated: true }
      })))
    })
    const invalid = await medusa.publishAsync({ mediaFile: "", platforms: [], metadata: {} } as PublishRequestInput)
      .then(
        () => undefined,
        (e: unknown) => e
      )
    assert.instanceOf(invalid, InvalidRequest)
    assert.isAtLeast((invalid as InvalidRequest).issues.length, 2)

    const id = await medusa.publishAsync(fullRequest())
    const failed = await medusa.waitForTask(id).catch((e: unknown) => e)
    assert.instanceOf(failed, QuotaExceeded)
    assert.strictEqual((failed as QuotaExceeded).reason, "quota_exceeded")
    const status = await medusa.getTaskStatus(id)
    assert.strictEqual(status.error, "YouTube API error: Daily limit")

    const notFound = await medusa.getTaskStatus("medusa_task_00000000-0000-4000-8000-000000000000").catch((e) => e)
    assert.strictEqual(notFound._tag, "TaskNotFound")
    await medusa.close()
  })

  it("cancel resolves to the cancelled status and waiters get TaskCancelled", async () => {
    const medusa = await createMedusa({
      layer: Medusa.layerMemory().pipe(Layer.provide(TestPlatforms.layer({ youtube: { gated: true } })))
    })
    const id = await medusa.publishAsync(fullRequest())
    const waiting = medusa.waitForTask(id).catch((e: unknown) => e)
    const cancelled = await medusa.cancel(id)
    assert.strictEqual(cancelled.status, "cancelled")
    assert.instanceOf(await waiting, TaskCancelled)
    await medusa.close()
  })

  it("builds from a config object over test platforms, and rejects a bad config with ConfigError", async () => {
    const medusa = await createMedusa({
      config: { medusa: { max_concurrent_tasks: 2 } },
      platforms: TestPlatforms.layerFor(["youtube", "facebook"])
    })
    const final = await medusa.waitForTask(
      await medusa.publishAsync({
        mediaFile: fullRequest().mediaFile,
        platforms: ["youtube", "facebook"],
        metadata: { youtube: { title: "t" }, facebook: { message: "{youtube_url}" } }
      })
    )
    assert.strictEqual(final.status, "completed")
    await medusa.close()

    const bad = await createMedusa({ config: { facebook: { page_id: 1 } } }).catch((e: unknown) => e)
    assert.instanceOf(bad, ConfigError)
    assert.include((bad as ConfigError).message, "facebook.access_token")
    const missing = await createMedusa({ configFile: "/nonexistent/medusa.config.json" }).catch((e: unknown) => e)
    assert.instanceOf(missing, ConfigError)
  })
})
