import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { VimeoHost, YouTubeHost } from "../../src/Platform.js"
import * as Vimeo from "../../src/platforms/vimeo/Vimeo.js"
import * as YouTube from "../../src/platforms/youtube/YouTube.js"
import { VimeoMetadata, YouTubeMetadata } from "../../src/PublishRequest.js"
import { buildHost, context, fastRetry, mediaFile, platform, recorder, sandbox, tempDir } from "./helpers.js"

const canary = {
  youtube: {
    clientSecret: "CANARY-yt-client-secret-7f3a",
    refreshToken: "CANARY-yt-refresh-token-91bc",
    accessToken: "CANARY-yt-access-token-4d2e"
  },
  vimeo: { accessToken: "CANARY-vimeo-token-a8f1" }
}
const canaries = [...Object.values(canary.youtube), canary.vimeo.accessToken, "CANARY-revoked-refresh-55aa"]

/** Everything a user or a log could see of a failure. */
const surfaces = (exit: Exit.Exit<unknown, unknown>, logs: ReadonlyArray<string>) => {
  const out = [...logs]
  if (Exit.isFailure(exit)) {
    out.push(Cause.pretty(exit.cause))
    const error = Cause.squash(exit.cause)
    out.push(String(error), JSON.stringify(error))
    if (error instanceof Error) out.push(error.message, error.stack ?? "")
  }
  return out.join("\n")
}

const captureLogs = Effect.gen(function*() {
  const lines = yield* Ref.make<ReadonlyArray<string>>([])
  const logger = Logger.make(({ cause, message }) => {
    Effect.runSync(Ref.update(lines, (all) => [...all, JSON.stringify(message), Cause.pretty(cause)]))
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
})

describe("secrets never leak", () => {
  it.scopedLive("YouTube: canary tokens appear in no error, log or session report", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sb = yield* sandbox({ credentials: canary })
      yield* Effect.promise(() => sb.writeConfig(dir))
      const files = {
        clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
        credentialsFile: path.join(dir, "youtube-credentials.json")
      }
      const logs = yield* captureLogs
      const ctx = yield* Layer.build(
        YouTube.layer({ ...files, baseUrl: sb.urls.youtube, retry: fastRetry }).pipe(
          Layer.provide(platform),
          Layer.provide(logs.layer)
        )
      )
      const host = Context.get(ctx, YouTubeHost)
      const file = mediaFile(dir, 100_000, 1)
      const meta = new YouTubeMetadata({ title: "Canary" })
      const rec = yield* recorder
      const run = (m = meta) =>
        Effect.gen(function*() {
          return yield* Effect.exit(host.upload(yield* context(file.media, m, rec)))
        }).pipe(Effect.provide(logs.layer), Effect.withLogSpan("test"))

      // 1. A successful upload after a 401 (refresh) and a 503.
      sb.expireToken("youtube")
      sb.inject({ platform: "youtube", route: "upload", action: { kind: "status", status: 503 } })
      const ok = yield* run()
      assert.isTrue(Exit.isSuccess(ok))
      // 2. A permanent 401 on the upload (the refresh cannot help).
      sb.inject({ platform: "youtube", route: "upload.initiate", times: 2, action: { kind: "status", status: 401 } })
      const denied = yield* run()
      // 3. A transport failure that never ends.
      sb.inject({ platform: "youtube", route: "upload", times: Infinity, action: { kind: "drop", afterBytes: 0 } })
      const dropped = yield* run()
      sb.clearFaults()
      // 4. A revoked refresh token.
      const creds = JSON.parse(readFileSync(files.credentialsFile, "utf8"))
      writeFileSync(
        files.credentialsFile,
        JSON.stringify({ ...creds, refresh_token: "CANARY-revoked-refresh-55aa", expiry_date: 1 })
      )
      const revoked = yield* Effect.gen(function*() {
        // A fresh host reads the edited credentials file.
        const fresh = yield* buildHost(
          YouTubeHost,
          YouTube.layer({ ...files, baseUrl: sb.urls.youtube, retry: fastRetry })
        )
        return yield* Effect.exit(fresh.upload(yield* context(file.media, meta, rec)))
      })

      for (const [name, exit] of [["denied", denied], ["dropped", dropped], ["revoked", revoked]] as const) {
        assert.isTrue(Exit.isFailure(exit), name)
      }
      const revokedError = Exit.isFailure(revoked)
        ? Cause.squash(revoked.cause) as { _tag: string; reason: string; message: string }
        : undefined
      assert.strictEqual(revokedError?._tag, "AuthExpired")
      assert.strictEqual(revokedError?.reason, "auth_expired")
      assert.include(revokedError?.message, "medusa auth youtube")
      const deniedError = Exit.isFailure(denied) ? Cause.squash(denied.cause) as { _tag: string } : undefined
      assert.strictEqual(deniedError?._tag, "AuthExpired")

      const text = surfaces(denied, []) + surfaces(dropped, []) + surfaces(revoked, yield* Ref.get(logs.lines)) +
        JSON.stringify(yield* Ref.get(rec.sessions)) + JSON.stringify(yield* Ref.get(rec.progress)) +
        JSON.stringify(sb.state().requestLog)
      assert.include(text, "medusa auth youtube", "the surfaces were collected")
      for (const c of canaries) assert.notInclude(text, c)
    }))

  it.scopedLive("Vimeo: the canary token appears in no error, log or session report", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sb = yield* sandbox({ credentials: canary })
      const logs = yield* captureLogs
      const make = (token: string) =>
        buildHost(
          VimeoHost,
          Vimeo.layer({ accessToken: Redacted.make(token), baseUrl: sb.urls.vimeo, retry: fastRetry })
        )
      const host = yield* make(canary.vimeo.accessToken)
      const file = mediaFile(dir, 50_000, 2)
      const rec = yield* recorder
      const meta = new VimeoMetadata({ title: "Canary" })
      const ok = yield* Effect.exit(host.upload(yield* context(file.media, meta, rec)))
      assert.isTrue(Exit.isSuccess(ok))
      sb.inject({ platform: "vimeo", route: "tus.patch", times: Infinity, action: { kind: "drop", afterBytes: 0 } })
      const dropped = yield* Effect.exit(host.upload(yield* context(file.media, meta, rec))).pipe(
        Effect.provide(logs.layer)
      )
      sb.clearFaults()
      sb.expireToken("vimeo")
      const denied = yield* Effect.exit(host.upload(yield* context(file.media, meta, rec)))
      const deniedError = Exit.isFailure(denied)
        ? Cause.squash(denied.cause) as { _tag: string; reason: string }
        : undefined
      assert.strictEqual(deniedError?._tag, "AuthExpired")
      const text = surfaces(dropped, yield* Ref.get(logs.lines)) + surfaces(denied, []) +
        JSON.stringify(yield* Ref.get(rec.sessions)) + JSON.stringify(yield* Ref.get(rec.progress))
      for (const c of canaries) assert.notInclude(text, c)
    }))
})
