/**
 * The `medusa` command line: commands, options, help texts with examples.
 *
 * Handlers load their implementation (`internal/commands.ts`, and through it
 * the engine, the adapters, the Google client and SQL) with a dynamic
 * `import()`, so parsing the command line and printing help stay cheap.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import { all, modulesList } from "../PlatformId.js"
import { badInput, type CliExit } from "./internal/exit.js"
import { checkFlags, choices, defaults } from "./internal/flagCheck.js"
import { platformFlagKinds, platformFlags } from "./internal/platformFlags.js"

// =============================================================================
// Shared options
// =============================================================================

const config = Options.file("config").pipe(
  Options.withAlias("c"),
  Options.withDescription(
    "The Medusa config file (credentials, base URLs, engine options). Default: ./medusa.config.json."
  ),
  Options.optional
)

const sandbox = Options.boolean("sandbox").pipe(
  Options.withDescription(
    "Start an embedded sandbox (local emulators of every platform) for this command and use its config instead of --config."
  )
)

const store = Options.text("store").pipe(
  Options.withDescription(
    "Where tasks are kept: a SQLite file (default .medusa/medusa.db, shared by every medusa process in this directory), or `memory` for this process only (the default with --sandbox, unless --detach)."
  ),
  Options.optional
)

const common = { config, sandbox, store }

/**
 * Options every command accepts.
 *
 * @since 0.1.0
 * @category models
 */
export interface CommonOptions {
  readonly config: Option.Option<string>
  readonly sandbox: boolean
  readonly store: Option.Option<string>
}

const json = Options.boolean("json").pipe(
  Options.withDescription("Machine-readable output: one status JSON object per line.")
)

const taskId = Args.text({ name: "task-id" }).pipe(Args.withDescription("A task id (medusa_task_…)."))

/**
 * A description followed by examples. Being a sequence rather than one
 * paragraph, it is left out of the parent's COMMANDS list (which would
 * otherwise repeat every example there); the root lists the commands itself.
 */
const examples = (description: string, lines: ReadonlyArray<string>): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    HelpDoc.p(description),
    HelpDoc.p(`Examples:\n${lines.map((l) => `  ${l}`).join("\n")}`)
  ])

const load = () => import("./internal/commands.js")

// =============================================================================
// publish
// =============================================================================

const text = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/** The flags of every platform module, as `@effect/cli` options, by flag name. */
const platformOptions: Readonly<Record<string, Options.Options<Option.Option<string> | boolean>>> = Object
  .fromEntries(
    platformFlags.map((flag) => [
      flag.name,
      flag.type === "boolean" ?
        Options.boolean(flag.name).pipe(Options.withDescription(flag.description)) :
        flag.type === "text" ?
        text(flag.name, flag.description) :
        Options.choice(flag.name, flag.type.choices).pipe(Options.withDescription(flag.description), Options.optional)
    ])
  )

const publishOptions = {
  ...common,
  file: Args.file({ name: "file", exists: "yes" }).pipe(
    Args.withDescription("The video to publish (MP4, MOV, WebM, MKV or AVI). Optional with --request."),
    Args.optional
  ),
  to: text(
    "to",
    `Platforms, comma separated: ${all.join(",")}${
      modulesList.flatMap((m) => (m.aliases ?? []).map((a) => ` (${a} = ${m.id})`)).join("")
    }. A named account of the config is <platform>:<account> (facebook:brand).`
  ),
  request: Options.file("request", { exists: "yes" }).pipe(
    Options.withDescription(
      "A publish request in the library's JSON shape ({ mediaFile, platforms, metadata, policy }). Relative paths in it are resolved against its directory. Flags given beside it override its values."
    ),
    Options.optional
  ),
  // Each platform module's flags (--title, --x-text, …), by flag name.
  platform: platformOptions,
  policy: Options.choice("policy", choices.policy).pipe(
    Options.withDescription(
      "fail-fast (default): the first failed upload stops everything and nothing is posted. best-effort: a failed host only skips the posts that need its link. all-or-nothing: as fail-fast, and a failed post takes back (deletes) the posts that went out."
    ),
    Options.optional
  ),
  at: text(
    "at",
    "Start the task at this time instead of now: ISO 8601 (2030-01-31T09:00:00Z) or a local time such as \"tomorrow 09:00\", \"friday 18:30\", \"in 2 hours\", read in medusa.time_zone (default: the system's time zone). Echoed in UTC and local time; the task waits `pending` in the store until then."
  ),
  dryRun: Options.boolean("dry-run").pipe(
    Options.withDescription(
      "Check everything a publish would (request, media file, templates, platform limits, the quota plan) and report it, without storing a task or sending a byte. Exits 0 when the publish would be accepted, 2 with every problem otherwise."
    )
  ),
  online: Options.boolean("online").pipe(
    Options.withDescription(
      "With --dry-run: also check the selected platforms' credentials against the platforms (what `medusa auth check` does)."
    )
  ),
  detach: Options.boolean("detach").pipe(
    Options.withDescription(
      "Print the task id and return; the task runs on in the background. Follow it with `medusa status <task-id> --watch`."
    )
  ),
  json
}

/**
 * Parsed `publish` options.
 *
 * @since 0.1.0
 * @category models
 */
export type PublishOptions = Command.Command.ParseConfig<typeof publishOptions>

const publish = Command.make(
  "publish",
  publishOptions,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.publish(options))
).pipe(
  Command.withDescription(examples(
    "Upload a video to YouTube and/or Vimeo, then post to Facebook, X, LinkedIn, Threads, Mastodon and Bluesky with the upload links filled into the texts. Draws a progress bar per platform on a terminal, plain lines otherwise, then a summary of links and post ids. Ctrl+C cancels the task (with the durable store, it detaches instead: resume with `medusa resume`).",
    [
      "medusa publish talk.mp4 --to youtube,x --title \"My talk\" --x-text \"New video: {youtube_url}\"",
      "medusa publish talk.mp4 --to youtube,vimeo,facebook --title \"My talk\" --privacy unlisted --message \"Watch: {youtube_url} or {vimeo_url}\" --link \"{youtube_url}\"",
      "medusa publish --request request.json --policy best-effort",
      "medusa publish examples/media/sample.mp4 --sandbox --request examples/demo-request.json",
      "medusa publish talk.mp4 --request request.json --detach && medusa status <task-id> --watch",
      "medusa publish talk.mp4 --request request.json --at \"tomorrow 09:00\"",
      "medusa publish --request request.json --dry-run --online"
    ]
  ))
)

// =============================================================================
// status, tasks, cancel, resume
// =============================================================================

const statusConfig = {
  ...common,
  taskId: taskId.pipe(Args.optional),
  batch: Options.text("batch").pipe(
    Options.withDescription("Instead of one task: a summary table of every task of this batch (medusa_batch_…)."),
    Options.optional
  ),
  watch: Options.boolean("watch").pipe(
    Options.withAlias("w"),
    Options.withDescription("Follow the task until it ends (works from any process sharing the store).")
  ),
  json
}

const status = Command.make(
  "status",
  statusConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.status(options))
).pipe(
  Command.withDescription(examples(
    "Show a task's status: its state, upload progress, links and post ids, or its error. Exits 1 if the task failed.",
    [
      "medusa status medusa_task_0b5c…",
      "medusa status medusa_task_0b5c… --watch",
      "medusa status medusa_task_0b5c… --json",
      "medusa status --batch medusa_batch_7f2e…"
    ]
  ))
)

const tasksConfig = {
  ...common,
  status: Options.choice("status", choices.status).pipe(
    Options.withDescription("Only tasks in this state."),
    Options.optional
  ),
  scheduled: Options.boolean("scheduled").pipe(
    Options.withDescription(
      "Only tasks waiting for their time (scheduled with --at, or planned after a quota reset), soonest first, with the time in UTC and local time."
    )
  ),
  limit: Options.integer("limit").pipe(
    Options.withAlias("n"),
    Options.withDescription("At most this many tasks, newest first."),
    Options.withDefault(defaults.limit)
  ),
  json
}

const tasks = Command.make(
  "tasks",
  tasksConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.tasks(options))
).pipe(
  Command.withDescription(examples("List tasks, newest first.", [
    "medusa tasks",
    "medusa tasks --status failed --limit 5",
    "medusa tasks --scheduled",
    "medusa tasks --json"
  ]))
)

const cancelConfig = { ...common, taskId }

const cancel = Command.make(
  "cancel",
  cancelConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.cancel(options))
).pipe(
  Command.withDescription(examples(
    "Cancel a pending or running task. Posts already made stay; nothing more is uploaded or posted.",
    ["medusa cancel medusa_task_0b5c…"]
  ))
)

const resumeConfig = {
  ...common,
  taskId: taskId.pipe(Args.optional),
  json
}

const resume = Command.make(
  "resume",
  resumeConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.resume(options))
).pipe(
  Command.withDescription(examples(
    "Carry on unfinished tasks of the durable store (after Ctrl+C, a crash or a reboot): uploads continue from what the server already holds, and nothing is posted twice. Without a task id, every unfinished task.",
    ["medusa resume medusa_task_0b5c…", "medusa resume"]
  ))
)

const batchConfig = {
  ...common,
  manifest: Args.file({ name: "manifest", exists: "yes" }).pipe(
    Args.withDescription(
      "The batch manifest: JSON or YAML ({ defaults: {…}, videos: [{…}, …] }) or CSV (a header of field names such as mediaFile, platforms, youtube.title, x.text; a first row whose mediaFile is * holds the defaults). Relative paths are resolved against its directory."
    )
  ),
  dryRun: Options.boolean("dry-run").pipe(
    Options.withDescription(
      "Validate every row and show the plan (start times, quota), without storing a task or sending a byte."
    )
  ),
  detach: Options.boolean("detach").pipe(
    Options.withDescription(
      "Print the batch id and return; the tasks run on in the background. Follow them with `medusa status --batch <batch-id>`."
    )
  ),
  json
}

const batch = Command.make(
  "batch",
  batchConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.batch(options))
).pipe(
  Command.withDescription(examples(
    "Publish many videos at once from a manifest. The whole manifest is validated before anything starts (every row's problems are listed with row number and field, exit 2); the quota plan schedules a task that would go past a platform's allowance after its next reset (YouTube's daily uploads and units, LinkedIn's daily post limit, an X monthly post cap when twitter.monthly_post_cap is set). Prints the plan, then follows the tasks that start now; scheduled ones wait in the store.",
    [
      "medusa batch season-2.yaml --dry-run",
      "medusa batch season-2.csv",
      "medusa batch season-2.csv --detach",
      "medusa status --batch medusa_batch_7f2e…"
    ]
  ))
)

const retractConfig = {
  ...common,
  taskId,
  platforms: text(
    "platforms",
    "Only these platforms or accounts (facebook:brand), comma separated (default: every one the task posted to)."
  ),
  videos: Options.boolean("videos").pipe(
    Options.withDescription("Also delete the videos the task uploaded (YouTube, Vimeo).")
  ),
  json
}

const retract = Command.make(
  "retract",
  retractConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.retract(options))
).pipe(
  Command.withDescription(examples(
    "Take a finished task's posts back (and with --videos its uploaded videos) through each platform's delete API. Each deletion is recorded on the task (`retracted` in its status); running it again asks nothing twice. Refused while the task runs, or when it made nothing.",
    [
      "medusa retract medusa_task_0b5c…",
      "medusa retract medusa_task_0b5c… --platforms x,linkedin",
      "medusa retract medusa_task_0b5c… --videos"
    ]
  ))
)

const rescheduleConfig = {
  ...common,
  taskId,
  time: Args.text({ name: "time" }).pipe(
    Args.withDescription(
      "The new start: ISO 8601 or a local time such as \"tomorrow 09:00\" (in medusa.time_zone, default the system's)."
    )
  ),
  json
}

const reschedule = Command.make(
  "reschedule",
  rescheduleConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.reschedule(options))
).pipe(
  Command.withDescription(examples(
    "Move a scheduled task (one still waiting for its time) to another time. Prints the new time in UTC and local time.",
    [
      "medusa reschedule medusa_task_0b5c… \"tomorrow 09:00\"",
      "medusa reschedule medusa_task_0b5c… 2030-01-31T09:00:00Z"
    ]
  ))
)

// =============================================================================
// webhooks
// =============================================================================

const webhooksConfig = {
  ...common,
  state: Options.choice("state", ["pending", "delivered", "failed", "disabled"]).pipe(
    Options.withDescription("Only deliveries in this state."),
    Options.optional
  ),
  task: Options.text("task").pipe(Options.withDescription("Only deliveries of this task."), Options.optional),
  limit: Options.integer("limit").pipe(
    Options.withAlias("n"),
    Options.withDescription("At most this many deliveries, newest first."),
    Options.withDefault(20)
  ),
  json
}

const webhooksEnableConfig = {
  ...common,
  url: Args.text({ name: "url" }).pipe(
    Args.withDescription("The endpoint's url, as `medusa webhooks` lists it among the disabled.")
  )
}

const webhooksEnable = Command.make(
  "enable",
  webhooksEnableConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.webhooksEnable(options))
).pipe(
  Command.withDescription(examples(
    "Enable a webhook endpoint that answered 410 Gone (which disabled it): the events from now on are delivered to it again; its deliveries marked disabled stay so. While another process (`medusa serve`) owns a SQLite store, the command asks it through the store's requests folder and prints its answer.",
    ["medusa webhooks enable https://app.example/hooks"]
  ))
)

const webhooksCommand = Command.make(
  "webhooks",
  webhooksConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.webhooks(options))
).pipe(
  Command.withDescription(examples(
    "Show the webhook delivery log of the store that `medusa serve` dispatches from: each event sent to each endpoint, its state (pending, delivered, failed, disabled), attempts, last answer and next try, and the endpoints a 410 disabled (`medusa webhooks enable <url>` enables one again).",
    ["medusa webhooks", "medusa webhooks --state failed", "medusa webhooks --task medusa_task_0b5c… --json"]
  )),
  Command.withSubcommands([webhooksEnable])
)

// =============================================================================
// auth, config, sandbox
// =============================================================================

const authYouTubeConfig = {
  ...common,
  noBrowser: Options.boolean("no-browser").pipe(
    Options.withDescription("Only print the consent URL; do not try to open a browser.")
  )
}

const authYouTube = Command.make(
  "youtube",
  authYouTubeConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.authYouTube(options))
).pipe(
  Command.withDescription(examples(
    "Log in to YouTube with Google's installed-app flow (PKCE, loopback redirect on 127.0.0.1) and write the credentials file named by youtube.credentials_file.",
    ["medusa auth youtube", "medusa auth youtube --config ./prod.config.json --no-browser"]
  ))
)

const authCheckConfig = { ...common, json }

const authCheck = Command.make(
  "check",
  authCheckConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.authCheck(options))
).pipe(
  Command.withDescription(examples(
    "Check every configured credential against its platform: valid or not, account or page, scopes, expiry, quota left. Exits 2 when one is not usable.",
    ["medusa auth check", "medusa auth check --sandbox", "medusa auth check --json"]
  ))
)

const auth = Command.make("auth").pipe(
  Command.withDescription(HelpDoc.blocks([HelpDoc.p("Log in to a platform, or check the configured credentials.")])),
  Command.withSubcommands([authYouTube, authCheck])
)

const configValidate = Command.make(
  "validate",
  common,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.configValidate(options))
).pipe(
  Command.withDescription(examples(
    "Read and check the config file without contacting any platform. Names the file and the JSON path of every problem; exits 2 if there is one.",
    ["medusa config validate", "medusa config validate --config ./prod.config.json"]
  ))
)

const configCommand = Command.make("config").pipe(
  Command.withDescription(HelpDoc.blocks([HelpDoc.p("Work with the config file.")])),
  Command.withSubcommands([configValidate])
)

const sandboxConfig = {
  configOut: Options.text("config-out").pipe(
    Options.withDescription("Where to write the config pointing at the sandbox."),
    Options.withDefault(".medusa/sandbox/medusa.config.json")
  ),
  port: Options.integer("port").pipe(
    Options.withDescription(
      "Base port: youtube, vimeo, facebook, x, linkedin and the control server take it and the next five, threads, mastodon and bluesky the three after (default: ephemeral ports)."
    ),
    Options.optional
  ),
  latency: Options.integer("latency").pipe(
    Options.withDescription("Milliseconds of latency added to every request."),
    Options.withDefault(0)
  )
}

const sandboxCommand = Command.make(
  "sandbox",
  sandboxConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.sandbox(options))
).pipe(
  Command.withDescription(examples(
    "Run the local emulators of YouTube, Vimeo, Facebook, X, LinkedIn, Threads, Mastodon and Bluesky in the foreground, print their URLs and write a config that points at them. Stops on Ctrl+C.",
    [
      "medusa sandbox",
      "medusa sandbox --config-out /tmp/sb/medusa.config.json --port 8100",
      "medusa publish video.mp4 --config .medusa/sandbox/medusa.config.json --to youtube --title Test"
    ]
  ))
)

// =============================================================================
// serve
// =============================================================================

const serveConfig = {
  ...common,
  port: Options.integer("port").pipe(
    Options.withDescription("Port to listen on (default 8080; 0 picks a free port)."),
    Options.withDefault(8080)
  ),
  host: Options.text("host").pipe(
    Options.withDescription("Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)."),
    Options.withDefault("127.0.0.1")
  )
}

const serveCommand = Command.make(
  "serve",
  serveConfig,
  (options) => Effect.flatMap(Effect.promise(load), (m) => m.serve(options))
).pipe(
  Command.withDescription(examples(
    "Serve the HTTP API (docs/serve.md): submit publishes, follow them over Server-Sent Events, cancel and resume them, with the OpenAPI document at /openapi.json and its docs page at /docs. Keys, media folders and CORS come from the config's server section (MEDUSA_SERVER_API_KEY sets one key). Prints `Listening on http://HOST:PORT`; stops on Ctrl+C.",
    [
      "medusa serve",
      "medusa serve --port 0 --sandbox",
      "MEDUSA_SERVER_API_KEY=secret medusa serve --config medusa.config.json --host 0.0.0.0"
    ]
  ))
)

// =============================================================================
// Root
// =============================================================================

const root = Command.make("medusa", {}, () =>
  Effect.sync(() => {
    process.stdout.write("Run `medusa --help` for the commands.\n")
  })).pipe(
    Command.withDescription(examples(
      [
        "Publish one video everywhere: upload to YouTube and Vimeo, then post to Facebook, X, LinkedIn, Threads, Mastodon and Bluesky with the links, as tracked, resumable tasks.",
        "",
        "Commands (each has --help with examples):",
        "  publish <file>     upload and post, with live progress",
        "  status <task-id>   a task's state, links and post ids (--watch to follow it)",
        "  tasks              list tasks (--status failed, --limit N)",
        "  cancel <task-id>   cancel a pending or running task",
        "  resume [<task-id>] carry on unfinished tasks of the durable store",
        "  reschedule <id> <time>  move a scheduled task to another time",
        "  batch <manifest>   publish many videos from a JSON, YAML or CSV manifest",
        "  retract <task-id>  take a task's posts (--videos: and uploads) back",
        "  auth youtube       log in to YouTube (installed-app flow)",
        "  auth check         check every configured credential",
        "  config validate    check the config file",
        "  sandbox            run local emulators of every platform",
        "  webhooks           the webhook delivery log (attempts, last status, next try)",
        "  serve              serve the HTTP API (submit, follow over SSE, cancel, resume)",
        "",
        "Every command takes --config <path> (default ./medusa.config.json), --sandbox (an embedded sandbox for this command), --store <file> (default .medusa/medusa.db), --log-format text|json (json: one JSON object per log line on stderr) and --help.",
        "",
        "Telemetry: set OTEL_EXPORTER_OTLP_ENDPOINT (or a telemetry section in the config) to export traces and metrics over OTLP/HTTP.",
        "",
        "Exit codes: 0 success, 1 the task failed, 2 bad input or config, 130 interrupted."
      ].join("\n"),
      [
        "medusa publish video.mp4 --to youtube,x --title \"Launch\" --x-text \"New video: {youtube_url}\"",
        "medusa publish examples/media/sample.mp4 --sandbox --request examples/demo-request.json",
        "medusa status <task-id> --watch",
        "medusa tasks --status failed",
        "medusa auth check",
        "medusa sandbox"
      ]
    )),
    Command.withSubcommands([
      publish,
      status,
      tasks,
      cancel,
      resume,
      auth,
      configCommand,
      sandboxCommand,
      webhooksCommand,
      serveCommand,
      reschedule,
      batch,
      retract
    ])
  )

/**
 * Every command path with a help text, for the help fast path (`help.json`).
 *
 * @since 0.1.0
 * @category constants
 */
export const commandPaths: ReadonlyArray<ReadonlyArray<string>> = [
  [],
  ["publish"],
  ["status"],
  ["tasks"],
  ["cancel"],
  ["resume"],
  ["reschedule"],
  ["batch"],
  ["retract"],
  ["auth"],
  ["auth", "youtube"],
  ["auth", "check"],
  ["config"],
  ["config", "validate"],
  ["sandbox"],
  ["webhooks"],
  ["webhooks", "enable"],
  ["serve"]
]

/**
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/**
 * Runs the command line (`process.argv` shape: node, script, ...args).
 *
 * @since 0.1.0
 * @category constructors
 */
export const run: (
  argv: ReadonlyArray<string>
) => Effect.Effect<
  void,
  CliExit | import("@effect/cli/ValidationError").ValidationError,
  import("@effect/cli/CliApp").CliApp.Environment
> = (argv) =>
  Effect.suspend(() => {
    // Flag values first: a bad one is refused naming the flag, before anything is loaded.
    const problem = checkFlags(argv.slice(2), platformFlagKinds)
    return problem !== undefined ? Effect.fail(badInput(problem)) : runCommand(argv)
  })

const runCommand = Command.run(root, { name: "medusa", version })

// =============================================================================
// Parsed option types (for the implementation module)
// =============================================================================

/** @since 0.1.0 @category models */
export type StatusOptions = Command.Command.ParseConfig<typeof statusConfig>
/** @since 0.1.0 @category models */
export type TasksOptions = Command.Command.ParseConfig<typeof tasksConfig>
/** @since 0.1.0 @category models */
export type CancelOptions = Command.Command.ParseConfig<typeof cancelConfig>
/** @since 0.1.0 @category models */
export type BatchOptions = Command.Command.ParseConfig<typeof batchConfig>
/** @since 0.1.0 @category models */
export type RetractCommandOptions = Command.Command.ParseConfig<typeof retractConfig>
/** @since 0.1.0 @category models */
export type RescheduleOptions = Command.Command.ParseConfig<typeof rescheduleConfig>
/** @since 0.1.0 @category models */
export type ResumeOptions = Command.Command.ParseConfig<typeof resumeConfig>
/** @since 0.1.0 @category models */
export type AuthYouTubeOptions = Command.Command.ParseConfig<typeof authYouTubeConfig>
/** @since 0.1.0 @category models */
export type AuthCheckOptions = Command.Command.ParseConfig<typeof authCheckConfig>
/** @since 0.1.0 @category models */
export type ConfigValidateOptions = Command.Command.ParseConfig<typeof common>
/** @since 0.1.0 @category models */
export type SandboxCommandOptions = Command.Command.ParseConfig<typeof sandboxConfig>
/** @since 0.1.0 @category models */
export type WebhooksOptions = Command.Command.ParseConfig<typeof webhooksConfig>
/** @since 0.1.0 @category models */
export type WebhooksEnableOptions = Command.Command.ParseConfig<typeof webhooksEnableConfig>
export type ServeOptions = Command.Command.ParseConfig<typeof serveConfig>
