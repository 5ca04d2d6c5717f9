import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync, statSync, unlinkSync } from "node:fs"
import * as path from "node:path"
import { YouTubeHost } from "../../src/Platform.js"
import * as YouTube from "../../src/platforms/youtube/YouTube.js"
import * as YouTubeLogin from "../../src/platforms/youtube/YouTubeLogin.js"
import { YouTubeMetadata } from "../../src/PublishRequest.js"
import { buildHost, context, mediaFile, recorder, sandbox, tempDir } from "./helpers.js"

const login = (options: YouTubeLogin.Options) => YouTubeLogin.login(options).pipe(Effect.provide(NodeFileSystem.layer))

describe("YouTube login", () => {
  it.scopedLive("PKCE + loopback redirect against the sandbox's authorization endpoint writes usable credentials", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sb = yield* sandbox()
      yield* Effect.promise(() => sb.writeConfig(dir))
      const files = {
        clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
        credentialsFile: path.join(dir, "youtube-credentials.json")
      }
      unlinkSync(files.credentialsFile)
      let consentUrl = ""
      const result = yield* login({
        ...files,
        baseUrl: sb.urls.youtube,
        // The test plays the browser: open the consent URL and follow the redirect to the loopback server.
        onUrl: (url) =>
          Effect.promise(async () => {
            consentUrl = url
            const response = await fetch(url, { redirect: "follow" })
            await response.text()
          })
      })
      const consent = new URL(consentUrl)
      assert.strictEqual(consent.origin + consent.pathname, `${sb.urls.youtube}/o/oauth2/v2/auth`)
      assert.strictEqual(consent.searchParams.get("code_challenge_method"), "S256")
      assert.match(consent.searchParams.get("redirect_uri") ?? "", /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(consent.searchParams.get("access_type"), "offline")
      assert.isString(consent.searchParams.get("state"))

      const creds = JSON.parse(readFileSync(files.credentialsFile, "utf8"))
      assert.match(creds.refresh_token, /^1\/\/sandbox-/)
      assert.isString(creds.access_token)
      assert.strictEqual(statSync(files.credentialsFile).mode & 0o777, 0o600)
      assert.strictEqual(result.credentialsFile, files.credentialsFile)

      // The new credentials work for an upload.
      const host = yield* buildHost(YouTubeHost, YouTube.layer({ ...files, baseUrl: sb.urls.youtube }))
      const file = mediaFile(dir, 5000, 40)
      const video = yield* host.upload(
        yield* context(file.media, new YouTubeMetadata({ title: "After login" }), yield* recorder)
      )
      assert.isString(video.videoId)
    }))

  it.scopedLive("a denied consent fails with a typed error and writes nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sb = yield* sandbox()
      yield* Effect.promise(() => sb.writeConfig(dir))
      const credentialsFile = path.join(dir, "new-credentials.json")
      const error = yield* Effect.flip(login({
        clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
        credentialsFile,
        baseUrl: sb.urls.youtube,
        onUrl: (url) =>
          Effect.promise(async () => {
            // Google redirects with error=access_denied when the user clicks Cancel.
            const redirect = new URL(new URL(url).searchParams.get("redirect_uri")!)
            redirect.searchParams.set("error", "access_denied")
            redirect.searchParams.set("state", new URL(url).searchParams.get("state")!)
            await (await fetch(redirect)).text()
          })
      }))
      assert.strictEqual(error.reason, "denied")
      assert.strictEqual(error.code, "access_denied")
      assert.throws(() => statSync(credentialsFile))
    }))

  it.scopedLive("a forged redirect (wrong state) is refused", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sb = yield* sandbox()
      yield* Effect.promise(() => sb.writeConfig(dir))
      const error = yield* Effect.flip(login({
        clientSecretsFile: path.join(dir, "youtube-client-secrets.json"),
        credentialsFile: path.join(dir, "c.json"),
        baseUrl: sb.urls.youtube,
        onUrl: (url) =>
          Effect.promise(async () => {
            const redirect = new URL(new URL(url).searchParams.get("redirect_uri")!)
            redirect.searchParams.set("code", "4/0forged")
            redirect.searchParams.set("state", "not-the-state")
            await (await fetch(redirect)).text()
          })
      }))
      assert.strictEqual(error.reason, "state_mismatch")
    }))

  it.scopedLive("a missing client secrets file names the file and how to get it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const error = yield* Effect.flip(login({
        clientSecretsFile: path.join(dir, "nope.json"),
        credentialsFile: path.join(dir, "c.json"),
        onUrl: () => Effect.void
      }))
      assert.strictEqual(error.reason, "invalid_client_secrets")
      assert.include(error.message, "nope.json")
      assert.include(error.message, "Google Cloud Console")
    }))
})
