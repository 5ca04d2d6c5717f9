/**
 * Two Facebook Pages from the command line: `--to facebook:brand,facebook:studio`,
 * `medusa auth check` per account, the summary and `medusa status` per
 * account, and an account the config does not name refused (exit 2) before
 * anything is sent.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import { type Env, makeEnv, run, sampleMp4 } from "./helpers.js"

const studio = { id: "222000000000002", token: "canary-studio-page-token-6d1f", name: "Studio Page" }

let env: Env

beforeAll(async () => {
  env = await makeEnv({ facebook: { pages: [studio] } })
  // The sandbox's config names one Page; make it two named accounts.
  const config = JSON.parse(fs.readFileSync(env.config, "utf8"))
  const brand = config.facebook
  config.facebook = {
    accounts: { brand, studio: { ...brand, page_id: studio.id, access_token: studio.token } }
  }
  fs.writeFileSync(env.config, JSON.stringify(config, null, 2))
  fs.chmodSync(env.config, 0o600)
})

afterAll(async () => {
  await env.close()
})

describe("accounts on the command line", () => {
  it("an account the config does not name exits 2 with the field path; nothing is sent", async () => {
    const result = await run(
      ["publish", sampleMp4, "--to", "vimeo,facebook:bran", "--title", "T", "--message", "m", ...env.flags],
      { cwd: env.dir }
    )
    assert.strictEqual(result.code, 2, result.stdout + result.stderr)
    assert.include(result.stderr, `platforms[1]: no account "bran" in facebook — configured: brand, studio`)
    assert.strictEqual(env.sandbox.raw.postsOf("facebook").length, 0)
  })

  it("auth check, publish and status show each account; each Page gets its post", async () => {
    const auth = await run(["auth", "check", "--config", env.config], { cwd: env.dir })
    assert.strictEqual(auth.code, 0, auth.stdout + auth.stderr)
    assert.match(auth.stdout, /^Facebook \(brand\)\s+ok\s+valid; page /m)
    assert.match(auth.stdout, /^Facebook \(studio\)\s+ok\s+valid; page Studio Page \(222000000000002\)/m)
    assert.notInclude(auth.stdout + auth.stderr, studio.token)

    const published = await run(
      [
        "publish",
        sampleMp4,
        "--to",
        "vimeo,facebook:brand,facebook:studio",
        "--title",
        "Launch",
        "--message",
        "New: {vimeo_url}",
        ...env.flags
      ],
      { cwd: env.dir }
    )
    assert.strictEqual(published.code, 0, published.stdout + published.stderr)
    const id = /medusa_task_[0-9a-f-]{36}/.exec(published.stdout)![0]
    const posts = env.sandbox.raw.postsOf("facebook")
    assert.strictEqual(posts.length, 2)
    const onStudio = posts.find((p) => p.id.startsWith(`${studio.id}_`))!
    assert.match(published.stdout, new RegExp(`^Facebook \\(studio\\)\\s+posted\\s+${onStudio.id}`, "m"))
    assert.match(published.stdout, /^Facebook \(brand\)\s+posted\s+\d+_\d+/m)

    const status = await run(["status", id, "--json", ...env.flags], { cwd: env.dir })
    assert.strictEqual(status.code, 0, status.stdout + status.stderr)
    const json = JSON.parse(status.stdout.trim().split("\n").pop()!)
    assert.deepStrictEqual(json.platforms, ["vimeo", "facebook:brand", "facebook:studio"])
    assert.strictEqual(json.results["facebook:studio_post_id"], onStudio.id)
    assert.isString(json.results["facebook:brand_post_id"])
  })
})
