/**
 * Several accounts of one platform: a request targets `facebook:brand` and
 * `facebook:studio`, each account has its own adapter (here its own test
 * double, keyed by target), and results, failures and templates are keyed
 * per account while the default account keeps the bare id.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as path from "node:path"
import * as Durable from "../../src/Durable.js"
import * as Engine from "../../src/internal/task/engine.js"
import * as Medusa from "../../src/Medusa.js"
import * as Config from "../../src/MedusaConfig.js"
import { QuotaExceeded } from "../../src/PublishError.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import * as TaskStatus from "../../src/TaskStatus.js"
import { TaskStore } from "../../src/TaskStore.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { tempDir } from "../durable/fixtures/media.js"
import { media } from "./helpers.js"

const layer = (
  accounts: Parameters<typeof TestPlatforms.layerAccounts>[0],
  only: Parameters<typeof TestPlatforms.layerFor>[0] = ["youtube"]
) =>
  Medusa.layerMemory().pipe(
    Layer.provideMerge(Layer.provideMerge(TestPlatforms.layerAccounts(accounts), TestPlatforms.layerFor(only)))
  )

const twoPages = { "facebook:brand": {}, "facebook:studio": {} } as const

const request = (overrides: Partial<PublishRequestInput> = {}): PublishRequestInput => ({
  mediaFile: media.mp4,
  platforms: ["youtube", "facebook:brand", "facebook:studio"],
  metadata: {
    youtube: { title: "Launch" },
    facebook: { message: "Out now: {youtube_url}" },
    "facebook:studio": { message: "From the studio: {youtube_url}" }
  } as PublishRequestInput["metadata"],
  ...overrides
})

const invalid = (input: unknown) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(Medusa.submit(input as PublishRequestInput))
    if (error._tag !== "InvalidRequest") return assert.fail(`expected InvalidRequest, got ${error._tag}`)
    return error.issues.map((i) => `${i.location}: ${i.message}`)
  })

describe("several accounts per platform", () => {
  it.effect("two accounts of one publisher get one post each, with their own metadata, keyed by target", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms.TestPlatforms
      const task = yield* Medusa.publish(request())
      assert.strictEqual(task.state, "completed")
      assert.deepStrictEqual(task.posts.map((p) => p.publisher).sort(), ["facebook:brand", "facebook:studio"])
      const url = task.videos[0]!.url
      const brand = (yield* control.callsTo("facebook:brand")).filter((c) => c.operation === "post")
      const studio = (yield* control.callsTo("facebook:studio")).filter((c) => c.operation === "post")
      assert.strictEqual(brand.length, 1)
      assert.strictEqual(studio.length, 1)
      // The brand account takes metadata.facebook; the studio has its own.
      assert.strictEqual((brand[0]!.metadata as { message: string }).message, `Out now: ${url}`)
      assert.strictEqual((studio[0]!.metadata as { message: string }).message, `From the studio: ${url}`)
      // The default Facebook account was never used.
      assert.deepStrictEqual((yield* control.callsTo("facebook")).filter((c) => c.operation === "post"), [])
      const json = TaskStatus.toJSON(task)
      assert.deepStrictEqual(json.platforms, ["youtube", "facebook:brand", "facebook:studio"])
      assert.strictEqual(
        json.results!["facebook:brand_post_id"],
        task.posts.find((p) => p.publisher === "facebook:brand")!.postId
      )
      assert.isDefined(json.results!["facebook:studio_post_id"])
      assert.strictEqual(json.results!["youtube_url"], url)
    }).pipe(Effect.provide(layer(twoPages))))

  it.effect("a named host account has its own template variables and results", () =>
    Effect.gen(function*() {
      const task = yield* Medusa.publish({
        mediaFile: media.mp4,
        platforms: ["youtube", "youtube:studio", "facebook:brand"],
        metadata: {
          youtube: { title: "Main" },
          "youtube:studio": { title: "Studio" },
          facebook: { message: "Main {youtube_url}, studio {youtube:studio_url} ({youtube:studio_video_id})" }
        } as PublishRequestInput["metadata"]
      })
      assert.strictEqual(task.state, "completed")
      const main = task.videos.find((v) => v.host === "youtube")!
      const studio = task.videos.find((v) => v.host === "youtube:studio")!
      assert.notStrictEqual(main.videoId, studio.videoId)
      const control = yield* TestPlatforms.TestPlatforms
      const upload = (yield* control.callsTo("youtube:studio")).find((c) => c.operation === "upload")!
      assert.strictEqual((upload.metadata as { title: string }).title, "Studio")
      const post = (yield* control.callsTo("facebook:brand")).find((c) => c.operation === "post")!
      assert.strictEqual(
        (post.metadata as { message: string }).message,
        `Main ${main.url}, studio ${studio.url} (${studio.videoId})`
      )
      const json = TaskStatus.toJSON(task)
      assert.strictEqual(json.results!["youtube:studio_url"], studio.url)
      assert.strictEqual(json.results!["youtube_url"], main.url)
    }).pipe(Effect.provide(layer({ "youtube:studio": {}, "facebook:brand": {} }))))

  it.effect("fail-fast across accounts: one account's failed upload skips every post; the failure names the account", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms.TestPlatforms
      const error = yield* Effect.flip(Medusa.publish({
        mediaFile: media.mp4,
        platforms: ["youtube", "youtube:studio", "facebook:brand", "facebook:studio"],
        metadata: {
          youtube: { title: "Main" },
          facebook: { message: "Out now: {youtube_url}" }
        } as PublishRequestInput["metadata"]
      }))
      assert.strictEqual(error._tag, "QuotaExceeded")
      assert.strictEqual((error as QuotaExceeded).platform, "youtube:studio")
      assert.include(error.message, "YouTube (studio) API error")
      const [task] = yield* Medusa.list()
      assert.strictEqual(task!.state, "failed")
      assert.deepStrictEqual(task!.failures.map((f) => f.platform), ["youtube:studio"])
      assert.deepStrictEqual(task!.skipped, ["facebook:brand", "facebook:studio"])
      for (const account of ["facebook:brand", "facebook:studio"] as const) {
        assert.deepStrictEqual((yield* control.callsTo(account)).filter((c) => c.operation === "post"), [])
      }
      assert.strictEqual(TaskStatus.toJSON(task!).failed_platform, "youtube:studio")
    }).pipe(Effect.provide(layer({
      "youtube:studio": {
        fail: { at: "upload", error: new QuotaExceeded({ platform: "youtube", reason: "quota_exceeded" }) }
      },
      "facebook:brand": {},
      "facebook:studio": {}
    }))))

  it.effect("never twice after a resume: each account reconciles with its own posts only", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const control = yield* TestPlatforms.TestPlatforms
      const engine = yield* Engine.makeEngine(store, yield* Engine.resolvePlatforms, {
        youtube: 1,
        vimeo: 1,
        facebook: 1,
        x: 1,
        linkedin: 1,
        threads: 1,
        mastodon: 1,
        bluesky: 1
      })
      // The same text on both Pages (metadata.facebook): only the account searched may match.
      const { media: file, request: decoded } = yield* Engine.validateRequest(
        {
          mediaFile: media.mp4,
          platforms: ["facebook:brand", "facebook:studio"],
          metadata: { facebook: { message: "Same words on both Pages" } }
        },
        engine.platforms
      )
      const task = Engine.makeTask("medusa_task_33333333-3333-4333-8333-333333333333" as never, decoded, file, 0)
      yield* store.insert(task)
      const sent = yield* Engine.postStep(engine, task.id, "facebook:brand", [])
      assert.strictEqual(sent.publisher, "facebook:brand")
      // A crash after the post left only its intent: the resumed step adopts the brand post.
      yield* store.recordPostIntent(task.id, "facebook:brand")
      const adopted = yield* Engine.postStep(engine, task.id, "facebook:brand", [])
      assert.strictEqual(adopted.postId, sent.postId)
      // The studio's intent (a crash before its request) finds nothing on its Page, however alike the text: it posts.
      yield* store.recordPostIntent(task.id, "facebook:studio")
      const studio = yield* Engine.postStep(engine, task.id, "facebook:studio", [])
      assert.notStrictEqual(studio.postId, sent.postId)
      const posts = (account: "facebook:brand" | "facebook:studio") =>
        Effect.map(control.callsTo(account), (calls) => calls.filter((c) => c.operation === "post").length)
      assert.strictEqual(yield* posts("facebook:brand"), 1)
      assert.strictEqual(yield* posts("facebook:studio"), 1)
      assert.strictEqual((yield* control.posts("facebook:brand")).length, 1)
      assert.strictEqual((yield* control.posts("facebook:studio")).length, 1)
      const record = yield* store.loadPostRecord(task.id, "facebook:studio")
      assert.strictEqual(Option.getOrThrow(record).post?.publisher, "facebook:studio")
      const stored = yield* store.get(task.id)
      assert.deepStrictEqual(stored.posts.map((p) => p.publisher).sort(), ["facebook:brand", "facebook:studio"])
    }).pipe(Effect.provide(layer(twoPages, []))))

  it.effect("each account has its own bound: per_platform_concurrency 1 lets both Pages post at once", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms.TestPlatforms
      const fiber = yield* Effect.fork(Medusa.publish(request({
        platforms: ["facebook:brand", "facebook:studio"],
        metadata: { facebook: { message: "Both at once" } } as PublishRequestInput["metadata"]
      })))
      // Both posts are held at their gates at the same time: neither waits for the other's permit.
      yield* control.started("facebook:brand")
      yield* control.started("facebook:studio")
      assert.strictEqual(yield* control.inFlight("facebook:brand"), 1)
      assert.strictEqual(yield* control.inFlight("facebook:studio"), 1)
      yield* control.release("facebook:brand")
      yield* control.release("facebook:studio")
      const task = yield* Fiber.join(fiber)
      assert.strictEqual(task.state, "completed")
    }).pipe(Effect.provide(
      Medusa.layerMemory({ perPlatformConcurrency: { facebook: 1 } }).pipe(
        Layer.provideMerge(Layer.provideMerge(
          TestPlatforms.layerAccounts({ "facebook:brand": { gated: true }, "facebook:studio": { gated: true } }),
          TestPlatforms.layerFor([])
        ))
      )
    )))

  it.effect("an account that is not configured is refused before any byte, with the field path", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms.TestPlatforms
      const unknown = yield* invalid(request({ platforms: ["youtube", "facebook:bran", "facebook:studio"] }))
      assert.include(unknown, `platforms[1]: no account "bran" in facebook — configured: brand, studio`)
      const malformed = yield* invalid(request({ platforms: ["youtube", "facebook:Brand!"] }))
      assert.isTrue(
        malformed.some((m) => m.startsWith("platforms[1]: ") && m.includes("account")),
        malformed.join("\n")
      )
      const twice = yield* invalid(request({ platforms: ["youtube", "facebook:brand", "facebook:brand"] }))
      assert.include(twice, "platforms[2]: facebook:brand is selected twice")
      const noMetadata = yield* invalid({
        mediaFile: media.mp4,
        platforms: ["facebook:brand"],
        metadata: {}
      })
      assert.isTrue(noMetadata.some((m) => m.startsWith("metadata.facebook:brand: is required")), noMetadata.join("\n"))
      const unselected = yield* invalid(request({
        platforms: ["youtube", "facebook:brand"],
        metadata: {
          youtube: { title: "T" },
          facebook: { message: "m" },
          "facebook:studio": { message: "s" }
        } as PublishRequestInput["metadata"]
      }))
      assert.isTrue(
        unselected.some((m) => m.startsWith("metadata.facebook:studio: is given but")),
        unselected.join("\n")
      )
      const template = yield* invalid(request({
        metadata: {
          youtube: { title: "T" },
          facebook: { message: "See {youtube:studio_url}" }
        } as PublishRequestInput["metadata"]
      }))
      assert.isTrue(
        template.some((m) => m.startsWith("metadata.facebook.message: ") && m.includes("youtube:studio is not among")),
        template.join("\n")
      )
      assert.deepStrictEqual(
        (yield* control.calls).filter((c) => c.operation !== "validate"),
        [],
        "nothing was sent"
      )
      assert.deepStrictEqual(yield* Medusa.list(), [])
    }).pipe(Effect.provide(layer(twoPages))))

  it.effect("an alias names an account too: twitter:studio is x:studio, in platforms and metadata", () =>
    Effect.gen(function*() {
      const task = yield* Medusa.publish({
        mediaFile: media.mp4,
        platforms: ["twitter:studio"],
        metadata: { "twitter:studio": { text: "From the studio" } } as PublishRequestInput["metadata"]
      })
      assert.deepStrictEqual(task.request.platforms, ["x:studio"])
      assert.deepStrictEqual(task.posts.map((p) => p.publisher), ["x:studio"])
      const control = yield* TestPlatforms.TestPlatforms
      const post = (yield* control.callsTo("x:studio")).find((c) => c.operation === "post")!
      assert.strictEqual((post.metadata as { text: string }).text, "From the studio")
    }).pipe(Effect.provide(layer({ "x:studio": {} }, []))))

  it.effect("the bare id of a platform with only named accounts is refused, naming them", () =>
    Effect.gen(function*() {
      const issues = yield* invalid({
        mediaFile: media.mp4,
        platforms: ["facebook"],
        metadata: { facebook: { message: "m" } }
      })
      assert.include(
        issues.join("\n"),
        "platforms[0]: facebook has no default account — name one: facebook:brand, facebook:studio"
      )
    }).pipe(Effect.provide(layer(twoPages, []))))
})

const env = (vars: ReadonlyArray<readonly [string, string]> = []) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(vars)))

const configIssues = (input: unknown) =>
  Effect.map(Effect.flip(Config.decode(input).pipe(env())), (e) => e.issues.map((i) => `${i.location}: ${i.message}`))

describe("accounts in the config", () => {
  const page = (id: string) => ({ page_id: id, access_token: `token-${id}` })

  it.effect("named accounts decode each as the platform's section; default_account is the bare id's", () =>
    Effect.gen(function*() {
      const config = yield* Config.decode({
        facebook: { accounts: { brand: page("111"), studio: page("222") }, default_account: "brand" },
        vimeo: { access_token: "v" }
      }).pipe(env([["MEDUSA_FACEBOOK_STUDIO_ACCESS_TOKEN", "from-env"]]))
      assert.deepStrictEqual(Object.keys(config.accounts!.facebook!), ["brand", "studio"])
      assert.strictEqual(config.accounts!.facebook!.studio!.pageId, "222")
      assert.strictEqual(Redacted.value(config.accounts!.facebook!.studio!.accessToken), "from-env")
      assert.strictEqual(config.facebook, config.accounts!.facebook!.brand)
      assert.deepStrictEqual(Config.configuredTargets(config).map((t) => t.target), [
        "vimeo",
        "facebook",
        "facebook:brand",
        "facebook:studio"
      ])
      // A single unnamed section stays what it was.
      const single = yield* Config.decode({ facebook: page("333") }).pipe(env())
      assert.strictEqual(single.facebook!.pageId, "333")
      assert.isUndefined(single.accounts)
    }))

  it.effect("bad accounts are refused with their JSON path: unknown keys, names, default_account, empty", () =>
    Effect.gen(function*() {
      const issues = yield* configIssues({
        facebook: {
          accounts: { brand: { page_id: "1", acces_token: "t" }, "Bad Name": page("2") },
          default_account: "bran"
        },
        x: { accounts: {} },
        linkedin: { accounts: { main: { access_token: "t", author_urn: "urn:li:person:a" } }, defaults: 1 }
      })
      const text = issues.join("\n")
      assert.include(
        text,
        `facebook.accounts.brand.acces_token: unknown key "acces_token" at $.facebook.accounts.brand`
      )
      assert.include(text, `did you mean "access_token"?`)
      assert.include(text, "facebook.accounts.brand.access_token: required")
      assert.isTrue(issues.some((i) => i.includes("Bad Name") && i.includes("account name")), text)
      assert.include(text, `facebook.default_account: no account "bran" in facebook.accounts — configured: brand`)
      assert.include(text, "x.accounts: names no account")
      assert.include(text, `linkedin.defaults: unknown key "defaults" at $.linkedin`)
      // A secret is never echoed.
      assert.notInclude(text, "token-2")
    }))
})

describe("accounts on the SQLite store", () => {
  it.live("an account-keyed task round-trips: posts, results, post records read back from a reopened file", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "medusa.db")
      const durable = Durable.layerDurable({ sqlite: file }).pipe(
        Layer.provideMerge(
          Layer.provideMerge(TestPlatforms.layerAccounts(twoPages), TestPlatforms.layerFor(["youtube"]))
        )
      )
      const done = yield* Medusa.publish(request()).pipe(Effect.provide(durable))
      assert.strictEqual(done.state, "completed")
      const reopened = yield* Effect.gen(function*() {
        const store = yield* TaskStore
        const task = yield* store.get(done.id)
        const record = yield* store.loadPostRecord(done.id, "facebook:studio")
        return { task, record }
      }).pipe(Effect.provide(durable))
      assert.deepStrictEqual(reopened.task.request.platforms, ["youtube", "facebook:brand", "facebook:studio"])
      assert.deepStrictEqual(
        reopened.task.posts.map((p) => p.publisher).sort(),
        ["facebook:brand", "facebook:studio"]
      )
      assert.strictEqual(Option.getOrThrow(reopened.record).state, "done")
      assert.strictEqual(
        Option.getOrThrow(reopened.record).post?.postId,
        done.posts.find((p) => p.publisher === "facebook:studio")!.postId
      )
      assert.deepStrictEqual(TaskStatus.toJSON(reopened.task), TaskStatus.toJSON(done))
      assert.strictEqual(
        (reopened.task.request.metadata as unknown as Record<string, { message: string }>)["facebook:studio"]!.message,
        "From the studio: {youtube_url}"
      )
    }))
})
