import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Medusa from "../../src/Medusa.js"
import * as Config from "../../src/MedusaConfig.js"
import { MediaFile, PublishedPost, UploadedVideo, UploadProgress } from "../../src/Platform.js"
import { AuthExpired } from "../../src/PublishError.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import { HistoryEntry, Task, TaskFailure } from "../../src/Task.js"
import type { TaskId } from "../../src/TaskId.js"
import * as TaskStatus from "../../src/TaskStatus.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { captureLogs, fullRequest } from "./helpers.js"

const id = "medusa_task_33333333-3333-4333-8333-333333333333" as TaskId
const base = new Task({
  id,
  request: Schema.decodeUnknownSync(PublishRequest)({
    mediaFile: "/v.mp4",
    platforms: ["youtube", "facebook"],
    metadata: { youtube: { title: "t" }, facebook: { message: "{youtube_url}" } }
  }),
  media: new MediaFile({ path: "/v.mp4", name: "v.mp4", size: 100, mimeType: "video/mp4" }),
  state: "pending",
  createdAt: 0,
  updatedAt: 1000,
  history: [new HistoryEntry({ state: "pending", at: 0 })],
  progress: [],
  videos: [],
  posts: [],
  failures: [],
  skipped: []
})
const video = new UploadedVideo({
  host: "youtube",
  videoId: "dQw4w9WgXcQ",
  url: "https://youtube.com/watch?v=dQw4w9WgXcQ"
})
const post = new PublishedPost({ publisher: "facebook", postId: "123_456", url: "https://www.facebook.com/123_456" })
const decode = Schema.decodeUnknownSync(TaskStatus.TaskStatus, { onExcessProperty: "error" })

describe("status JSON", () => {
  it("pending and cancelled", () => {
    const pending = TaskStatus.toJSON(base)
    assert.deepStrictEqual(pending, {
      status: "pending",
      task_id: id,
      created_at: "1970-01-01T00:00:00.000Z",
      updated_at: "1970-01-01T00:00:01.000Z",
      platforms: ["youtube", "facebook"]
    })
    assert.strictEqual(TaskStatus.toJSON(new Task({ ...base, state: "cancelled" })).status, "cancelled")
  })

  it("in progress: message and bytes per host", () => {
    const status = TaskStatus.toJSON(
      new Task({
        ...base,
        state: "in_progress",
        message: "Uploading to YouTube... 42%",
        progress: [new UploadProgress({ host: "youtube", bytesSent: 42, bytesAcknowledged: 40, totalBytes: 100 })]
      })
    )
    assert.strictEqual(status.message, "Uploading to YouTube... 42%")
    assert.deepStrictEqual(status.progress, {
      youtube: { bytes_sent: 42, bytes_acknowledged: 40, total_bytes: 100, percent: 42 }
    })
    decode(status)
  })

  it("completed: <host>_url, <host>_video_id, <publisher>_post_id and _post_url", () => {
    const status = TaskStatus.toJSON(new Task({ ...base, state: "completed", videos: [video], posts: [post] }))
    assert.deepStrictEqual(JSON.parse(JSON.stringify(status)).results, {
      youtube_url: "https://youtube.com/watch?v=dQw4w9WgXcQ",
      youtube_video_id: "dQw4w9WgXcQ",
      facebook_post_id: "123_456",
      facebook_post_url: "https://www.facebook.com/123_456"
    })
    assert.strictEqual(Object.keys(status)[0], "status")
    decode(status)
  })

  it("failed: error, error_code, failed_platform and what succeeded before", () => {
    const error = new AuthExpired({
      platform: "facebook",
      reason: "auth_expired",
      platformMessage: "Session has expired"
    })
    const status = TaskStatus.toJSON(
      new Task({
        ...base,
        state: "failed",
        videos: [video],
        failures: [
          new TaskFailure({ platform: "facebook", code: error.reason, message: error.message })
        ]
      })
    )
    assert.strictEqual(status.error, "Facebook API error: Session has expired")
    assert.strictEqual(status.error_code, "auth_expired")
    assert.strictEqual(status.failed_platform, "facebook")
    assert.deepStrictEqual(status.results, { youtube_url: video.url, youtube_video_id: video.videoId })
    decode(status)
  })
})

describe("canary tokens", () => {
  const CANARY = "CANARY-d41d8cd98f00b204"
  const lines: Array<string> = []
  it.live("never appear in status, error or log output", () =>
    Effect.gen(function*() {
      const config = yield* Config.decode({
        facebook: { page_id: "1", access_token: CANARY },
        twitter: { api_key: CANARY, api_secret: CANARY, access_token: CANARY, access_token_secret: CANARY },
        vimeo: { access_token: CANARY },
        linkedin: { access_token: CANARY, author_urn: "urn:li:person:a" },
        youtube: { client_secrets_file: "c.json", credentials_file: "y.json" }
      })
      const layer = Medusa.layerFromConfig(config, {
        platforms: () =>
          TestPlatforms.layer({
            x: {
              fail: {
                at: "post",
                error: new AuthExpired({
                  platform: "x",
                  reason: "auth_invalid",
                  status: 401,
                  platformMessage: "Unauthorized"
                })
              }
            }
          })
      })
      const outputs: Array<string> = [JSON.stringify(config), String(config.facebook!.accessToken)]
      yield* Effect.gen(function*() {
        const statuses = yield* Effect.fork(Stream.runCollect(Medusa.changes.pipe(Stream.take(12))))
        const id = yield* Medusa.submit(fullRequest())
        const error = yield* Effect.flip(Medusa.await(id))
        outputs.push(error.message, JSON.stringify(error), String(error))
        const invalid = yield* Effect.flip(Medusa.submit({ ...fullRequest(), mediaFile: "/nope.mp4" }))
        outputs.push(invalid.message)
        yield* Effect.logError("a failure", error)
        const collected = Chunk.toReadonlyArray(yield* statuses.await.pipe(Effect.flatten))
        outputs.push(...collected.map((c) => TaskStatus.toJSONString(c.task)))
        outputs.push(TaskStatus.toJSONString(yield* Medusa.status(id)))
      }).pipe(Effect.provide(layer))
      const badConfig = yield* Effect.flip(
        Config.decode({ vimeo: { access_token: 42 }, facebook: { page_id: CANARY.length, access_token: [CANARY] } })
      )
      outputs.push(badConfig.message, JSON.stringify(badConfig))
      outputs.push(...lines)
      assert.isAbove(outputs.length, 10)
      for (const output of outputs) assert.notInclude(output, CANARY)
      assert.isAbove(lines.length, 0)
    }).pipe(
      Effect.provide(Layer.merge(captureLogs(lines), Logger.minimumLogLevel(LogLevel.All)))
    ))
})
