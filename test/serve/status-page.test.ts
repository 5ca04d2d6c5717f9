/**
 * The status page end to end in headless Chromium (Debian's, driven by
 * playwright-core; never a downloaded browser): tasks submitted through the
 * API appear, their bars advance, they end with their links or their error;
 * cancel works with a write key and is hidden from a read key.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Browser } from "playwright-core"
import * as Web from "../../src/internal/web/routes.js"
import * as Medusa from "../../src/Medusa.js"
import { PlatformUnavailable } from "../../src/PublishError.js"
import * as Server from "../../src/Server.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"

const chromiumPath = "/usr/bin/chromium"
const hasChromium = fs.existsSync(chromiumPath)
if (!hasChromium) {
  console.warn(`[medusa] SKIPPED status page (Chromium): ${chromiumPath} is absent; install Debian's chromium package`)
}

const outDir = fileURLToPath(new URL("../.out/", import.meta.url))
const writeKey = "medusa-page-write-key-0123456789"
const readKey = "medusa-page-read-key-0123456789"

const launch = Effect.acquireRelease(
  Effect.promise(async () => {
    const { chromium } = await import("playwright-core")
    return chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync"
      ]
    })
  }),
  (browser: Browser) => Effect.promise(() => browser.close())
)

const serverLayer = (mediaRoot: string) =>
  Server.layerNode({
    port: 0,
    host: "127.0.0.1",
    apiKeys: [
      { key: Redacted.make(writeKey), scopes: ["read", "write"] },
      { key: Redacted.make(readKey), scopes: ["read"] }
    ],
    mediaRoots: [mediaRoot],
    routes: Web.layerStatusPage,
    publicPaths: Web.publicPaths
  }).pipe(
    Layer.provideMerge(Medusa.layerMemory()),
    Layer.provide(TestPlatforms.layer({
      youtube: { delay: "3 seconds", progressEvents: 30 },
      vimeo: {
        fail: {
          at: "upload",
          afterProgress: 1,
          error: new PlatformUnavailable({
            platform: "vimeo",
            reason: "server_error",
            platformMessage: "Service Unavailable"
          })
        },
        delay: "400 millis"
      }
    }))
  )

const api = (base: string, key: string) => (route: string, body?: unknown) =>
  fetch(`${base}${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  }).then(async (res) => ({ status: res.status, body: await res.json() as Record<string, any> }))

describe.skipIf(!hasChromium)("status page (headless Chromium)", () => {
  it.live(
    "follows tasks live: bar, completion with links, a failure's error; cancel where the key allows",
    () =>
      Effect.gen(function*() {
        const dir = tempDir("medusa-page-")
        const video = writeVideo(dir, 64 * 1024)
        const context = yield* Layer.build(serverLayer(dir))
        const address = yield* HttpServer.addressFormattedWith((a) => Effect.succeed(a)).pipe(Effect.provide(context))
        const base = address
        const write = api(base, writeKey)
        const browser = yield* launch
        const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1100, height: 900 } }))
        const errors: Array<string> = []
        // Script errors only (a refused probe or request also logs a console line).
        page.on("pageerror", (e) => errors.push(String(e)))

        yield* Effect.promise(async () => {
          await page.goto(`${base}/`)
          await page.fill("#key", writeKey)
          await page.click("#key-form button[type=submit]")
          await page.waitForSelector("#conn:has-text('live')")
        })

        // A task that completes: it appears, its bar advances, it ends with links.
        const ok = yield* Effect.promise(() =>
          write("/v1/tasks", {
            mediaFile: video,
            platforms: ["youtube", "facebook"],
            metadata: { youtube: { title: "Page" }, facebook: { message: "Watch {youtube_url}" } }
          })
        )
        assert.strictEqual(ok.status, 202, JSON.stringify(ok.body))
        const okId = ok.body["task_id"] as string
        const row = `[data-task-id="${okId}"]`
        const sent = yield* Effect.promise(async () => {
          await page.waitForSelector(row)
          const bar = `${row} .bar[data-host=youtube]`
          await page.waitForSelector(bar)
          const first = Number(await page.getAttribute(bar, "data-bytes-sent"))
          // Polled from here: the page's CSP (rightly) refuses the string evaluation `waitForFunction` uses.
          const deadline = Date.now() + 15_000
          while (Number(await page.getAttribute(bar, "data-bytes-sent")) <= first && Date.now() < deadline) {
            await page.waitForTimeout(50)
          }
          fs.mkdirSync(outDir, { recursive: true })
          await page.screenshot({ path: path.join(outDir, "status-page-running.png"), fullPage: true })
          return { first, later: Number(await page.getAttribute(bar, "data-bytes-sent")) }
        })
        assert.isTrue(sent.later > sent.first, `the bar advanced: ${sent.first} → ${sent.later}`)
        const done = yield* Effect.promise(async () => {
          await page.waitForSelector(`${row}[data-state=completed]`, { timeout: 20_000 })
          return {
            href: await page.getAttribute(`${row} a.result[data-result=youtube_url]`, "href"),
            chips: await page.$$eval(
              `${row} .chip`,
              (els) => els.map((e) => `${e.getAttribute("data-platform")}:${e.getAttribute("data-chip-state")}`)
            )
          }
        })
        const final = yield* Effect.promise(() => write(`/v1/tasks/${okId}`))
        assert.strictEqual(done.href, final.body["results"]["youtube_url"])
        assert.deepStrictEqual(done.chips, ["youtube:done", "facebook:done"])

        // A task that fails: its error shows.
        const bad = yield* Effect.promise(() =>
          write("/v1/tasks", { mediaFile: video, platforms: ["vimeo"], metadata: { vimeo: { title: "Fails" } } })
        )
        const badId = bad.body["task_id"] as string
        const shown = yield* Effect.promise(async () => {
          await page.waitForSelector(`[data-task-id="${badId}"][data-state=failed]`, { timeout: 20_000 })
          return page.textContent(`[data-task-id="${badId}"] .error`)
        })
        const failed = yield* Effect.promise(() => write(`/v1/tasks/${badId}`))
        assert.include(shown!, failed.body["error"])
        assert.include(shown!, failed.body["error_code"])

        // Cancel with a write key.
        const running = yield* Effect.promise(() =>
          write("/v1/tasks", {
            mediaFile: video,
            platforms: ["youtube"],
            metadata: { youtube: { title: "Cancel me" } }
          })
        )
        const runId = running.body["task_id"] as string
        yield* Effect.promise(async () => {
          await page.click(`[data-task-id="${runId}"] button[data-action=cancel]`)
          await page.waitForSelector(`[data-task-id="${runId}"][data-state=cancelled]`, { timeout: 10_000 })
        })
        fs.mkdirSync(outDir, { recursive: true })
        const shot = path.join(outDir, "status-page.png")
        yield* Effect.promise(() => page.screenshot({ path: shot, fullPage: true }))
        assert.isTrue(fs.statSync(shot).size > 10_000, "a screenshot was written")

        // The key lives in this tab's sessionStorage only.
        const storage = yield* Effect.promise(() =>
          // (Browser-side expressions are strings: the tests compile without the DOM library.)
          page.evaluate<{ session: string | null; local: number; cookie: string; url: string }>(
            `({ session: sessionStorage.getItem("medusa.apiKey"), local: localStorage.length, cookie: document.cookie, url: location.href })`
          )
        )
        assert.strictEqual(storage.session, writeKey)
        assert.strictEqual(storage.local, 0)
        assert.strictEqual(storage.cookie, "")
        assert.notInclude(storage.url, writeKey)

        // A read key: the same rows, no buttons.
        const reader = yield* Effect.promise(() => browser.newPage())
        assert.isFalse(
          yield* Effect.promise(() => page.isVisible("#key-form")),
          "the key form is hidden once a key is in"
        )
        const hidden = yield* Effect.promise(async () => {
          await reader.goto(`${base}/`)
          await reader.fill("#key", readKey)
          await reader.click("#key-form button[type=submit]")
          await reader.waitForSelector("#scope:has-text('read-only')")
          await reader.waitForSelector(`[data-task-id="${okId}"][data-state=completed]`)
          return reader.$$eval("button[data-action]", (els) => els.length)
        })
        assert.strictEqual(hidden, 0)
        // A wrong key is refused and forgotten.
        const refused = yield* Effect.promise(async () => {
          const p = await browser.newPage()
          await p.goto(`${base}/`)
          await p.fill("#key", "not-a-key")
          await p.click("#key-form button[type=submit]")
          await p.waitForSelector("#notice:has-text('401')")
          return p.evaluate<string | null>(`sessionStorage.getItem("medusa.apiKey")`)
        })
        assert.isNull(refused)
        assert.deepStrictEqual(errors, [])
      }).pipe(Effect.scoped),
    120_000
  )
})
