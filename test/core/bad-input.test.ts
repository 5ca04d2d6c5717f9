/**
 * Every bad input is refused before a task exists: a table of config files,
 * request files, facade requests, flags, media files, templates and YouTube
 * credential files. Each case asserts the exit code (CLI) or the typed error
 * (facade, config), the field, flag or file the message names, and that no
 * request reached any platform of the sandbox.
 *
 * The CLI cases run the command line in this process (`Cli.run` and the
 * entry point's exit-code mapping); test/cli/bad-input.test.ts proves a few
 * of them with real processes.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "../../src/cli/Cli.js"
import { exitCodeOf } from "../../src/cli/internal/main.js"
import * as Config from "../../src/MedusaConfig.js"
import { createMedusa, type MedusaClient } from "../../src/promise.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"

const root = path.resolve(import.meta.dirname, "../..")
const sample = path.join(root, "examples/media/sample.mp4")
const CANARY = "canary-bad-input-3c9d"

let sandbox: Sandbox.Sandbox
let dir: string
/** The sandbox's config (all six platforms), as written. */
let good: Record<string, any>
let goodFile: string
let client: MedusaClient

const write = (name: string, content: string | object, mode = 0o600): string => {
  const file = path.join(dir, name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2))
  fs.chmodSync(file, mode)
  return file
}

/** The sandbox config with its YouTube section's files replaced. */
const youtubeConfig = (name: string, files: { readonly secrets?: string; readonly credentials?: string }): string =>
  write(`${name}.config.json`, {
    ...good,
    youtube: {
      ...good.youtube,
      ...(files.secrets !== undefined ? { client_secrets_file: files.secrets } : {}),
      ...(files.credentials !== undefined ? { credentials_file: files.credentials } : {})
    }
  })

/** Requests the sandbox received (its log, control requests aside). */
const sent = (): number => sandbox.raw.log.filter((e) => e.platform !== "control").length

beforeAll(async () => {
  sandbox = await Sandbox.start({
    credentials: {
      vimeo: { accessToken: `${CANARY}-vimeo` },
      facebook: { pageAccessToken: `${CANARY}-facebook` },
      linkedin: { accessToken: `${CANARY}-linkedin` }
    }
  })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-bad-input-"))
  goodFile = await sandbox.writeConfig(path.join(dir, "sandbox"))
  good = JSON.parse(fs.readFileSync(goodFile, "utf8"))
  client = await createMedusa({ configFile: goodFile })
})

afterAll(async () => {
  await client?.close()
  await sandbox?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

// =============================================================================
// The table
// =============================================================================

interface Case {
  readonly name: string
  /** Runs the input; answers the exit code (CLI) or error tag (library) and the message. */
  readonly run: () => Promise<{ readonly outcome: number | string; readonly message: string }>
  /** 2 for the CLI; the typed error's tag for the library. */
  readonly expect: number | string
  /** What the message must name (a field, flag or file), and say. */
  readonly names: ReadonlyArray<string>
}

const noEnv = Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))

const configText = (text: string) => async () => {
  const error = await Effect.runPromise(Effect.flip(Config.parse(text, "/etc/medusa.config.json")).pipe(noEnv))
  return { outcome: error._tag, message: error.message }
}
const configJson = (value: unknown) => configText(JSON.stringify(value))

const facade = (request: unknown, on?: MedusaClient) => async () => {
  try {
    await (on ?? client).publishAsync(request as any)
    return { outcome: "accepted", message: "" }
  } catch (error) {
    return { outcome: String((error as { _tag?: unknown })._tag), message: (error as Error).message }
  }
}

/** `medusa <args>` in this process, as the entry point ends it. */
const cli = (...args: ReadonlyArray<string>) => async () => {
  let text = ""
  const exit = await Effect.runPromiseExit(
    Cli.run(["node", "medusa", ...args]).pipe(
      Effect.provide(NodeContext.layer),
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none))
    )
  )
  const outcome = exitCodeOf(exit, (t) => (text += t))
  return { outcome, message: text }
}

const request = (value: object): string => write(`request-${Math.random().toString(36).slice(2)}.json`, value)

const base = {
  mediaFile: sample,
  platforms: ["youtube"],
  metadata: { youtube: { title: "T" } }
}
const publishFlags = () => ["--config", goodFile, "--store", "memory"]

const cases = (): ReadonlyArray<Case> => {
  const text = write("notes.mp4", "this is not a video, only text")
  const empty = write("empty.mp4", "")
  const notJson = write("broken.json", "{ \"refresh_token\": ")
  const noToken = write("no-token.json", { access_token: `${CANARY}-access` })
  const noInstalled = write("no-installed.json", { other: {} })
  const noClientId = write("no-client-id.json", { installed: { client_secret: `${CANARY}-secret` } })
  const missing = path.join(dir, "does-not-exist.json")
  const c = (name: string, run: Case["run"], expect: Case["expect"], names: ReadonlyArray<string>): Case => ({
    name,
    run,
    expect,
    names
  })
  const C = "ConfigError"
  const R = "InvalidRequest"
  return [
    // --- config files (MedusaConfig.parse) ---
    c("config: invalid JSON", configText("{ \"vimeo\": { \"access_token\": \"x\", } }"), C, ["line 1"]),
    c("config: root is an array", configJson([1]), C, ["JSON object"]),
    c("config: misspelt section", configJson({ youtub: {} }), C, ["\"youtub\"", "did you mean \"youtube\""]),
    c("config: unknown section", configJson({ tiktok: { token: "x" } }), C, ["\"tiktok\"", "known keys there"]),
    c("config: misspelt engine key", configJson({ medusa: { max_concurent_tasks: 2 } }), C, [
      "$.medusa",
      "\"max_concurrent_tasks\""
    ]),
    c(
      "config: camelCase adapter key",
      configJson({ facebook: { page_id: "1", access_token: "t", maxAttempts: 2 } }),
      C,
      [
        "$.facebook",
        "\"max_attempts\""
      ]
    ),
    c(
      "config: unknown nested key",
      configJson({ youtube: { client_secrets_file: "a", credentials_file: "b", retry: { max_retry: 2 } } }),
      C,
      ["$.youtube.retry", "\"max_retries\""]
    ),
    c("config: unknown store key", configJson({ medusa: { store: { postgress: "postgres://x" } } }), C, [
      "\"postgres\"",
      "medusa.store"
    ]),
    c("config: a token in place of a key", configJson({ vimeo: { [`${CANARY}-${"t".repeat(40)}`]: "" } }), C, [
      "$.vimeo",
      "not shown"
    ]),
    c("config: a secret of the wrong type", configJson({ vimeo: { access_token: [`${CANARY}-token`] } }), C, [
      "vimeo.access_token",
      "expected a string"
    ]),
    c("config: a PostgreSQL URL in a bad store", configJson({ medusa: { store: { postgres: 5, sqlite: 1 } } }), C, [
      "medusa.store"
    ]),
    c(
      "facade: createMedusa with a misspelt config key",
      async () => {
        try {
          const other = await createMedusa({ config: { ...good, linkedn: { access_token: `${CANARY}-li` } } })
          await other.close()
          return { outcome: "accepted", message: "" }
        } catch (error) {
          return { outcome: String((error as { _tag?: unknown })._tag), message: (error as Error).message }
        }
      },
      C,
      ["\"linkedn\"", "did you mean \"linkedin\""]
    ),
    c("config: missing required key", configJson({ facebook: { access_token: "t" } }), C, ["facebook.page_id"]),
    c("config: wrong type", configJson({ facebook: { page_id: 12, access_token: "t" } }), C, ["facebook.page_id"]),
    c("config: section not an object", configJson({ linkedin: "token" }), C, ["linkedin", "object"]),
    c("config: bad URL", configJson({ vimeo: { access_token: "t", base_url: "ftp://x" } }), C, ["vimeo.base_url"]),
    c("config: bad duration", configJson({ medusa: { max_wait: "soon" } }), C, ["medusa.max_wait", "\"5 minutes\""]),
    c("config: bad stall timeout", configJson({ medusa: { stall_timeout: 10 } }), C, ["medusa.stall_timeout"]),
    c("config: bad runner role", configJson({ medusa: { runner: { role: "boss" } } }), C, ["medusa.runner.role"]),
    c("config: bad runner port", configJson({ medusa: { runner: { port: 70000 } } }), C, ["medusa.runner.port"]),
    c(
      "config: chunk size not a multiple of 256 KiB",
      configJson({ youtube: { client_secrets_file: "a", credentials_file: "b", chunk_size: 1000 } }),
      C,
      ["youtube.chunk_size", "262144"]
    ),
    c(
      "config: bad graph version",
      configJson({ facebook: { page_id: "1", access_token: "t", graph_version: "26" } }),
      C,
      [
        "facebook.graph_version"
      ]
    ),
    c("config: zero concurrency", configJson({ medusa: { max_concurrent_tasks: 0 } }), C, [
      "medusa.max_concurrent_tasks"
    ]),
    c("config: twitter and x both", configJson({ twitter: {}, x: {} }), C, ["keep only one"]),

    // --- facade requests (publishAsync) ---
    c("facade: platforms is a string", facade({ ...base, platforms: "youtube" }), R, [
      "platforms: expected an array of platform ids",
      "got \"youtube\""
    ]),
    c("facade: unknown platform", facade({ ...base, platforms: ["tiktok"] }), R, ["platforms[0]", "\"tiktok\""]),
    c("facade: empty platforms", facade({ ...base, platforms: [] }), R, ["platforms", "is empty"]),
    c("facade: mediaFile a number", facade({ ...base, mediaFile: 3 }), R, ["mediaFile: expected a string, got 3"]),
    c("facade: missing mediaFile", facade({ platforms: ["youtube"], metadata: base.metadata }), R, [
      "mediaFile: is required"
    ]),
    c("facade: media file does not exist", facade({ ...base, mediaFile: missing }), R, ["mediaFile"]),
    c("facade: media file is text", facade({ ...base, mediaFile: text }), R, ["mediaFile", "not a video"]),
    c("facade: media file is empty", facade({ ...base, mediaFile: empty }), R, ["mediaFile"]),
    c("facade: media file is a directory", facade({ ...base, mediaFile: dir }), R, ["mediaFile"]),
    c("facade: metadata not an object", facade({ ...base, metadata: "x" }), R, ["metadata: expected an object"]),
    c("facade: misspelt field", facade({ ...base, mediafile: sample }), R, ["mediafile", "\"mediaFile\""]),
    c("facade: misspelt metadata section", facade({ ...base, metadata: { youtub: { title: "T" } } }), R, [
      "metadata.youtub",
      "\"youtube\""
    ]),
    c("facade: title of the wrong type", facade({ ...base, metadata: { youtube: { title: 42 } } }), R, [
      "metadata.youtube.title: expected a string, got 42"
    ]),
    c("facade: tags a string", facade({ ...base, metadata: { youtube: { title: "T", tags: "a,b" } } }), R, [
      "metadata.youtube.tags: expected an array of strings"
    ]),
    c("facade: bad privacy", facade({ ...base, metadata: { youtube: { title: "T", privacy: "secret" } } }), R, [
      "metadata.youtube.privacy",
      "\"secret\""
    ]),
    c("facade: bad policy", facade({ ...base, policy: "yolo" }), R, ["policy", "\"yolo\""]),
    c("facade: runAt not a date", facade({ ...base, runAt: "tomorrow" }), R, ["runAt", "ISO 8601"]),
    c("facade: runAt in the past", facade({ ...base, runAt: "2001-01-01T00:00:00Z" }), R, [
      "runAt",
      "in the past"
    ]),
    c("config: unknown time zone", configJson({ medusa: { time_zone: "Mars/Olympus" } }), C, [
      "medusa.time_zone",
      "IANA",
      "\"Mars/Olympus\""
    ]),
    c(
      "cli: --at not a time",
      cli("publish", sample, ...publishFlags(), "--to", "youtube", "--title", "T", "--at", "someday"),
      2,
      ["--at", "\"someday\"", "tomorrow 09:00"]
    ),
    c(
      "cli: --at in the past",
      cli("publish", sample, ...publishFlags(), "--to", "youtube", "--title", "T", "--at", "2001-01-01T09:00:00Z"),
      2,
      ["runAt", "in the past"]
    ),
    c(
      "facade: a batch with a bad row",
      async () => {
        try {
          await client.publishBatch({
            defaults: base as any,
            videos: [{}, { metadata: { youtube: { title: 7 as any } } }]
          })
          return { outcome: "accepted", message: "" }
        } catch (error) {
          return { outcome: String((error as { _tag?: unknown })._tag), message: (error as Error).message }
        }
      },
      "InvalidBatch",
      ["row 2", "metadata.youtube.title", "nothing was submitted"]
    ),
    c(
      "cli: a manifest with a bad row",
      cli(
        "batch",
        write("bad-batch.json", { defaults: base, videos: [{}, { mediaFile: missing }, { policy: "yolo" }] }),
        ...publishFlags()
      ),
      2,
      ["row 2: mediaFile", "row 3: policy", "2 of 3 rows"]
    ),
    c(
      "cli: a manifest that is not a manifest",
      cli("batch", write("not-batch.yaml", "videos: 3"), ...publishFlags()),
      2,
      ["not-batch.yaml", "\"videos\" must be a list"]
    ),
    c(
      "cli: retract a task that does not exist",
      cli("retract", "medusa_task_00000000-0000-4000-8000-000000000000", ...publishFlags()),
      2,
      ["medusa_task_00000000-0000-4000-8000-000000000000", "medusa tasks"]
    ),
    c(
      "cli: retract with an unknown platform",
      cli("retract", "medusa_task_00000000-0000-4000-8000-000000000000", "--platforms", "x,myspace", ...publishFlags()),
      2,
      ["--platforms", "\"myspace\""]
    ),
    c(
      "cli: reschedule to an unreadable time",
      cli("reschedule", "medusa_task_00000000-0000-4000-8000-000000000000", "soonish", ...publishFlags()),
      2,
      ["<time>", "\"soonish\""]
    ),
    c(
      "facade: metadata for an unselected platform",
      facade({ ...base, metadata: { ...base.metadata, facebook: { message: "m" } } }),
      R,
      ["metadata.facebook", "not selected"]
    ),
    c("facade: selected platform without metadata", facade({ ...base, platforms: ["youtube", "x"] }), R, [
      "metadata.x",
      "is required"
    ]),
    c(
      "facade: template with an unknown variable",
      facade({
        ...base,
        platforms: ["youtube", "facebook"],
        metadata: { ...base.metadata, facebook: { message: "{youtub_url}" } }
      }),
      R,
      ["metadata.facebook.message", "youtub_url"]
    ),
    c(
      "facade: template needs an unselected host",
      facade({
        ...base,
        platforms: ["youtube", "linkedin"],
        metadata: { ...base.metadata, linkedin: { text: "{vimeo_url}" } }
      }),
      R,
      ["metadata.linkedin.text", "vimeo"]
    ),
    c(
      "facade: X text too long",
      facade({ ...base, platforms: ["youtube", "x"], metadata: { ...base.metadata, x: { text: "x".repeat(400) } } }),
      R,
      ["metadata.x.text"]
    ),
    c(
      "facade: Bluesky text over 300 graphemes",
      facade({
        ...base,
        platforms: ["youtube", "bluesky"],
        metadata: { ...base.metadata, bluesky: { text: `${"🎬".repeat(290)} {youtube_url}` } }
      }),
      R,
      ["metadata.bluesky.text", "graphemes", "allows 300"]
    ),
    c(
      "cli: --bluesky-text over 300 graphemes",
      cli(
        "publish",
        sample,
        "--to",
        "youtube,bluesky",
        "--title",
        "T",
        "--bluesky-text",
        "é".repeat(301),
        ...publishFlags()
      ),
      2,
      ["metadata.bluesky.text", "301 graphemes"]
    ),
    c("facade: YouTube title too long", facade({ ...base, metadata: { youtube: { title: "t".repeat(101) } } }), R, [
      "metadata.youtube.title"
    ]),
    c(
      "facade: thumbnail does not exist",
      facade({ ...base, metadata: { youtube: { title: "T", thumbnail: missing } } }),
      R,
      ["metadata.youtube.thumbnail"]
    ),
    c(
      "facade: attachVideo not a boolean",
      facade({
        ...base,
        platforms: ["youtube", "x"],
        metadata: { ...base.metadata, x: { text: "t", attachVideo: "yes" } }
      }),
      R,
      ["metadata.x.attachVideo: expected true or false"]
    ),
    c(
      "facade: twitter and x metadata both",
      facade({
        ...base,
        platforms: ["youtube", "x"],
        metadata: { ...base.metadata, x: { text: "a" }, twitter: { text: "b" } }
      }),
      R,
      ["metadata.twitter", "keep only one"]
    ),

    // --- the command line (in process) ---
    c("cli: bad --privacy", cli("publish", sample, "--to", "youtube", "--title", "T", "--privacy", "secret"), 2, [
      "--privacy must be one of public, unlisted, private; got \"secret\""
    ]),
    c("cli: bad --vimeo-privacy", cli("publish", sample, "--to", "vimeo", "--vimeo-privacy=everyone"), 2, [
      "--vimeo-privacy must be one of"
    ]),
    c("cli: bad --policy", cli("publish", sample, "--to", "youtube", "--title", "T", "--policy", "fast"), 2, [
      "--policy must be one of fail-fast, best-effort"
    ]),
    c("cli: bad --status", cli("tasks", "--status", "done", "--store", "memory"), 2, ["--status must be one of"]),
    c("cli: bad --limit", cli("tasks", "--limit", "0", "--store", "memory"), 2, ["--limit must be a whole number"]),
    c("cli: video file missing", cli("publish", missing, "--to", "youtube", "--title", "T"), 2, [
      "<file>",
      "does-not-exist.json"
    ]),
    c("cli: --request file missing", cli("publish", "--request", missing), 2, ["--request", "does-not-exist.json"]),
    c("cli: --request invalid JSON", cli("publish", "--request", write("bad-request.json", "{\n \"a\": }")), 2, [
      "--request",
      "line 2"
    ]),
    c(
      "cli: --request platforms a string",
      cli("publish", ...publishFlags(), "--request", request({ ...base, platforms: "youtube" })),
      2,
      ["--request", "platforms: expected an array of platform ids", "got \"youtube\""]
    ),
    c(
      "cli: --request without platforms",
      cli("publish", ...publishFlags(), "--request", request({ mediaFile: sample, metadata: base.metadata })),
      2,
      ["platforms: is required", "--to"]
    ),
    c(
      "cli: --request unknown field",
      cli("publish", ...publishFlags(), "--request", request({ ...base, platfroms: ["youtube"] })),
      2,
      ["platfroms", "\"platforms\""]
    ),
    c(
      "cli: --request metadata section a string",
      cli("publish", ...publishFlags(), "--request", request({ ...base, metadata: { youtube: "T" } }), "--title", "X"),
      2,
      ["metadata.youtube: expected an object"]
    ),
    c(
      "cli: --request media file is text",
      cli("publish", ...publishFlags(), "--request", request({ ...base, mediaFile: text })),
      2,
      ["mediaFile", "not a video"]
    ),
    c("cli: --to unknown platform", cli("publish", sample, "--to", "youtube,tiktok", "--title", "T"), 2, [
      "--to",
      "\"tiktok\""
    ]),
    c("cli: no platform", cli("publish", sample), 2, ["No platform chosen", "--to"]),
    c("cli: no video", cli("publish", "--to", "youtube", "--title", "T"), 2, ["No video given"]),
    c(
      "cli: template with an unknown variable",
      cli("publish", sample, ...publishFlags(), "--to", "youtube,facebook", "--title", "T", "--message", "{yt_url}"),
      2,
      ["metadata.facebook.message", "yt_url"]
    ),
    c(
      "cli: --publish-at not a date",
      cli(
        "publish",
        sample,
        ...publishFlags(),
        "--to",
        "youtube",
        "--title",
        "T",
        "--privacy",
        "private",
        "--publish-at",
        "soon"
      ),
      2,
      ["metadata.youtube.publishAt"]
    ),
    c(
      "cli: thumbnail not an image",
      cli("publish", sample, ...publishFlags(), "--to", "youtube", "--title", "T", "--thumbnail", text),
      2,
      ["metadata.youtube.thumbnail"]
    ),
    c("cli: config file missing", cli("publish", sample, "--to", "youtube", "--title", "T", "--config", missing), 2, [
      "does-not-exist.json",
      "file not found"
    ]),
    c(
      "cli: config with a misspelt key",
      cli("config", "validate", "--config", write("typo.config.json", { ...good, medusa: { retension: "1 day" } })),
      2,
      ["\"retension\"", "did you mean \"retention\""]
    ),

    // --- YouTube credential files: at submit (CLI and facade) and by `config validate` ---
    c(
      "cli: credentials file missing (submit)",
      cli(
        "publish",
        sample,
        "--config",
        youtubeConfig("creds-missing", { credentials: missing }),
        "--store",
        "memory",
        "--to",
        "youtube",
        "--title",
        "T"
      ),
      2,
      ["platforms[0]", "YouTube cannot be used", "does-not-exist.json", "does not exist", "medusa auth youtube"]
    ),
    c(
      "cli: credentials file not JSON (submit)",
      cli(
        "publish",
        sample,
        "--config",
        youtubeConfig("creds-broken", { credentials: notJson }),
        "--store",
        "memory",
        "--to",
        "youtube",
        "--title",
        "T"
      ),
      2,
      ["broken.json", "not valid JSON"]
    ),
    c(
      "cli: credentials without a refresh token (config validate)",
      cli("config", "validate", "--config", youtubeConfig("creds-no-token", { credentials: noToken })),
      2,
      ["youtube.credentials_file", "no-token.json", "refresh_token"]
    ),
    c(
      "cli: client secrets missing (config validate)",
      cli("config", "validate", "--config", youtubeConfig("secrets-missing", { secrets: missing })),
      2,
      ["youtube.client_secrets_file", "does-not-exist.json"]
    ),
    c(
      "cli: client secrets without installed section (config validate)",
      cli("config", "validate", "--config", youtubeConfig("secrets-no-installed", { secrets: noInstalled })),
      2,
      ["no-installed.json", "\"installed\""]
    ),
    c(
      "facade: client secrets without client_id (submit)",
      async () => {
        const other = await createMedusa({ configFile: youtubeConfig("secrets-no-id", { secrets: noClientId }) })
        try {
          return await facade(base, other)()
        } finally {
          await other.close()
        }
      },
      R,
      ["platforms[0]", "no-client-id.json", "client_id"]
    )
  ]
}

describe("bad input is refused before a task exists", () => {
  it("the table has at least 60 cases", () => {
    assert.isAtLeast(cases().length, 60)
  })

  it(
    "each case: the exit code or typed error, what is named, nothing sent to any platform",
    { timeout: 120_000 },
    async () => {
      const failures: Array<string> = []
      const table = cases()
      for (const c of table) {
        const before = sent()
        const tasksBefore = (await client.list()).length
        const result = await c.run()
        const problems: Array<string> = []
        if (result.outcome !== c.expect) problems.push(`outcome ${result.outcome}, expected ${c.expect}`)
        for (const name of c.names) {
          if (!result.message.includes(name)) {
            problems.push(`message lacks ${JSON.stringify(name)}`)
          }
        }
        if (result.message.includes(CANARY)) problems.push("message shows a secret")
        if (/\n\s+at /.test(result.message)) problems.push("message has a stack trace")
        if (sent() !== before) problems.push(`${sent() - before} request(s) reached the sandbox`)
        if ((await client.list()).length !== tasksBefore) problems.push("a task was created")
        if (problems.length > 0) failures.push(`${c.name}: ${problems.join("; ")}\n    message: ${result.message}`)
      }
      assert.deepStrictEqual(failures, [], failures.join("\n"))
    }
  )
})
