/**
 * The scenarios every publisher must pass, written once and run per platform
 * (in the style of Effect's KeyValueStore contract suite). A platform's test
 * file calls `publisherContract` with a small descriptor; what differs between
 * platforms (the post route, the hint text, how an expired token is named)
 * lives in the descriptor, and platform-only behaviour stays in that file.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Engine from "../../src/internal/task/engine.js"
import { findClockSkewMillis, type PostWait, type Publisher } from "../../src/Platform.js"
import type { PublisherId } from "../../src/PlatformId.js"
import { Metadata, PublishRequest } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { TaskId } from "../../src/TaskId.js"
import type { TaskId as TaskIdType } from "../../src/TaskId.js"
import { layerMemory as storeLayerMemory, TaskStore } from "../../src/TaskStore.js"
import {
  alignClocks,
  awaitSleep,
  captureLogs,
  context,
  exposed,
  Http,
  media,
  sandbox,
  type SandboxOptions
} from "../publishers/helpers.js"

type LogEntry = Sandbox.Sandbox["raw"]["log"][number]

/** What the contract needs to know about one publisher. */
export interface PublisherCase<M> {
  readonly id: PublisherId
  /** The sandbox route of the request that creates a post (fault target). */
  readonly postRoute: string
  /** The publisher wired to the sandbox with its default credentials. */
  readonly make: (sb: Sandbox.Sandbox) => Effect.Effect<Publisher<M>, never, HttpClient.HttpClient>
  /** Metadata carrying `text` as the post's text. */
  readonly metadata: (text: string) => M
  /** The requests that create a post, from the sandbox's log. */
  readonly postRequests: (sb: Sandbox.Sandbox) => ReadonlyArray<LogEntry>
  /** Where the publisher looks for a post whose answer was lost (test names only). */
  readonly foundWhere: string
  /** The hint an unknown outcome gives the user. */
  readonly unknownHint: RegExp
  /** How the platform names a token the sandbox expired, and with which code. */
  readonly expiredToken: {
    readonly reason: "auth_expired" | "auth_invalid"
    readonly code?: string
  }
  /**
   * What the platform does with the same text posted twice by one task:
   * refuses it as a duplicate (the default), folds it into the first post
   * (an idempotency key derived from the task), or posts it again (no
   * duplicate rule: the engine's post record is what keeps a task from
   * posting twice).
   */
  readonly sameTextTwice?: "duplicate" | "folded" | "posted"
  /** What the duplicate refusal carries from the platform, when it says something. */
  readonly duplicatePlatformMessage?: RegExp
  /**
   * A 5xx on the post is an unknown outcome that is searched for (omitted
   * where the platform marks some 5xx answers as transient and retries them).
   */
  readonly serverErrorSearch?: (entry: LogEntry) => boolean
  /** A 429 with a wait hint: the injected seconds and the TestClock sleep expected. */
  readonly rateLimit?: { readonly retryAfterSeconds: number; readonly min: number; readonly max: number }
  /** Canary credentials for the sandbox, and every secret among them. */
  readonly canary: {
    readonly credentials: NonNullable<SandboxOptions["credentials"]>
    readonly secrets: ReadonlyArray<string>
  }
  /**
   * The publisher writes under a key derived from the task (Bluesky's record
   * key): a re-send of the task's post cannot make a second one, so instead of
   * refusing duplicates by text and leaving lost answers unknown, it re-sends
   * under the same key, and `find` looks the key up (text plays no part, and
   * the settle time is zero). The scenarios below say how each rule reads then.
   */
  readonly keyed?: boolean
  /** The platform's credential check (its report must not carry the canary either). */
  readonly checkCredentials: (sb: Sandbox.Sandbox) => Effect.Effect<unknown, unknown, HttpClient.HttpClient>
}

/** Runs the publisher contract for one platform (inside that platform's `describe`). */
export const publisherContract = <M>(platform: PublisherCase<M>): void => {
  const posts = (sb: Sandbox.Sandbox) => sb.raw.postsOf(platform.id)
  const post = (text: string, waits?: Array<PostWait>) =>
    context(platform.metadata(text), waits === undefined ? {} : { waits })
  /** `find`'s context: the post's, with the time its intent was recorded. */
  const sought = (text: string, intentAt: number) => ({ ...post(text), intentAt })
  const setup = (sandboxOptions: SandboxOptions = {}) =>
    Effect.gen(function*() {
      const sb = yield* sandbox(sandboxOptions)
      yield* alignClocks(sb)
      const publisher = yield* platform.make(sb)
      return { sb, publisher }
    })

  const keyed = platform.keyed === true
  const anotherTask = TaskId.make("medusa_task_7e57ab1e-0000-4000-8000-00000000cafe")

  describe("contract", () => {
    if (keyed) {
      it.scoped("find returns the task's post (by its key), and None for another task with the same text", () =>
        Effect.gen(function*() {
          const { publisher } = yield* setup()
          expect(publisher.canFind).toBe(true)
          const posted = yield* publisher.post(post("Find #me (please) https://vimeo.com/76979871"))
          const found = yield* publisher.find(sought("Find #me (please) https://vimeo.com/76979871", 0))
          expect(Option.getOrThrow(found).postId).toBe(posted.postId)
          const other = { ...sought("Find #me (please) https://vimeo.com/76979871", 0), taskId: anotherTask }
          expect(Option.isNone(yield* publisher.find(other))).toBe(true)
        }).pipe(Effect.provide(Http)))

      it.scoped("the same task posted twice → the first post, one stored, one write accepted", () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          const first = yield* publisher.post(post("Same task twice"))
          const again = yield* publisher.post(post("Same task twice"))
          expect(again.postId).toBe(first.postId)
          expect(posts(sb)).toHaveLength(1)
          expect(platform.postRequests(sb).filter((e) => e.status === 200)).toHaveLength(1)
        }).pipe(Effect.provide(Http)))
    }

    if (!keyed) {
      it.scoped("find returns the post with the same (escaped) text, and None for another", () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          expect(publisher.canFind).toBe(true)
          const intentAt = sb.clock.now()
          const posted = yield* publisher.post(post("Find #me (please) https://vimeo.com/76979871"))
          const found = yield* publisher.find(sought("Find #me (please) https://vimeo.com/76979871", intentAt))
          expect(Option.getOrThrow(found).postId).toBe(posted.postId)
          expect(Option.isNone(yield* publisher.find(sought("Find me please https://vimeo.com/76979871", intentAt))))
            .toBe(true)
        }).pipe(Effect.provide(Http)))
    }

    // A keyed publisher's "same text twice" from one task is the same task twice (above).
    const sameTextTwice = keyed ? undefined : platform.sameTextTwice ?? "duplicate"
    if (sameTextTwice === "folded") {
      it.scoped("the same text twice from one task → folded into the first post, one post stored", () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          const first = yield* publisher.post(post("Same text twice"))
          const second = yield* publisher.post(post("Same text twice"))
          expect(second.postId).toBe(first.postId)
          expect(posts(sb)).toHaveLength(1)
          expect(platform.postRequests(sb)).toHaveLength(2)
        }).pipe(Effect.provide(Http)))
    }
    if (sameTextTwice === "posted") {
      it.scoped("the same text twice: the platform has no duplicate rule, two posts", () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          const first = yield* publisher.post(post("Same text twice"))
          const second = yield* publisher.post(post("Same text twice"))
          expect(second.postId).not.toBe(first.postId)
          expect(posts(sb)).toHaveLength(2)
        }).pipe(Effect.provide(Http)))
    }
    if (sameTextTwice === "duplicate") {
      it.scoped("the same text twice → duplicate_post, one post stored", () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          yield* publisher.post(post("Same text twice"))
          const error = yield* Effect.flip(publisher.post(post("Same text twice")))
          expect(error._tag).toBe("PlatformRejected")
          expect(error.reason).toBe("duplicate_post")
          if (platform.duplicatePlatformMessage !== undefined) {
            expect(error.platformMessage).toMatch(platform.duplicatePlatformMessage)
          }
          expect(posts(sb)).toHaveLength(1)
        }).pipe(Effect.provide(Http)))
    }

    it.scoped(`an expired token → ${platform.expiredToken.reason}, nothing posted`, () =>
      Effect.gen(function*() {
        const { publisher, sb } = yield* setup()
        sb.expireToken(platform.id)
        const error = yield* Effect.flip(publisher.post(post("expired")))
        expect(error._tag).toBe("AuthExpired")
        expect(error.reason).toBe(platform.expiredToken.reason)
        if (platform.expiredToken.code !== undefined) expect(error.code).toBe(platform.expiredToken.code)
        expect(posts(sb)).toHaveLength(0)
      }).pipe(Effect.provide(Http)))

    const rateLimit = platform.rateLimit
    if (rateLimit !== undefined) {
      it.scoped("429 waits out the platform's hint (sandbox clock + TestClock), then posts once", () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          sb.inject({
            platform: platform.id,
            route: platform.postRoute,
            action: { kind: "rateLimit", retryAfterSeconds: rateLimit.retryAfterSeconds }
          })
          const waits: Array<PostWait> = []
          const fiber = yield* Effect.fork(publisher.post(post("after the window", waits)))
          const wait = yield* awaitSleep(rateLimit.min, rateLimit.max, sb)
          expect(posts(sb)).toHaveLength(0)
          // The wait was announced (for the task's status) with when the post goes ahead.
          expect(waits.map((w) => [w.reason, w.until])).toEqual([
            ["rate limited", (yield* TestClock.currentTimeMillis) + wait]
          ])
          sb.clock.advance(wait)
          yield* TestClock.adjust(wait)
          const posted = yield* Fiber.join(fiber)
          expect(posts(sb).map((p) => p.id)).toEqual([posted.postId])
          expect(platform.postRequests(sb)).toHaveLength(2)
        }).pipe(Effect.provide(Http)))
    }

    describe("never posts twice", () => {
      it.scoped(`answer lost after the post landed: found ${platform.foundWhere}, one post`, () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          sb.inject({
            platform: platform.id,
            route: platform.postRoute,
            action: { kind: "drop", afterBytes: 1_000_000 }
          })
          const posted = yield* publisher.post(post("Landed (answer lost) https://youtu.be/dQw4w9WgXcQ"))
          expect(posts(sb)).toHaveLength(1)
          expect(posted.postId).toBe(posts(sb)[0]!.id)
          expect(platform.postRequests(sb)).toHaveLength(1)
        }).pipe(Effect.provide(Http)))

      if (keyed) {
        it.scoped("dropped mid-request: not found under its key → re-sent under the same key, one post", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            sb.inject({ platform: platform.id, route: platform.postRoute, action: { kind: "drop", afterBytes: 4 } })
            const made = yield* publisher.post(post("Cut mid-body"))
            expect(platform.postRequests(sb)).toHaveLength(2)
            expect(posts(sb).map((p) => p.id)).toEqual([made.postId])
          }).pipe(Effect.provide(Http)))
      }

      if (!keyed) {
        it.scoped("dropped mid-request: nothing found → post_outcome_unknown, no retry, no post", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            sb.inject({ platform: platform.id, route: platform.postRoute, action: { kind: "drop", afterBytes: 4 } })
            const error = yield* Effect.flip(publisher.post(post("Cut mid-body")))
            expect(error._tag).toBe("PostOutcomeUnknown")
            expect(error.reason).toBe("post_outcome_unknown")
            expect(error.message).toMatch(platform.unknownHint)
            expect(error.message).toMatch(/did not retry/)
            expect(platform.postRequests(sb)).toHaveLength(1)
            expect(posts(sb)).toHaveLength(0)
          }).pipe(Effect.provide(Http)))
      }

      const isSearch = platform.serverErrorSearch
      if (isSearch !== undefined && keyed) {
        it.scoped("a 503: looked up under its key, re-sent after a backoff (TestClock), one post", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            sb.inject({ platform: platform.id, route: platform.postRoute, action: { kind: "status", status: 503 } })
            const fiber = yield* Effect.fork(publisher.post(post("server error")))
            const wait = yield* awaitSleep(500, 5_000)
            expect(sb.raw.log.some((e) => e.platform === platform.id && isSearch(e))).toBe(true)
            expect(posts(sb)).toHaveLength(0)
            yield* TestClock.adjust(wait)
            const made = yield* Fiber.join(fiber)
            expect(platform.postRequests(sb)).toHaveLength(2)
            expect(posts(sb).map((p) => p.id)).toEqual([made.postId])
          }).pipe(Effect.provide(Http)))
      }
      if (isSearch !== undefined && !keyed) {
        it.scoped("a 503 is an unknown outcome: searched, never re-sent", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            sb.inject({ platform: platform.id, route: platform.postRoute, action: { kind: "status", status: 503 } })
            const error = yield* Effect.flip(publisher.post(post("server error")))
            expect(error.reason).toBe("post_outcome_unknown")
            expect(platform.postRequests(sb)).toHaveLength(1)
            expect(sb.raw.log.some((e) => e.platform === platform.id && isSearch(e))).toBe(true)
            expect(posts(sb)).toHaveLength(0)
          }).pipe(Effect.provide(Http)))
      }
    })

    describe("reconciliation is bounded by the intent's time", () => {
      const DAY = 86_400_000
      const text = "Our launch video, once more https://youtu.be/dQw4w9WgXcQ"

      /** The engine over the memory store and this publisher, with a task posting `text` to it. */
      const engineTask = (publisher: Publisher<M>) =>
        Effect.gen(function*() {
          const store = yield* TaskStore
          const engine = yield* Engine.makeEngine(
            store,
            { hosts: {}, publishers: { [platform.id]: publisher } },
            { youtube: 1, vimeo: 1, facebook: 1, x: 1, linkedin: 1, threads: 1, mastodon: 1, bluesky: 1 }
          )
          const request = new PublishRequest({
            mediaFile: media.path,
            platforms: [platform.id],
            metadata: new Metadata({ [platform.id]: platform.metadata(text) })
          })
          const task = Engine.makeTask(
            TaskId.make("medusa_task_0d6f1c9a-3b2e-4f5a-8c7d-9e0f1a2b3c4d"),
            request,
            media,
            yield* Clock.currentTimeMillis
          )
          // Running, as a task is when it posts (its status records waits).
          yield* store.insert(Engine.rebuild(task, { state: "in_progress" }))
          return { store, engine, task }
        })

      if (keyed) {
        it.scoped("find adopts no other post with the same text, however it is dated", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            const intentAt = sb.clock.now()
            for (const at of [intentAt - 2 * DAY, intentAt - 5_000, intentAt, intentAt + 5_000]) {
              sb.seedPost({ platform: platform.id, text, at })
            }
            expect(Option.isNone(yield* publisher.find(sought(text, intentAt)))).toBe(true)
          }).pipe(Effect.provide(Http)))

        it.scoped("the settle time is zero: a look-up by key is authoritative at once", () =>
          Effect.gen(function*() {
            const { publisher } = yield* setup()
            expect(publisher.settleMillis).toBe(0)
          }).pipe(Effect.provide(Http)))

        it.scoped("an intent with no post: looked up, posted at once, exactly one post", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            const older = sb.seedPost({ platform: platform.id, text, at: sb.clock.now() - 2 * DAY })
            const { engine, store, task } = yield* engineTask(publisher)
            yield* store.recordPostIntent(task.id, platform.id)
            const made = yield* Engine.postStep(engine, task.id, platform.id, [])
            expect(platform.postRequests(sb)).toHaveLength(1)
            expect(posts(sb).map((p) => p.id)).toEqual([older.id, made.postId])
            const record = Option.getOrThrow(yield* store.loadPostRecord(task.id, platform.id))
            expect([record.state, record.post?.postId]).toEqual(["done", made.postId])
          }).pipe(Effect.provide(Layer.merge(Http, storeLayerMemory))))

        it.scoped("a request cut mid-body (no post made): re-sent under the same key, exactly one post", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            const { engine, task } = yield* engineTask(publisher)
            sb.inject({ platform: platform.id, route: platform.postRoute, action: { kind: "drop", afterBytes: 4 } })
            const made = yield* Engine.postStep(engine, task.id, platform.id, [])
            expect(platform.postRequests(sb)).toHaveLength(2)
            expect(posts(sb).map((p) => p.id)).toEqual([made.postId])
          }).pipe(Effect.provide(Layer.merge(Http, storeLayerMemory))))
      }

      if (!keyed) {
        it.scoped("find adopts no identical post dated before the intent, beyond the clock-skew allowance", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            const intentAt = sb.clock.now()
            sb.seedPost({ platform: platform.id, text, at: intentAt - 2 * DAY })
            sb.seedPost({ platform: platform.id, text, at: intentAt - findClockSkewMillis - 5_000 })
            expect(Option.isNone(yield* publisher.find(sought(text, intentAt)))).toBe(true)
            // Within the allowance the platform's clock may simply be behind Medusa's: adopted.
            const lagging = sb.seedPost({ platform: platform.id, text, at: intentAt - findClockSkewMillis + 5_000 })
            expect(Option.getOrThrow(yield* publisher.find(sought(text, intentAt))).postId).toBe(lagging.id)
          }).pipe(Effect.provide(Http)))

        /** Forks `postStep`, waits until it sleeps out the rest of the settle time, then lets that time pass. */
        const settled = <A, E>(
          sb: Sandbox.Sandbox,
          publisher: Publisher<M>,
          step: Effect.Effect<A, E>,
          store: TaskStore["Type"],
          taskId: TaskIdType
        ) =>
          Effect.gen(function*() {
            const fiber = yield* Effect.fork(step)
            const wait = yield* awaitSleep(publisher.settleMillis - 60_000, publisher.settleMillis)
            // The task's status says why it waits, and until when.
            const task = yield* store.get(taskId)
            expect(task.waits?.map((w) => [w.platform, w.until])).toEqual([
              [platform.id, (yield* TestClock.currentTimeMillis) + wait]
            ])
            expect(platform.postRequests(sb).filter((e) => e.status !== "dropped")).toHaveLength(0)
            sb.clock.advance(wait)
            yield* TestClock.adjust(wait)
            return yield* Fiber.join(fiber)
          })

        it.scoped("the settle time is a documented constant of minutes", () =>
          Effect.gen(function*() {
            const { publisher } = yield* setup()
            expect(publisher.settleMillis).toBeGreaterThanOrEqual(60_000)
          }).pipe(Effect.provide(Http)))

        it.scoped("an intent with no post: searched, the settle time waited out, then exactly one post", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            // An identical post from before the intent is not taken for this one.
            const older = sb.seedPost({ platform: platform.id, text, at: sb.clock.now() - 2 * DAY })
            const { engine, store, task } = yield* engineTask(publisher)
            // The process died after recording the intent, before the request left.
            yield* store.recordPostIntent(task.id, platform.id)
            const made = yield* settled(
              sb,
              publisher,
              Engine.postStep(engine, task.id, platform.id, []),
              store,
              task.id
            )
            expect(platform.postRequests(sb)).toHaveLength(1)
            expect(posts(sb).map((p) => p.id)).toEqual([older.id, made.postId])
            const record = Option.getOrThrow(yield* store.loadPostRecord(task.id, platform.id))
            expect([record.state, record.post?.postId]).toEqual(["done", made.postId])
            // The wait is over once the post is recorded.
            expect((yield* store.get(task.id)).waits).toBeUndefined()
          }).pipe(Effect.provide(Layer.merge(Http, storeLayerMemory))))

        it.scoped("a request cut mid-body (no post made): after the settle time, exactly one post", () =>
          Effect.gen(function*() {
            const { publisher, sb } = yield* setup()
            const { engine, store, task } = yield* engineTask(publisher)
            sb.inject({ platform: platform.id, route: platform.postRoute, action: { kind: "drop", afterBytes: 4 } })
            const made = yield* settled(
              sb,
              publisher,
              Engine.postStep(engine, task.id, platform.id, []),
              store,
              task.id
            )
            expect(platform.postRequests(sb)).toHaveLength(2)
            expect(posts(sb).map((p) => p.id)).toEqual([made.postId])
          }).pipe(Effect.provide(Layer.merge(Http, storeLayerMemory))))
      }

      /** The post request of the engine's task, as `postStep` sends it. */
      const ofTask = (task: { readonly id: TaskIdType; readonly createdAt: number }) => ({
        ...post(text),
        taskId: task.id,
        taskCreatedAt: task.createdAt
      })

      it.scoped("an intent whose post exists is adopted at once, however young: never a second post", () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          const { engine, store, task } = yield* engineTask(publisher)
          yield* store.recordPostIntent(task.id, platform.id)
          // The request lands; the process dies before recording it; the resume follows at once.
          const sent = yield* publisher.post(ofTask(task))
          const adopted = yield* Engine.postStep(engine, task.id, platform.id, [])
          expect(adopted.postId).toBe(sent.postId)
          expect(platform.postRequests(sb)).toHaveLength(1)
          expect(posts(sb)).toHaveLength(1)
          expect(Option.getOrThrow(yield* store.loadPostRecord(task.id, platform.id)).state).toBe("done")
        }).pipe(Effect.provide(Layer.merge(Http, storeLayerMemory))))

      it.scoped("resumed 10 minutes after a crash inside the post: adopts the task's own post, not the older one", () =>
        Effect.gen(function*() {
          const { publisher, sb } = yield* setup()
          // Older than the platforms' duplicate windows, so the same text can be posted again.
          const older = sb.seedPost({ platform: platform.id, text, at: sb.clock.now() - 2 * DAY })
          const { engine, store, task } = yield* engineTask(publisher)
          yield* store.recordPostIntent(task.id, platform.id)
          // The request lands; the process dies before recording it.
          const sent = yield* publisher.post(ofTask(task))
          sb.clock.advance(10 * 60_000)
          yield* TestClock.adjust(10 * 60_000)
          const adopted = yield* Engine.postStep(engine, task.id, platform.id, [])
          expect(adopted.postId).toBe(sent.postId)
          expect(adopted.postId).not.toBe(older.id)
          expect(platform.postRequests(sb)).toHaveLength(1)
          const record = Option.getOrThrow(yield* store.loadPostRecord(task.id, platform.id))
          expect([record.state, record.post?.postId]).toEqual(["done", sent.postId])
        }).pipe(Effect.provide(Layer.merge(Http, storeLayerMemory))))
    })

    it.scoped("canary secrets never appear in errors, logs, the credential report or the sandbox's state", () =>
      Effect.gen(function*() {
        const sb = yield* sandbox({ credentials: platform.canary.credentials })
        yield* alignClocks(sb)
        const publisher = yield* platform.make(sb)
        const logs = captureLogs()
        const errors: Array<unknown> = []
        const report = yield* Effect.gen(function*() {
          sb.inject({
            platform: platform.id,
            route: platform.postRoute,
            action: { kind: "drop", afterBytes: 1_000_000 }
          })
          yield* publisher.post(post("canary"))
          if (keyed) {
            // The same task again is its post; a cut request is re-sent under its key.
            yield* publisher.post(post("canary"))
            sb.inject({ platform: platform.id, route: platform.postRoute, action: { kind: "drop", afterBytes: 2 } })
            yield* publisher.post({ ...post("canary cut"), taskId: anotherTask })
          } else {
            if (sameTextTwice === "duplicate") errors.push(yield* Effect.flip(publisher.post(post("canary"))))
            else yield* publisher.post(post("canary"))
            sb.inject({ platform: platform.id, route: platform.postRoute, action: { kind: "drop", afterBytes: 2 } })
            errors.push(yield* Effect.flip(publisher.post(post("canary cut"))))
          }
          sb.expireToken(platform.id)
          errors.push(yield* Effect.flip(publisher.post(post("canary expired"))))
          return yield* platform.checkCredentials(sb)
        }).pipe(Effect.provide(logs.layer))
        expect(errors.map((e) => (e as { reason: string }).reason)).toEqual([
          ...(keyed ? [] : [...(sameTextTwice === "duplicate" ? ["duplicate_post"] : []), "post_outcome_unknown"]),
          platform.expiredToken.reason
        ])
        expect(logs.lines.length).toBeGreaterThan(0)
        const seen = [...errors.map(exposed), logs.lines.join("\n"), JSON.stringify(report), JSON.stringify(sb.state())]
          .join("\n")
        expect(platform.canary.secrets.length).toBeGreaterThan(0)
        for (const secret of platform.canary.secrets) expect(seen).not.toContain(secret)
      }).pipe(Effect.provide(Http)))
  })
}
