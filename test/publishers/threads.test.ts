import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Engine from "../../src/internal/task/engine.js"
import * as Threads from "../../src/platforms/threads/Threads.js"
import { Metadata, PublishRequest, ThreadsMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { TaskId } from "../../src/TaskId.js"
import { layerMemory as storeLayerMemory, TaskStore } from "../../src/TaskStore.js"
import { publisherContract } from "../contract/publisher.js"
import { alignClocks, awaitSleep, awaitStalls, context, Http, media, sandbox, type SandboxOptions } from "./helpers.js"

const options = (sb: Sandbox.Sandbox, overrides: Partial<Threads.Options> = {}): Threads.Options => ({
  accessToken: Redacted.make(sb.credentials.threads.accessToken),
  userId: sb.credentials.threads.userId,
  baseUrl: sb.urls.threads,
  ...overrides
})

const setup = (sandboxOptions: SandboxOptions = {}, overrides: Partial<Threads.Options> = {}) =>
  Effect.gen(function*() {
    const sb = yield* sandbox(sandboxOptions)
    yield* alignClocks(sb)
    const threads = yield* Threads.make(options(sb, overrides))
    return { sb, threads }
  })

const stored = (sb: Sandbox.Sandbox) => sb.raw.postsOf("threads")
const requests = (sb: Sandbox.Sandbox) => sb.raw.log.filter((e) => e.platform === "threads")
const publishRequests = (sb: Sandbox.Sandbox) =>
  requests(sb).filter((e) => e.method === "POST" && e.path.endsWith("/threads_publish"))
const containerRequests = (sb: Sandbox.Sandbox) =>
  requests(sb).filter((e) => e.method === "POST" && /\/threads$/.test(e.path))
const statusReads = (sb: Sandbox.Sandbox) => requests(sb).filter((e) => e.path.includes("fields=status"))
const containers = (sb: Sandbox.Sandbox) =>
  (sb.state().platforms.threads as { containers: Array<{ id: string; status: string }> }).containers
const text = (t: string) => new ThreadsMetadata({ text: t })

describe("Threads publisher", () => {
  it.scoped("creates a TEXT container, reads its status, publishes it; the permalink is the post's url", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup()
      const body = "New video: https://www.youtube.com/watch?v=dQw4w9WgXcQ 🎬"
      const post = yield* threads.post(context(text(body)))
      expect(stored(sb).map((p) => p.text)).toEqual([body])
      expect(post.postId).toBe(stored(sb)[0]!.id)
      expect(post.url).toMatch(/^https:\/\/www\.threads\.net\/@medusa\.sandbox\/post\//)
      expect(requests(sb).map((e) => `${e.method} ${e.path.split("?")[0]}`)).toEqual([
        `POST /v1.0/${sb.credentials.threads.userId}/threads`,
        `GET /v1.0/${containers(sb)[0]!.id}`,
        `POST /v1.0/${sb.credentials.threads.userId}/threads_publish`,
        `GET /v1.0/${post.postId}`
      ])
      expect(containers(sb).map((c) => c.status)).toEqual(["PUBLISHED"])
      // The token travels in the Authorization header, never in a URL.
      for (const e of requests(sb)) {
        expect(e.headers.authorization).toBe("<redacted>")
        expect(e.path).not.toContain("access_token")
      }
    }).pipe(Effect.provide(Http)))

  it.scoped("a container IN_PROGRESS is polled once a minute (TestClock) until FINISHED, then published", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup({ threads: { containerPolls: 2 } }, { requestTimeout: "10 seconds" })
      const fiber = yield* Effect.fork(threads.post(context(text("processing first"))))
      for (let i = 0; i < 2; i++) {
        yield* awaitSleep(60_000, 60_000)
        expect(publishRequests(sb)).toHaveLength(0)
        yield* TestClock.adjust(60_000)
      }
      const post = yield* Fiber.join(fiber)
      expect(statusReads(sb)).toHaveLength(3)
      expect(stored(sb).map((p) => p.id)).toEqual([post.postId])
    }).pipe(Effect.provide(Http)))

  it.scoped("a container still IN_PROGRESS after 5 minutes: timeout, nothing published", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup({ threads: { containerPolls: 100 } }, { requestTimeout: "10 seconds" })
      const fiber = yield* Effect.fork(Effect.flip(threads.post(context(text("never ready")))))
      for (let i = 0; i < 5; i++) {
        yield* awaitSleep(60_000, 60_000)
        yield* TestClock.adjust(60_000)
      }
      const error = yield* Fiber.join(fiber)
      expect([error._tag, error.reason]).toEqual(["PlatformUnavailable", "timeout"])
      expect(error.message).toMatch(/still IN_PROGRESS after 5 minutes; nothing was published/)
      // Read at once, then after each of the 5 minutes.
      expect(statusReads(sb)).toHaveLength(6)
      expect(publishRequests(sb)).toHaveLength(0)
      expect(stored(sb)).toHaveLength(0)
    }).pipe(Effect.provide(Http)))

  it.scoped("a container in ERROR is not published: invalid_metadata with Meta's error_message", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup({ threads: { containerOutcome: "ERROR" } })
      const error = yield* Effect.flip(threads.post(context(text("broken"))))
      expect([error._tag, error.reason]).toEqual(["PlatformRejected", "invalid_metadata"])
      expect(error.platformMessage).toBe("FAILED_PROCESSING_TEXT")
      expect(publishRequests(sb)).toHaveLength(0)
    }).pipe(Effect.provide(Http)))

  it.scoped("a 429 on publish is retried with the same container, never a second one", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup()
      sb.inject({ platform: "threads", route: "publish", action: { kind: "rateLimit", retryAfterSeconds: 30 } })
      const fiber = yield* Effect.fork(threads.post(context(text("after the window"))))
      yield* awaitSleep(30_000, 30_000)
      yield* TestClock.adjust(30_000)
      yield* Fiber.join(fiber)
      expect(publishRequests(sb)).toHaveLength(2)
      expect(containerRequests(sb)).toHaveLength(1)
      expect(containers(sb).map((c) => c.status)).toEqual(["PUBLISHED"])
      expect(stored(sb)).toHaveLength(1)
    }).pipe(Effect.provide(Http)))

  it.scoped("a 503 on the container is retried (a container publishes nothing), then one post", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup()
      sb.inject({ platform: "threads", route: "containers", action: { kind: "status", status: 503 } })
      const fiber = yield* Effect.fork(threads.post(context(text("second container"))))
      yield* awaitSleep(1_000, 1_000)
      yield* TestClock.adjust(1_000)
      yield* Fiber.join(fiber)
      expect(containerRequests(sb)).toHaveLength(2)
      expect(publishRequests(sb)).toHaveLength(1)
      expect(stored(sb)).toHaveLength(1)
    }).pipe(Effect.provide(Http)))

  it.scoped("a 503 or a drop on the container's status read is read again after 1 s, then one post", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup()
      sb.inject({ platform: "threads", route: "object", action: { kind: "status", status: 503 } })
      sb.inject({ platform: "threads", route: "object", skip: 1, action: { kind: "drop", afterBytes: 0 } })
      const fiber = yield* Effect.fork(threads.post(context(text("read again"))))
      yield* awaitSleep(1_000, 1_000)
      yield* TestClock.adjust(1_000)
      yield* awaitSleep(2_000, 2_000)
      yield* TestClock.adjust(2_000)
      const post = yield* Fiber.join(fiber)
      expect(statusReads(sb)).toHaveLength(3)
      expect(containerRequests(sb)).toHaveLength(1)
      expect(stored(sb).map((p) => p.id)).toEqual([post.postId])
    }).pipe(Effect.provide(Http)))

  it.scoped("a container or a status read never answered ends at the request deadline; both are made again", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup({}, { requestTimeout: "10 seconds" })
      // Both are handled and never answered (the connection stays open).
      sb.inject({ platform: "threads", route: "containers", action: { kind: "stall" } })
      sb.inject({ platform: "threads", route: "object", action: { kind: "stall" } })
      const fiber = yield* Effect.fork(threads.post(context(text("never answered"))))
      yield* awaitStalls(sb, "threads", 1)
      yield* TestClock.adjust(10_000)
      // The container is created again after 1 s (one made by an unanswered request is never published).
      yield* awaitSleep(1_000, 1_000)
      yield* TestClock.adjust(1_000)
      yield* awaitStalls(sb, "threads", 2)
      yield* TestClock.adjust(10_000)
      // The status is read again after 1 s; that read is answered.
      yield* awaitSleep(1_000, 1_000)
      yield* TestClock.adjust(1_000)
      const post = yield* Fiber.join(fiber)
      expect(statusReads(sb)).toHaveLength(2)
      expect(containerRequests(sb)).toHaveLength(2)
      expect(publishRequests(sb)).toHaveLength(1)
      expect(stored(sb).map((p) => p.id)).toEqual([post.postId])
    }).pipe(Effect.provide(Http)))

  it.scoped("a publish answer lost while the container is PUBLISHED but the post not listed: unknown, not re-sent", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup()
      sb.inject({ platform: "threads", route: "publish", action: { kind: "drop", afterBytes: 1_000_000 } })
      // The listing lags: it answers nothing for the search.
      sb.inject({
        platform: "threads",
        route: "threads.list",
        action: { kind: "status", status: 200, message: "" },
        times: 1
      })
      const error = yield* Effect.flip(threads.post(context(text("landed, not listed"))))
      expect(error.reason).toBe("post_outcome_unknown")
      expect(error.message).toMatch(/is PUBLISHED \(the post was made\)/)
      expect(publishRequests(sb)).toHaveLength(1)
      expect(stored(sb)).toHaveLength(1)
    }).pipe(Effect.provide(Http)))

  describe("the container is saved with the post's intent (engine, memory store)", () => {
    const body = "Saved container https://youtu.be/dQw4w9WgXcQ"
    const engineTask = (publisher: Effect.Effect.Success<ReturnType<typeof Threads.make>>) =>
      Effect.gen(function*() {
        const store = yield* TaskStore
        const engine = yield* Engine.makeEngine(
          store,
          { hosts: {}, publishers: { threads: publisher } },
          { youtube: 1, vimeo: 1, facebook: 1, x: 1, linkedin: 1, threads: 1, mastodon: 1, bluesky: 1 }
        )
        const request = new PublishRequest({
          mediaFile: media.path,
          platforms: ["threads"],
          metadata: new Metadata({ threads: text(body) })
        })
        const task = Engine.makeTask(
          TaskId.make("medusa_task_7a1e3c5d-2b4f-4e6a-9c8d-0f1e2d3c4b5a"),
          request,
          media,
          yield* Clock.currentTimeMillis
        )
        yield* store.insert(Engine.rebuild(task, { state: "in_progress" }))
        return { store, engine, task }
      })

    /** Runs the post step; when it waits out the settle time, lets the sandbox clock and the TestClock pass it. */
    const postStepPastSettle = (sb: Sandbox.Sandbox, engine: Engine.Engine, taskId: TaskId) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Effect.either(Engine.postStep(engine, taskId, "threads", [])))
        const wait = yield* awaitSleep(Threads.defaultSettleMillis - 60_000, Threads.defaultSettleMillis)
        sb.clock.advance(wait)
        yield* TestClock.adjust(wait)
        return yield* Fiber.join(fiber)
      })

    it.scoped("a publish cut mid-body: after the settle time the same container is published, never a second one", () =>
      Effect.gen(function*() {
        const { sb, threads } = yield* setup()
        const { engine, store, task } = yield* engineTask(threads)
        sb.inject({ platform: "threads", route: "publish", action: { kind: "drop", afterBytes: 4 } })
        const result = yield* postStepPastSettle(sb, engine, task.id)
        expect(result._tag).toBe("Right")
        expect(containerRequests(sb)).toHaveLength(1)
        expect(publishRequests(sb)).toHaveLength(2)
        expect(containers(sb).map((c) => c.status)).toEqual(["PUBLISHED"])
        expect(stored(sb)).toHaveLength(1)
        const record = Option.getOrThrow(yield* store.loadPostRecord(task.id, "threads"))
        expect(record.state).toBe("done")
      }).pipe(Effect.provide(Layer.merge(Http, storeLayerMemory))))

    it.scoped("a publish that landed but is never listed: the saved container is PUBLISHED, so no second publish", () =>
      Effect.gen(function*() {
        const { sb, threads } = yield* setup()
        const { engine, store, task } = yield* engineTask(threads)
        sb.inject({ platform: "threads", route: "publish", action: { kind: "drop", afterBytes: 1_000_000 } })
        // The user's threads never list it (an empty answer to every search).
        sb.inject({
          platform: "threads",
          route: "threads.list",
          times: Infinity,
          action: { kind: "status", status: 200, message: "" }
        })
        const result = yield* postStepPastSettle(sb, engine, task.id)
        expect(result._tag).toBe("Left")
        const error = (result as { left: { reason: string; message: string } }).left
        expect(error.reason).toBe("post_outcome_unknown")
        expect(error.message).toMatch(/an earlier run prepared is PUBLISHED: the post was made/)
        expect(publishRequests(sb)).toHaveLength(1)
        expect(containerRequests(sb)).toHaveLength(1)
        expect(stored(sb)).toHaveLength(1)
        const record = Option.getOrThrow(yield* store.loadPostRecord(task.id, "threads"))
        expect([record.state, record.staged]).toEqual(["intent", containers(sb)[0]!.id])
      }).pipe(Effect.provide(Layer.merge(Http, storeLayerMemory))))
  })

  it.scoped("the emulator publishes a container once: a second threads_publish of it is refused", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup()
      yield* threads.post(context(text("once")))
      const [container] = containers(sb)
      const http = yield* HttpClient.HttpClient
      const again = yield* http.execute(
        HttpClientRequest.post(`${sb.urls.threads}/v1.0/${sb.credentials.threads.userId}/threads_publish`).pipe(
          HttpClientRequest.bearerToken(sb.credentials.threads.accessToken),
          HttpClientRequest.bodyUrlParams({ creation_id: container!.id })
        )
      )
      expect(again.status).toBe(400)
      const body = (yield* again.json) as { error: { message: string } }
      expect(body.error.message).toMatch(/has already been published/)
      expect(stored(sb)).toHaveLength(1)
    }).pipe(Effect.scoped, Effect.provide(Http)))

  describe("text length, before any byte", () => {
    it.effect("validate counts code points against 500 and names the field", () =>
      Effect.gen(function*() {
        const threads = yield* Threads.make({ accessToken: Redacted.make("t"), userId: "1" })
        expect(yield* threads.validate(text("é".repeat(500)), media)).toEqual([])
        // An emoji is one character: 500 of them fit.
        expect(yield* threads.validate(text("🎬".repeat(500)), media)).toEqual([])
        const [issue] = yield* threads.validate(text("x".repeat(501)), media)
        expect(issue!.path).toEqual(["text"])
        expect(issue!.message).toMatch(/501 characters once filled; Threads allows 500: remove 1/)
        // Placeholders stand in for the links the hosts will produce.
        const filled = yield* threads.validate(text(`${"x".repeat(470)} {youtube_url}`), media)
        expect(filled.map((i) => i.path)).toEqual([["text"]])
      }).pipe(Effect.provide(Http)))

    it.scoped("post refuses 501 characters without sending anything", () =>
      Effect.gen(function*() {
        const { sb, threads } = yield* setup()
        const error = yield* Effect.flip(threads.post(context(text("x".repeat(501)))))
        expect(error.reason).toBe("invalid_metadata")
        expect(error.message).toMatch(/metadata\.threads\.text is 501 characters/)
        expect(requests(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))
  })

  it.scoped("retract deletes the thread, then reports it gone", () =>
    Effect.gen(function*() {
      const { sb, threads } = yield* setup()
      const post = yield* threads.post(context(text("to be taken back")))
      expect(yield* threads.retract!(post)).toBe("deleted")
      expect(stored(sb)).toHaveLength(0)
      expect(yield* threads.retract!(post)).toBe("gone")
    }).pipe(Effect.provide(Http)))

  describe("checkCredentials (GET /me)", () => {
    it.scoped("a valid token of the configured user", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        const report = yield* Threads.checkCredentials(options(sb))
        expect(report).toEqual({
          platform: "threads",
          ok: true,
          valid: true,
          userId: sb.credentials.threads.userId,
          username: "medusa.sandbox",
          problems: []
        })
      }).pipe(Effect.provide(Http)))

    it.scoped("another user's token: a problem naming the user id to set", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        const report = yield* Threads.checkCredentials(options(sb, { userId: "42" }))
        expect(report.ok).toBe(false)
        expect(report.problems[0]).toMatch(/set threads\.user_id to 17841400000000001/)
      }).pipe(Effect.provide(Http)))

    it.scoped("an expired token is reported invalid", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        sb.expireToken("threads")
        const report = yield* Threads.checkCredentials(options(sb))
        expect([report.ok, report.valid]).toEqual([false, false])
      }).pipe(Effect.provide(Http)))
  })

  publisherContract<ThreadsMetadata>({
    id: "threads",
    postRoute: "publish",
    make: (sb) => Threads.make(options(sb)),
    metadata: text,
    postRequests: publishRequests,
    foundWhere: "among the user's threads",
    unknownHint: /Check the recent threads of user 17841400000000001/,
    expiredToken: { reason: "auth_expired", code: "190" },
    sameTextTwice: "posted",
    serverErrorSearch: (e) => e.method === "GET" && e.path.includes("/threads?"),
    rateLimit: { retryAfterSeconds: 120, min: 119_000, max: 120_000 },
    canary: {
      credentials: { threads: { accessToken: "CANARY-threads-6f1d2c9e" } },
      secrets: ["CANARY-threads-6f1d2c9e"]
    },
    checkCredentials: (sb) => Threads.checkCredentials(options(sb))
  })
})
