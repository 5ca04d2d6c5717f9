/**
 * Every option a platform layer accepts can be set in the config file.
 *
 * The type-level checks below stop `npm run typecheck` when an adapter gains
 * an option (`YouTube.Options`, `Vimeo.Options`, …) that the config's schema
 * for that platform has no key for; the runtime tests check that every key
 * decodes into the adapter's option and is documented.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type * as Resumable from "../../src/internal/http/resumable.js"
import * as Config from "../../src/MedusaConfig.js"
import type * as Bluesky from "../../src/platforms/bluesky/Bluesky.js"
import type * as Facebook from "../../src/platforms/facebook/Facebook.js"
import type * as LinkedIn from "../../src/platforms/linkedin/LinkedIn.js"
import type * as Mastodon from "../../src/platforms/mastodon/Mastodon.js"
import type * as Threads from "../../src/platforms/threads/Threads.js"
import type * as Vimeo from "../../src/platforms/vimeo/Vimeo.js"
import type * as X from "../../src/platforms/x/X.js"
import type * as Quota from "../../src/platforms/youtube/internal/quota.js"
import type * as YouTube from "../../src/platforms/youtube/YouTube.js"

// =============================================================================
// Type level: no adapter option without a config key
// =============================================================================

type Expect<T extends true> = T
/** `true`, or the names of the options the config section lacks (shown in tsc's error). */
type Covers<Options, Section> = [Exclude<keyof Options, keyof Section>] extends [never] ? true
  : { readonly optionsWithoutConfigKey: Exclude<keyof Options, keyof Section> }

export type Checks = [
  Expect<Covers<YouTube.Options, Config.YouTubeConfig>>,
  Expect<Covers<Vimeo.Options, Config.VimeoConfig>>,
  Expect<Covers<Facebook.Options, Config.FacebookConfig>>,
  Expect<Covers<X.Options, Config.XConfig>>,
  Expect<Covers<LinkedIn.Options, Config.LinkedInConfig>>,
  Expect<Covers<Threads.Options, Config.ThreadsConfig>>,
  Expect<Covers<Mastodon.Options, Config.MastodonConfig>>,
  Expect<Covers<Bluesky.Options, Config.BlueskyConfig>>,
  Expect<Covers<Resumable.RetryOptions, NonNullable<Config.YouTubeConfig["retry"]>>>,
  Expect<Covers<Resumable.RetryOptions, NonNullable<Config.VimeoConfig["retry"]>>>,
  Expect<Covers<Quota.Limits, NonNullable<Config.YouTubeConfig["quota"]>>>,
  Expect<Covers<NonNullable<YouTube.Options["processing"]>, NonNullable<Config.YouTubeConfig["processing"]>>>,
  Expect<Covers<NonNullable<Vimeo.Options["processing"]>, NonNullable<Config.VimeoConfig["processing"]>>>
]

// And every decoded section is what the adapter's `layer` takes.
export const assignable: [
  (c: Config.YouTubeConfig) => YouTube.Options,
  (c: Config.VimeoConfig) => Vimeo.Options,
  (c: Config.FacebookConfig) => Facebook.Options,
  (c: Config.XConfig) => X.Options,
  (c: Config.LinkedInConfig) => LinkedIn.Options,
  (c: Config.ThreadsConfig) => Threads.Options,
  (c: Config.MastodonConfig) => Mastodon.Options,
  (c: Config.BlueskyConfig) => Bluesky.Options
] = [(c) => c, (c) => c, (c) => c, (c) => c, (c) => c, (c) => c, (c) => c, (c) => c]

// =============================================================================
// Runtime
// =============================================================================

const noEnv = Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))

const everyKey = {
  youtube: {
    client_secrets_file: "secrets.json",
    credentials_file: "creds.json",
    base_url: "http://127.0.0.1:1",
    chunk_size: 8 * 1024 * 1024,
    wait_for_processing: true,
    quota_file: "quota.json",
    quota: { uploads_per_day: 50, units_per_day: 5000 },
    channel_id: "UC123",
    thumbnail_max_bytes: 1_000_000,
    retry: { base_delay: "2 seconds", max_delay: "30 seconds", max_retries: 3 },
    progress_interval_millis: 100,
    processing: { interval: "5 seconds", timeout: "20 minutes" },
    request_timeout: "20 seconds",
    idle_timeout: "45 seconds",
    max_wait: "2 minutes",
    stall_timeout: "3 minutes"
  },
  vimeo: {
    access_token: "t",
    base_url: "http://127.0.0.1:2",
    retry: { base_delay: "1 second", max_delay: "10 seconds", max_retries: 0 },
    progress_interval_millis: 0,
    wait_for_processing: false,
    processing: { interval: "10 seconds", timeout: "1 hour" },
    request_timeout: "15 seconds",
    idle_timeout: "30 seconds",
    max_wait: "1 minute",
    stall_timeout: "4 minutes"
  },
  facebook: {
    page_id: "1",
    access_token: "t",
    base_url: "http://127.0.0.1:3",
    graph_version: "v25.0",
    max_attempts: 2,
    max_rate_limit_wait: "3 minutes",
    request_timeout: "20 seconds",
    settle_time: "2 minutes",
    rate_limit_fallback_wait: "1 minute",
    usage_threshold: 80,
    video_upload: { retry: { max_retries: 2 }, stall_timeout: "3 minutes" }
  },
  twitter: {
    api_key: "k",
    api_secret: "s",
    access_token: "t",
    access_token_secret: "ts",
    base_url: "http://127.0.0.1:4",
    max_attempts: 5,
    max_rate_limit_wait: "2 minutes",
    request_timeout: "10 seconds",
    settle_time: "1 minute",
    processing_timeout: "5 minutes",
    max_poll_interval: "15 seconds",
    monthly_post_cap: 3000,
    cap_reset_day: 15,
    ledger_file: "x-ledger.json"
  },
  linkedin: {
    access_token: "t",
    author_urn: "urn:li:person:abc",
    base_url: "http://127.0.0.1:5",
    api_version: "202601",
    max_attempts: 3,
    max_rate_limit_wait: "4 minutes",
    request_timeout: "30 seconds",
    settle_time: "3 minutes",
    video_upload: { idle_timeout: "20 seconds" },
    daily_post_limit: 100,
    ledger_file: "li-ledger.json"
  },
  threads: {
    access_token: "t",
    user_id: "17841400000000001",
    base_url: "http://127.0.0.1:6",
    api_version: "v1.0",
    max_attempts: 2,
    max_rate_limit_wait: "5 minutes",
    request_timeout: "25 seconds",
    settle_time: "4 minutes"
  },
  mastodon: {
    access_token: "t",
    instance_url: "http://127.0.0.1:7",
    max_characters: 1000,
    max_attempts: 3,
    max_rate_limit_wait: "6 minutes",
    request_timeout: "35 seconds",
    settle_time: "90 seconds"
  },
  bluesky: {
    identifier: "medusa.bsky.social",
    app_password: "abcd-efgh-ijkl-mnop",
    service: "http://127.0.0.1:8",
    max_attempts: 6,
    max_rate_limit_wait: "5 minutes",
    request_timeout: "40 seconds",
    settle_time: "0 seconds"
  },
  medusa: {
    max_concurrent_tasks: 2,
    per_platform_concurrency: 1,
    retention: "3 days",
    max_wait: "90 seconds",
    stall_timeout: "2 minutes",
    runner: { role: "runner", host: "10.0.0.5", port: 34431 },
    store: { sqlite: "tasks.db" },
    time_zone: "Europe/Paris"
  },
  telemetry: {
    enabled: true,
    endpoint: "http://127.0.0.1:4318",
    service_name: "publisher",
    headers: { "x-api-key": "otlp-key" },
    export_interval: "15 seconds",
    log_format: "json"
  },
  server: {
    api_keys: [{ key: "k-0123456789", scopes: ["read", "write"] }],
    media_roots: ["media"],
    cors_origins: ["https://app.example.com"],
    webhooks: [{ url: "https://hooks.example.com/medusa", secret: "whsec_abc", events: ["task.completed"] }],
    uploads: { directory: "uploads", max_upload_bytes: 1000, max_total_bytes: 5000, expire_after: "1 hour" },
    max_body_bytes: 65536
  }
} as const

describe("config options", () => {
  it("the test config sets every key each section has", () => {
    for (const [section, keys] of Object.entries(Config.sectionKeys)) {
      assert.deepStrictEqual(
        Object.keys(everyKey[section as keyof typeof everyKey]).sort(),
        [...keys].sort(),
        `section ${section}`
      )
    }
  })

  it.effect("every key decodes into the adapter's option", () =>
    Effect.gen(function*() {
      const dir = "/tmp/medusa-config-options"
      const config = yield* Config.decode(everyKey, path.join(dir, "medusa.config.json")).pipe(noEnv)
      const yt = config.youtube!
      assert.strictEqual(yt.chunkSize, 8 * 1024 * 1024)
      assert.strictEqual(yt.waitForProcessing, true)
      assert.strictEqual(yt.quotaFile, path.join(dir, "quota.json"))
      assert.deepStrictEqual(yt.quota, { uploadsPerDay: 50, unitsPerDay: 5000 })
      assert.strictEqual(yt.channelId, "UC123")
      assert.strictEqual(yt.thumbnailMaxBytes, 1_000_000)
      assert.strictEqual(Duration.toMillis(Duration.decode(yt.retry!.baseDelay!)), 2000)
      assert.strictEqual(Duration.toMillis(Duration.decode(yt.retry!.maxDelay!)), 30_000)
      assert.strictEqual(yt.retry!.maxRetries, 3)
      assert.strictEqual(yt.progressIntervalMillis, 100)
      assert.strictEqual(Duration.toMinutes(Duration.decode(yt.processing!.timeout!)), 20)
      assert.strictEqual(config.vimeo!.retry!.maxRetries, 0)
      assert.strictEqual(Duration.toSeconds(Duration.decode(yt.idleTimeout!)), 45)
      assert.strictEqual(Duration.toMinutes(Duration.decode(config.vimeo!.stallTimeout!)), 4)
      assert.strictEqual(Duration.toHours(Duration.decode(config.vimeo!.processing!.timeout!)), 1)
      assert.strictEqual(config.facebook!.maxAttempts, 2)
      assert.strictEqual(config.facebook!.usageThreshold, 80)
      assert.strictEqual(Duration.toSeconds(Duration.decode(config.facebook!.rateLimitFallbackWait!)), 60)
      assert.strictEqual(Duration.toSeconds(Duration.decode(config.x!.maxPollInterval!)), 15)
      assert.strictEqual(Duration.toMinutes(Duration.decode(config.x!.processingTimeout!)), 5)
      assert.strictEqual(Duration.toSeconds(Duration.decode(config.linkedin!.requestTimeout!)), 30)
      assert.strictEqual(Duration.toMinutes(Duration.decode(config.facebook!.settleTime!)), 2)
      assert.strictEqual(Duration.toMinutes(Duration.decode(config.x!.settleTime!)), 1)
      assert.strictEqual(Duration.toMinutes(Duration.decode(config.linkedin!.settleTime!)), 3)
      assert.strictEqual(config.linkedin!.dailyPostLimit, 100)
      assert.strictEqual(config.linkedin!.ledgerFile, path.join(dir, "li-ledger.json"))
      assert.strictEqual(config.x!.monthlyPostCap, 3000)
      assert.strictEqual(config.x!.capResetDay, 15)
      assert.strictEqual(config.x!.ledgerFile, path.join(dir, "x-ledger.json"))
      assert.strictEqual(config.threads!.userId, "17841400000000001")
      assert.strictEqual(Duration.toMinutes(Duration.decode(config.threads!.settleTime!)), 4)
      assert.strictEqual(config.mastodon!.instanceUrl, "http://127.0.0.1:7")
      assert.strictEqual(config.mastodon!.maxCharacters, 1000)
      assert.strictEqual(Redacted.value(config.mastodon!.accessToken), "t")
      assert.strictEqual(config.bluesky!.identifier, "medusa.bsky.social")
      assert.strictEqual(Redacted.value(config.bluesky!.appPassword), "abcd-efgh-ijkl-mnop")
      assert.strictEqual(config.bluesky!.service, "http://127.0.0.1:8")
      assert.strictEqual(config.bluesky!.maxAttempts, 6)
      assert.strictEqual(Duration.toSeconds(Duration.decode(config.bluesky!.requestTimeout!)), 40)
      assert.strictEqual(Duration.toSeconds(config.medusa.maxWait), 90)
      assert.strictEqual(Duration.toMinutes(config.medusa.stallTimeout), 2)
      assert.deepStrictEqual(config.medusa.runner, { role: "runner", host: "10.0.0.5", port: 34431 })
      assert.strictEqual(config.medusa.timeZone, "Europe/Paris")
      assert.deepStrictEqual(Config.runnerOptions(config), { role: "runner", host: "10.0.0.5", port: 34431 })
      const engine = Config.engineOptions(config)
      assert.strictEqual(Duration.toSeconds(engine.maxWait!), 90)
      assert.strictEqual(Duration.toMinutes(engine.stallTimeout!), 2)
      assert.isFalse("runner" in engine || "store" in engine)
      const telemetry = config.telemetry!
      assert.strictEqual(telemetry.enabled, true)
      assert.strictEqual(telemetry.endpoint, "http://127.0.0.1:4318")
      assert.strictEqual(telemetry.serviceName, "publisher")
      assert.strictEqual(Redacted.value(telemetry.headers!["x-api-key"]!), "otlp-key")
      assert.strictEqual(Duration.toSeconds(telemetry.exportInterval!), 15)
      assert.strictEqual(telemetry.logFormat, "json")
      const server = config.server!
      assert.strictEqual(Redacted.value(server.apiKeys![0]!.key), "k-0123456789")
      assert.deepStrictEqual(server.apiKeys![0]!.scopes, ["read", "write"])
      assert.deepStrictEqual(server.mediaRoots, [path.join(dir, "media")])
      assert.deepStrictEqual(server.corsOrigins, ["https://app.example.com"])
      assert.strictEqual(Redacted.value(server.webhooks![0]!.secret), "whsec_abc")
      assert.strictEqual(server.maxBodyBytes, 65536)
    }))

  it.effect("max_wait and stall_timeout default to 5 and 10 minutes; runner is absent unless set", () =>
    Effect.gen(function*() {
      const config = yield* Config.decode({}).pipe(noEnv)
      assert.strictEqual(Duration.toMinutes(config.medusa.maxWait), 5)
      assert.strictEqual(Duration.toMinutes(config.medusa.stallTimeout), 10)
      assert.isUndefined(config.medusa.runner)
      assert.deepStrictEqual(Config.runnerOptions(config), {})
      assert.deepStrictEqual(Config.sectionKeys.medusa.includes("max_wait"), true)
      assert.isUndefined(config.server)
    }))

  it("the documentation names every key", () => {
    const root = fileURLToPath(new URL("../../", import.meta.url))
    const doc = fs.readFileSync(path.join(root, "docs/config.md"), "utf8")
    for (const [section, keys] of Object.entries(Config.sectionKeys)) {
      for (const key of keys) assert.include(doc, `\`${key}\``, `docs/config.md lacks ${section}.${key}`)
    }
  })
})
