/**
 * Bad input through the real `medusa` process: exit code 2 with the message on
 * stderr, no task in the store, no request to any platform. The full table is
 * test/core/bad-input.test.ts (in process); these prove the exit codes end to
 * end.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Env, makeEnv, run, sampleMp4 } from "./helpers.js"

let env: Env
const sent = () => env.sandbox.raw.log.filter((e) => e.platform !== "control").length

beforeAll(async () => {
  env = await makeEnv()
})
afterAll(async () => {
  await env?.close()
})

/** Runs `medusa`, then asserts exit 2, what stderr names, and that nothing was sent (or stored, once the store was opened). */
const refused = async (
  args: ReadonlyArray<string>,
  names: ReadonlyArray<string>,
  options: { readonly checkStore?: boolean } = {}
) => {
  const before = sent()
  const result = await run(args, { cwd: env.dir })
  assert.strictEqual(result.code, 2, `exit code of medusa ${args.join(" ")}\n${result.stderr}`)
  for (const name of names) assert.include(result.stderr, name)
  assert.notMatch(result.stderr, /\n\s+at /, "no stack trace")
  assert.strictEqual(sent(), before, "no request reached the sandbox")
  if (options.checkStore) {
    const tasks = await run(["tasks", "--json", "--store", env.store], { cwd: env.dir })
    assert.strictEqual(tasks.code, 0, tasks.stderr)
    assert.strictEqual(tasks.stdout.trim(), "", "no task in the store")
  }
}

const writeJson = (name: string, value: unknown, mode = 0o600): string => {
  const file = path.join(env.dir, name)
  fs.writeFileSync(file, JSON.stringify(value))
  fs.chmodSync(file, mode)
  return file
}

describe("bad input, real CLI processes", () => {
  it("an enumerated flag names the flag", { timeout: 60_000 }, async () => {
    await refused(["publish", sampleMp4, ...env.flags, "--to", "youtube", "--title", "T", "--privacy", "secret"], [
      "--privacy must be one of public, unlisted, private; got \"secret\""
    ])
  })

  it("a request file whose platforms is a string is refused with the path, not posted elsewhere", {
    timeout: 60_000
  }, async () => {
    const request = writeJson("request.json", {
      mediaFile: sampleMp4,
      platforms: "youtube",
      metadata: { youtube: { title: "T" }, facebook: { message: "m" } }
    })
    await refused(["publish", ...env.flags, "--request", request], [
      "request.json",
      "platforms: expected an array of platform ids",
      "got \"youtube\""
    ])
  })

  it("a request file's caption track that is not SRT or WebVTT is refused with its path (resolved against the file)", {
    timeout: 60_000
  }, async () => {
    fs.writeFileSync(path.join(env.dir, "good.vtt"), "WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n")
    fs.writeFileSync(path.join(env.dir, "notes.srt"), "just some notes\n")
    const request = writeJson("captions-request.json", {
      mediaFile: sampleMp4,
      platforms: ["youtube"],
      metadata: {
        youtube: {
          title: "Captions",
          captions: [{ file: "good.vtt", language: "en" }, { file: "notes.srt", language: "de", name: "Deutsch" }]
        }
      }
    })
    await refused(["publish", ...env.flags, "--request", request], [
      "metadata.youtube.captions[1].file",
      path.join(env.dir, "notes.srt"),
      "neither WebVTT"
    ])
    await refused(["publish", sampleMp4, ...env.flags, "--title", "T", "--youtube-short"], [
      "metadata.youtube.short",
      "320x240, landscape"
    ])
  })

  it(
    "a missing YouTube credentials file is refused at submit and by config validate",
    { timeout: 60_000 },
    async () => {
      const good = JSON.parse(fs.readFileSync(env.config, "utf8"))
      const missing = path.join(env.dir, "gone", "youtube-credentials.json")
      const config = writeJson("no-credentials.config.json", {
        ...good,
        youtube: { ...good.youtube, credentials_file: missing }
      })
      await refused(
        ["publish", sampleMp4, "--config", config, "--store", env.store, "--to", "youtube", "--title", "T"],
        [
          "platforms[0]: YouTube cannot be used",
          missing,
          "medusa auth youtube"
        ]
      )
      await refused(["config", "validate", "--config", config], ["youtube.credentials_file", missing])
    }
  )

  it("config validate refuses an unknown key with the nearest one, and warns about readable secrets", {
    timeout: 60_000
  }, async () => {
    const good = JSON.parse(fs.readFileSync(env.config, "utf8"))
    await refused(["config", "validate", "--config", writeJson("typo.config.json", { ...good, youtub: {} })], [
      "unknown key \"youtub\" at $ — did you mean \"youtube\"?"
    ])
    fs.chmodSync(good.youtube.credentials_file, 0o644)
    try {
      const result = await run(["config", "validate", "--config", env.config], { cwd: env.dir })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, `warning: ${good.youtube.credentials_file} is readable by other users`)
      assert.include(result.stdout, "chmod 600")
    } finally {
      fs.chmodSync(good.youtube.credentials_file, 0o600)
    }
  })
})
