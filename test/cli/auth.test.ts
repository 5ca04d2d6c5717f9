/**
 * `medusa auth check` and `medusa auth youtube` against the sandbox.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Env, eventually, makeEnv, run, sampleMp4, start } from "./helpers.js"

let env: Env
// Canary credentials: none of them may ever reach the output.
const canaries = {
  youtube: {
    clientSecret: "canary-youtube-client-secret-3e8a",
    refreshToken: "canary-youtube-refresh-token-0c6f",
    accessToken: "canary-youtube-access-token-b2d9"
  },
  vimeo: { accessToken: "canary-vimeo-token-5f1e" },
  facebook: { pageAccessToken: "canary-facebook-page-token-9a3c" },
  x: { accessTokenSecret: "canary-x-token-secret-77d0", apiSecret: "canary-x-api-secret-1b2b" },
  linkedin: { accessToken: "canary-linkedin-token-c4d4" },
  threads: { accessToken: "canary-threads-token-8e2f" },
  mastodon: { accessToken: "canary-mastodon-token-41ab" },
  bluesky: { appPassword: "canary-bluesky-app-pass-e5a1" }
}
const secrets = [
  canaries.youtube.clientSecret,
  canaries.youtube.refreshToken,
  canaries.youtube.accessToken,
  canaries.vimeo.accessToken,
  canaries.facebook.pageAccessToken,
  canaries.x.accessTokenSecret,
  canaries.x.apiSecret,
  canaries.linkedin.accessToken,
  canaries.threads.accessToken,
  canaries.mastodon.accessToken,
  canaries.bluesky.appPassword
]

beforeAll(async () => {
  env = await makeEnv({ credentials: canaries })
})

afterAll(async () => {
  await env.close()
})

describe("medusa auth", () => {
  it("check: every configured credential, valid, never printing a secret", async () => {
    const result = await run(["auth", "check", "--config", env.config], { cwd: env.dir })
    assert.strictEqual(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /^Facebook\s+ok\s+valid; page .* \(1000000000001\), PAGE token/m)
    assert.match(result.stdout, /^X\s+ok\s+valid; account @\S+/m)
    assert.match(result.stdout, /^LinkedIn\s+ok\s+valid; author urn:li:person:/m)
    assert.match(result.stdout, /^Threads\s+ok\s+valid; user @medusa\.sandbox \(17841400000000001\)$/m)
    assert.match(result.stdout, /^Mastodon\s+ok\s+valid; account @medusa on http:\/\/127\.0\.0\.1:\d+$/m)
    assert.match(
      result.stdout,
      /^Bluesky\s+ok\s+valid; account @sandbox\.bsky\.social \(did:plc:sandbox\w+\), app password on http:\/\/127\.0\.0\.1:\d+$/m
    )
    assert.match(
      result.stdout,
      /^YouTube\s+ok\s+valid; channel Sandbox Channel \(UCsandbox\w+\), access token expires \d{4}-\d\d-\d\dT/m
    )
    assert.match(result.stdout, /^\s+scopes: .*https:\/\/www\.googleapis\.com\/auth\/youtube\.upload/m)
    // The check's own channels.list is the only call on the ledger so far.
    assert.match(
      result.stdout,
      /^\s+quota left today: 100 of 100 uploads, 9999 of 10000 units \(local ledger; resets \S+Z, midnight Pacific\)$/m
    )
    assert.match(
      result.stdout,
      /^Vimeo\s+ok\s+valid; account Sandbox Vimeo User \(\/users\/\d+\), personal access token$/m
    )
    assert.match(result.stdout, /^\s+scopes: .*\bupload\b/m)
    assert.notMatch(result.stdout, /not checked online/)
    // The forced refresh went through the sandbox's token endpoint.
    assert.isAtLeast((env.sandbox.state().platforms.youtube as { tokens: { refreshes: number } }).tokens.refreshes, 1)
    for (const secret of secrets) assert.notInclude(result.stdout + result.stderr, secret)
  })

  it("check: a revoked YouTube refresh token says to log in again and exits 2", async () => {
    const config = JSON.parse(fs.readFileSync(env.config, "utf8"))
    const revoked = "canary-revoked-refresh-token-61aa"
    const credentialsFile = path.join(env.dir, "revoked-youtube-credentials.json")
    const stored = JSON.parse(fs.readFileSync(config.youtube.credentials_file, "utf8"))
    fs.writeFileSync(credentialsFile, JSON.stringify({ ...stored, refresh_token: revoked }), { mode: 0o600 })
    config.youtube.credentials_file = credentialsFile
    const configFile = path.join(env.dir, "revoked.config.json")
    fs.writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 })

    const result = await run(["auth", "check", "--config", configFile], { cwd: env.dir })
    assert.strictEqual(result.code, 2, result.stdout + result.stderr)
    assert.match(result.stdout, /^YouTube\s+FAILED\s+not valid$/m)
    assert.match(result.stdout, /expired or revoked; run `medusa auth youtube` to log in again/)
    assert.match(result.stdout, /^Vimeo\s+ok\s+/m)
    assert.include(result.stderr, "Some credentials are not usable: YouTube")
    for (const secret of [...secrets, revoked]) assert.notInclude(result.stdout + result.stderr, secret)
  })

  it("publish, status and tasks output and the task store never hold a credential", async () => {
    const store = path.join(env.dir, "canary.db")
    const published = await run(
      [
        "publish",
        sampleMp4,
        "--to",
        "vimeo,x,linkedin",
        "--title",
        "Canary",
        "--x-text",
        "c {vimeo_url}",
        "--linkedin-text",
        "c {vimeo_url}",
        "--config",
        env.config,
        "--store",
        store,
        "--json"
      ],
      { cwd: env.dir }
    )
    assert.strictEqual(published.code, 0, published.stdout + published.stderr)
    const id = (JSON.parse(published.stdout.trim().split("\n").at(-1)!) as { task_id: string }).task_id
    const status = await run(["status", id, "--store", store], { cwd: env.dir })
    const tasks = await run(["tasks", "--store", store, "--json"], { cwd: env.dir })
    // The database and its write-ahead log, byte for byte.
    const stored = [store, `${store}-wal`].filter((f) => fs.existsSync(f)).map((f) =>
      fs.readFileSync(f).toString("latin1")
    )
      .join("")
    assert.include(stored, "Canary", "the store was read")
    for (const secret of secrets) {
      for (const text of [published.stdout, published.stderr, status.stdout, status.stderr, tasks.stdout, stored]) {
        assert.notInclude(text, secret)
      }
    }
  })

  it("check: an expired Page token is reported and exits 2", async () => {
    env.sandbox.expireToken("facebook")
    const result = await run(["auth", "check", "--config", env.config, "--json"], { cwd: env.dir })
    assert.strictEqual(result.code, 2, result.stdout + result.stderr)
    const reports = JSON.parse(result.stdout.trim().split("\n")[0]!) as Array<{ platform: string; ok: boolean }>
    assert.deepInclude(reports.map((r) => [r.platform, r.ok]), ["facebook", false])
    assert.include(result.stderr, "Some credentials are not usable: Facebook")
    for (const secret of secrets) assert.notInclude(result.stdout + result.stderr, secret)
  })

  it("youtube: the installed-app login writes the credentials file", async () => {
    const config = JSON.parse(fs.readFileSync(env.config, "utf8"))
    const credentialsFile = path.join(env.dir, "new-youtube-credentials.json")
    config.youtube.credentials_file = credentialsFile
    const configFile = path.join(env.dir, "login.config.json")
    fs.writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 })

    const cli = start(["auth", "youtube", "--config", configFile, "--no-browser"], { cwd: env.dir })
    const url = await eventually(
      () => /^\s+(http\S+\/o\/oauth2\/v2\/auth\S+)$/m.exec(cli.stdout())?.[1],
      () => `the consent URL; printed:\n${cli.stdout()}${cli.stderr()}`
    )
    // Play the browser: the sandbox's consent page redirects to the CLI's loopback server with a code.
    const consent = await fetch(url, { redirect: "manual" })
    assert.strictEqual(consent.status, 302)
    const back = await fetch(consent.headers.get("location")!)
    assert.strictEqual(back.status, 200)
    const result = await cli.done
    assert.strictEqual(result.code, 0, result.stdout + result.stderr)
    assert.include(result.stdout, `Credentials written to ${credentialsFile}`)
    const written = JSON.parse(fs.readFileSync(credentialsFile, "utf8")) as { refresh_token?: string }
    assert.isString(written.refresh_token)
    assert.strictEqual(fs.statSync(credentialsFile).mode & 0o777, 0o600)
    assert.notInclude(result.stdout + result.stderr, written.refresh_token!)
  })
})
