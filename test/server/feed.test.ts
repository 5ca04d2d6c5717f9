import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { makeFeed } from "../../src/internal/server/events.js"
import * as Engine from "../../src/internal/task/engine.js"
import { MediaFile } from "../../src/Platform.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import * as TaskId from "../../src/TaskId.js"
import { TaskStore } from "../../src/TaskStore.js"
import * as TaskStoreModule from "../../src/TaskStore.js"

const task = (now: number) =>
  Engine.makeTask(
    TaskId.TaskId.make(`medusa_task_${crypto.randomUUID()}`),
    Schema.decodeUnknownSync(PublishRequest)({
      mediaFile: "/tmp/v.mp4",
      platforms: ["youtube"],
      metadata: { youtube: { title: "t" } }
    }),
    new MediaFile({ path: "/tmp/v.mp4", name: "v.mp4", size: 10, mimeType: "video/mp4" }),
    now
  )

const ids = (chunks: Chunk.Chunk<Uint8Array>) =>
  [...Chunk.toReadonlyArray(chunks)].flatMap((bytes) => [...new TextDecoder().decode(bytes).matchAll(/^id: (\d+)$/gm)])
    .map((m) => Number(m[1]))

describe("event feed", () => {
  it.scopedLive("a follower that falls too far behind is ended; reconnecting after its last id loses nothing", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const feed = yield* makeFeed(store, { heartbeat: "1 hour", maxBehind: 3 })
      // A follower that reads nothing while 10 tasks are stored.
      const pull = yield* Stream.toPull(feed.follow({ progress: true }))
      const first = yield* pull // "retry:" only: the subscription is in place
      assert.strictEqual(ids(first).length, 0)
      for (let i = 0; i < 10; i++) yield* store.insert(task(1_000 + i))
      // Let the feed hand them all to the follower's queue.
      yield* Effect.sleep("200 millis")
      const got: Array<number> = []
      while (true) {
        const next = yield* Effect.either(pull).pipe(
          Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => new Error(`pull hung after ${got}`) })
        )
        if (next._tag === "Left") break
        got.push(...ids(next.right))
      }
      assert.isBelow(got.length, 10, "ended before everything was buffered")
      assert.deepStrictEqual(got, got.map((_, i) => i + 1))
      // Reconnecting after the last id received replays the rest from the log.
      const rest = yield* feed.follow({ progress: true, after: got[got.length - 1] ?? 0 }).pipe(
        Stream.take(1 + 10 - got.length),
        Stream.runCollect,
        Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => new Error("replay hung") })
      )
      const replayed = ids(rest)
      assert.deepStrictEqual([...got, ...replayed], Array.from({ length: 10 }, (_, i) => i + 1))
    }).pipe(Effect.provide(TaskStoreModule.layerMemory)))
})
