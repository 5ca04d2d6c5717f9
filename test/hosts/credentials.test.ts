/**
 * `YouTube.checkCredentials` and `Vimeo.checkCredentials` against the sandbox
 * over real loopback HTTP.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import * as Vimeo from "../../src/platforms/vimeo/Vimeo.js"
import * as YouTube from "../../src/platforms/youtube/YouTube.js"
import { platform, sandbox, tempDir } from "./helpers.js"

const youtubeFiles = (dir: string, baseUrl: string): YouTube.Options => ({
  clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
  credentialsFile: path.join(dir, "youtube-credentials.json"),
  baseUrl
})

describe("YouTube.checkCredentials", () => {
  it.scoped("refreshes through the token endpoint and reports channel, scopes, expiry and the ledger's quota", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox({ youtube: { channelTitle: "Launch Channel" } })
      const dir = yield* tempDir
      yield* Effect.promise(() => sb.writeConfig(dir))
      const options = { ...youtubeFiles(dir, sb.urls.youtube), quota: { uploadsPerDay: 3 } }
      const before = Date.now()
      const report = yield* YouTube.checkCredentials(options)
      assert.isTrue(report.ok, report.problems.join("; "))
      assert.isTrue(report.valid)
      assert.strictEqual(report.channelTitle, "Launch Channel")
      assert.match(report.channelId ?? "", /^UCsandbox/)
      assert.isTrue(report.hasUploadScope)
      assert.include(report.scopes, YouTube.UPLOAD_SCOPE)
      // The sandbox issues tokens for 3599 s.
      assert.isAtLeast(report.expiresAt ?? 0, before + 3_500_000)
      assert.strictEqual(report.quota?.uploadsPerDay, 3)
      assert.strictEqual(report.quota?.uploadsLeft, 3)
      assert.strictEqual(report.quota?.unitsLeft, 9_999)
      // The next midnight Pacific time after the (test) clock's now, within a day.
      const now = yield* Clock.currentTimeMillis
      assert.isAbove(report.quota?.resetsAt ?? 0, now)
      assert.isAtMost((report.quota?.resetsAt ?? 0) - now, 25 * 3_600_000)
      const state = sb.state().platforms.youtube as { tokens: { refreshes: number }; quota: { unitsUsed: number } }
      assert.strictEqual(state.tokens.refreshes, 1)
      assert.strictEqual(state.quota.unitsUsed, 1)
      // The refreshed token is written back like an upload would.
      const stored = JSON.parse(readFileSync(options.credentialsFile, "utf8")) as { access_token: string }
      assert.notStrictEqual(stored.access_token, sb.credentials.youtube.accessToken)
    }).pipe(Effect.provide(platform)))

  it.scoped("a revoked refresh token is a report with AuthExpired telling to log in again", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox()
      const dir = yield* tempDir
      yield* Effect.promise(() => sb.writeConfig(dir))
      const options = youtubeFiles(dir, sb.urls.youtube)
      const stored = JSON.parse(readFileSync(options.credentialsFile, "utf8"))
      // The access token is still valid: only a forced refresh finds the revoked refresh token.
      writeFileSync(options.credentialsFile, JSON.stringify({ ...stored, refresh_token: "revoked-canary-7d1" }))
      const report = yield* YouTube.checkCredentials(options)
      assert.isFalse(report.ok)
      assert.isFalse(report.valid)
      assert.strictEqual(report.error?._tag, "AuthExpired")
      assert.strictEqual(report.error?.reason, "auth_expired")
      assert.include(report.problems[0], "run `medusa auth youtube`")
      assert.notInclude(JSON.stringify(report), "revoked-canary-7d1")
    }).pipe(Effect.provide(platform)))

  it.scoped("a token without youtube.upload and a used-up upload bucket are problems", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox({ youtube: { scopes: ["https://www.googleapis.com/auth/youtube.readonly"] } })
      const dir = yield* tempDir
      yield* Effect.promise(() => sb.writeConfig(dir))
      const options = { ...youtubeFiles(dir, sb.urls.youtube), quota: { uploadsPerDay: 1 } }
      const quotaFile = path.join(dir, "youtube-quota.json")
      const first = yield* YouTube.checkCredentials(options)
      // The token response's scopes win over the credentials file's (which names youtube.upload).
      assert.isTrue(first.valid)
      assert.isFalse(first.hasUploadScope)
      assert.deepStrictEqual(first.scopes, ["https://www.googleapis.com/auth/youtube.readonly"])
      assert.isTrue(first.problems.some((p) => p.includes("lacks the youtube.upload scope")))
      assert.strictEqual(first.quota?.uploadsLeft, 1)
      // Spend today's one upload in the ledger, under the key the upload path uses.
      const ledger = JSON.parse(readFileSync(quotaFile, "utf8"))
      ledger.entries[first.quota!.key].uploads = 1
      writeFileSync(quotaFile, JSON.stringify(ledger))
      const report = yield* YouTube.checkCredentials(options)
      assert.isFalse(report.ok)
      assert.strictEqual(report.quota?.uploadsLeft, 0)
      assert.isTrue(report.problems.some((p) => p.includes("Video Uploads") && p.includes("resets at")))
    }).pipe(Effect.provide(platform)))
})

describe("Vimeo.checkCredentials", () => {
  it.scoped("reports the account and the upload scope", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox({ vimeo: { accountName: "Launch Studio" } })
      const report = yield* Vimeo.checkCredentials({
        accessToken: Redacted.make(sb.credentials.vimeo.accessToken),
        baseUrl: sb.urls.vimeo
      })
      assert.isTrue(report.ok, report.problems.join("; "))
      assert.strictEqual(report.accountName, "Launch Studio")
      assert.match(report.accountUri ?? "", /^\/users\/\d+$/)
      assert.include(report.scopes, "upload")
    }).pipe(Effect.provide(platform)))

  it.scoped("a token without the upload scope is valid but not ok", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox({ vimeo: { scopes: ["public", "private"] } })
      const report = yield* Vimeo.checkCredentials({
        accessToken: Redacted.make(sb.credentials.vimeo.accessToken),
        baseUrl: sb.urls.vimeo
      })
      assert.isTrue(report.valid)
      assert.isFalse(report.ok)
      assert.isFalse(report.hasUploadScope)
      assert.deepStrictEqual(report.scopes, ["public", "private"])
      assert.include(report.problems[0], "lacks the upload scope (it has: public private)")
    }).pipe(Effect.provide(platform)))

  it.scoped("a refused token is a report, and the token never appears in it", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox()
      const canary = "canary-vimeo-bad-token-42f"
      const report = yield* Vimeo.checkCredentials({ accessToken: Redacted.make(canary), baseUrl: sb.urls.vimeo })
      assert.isFalse(report.valid)
      assert.isFalse(report.ok)
      assert.include(report.problems[0], "Vimeo refused the access token")
      assert.notInclude(JSON.stringify(report), canary)
    }).pipe(Effect.provide(platform)))

  it.scoped("a server error fails with the platform's typed error", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox()
      sb.inject({ platform: "vimeo", route: "oauth.verify", action: { kind: "status", status: 503 } })
      const error = yield* Effect.flip(
        Vimeo.checkCredentials({ accessToken: Redacted.make(sb.credentials.vimeo.accessToken), baseUrl: sb.urls.vimeo })
      )
      assert.strictEqual(error._tag, "PlatformUnavailable")
    }).pipe(Effect.provide(platform)))
})
