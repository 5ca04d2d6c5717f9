import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Config from "../../src/MedusaConfig.js"
import * as Server from "../../src/Server.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("server config section", () => {
  it.effect("decodes keys as Redacted, and Server.optionsFromConfig passes them on", () =>
    Effect.gen(function*() {
      const config = yield* Config.decode({
        server: { api_keys: [{ key: "secret-1", scopes: ["read"] }], media_roots: ["/srv/media"] }
      }).pipe(withEnv({}))
      const options = Server.optionsFromConfig(config)
      assert.isTrue(Redacted.isRedacted(options.apiKeys[0]!.key))
      assert.strictEqual(Redacted.value(options.apiKeys[0]!.key), "secret-1")
      assert.deepStrictEqual(options.apiKeys[0]!.scopes, ["read"])
      assert.deepStrictEqual(options.mediaRoots, ["/srv/media"])
      assert.notInclude(JSON.stringify(config), "secret-1")
    }))

  it.effect("unknown keys (inside api_keys too), bad scopes and bad origins are errors naming the path; keys are not echoed", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Config.decode({
          server: {
            api_keys: [{ key: "hunter2-secret", scopes: ["write"], scope: ["read"] }, { key: 42, scopes: ["read"] }],
            cors_origins: ["https://app.example.com/path"],
            webhooks: [{ url: "https://h.example.com", secret: "whsec_x", events: ["task.exploded"] }],
            max_bodybytes: 10
          }
        }).pipe(withEnv({}))
      )
      const text = error.issues.map((i) => `${i.location}: ${i.message}`).join("\n")
      assert.include(text, "server.api_keys[0].scope")
      assert.include(text, "did you mean \"scopes\"")
      assert.include(text, "server.api_keys[0].scopes")
      assert.include(text, "server.api_keys[1].key")
      assert.include(text, "server.cors_origins[0]")
      assert.include(text, "server.webhooks[0].events[0]")
      assert.include(text, "server.max_bodybytes")
      assert.notInclude(text, "hunter2-secret")
    }))

  it.effect("MEDUSA_SERVER_API_KEY replaces the file's keys with one read-write key", () =>
    Effect.gen(function*() {
      const config = yield* Config.decode({
        server: { api_keys: [{ key: "from-file", scopes: ["read"] }] }
      }).pipe(withEnv({ MEDUSA_SERVER_API_KEY: "from-env" }))
      const keys = Server.optionsFromConfig(config).apiKeys
      assert.strictEqual(keys.length, 1)
      assert.strictEqual(Redacted.value(keys[0]!.key), "from-env")
      assert.deepStrictEqual(keys[0]!.scopes, ["read", "write"])
      const none = yield* Config.decode({}).pipe(withEnv({ MEDUSA_SERVER_API_KEY: "only-env" }))
      assert.strictEqual(Redacted.value(Server.optionsFromConfig(none).apiKeys[0]!.key), "only-env")
    }))
})
