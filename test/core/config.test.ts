import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Config from "../../src/MedusaConfig.js"
import { captureLogs } from "./helpers.js"

const dir = mkdtempSync(path.join(tmpdir(), "medusa-config-"))
let counter = 0
const writeConfig = (text: string, mode = 0o600) => {
  const file = path.join(dir, `medusa-${++counter}.config.json`)
  writeFileSync(file, text)
  chmodSync(file, mode)
  return file
}

const CANARY = "CANARY-7f3a9c-SECRET"

const full = {
  youtube: { client_secrets_file: "client_secrets.json", credentials_file: "creds/youtube.json" },
  vimeo: { access_token: `${CANARY}-vimeo`, base_url: "http://127.0.0.1:9001" },
  facebook: { page_id: "1234567890", access_token: `${CANARY}-facebook`, graph_version: "v26.0" },
  twitter: {
    api_key: `${CANARY}-k`,
    api_secret: `${CANARY}-s`,
    access_token: `${CANARY}-t`,
    access_token_secret: `${CANARY}-ts`
  },
  linkedin: { access_token: `${CANARY}-li`, author_urn: "urn:li:person:abc123", api_version: "202511" },
  medusa: {
    max_concurrent_tasks: 8,
    per_platform_concurrency: { youtube: 2 },
    retention: "7 days",
    store: { sqlite: "tasks.db" }
  }
}

// No MEDUSA_* variables leak in from the machine running the tests.
const noEnv = Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))

const failWith = (file: string) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(Config.load(file))
    assert.strictEqual(error._tag, "ConfigError")
    assert.strictEqual(error.file, path.resolve(file))
    return error
  }).pipe(noEnv)

describe("Config", () => {
  it.effect("decodes every section, with Redacted secrets and camelCase fields", () =>
    Effect.gen(function*() {
      const file = writeConfig(JSON.stringify(full))
      const config = yield* Config.load(file).pipe(noEnv)
      assert.strictEqual(config.youtube!.clientSecretsFile, path.join(dir, "client_secrets.json"))
      assert.strictEqual(config.youtube!.credentialsFile, path.join(dir, "creds/youtube.json"))
      assert.strictEqual(Redacted.value(config.vimeo!.accessToken), `${CANARY}-vimeo`)
      assert.strictEqual(config.vimeo!.baseUrl, "http://127.0.0.1:9001")
      assert.strictEqual(config.facebook!.pageId, "1234567890")
      assert.strictEqual(config.facebook!.graphVersion, "v26.0")
      assert.strictEqual(Redacted.value(config.x!.accessTokenSecret), `${CANARY}-ts`)
      assert.strictEqual(config.linkedin!.apiVersion, "202511")
      assert.strictEqual(config.medusa.maxConcurrentTasks, 8)
      assert.deepStrictEqual(config.medusa.perPlatformConcurrency, { youtube: 2 })
      assert.deepStrictEqual(config.medusa.store, { sqlite: path.join(dir, "tasks.db") })
      assert.notInclude(JSON.stringify(config), CANARY)
      assert.notInclude(String(config.facebook!.accessToken), CANARY)
      assert.deepStrictEqual(Config.configuredPlatforms(config), ["youtube", "vimeo", "facebook", "x", "linkedin"])
    }))

  it.effect("accepts x as the section name and defaults the store to memory", () =>
    Effect.gen(function*() {
      const file = writeConfig(JSON.stringify({ x: full.twitter }))
      const config = yield* Config.load(file).pipe(noEnv)
      assert.strictEqual(Redacted.value(config.x!.apiKey), `${CANARY}-k`)
      assert.strictEqual(config.medusa.store, "memory")
    }))

  it.effect("a missing file names the file and says what to do", () =>
    Effect.gen(function*() {
      const error = yield* failWith(path.join(dir, "absent.json"))
      assert.include(error.message, "absent.json")
      assert.include(error.message, "file not found")
    }))

  it.effect("invalid JSON gives the line and column", () =>
    Effect.gen(function*() {
      const error = yield* failWith(writeConfig("{\n  \"facebook\": {\n    \"page_id\": \"1\",\n  }\n}"))
      assert.include(error.message, "invalid JSON at line 4, column 3")
      const truncated = yield* failWith(writeConfig("{\n  \"vimeo\": {"))
      assert.include(truncated.message, "line 2, column 13")
    }))

  it.effect("a missing required field names the JSON path", () =>
    Effect.gen(function*() {
      const error = yield* failWith(writeConfig(JSON.stringify({ facebook: { access_token: CANARY } })))
      assert.deepStrictEqual(error.issues.map((i) => i.location), ["facebook.page_id"])
      assert.include(error.message, "facebook.page_id: required field \"page_id\" is missing")
    }))

  it.effect("wrong types name the JSON path, and never echo a secret", () =>
    Effect.gen(function*() {
      const error = yield* failWith(writeConfig(JSON.stringify({
        facebook: { page_id: 1234, access_token: ["CANARY-in-array"] },
        linkedin: "nope",
        vimeo: { access_token: "", base_url: "ftp://x" },
        medusa: { max_concurrent_tasks: 0, retention: "soon", store: { redis: "x" } }
      })))
      const byPath = Object.fromEntries(error.issues.map((i) => [i.location, i.message]))
      assert.strictEqual(byPath["facebook.page_id"], "expected a string, got 1234")
      assert.strictEqual(byPath["facebook.access_token"], "expected a string")
      assert.include(byPath["linkedin"]!, "expected an object")
      assert.include(byPath["vimeo.base_url"]!, "http(s) URL")
      assert.include(byPath["vimeo.access_token"]!, "not shown")
      assert.include(byPath["medusa.max_concurrent_tasks"]!, "at least 1")
      assert.include(byPath["medusa.retention"]!, "\"7 days\"")
      assert.include(byPath["medusa.store"]!, "\"memory\"")
      assert.notInclude(error.message, "CANARY")
    }))

  it.effect("environment variables override the file", () =>
    Effect.gen(function*() {
      const file = writeConfig(JSON.stringify({ facebook: { page_id: "1", access_token: "from-file" } }))
      const config = yield* Config.load(file).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([
            ["MEDUSA_FACEBOOK_ACCESS_TOKEN", "from-env"],
            ["MEDUSA_TWITTER_API_KEY", "k"],
            ["MEDUSA_TWITTER_API_SECRET", "s"],
            ["MEDUSA_X_ACCESS_TOKEN", "t"],
            ["MEDUSA_TWITTER_ACCESS_TOKEN_SECRET", "ts"],
            // An incomplete section the file does not have is ignored.
            ["MEDUSA_LINKEDIN_ACCESS_TOKEN", "li"]
          ])
        ))
      )
      assert.strictEqual(Redacted.value(config.facebook!.accessToken), "from-env")
      assert.strictEqual(Redacted.value(config.x!.accessToken), "t")
      assert.strictEqual(config.linkedin, undefined)
    }))

  it.effect("a bad value from the environment names the variable", () =>
    Effect.gen(function*() {
      const file = writeConfig(JSON.stringify({ vimeo: { access_token: "x" } }))
      const error = yield* Effect.flip(Config.load(file)).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["MEDUSA_VIMEO_BASE_URL", "not a url"]])))
      )
      assert.include(error.message, "vimeo.base_url")
      assert.include(error.message, "MEDUSA_VIMEO_BASE_URL")
    }))

  it.effect("a file readable by others gets a warning through the logger", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const open = writeConfig(JSON.stringify(full), 0o644)
      yield* Config.load(open).pipe(noEnv, Effect.provide(captureLogs(lines)))
      assert.strictEqual(lines.length, 1)
      assert.include(lines[0], "WARN")
      assert.include(lines[0], "chmod 600")
      assert.notInclude(lines.join("\n"), CANARY)
      const closed = writeConfig(JSON.stringify(full), 0o600)
      yield* Config.load(closed).pipe(noEnv, Effect.provide(captureLogs(lines)))
      assert.strictEqual(lines.length, 1)
    }))

  it.effect("the root must be an object; twitter and x together are refused", () =>
    Effect.gen(function*() {
      const array = yield* failWith(writeConfig("[1, 2]"))
      assert.include(array.message, "(root)")
      const both = yield* failWith(writeConfig(JSON.stringify({ twitter: full.twitter, x: full.twitter })))
      assert.include(both.message, "keep only one")
      assert.notInclude(both.message, CANARY)
    }))
})
