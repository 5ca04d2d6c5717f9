import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as fc from "fast-check"
import { locateSyntaxError } from "../../src/internal/request/jsonSyntax.js"
import * as Config from "../../src/MedusaConfig.js"
import { MediaFile, PublishedPost, UploadedVideo } from "../../src/Platform.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import { HistoryEntry, Task, TaskFailure } from "../../src/Task.js"
import type { TaskId } from "../../src/TaskId.js"
import * as TaskStatus from "../../src/TaskStatus.js"

const SECRET = "S3CRET-canary"
const noEnv = Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))

describe("properties", () => {
  it("config errors never echo a secret, whatever the shape of the file", () => {
    const secretKeys = ["access_token", "api_key", "api_secret", "access_token_secret"]
    const value = fc.oneof(
      fc.constant(SECRET),
      fc.constant([SECRET]),
      fc.constant({ nested: SECRET }),
      fc.integer(),
      fc.constant(""),
      fc.constant(null)
    )
    const plain = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(["x"]))
    // Secrets under secret keys; anything else under the other keys.
    const section = fc.tuple(
      fc.dictionary(fc.constantFrom(...secretKeys), value),
      fc.dictionary(fc.constantFrom("page_id", "author_urn", "base_url", "client_secrets_file"), plain)
    ).map(([secrets, others]) => ({ ...others, ...secrets }))
    const file = fc.dictionary(fc.constantFrom("youtube", "vimeo", "facebook", "twitter", "x", "linkedin"), section)
    fc.assert(
      fc.property(file, (json) => {
        const result = Effect.runSync(Effect.either(Config.decode(json, "/p/medusa.config.json")).pipe(noEnv))
        const text = Either.isLeft(result) ?
          result.left.message + JSON.stringify(result.left) :
          JSON.stringify(result.right)
        return !text.includes(SECRET)
      }),
      { numRuns: 300 }
    )
  })

  it("the JSON locator agrees with JSON.parse on validity", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        let valid = true
        try {
          JSON.parse(text)
        } catch {
          valid = false
        }
        return (locateSyntaxError(text) === undefined) === valid
      }),
      { numRuns: 500 }
    )
  })

  it("every status JSON is valid wire format, with one result key pair per video and post", () => {
    const request = Schema.decodeUnknownSync(PublishRequest)({
      mediaFile: "/v.mp4",
      platforms: ["youtube"],
      metadata: { youtube: { title: "t" } }
    })
    const video = fc.record({
      host: fc.constantFrom("youtube" as const, "vimeo" as const),
      videoId: fc.string({ minLength: 1 })
    })
      .map((v) => new UploadedVideo({ ...v, url: `https://example.com/${v.videoId}` }))
    const post = fc.record({
      publisher: fc.constantFrom("facebook" as const, "x" as const, "linkedin" as const),
      postId: fc.string({ minLength: 1 }),
      url: fc.option(fc.webUrl(), { nil: undefined })
    }).map((p) => new PublishedPost(p.url === undefined ? { publisher: p.publisher, postId: p.postId } : p))
    const failure = fc.record({
      platform: fc.constantFrom("youtube" as const, "facebook" as const),
      code: fc.constantFrom("quota_exceeded", "auth_expired"),
      message: fc.string()
    }).map((f) => new TaskFailure(f))
    fc.assert(
      fc.property(
        fc.constantFrom(
          "pending" as const,
          "in_progress" as const,
          "completed" as const,
          "failed" as const,
          "cancelled" as const
        ),
        fc.uniqueArray(video, { selector: (v) => v.host }),
        fc.uniqueArray(post, { selector: (p) => p.publisher }),
        fc.array(failure, { maxLength: 3 }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        (state, videos, posts, failures, at) => {
          const task = new Task({
            id: "medusa_task_44444444-4444-4444-8444-444444444444" as TaskId,
            request,
            media: new MediaFile({ path: "/v.mp4", name: "v.mp4", size: 1, mimeType: "video/mp4" }),
            state,
            createdAt: at,
            updatedAt: at,
            history: [new HistoryEntry({ state, at })],
            progress: [],
            videos,
            posts,
            failures,
            skipped: []
          })
          const status = Schema.decodeUnknownSync(TaskStatus.TaskStatus, { onExcessProperty: "error" })(
            JSON.parse(TaskStatus.toJSONString(task))
          )
          assert.strictEqual(status.status, state)
          if (state === "completed" || state === "failed") {
            const expected = videos.length * 2 + posts.length + posts.filter((p) => p.url !== undefined).length
            assert.strictEqual(Object.keys(status.results ?? {}).length, expected)
          }
          if (state === "failed") assert.strictEqual(status.error_code, failures[0]?.code ?? "unknown")
        }
      ),
      { numRuns: 200 }
    )
  })
})
