/**
 * Two Facebook Pages of one person, end to end: the config names both
 * accounts, `Live` builds the real Facebook adapter once per account from its
 * own section, and a task posts to each Page through the sandbox's Graph
 * emulator (each page token reaches its own Page only). Real time.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { checkCredentials } from "../../src/cli/internal/live.js"
import * as Live from "../../src/Live.js"
import * as Medusa from "../../src/Medusa.js"
import * as Config from "../../src/MedusaConfig.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import * as TaskStatus from "../../src/TaskStatus.js"
import { sandbox } from "./helpers.js"

const sample = path.resolve(import.meta.dirname, "../../examples/media/sample.mp4")

const studioPage = { id: "222000000000002", token: "EAAG-sandbox-studio-page-token", name: "Studio Page" }

const scratch = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(path.join(tmpdir(), "medusa-accounts-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const noEnv = Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))

describe("two Facebook Pages through the real adapter", () => {
  it.live(
    "each account posts to its own Page once; results and status are keyed per account",
    () =>
      Effect.gen(function*() {
        const sb = yield* sandbox({ facebook: { pages: [studioPage] } })
        const dir = yield* scratch
        const raw = {
          vimeo: { access_token: sb.credentials.vimeo.accessToken, base_url: sb.urls.vimeo },
          facebook: {
            accounts: {
              brand: {
                page_id: sb.credentials.facebook.pageId,
                access_token: sb.credentials.facebook.pageAccessToken,
                base_url: sb.urls.facebook
              },
              studio: { page_id: studioPage.id, access_token: studioPage.token, base_url: sb.urls.facebook }
            }
          }
        }
        const file = path.join(dir, "medusa.config.json")
        writeFileSync(file, JSON.stringify(raw))
        chmodSync(file, 0o600)
        const config = yield* Config.decode(raw, file).pipe(noEnv)

        const request: PublishRequestInput = {
          mediaFile: sample,
          platforms: ["vimeo", "facebook:brand", "facebook:studio"],
          // The same words on both Pages: each Page has its own feed, so neither is a duplicate.
          metadata: {
            vimeo: { title: "Launch" },
            facebook: { message: "New video: {vimeo_url}" }
          } as PublishRequestInput["metadata"]
        }
        const task = yield* Medusa.publish(request).pipe(Effect.provide(Live.layer(config, { telemetry: false })))
        expect(task.state).toBe("completed")

        const vimeo = task.videos.find((v) => v.host === "vimeo")!
        const onSandbox = sb.raw.postsOf("facebook")
        expect(onSandbox).toHaveLength(2)
        expect(onSandbox.every((p) => p.text === `New video: ${vimeo.url}`)).toBe(true)
        const brand = task.posts.find((p) => p.publisher === "facebook:brand")!
        const studio = task.posts.find((p) => p.publisher === "facebook:studio")!
        // Each post is on its account's Page (Graph's ids are `<page>_<post>`).
        expect(brand.postId.startsWith(`${sb.credentials.facebook.pageId}_`)).toBe(true)
        expect(studio.postId.startsWith(`${studioPage.id}_`)).toBe(true)
        expect(onSandbox.map((p) => p.id).sort()).toEqual([brand.postId, studio.postId].sort())

        const json = TaskStatus.toJSON(task)
        expect(json.results).toMatchObject({
          vimeo_url: vimeo.url,
          "facebook:brand_post_id": brand.postId,
          "facebook:studio_post_id": studio.postId
        })
        expect(json.platforms).toEqual(["vimeo", "facebook:brand", "facebook:studio"])
        // Nothing of either token in the task's JSON.
        expect(JSON.stringify(json)).not.toContain(studioPage.token)
        expect(JSON.stringify(json)).not.toContain(sb.credentials.facebook.pageAccessToken)

        // `medusa auth check` asks each account's own token.
        const checks = yield* checkCredentials(file).pipe(noEnv)
        expect(checks.map((c) => [c.platform, c.ok])).toEqual([
          ["vimeo", true],
          ["facebook:brand", true],
          ["facebook:studio", true]
        ])
        expect(checks.find((c) => c.platform === "facebook:studio")!.summary).toContain("Studio Page")
        expect(JSON.stringify(checks)).not.toContain(studioPage.token)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "default_account: the bare id is that account's adapter; naming it twice is refused; checked once",
    () =>
      Effect.gen(function*() {
        const sb = yield* sandbox({ facebook: { pages: [studioPage] } })
        const dir = yield* scratch
        const raw = {
          facebook: {
            accounts: {
              brand: {
                page_id: sb.credentials.facebook.pageId,
                access_token: sb.credentials.facebook.pageAccessToken,
                base_url: sb.urls.facebook
              },
              studio: { page_id: studioPage.id, access_token: studioPage.token, base_url: sb.urls.facebook }
            },
            default_account: "studio"
          }
        }
        const file = path.join(dir, "medusa.config.json")
        writeFileSync(file, JSON.stringify(raw))
        chmodSync(file, 0o600)
        const config = yield* Config.decode(raw, file).pipe(noEnv)
        const layer = Live.layer(config, { telemetry: false })
        const refused = yield* Effect.flip(
          Medusa.submit({
            mediaFile: sample,
            platforms: ["facebook:studio", "facebook"],
            metadata: { facebook: { message: "Twice?" } }
          }).pipe(Effect.provide(layer))
        )
        expect(refused._tag).toBe("InvalidRequest")
        expect(refused.message).toContain("platforms[1]: facebook and facebook:studio are the same account")
        expect(sb.raw.postsOf("facebook")).toHaveLength(0)

        const task = yield* Medusa.publish({
          mediaFile: sample,
          platforms: ["facebook"],
          metadata: { facebook: { message: "To the default Page" } }
        }).pipe(Effect.provide(layer))
        expect(task.posts.map((p) => p.publisher)).toEqual(["facebook"])
        // The bare id posted to the studio Page, the default account.
        expect(task.posts[0]!.postId.startsWith(`${studioPage.id}_`)).toBe(true)

        const checks = yield* checkCredentials(file).pipe(noEnv)
        expect(checks.map((c) => c.platform)).toEqual(["facebook:brand", "facebook:studio"])
      }).pipe(Effect.scoped),
    60_000
  )
})
