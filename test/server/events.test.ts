import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { promise, readKey, request, startServer } from "./fixtures.js"
import { connect, type SseEvent } from "./sse.js"

const statusOf = (e: SseEvent) => JSON.parse(e.data) as { task_id: string; status: string }
const final = new Set(["completed", "failed", "cancelled"])

describe("Server-Sent Events", () => {
  it.scopedLive("every status change, with ids; a reconnect with Last-Event-ID resumes with no gap and no duplicate", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ platforms: { youtube: { delay: "300 millis", progressEvents: 3 } } })
      const first = yield* promise(() => connect(`${server.url}/v1/events`, { key: readKey }))
      assert.strictEqual(first.status, 200)
      const submit = () =>
        promise(() =>
          server.call("/v1/tasks", { json: request(server.media) }).then((r) =>
            r.json() as Promise<{ task_id: string }>
          )
        )
      const a = yield* submit()
      // Wait for a's first changes, then drop the connection mid-way.
      yield* promise(() =>
        first.until((es) => es.filter((e) => e.id !== undefined).length >= 2 && es.some((e) => e.event === "progress"))
      )
      first.close()
      const resumeFrom = first.lastEventId()
      const before = first.events.filter((e) => e.id !== undefined)
      const b = yield* submit()
      const second = yield* promise(() =>
        connect(`${server.url}/v1/events?progress=false`, { key: readKey, lastEventId: resumeFrom })
      )
      const finished = (es: ReadonlyArray<SseEvent>, id: string) =>
        es.some((e) => e.id !== undefined && statusOf(e).task_id === id && final.has(statusOf(e).status))
      yield* promise(() => second.until((es) => finished(es, a.task_id) && finished(es, b.task_id)))
      second.close()
      const after = second.events.filter((e) => e.id !== undefined)
      assert.isTrue(second.events.every((e) => e.event === "status"), "progress=false has no progress events")
      const ids = [...before, ...after].map((e) => Number(e.id))
      // The in-memory log numbers changes 1, 2, 3, …: the union is exactly that, once each.
      assert.deepStrictEqual(ids, Array.from({ length: ids.length }, (_, i) => i + 1))
      // Every task's states, in order.
      for (const id of [a.task_id, b.task_id]) {
        const states = [...before, ...after].map(statusOf).filter((s) => s.task_id === id).map((s) => s.status)
        assert.deepStrictEqual(states, ["pending", "in_progress", "completed"], id)
      }
      assert.isTrue(first.events.some((e) => e.event === "progress" && e.id === undefined), "progress events, no id")
    }))

  it.scopedLive("a task's stream replays its history, follows it, and keeps the connection alive with heartbeats", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ platforms: { youtube: { delay: "400 millis" } } })
      const task = yield* promise(() =>
        server.call("/v1/tasks", { json: request(server.media) }).then((r) => r.json() as Promise<{ task_id: string }>)
      )
      const other = yield* promise(() =>
        server.call("/v1/tasks", { json: request(server.media) }).then((r) => r.json() as Promise<{ task_id: string }>)
      )
      const stream = yield* promise(() => connect(`${server.url}/v1/tasks/${task.task_id}/events`, { key: readKey }))
      yield* promise(() => stream.until((es) => es.some((e) => e.id !== undefined && final.has(statusOf(e).status))))
      yield* promise(() => stream.until(() => stream.comments() >= 2, 5_000))
      stream.close()
      const statuses = stream.events.filter((e) => e.id !== undefined).map(statusOf)
      assert.isTrue(statuses.every((s) => s.task_id === task.task_id))
      assert.isFalse(stream.events.some((e) => statusOf(e).task_id === other.task_id))
      assert.deepStrictEqual(statuses.map((s) => s.status), ["pending", "in_progress", "completed"])
      // Reconnecting after the last event: nothing is repeated.
      const again = yield* promise(() =>
        connect(`${server.url}/v1/tasks/${task.task_id}/events`, { key: readKey, lastEventId: stream.lastEventId() })
      )
      yield* promise(() => again.until(() => again.comments() >= 1, 5_000))
      again.close()
      assert.strictEqual(again.events.length, 0)
    }))
})
