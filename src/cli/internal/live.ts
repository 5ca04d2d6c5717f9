/**
 * The CLI's wiring: config file → platform layers → `Medusa` over the task
 * store. Each command imports only what it uses: reading tasks opens the store
 * alone (no engine, platform adapter or HTTP client), and the workflow engine,
 * SQL and the adapters are loaded only by the store and platforms the command
 * needs.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as path from "node:path"
import type * as Medusa from "../../Medusa.js"
import * as Config from "../../MedusaConfig.js"
import { all as allPlatforms, moduleOf, type PlatformId, type Target } from "../../PlatformId.js"
import type { CredentialReport } from "../../PlatformModule.js"
import type { ConfigError, StoreError } from "../../PublishError.js"
import { ConfigError as ConfigErrorClass, Issue } from "../../PublishError.js"
import { isFinal } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import type { TaskStore } from "../../TaskStore.js"
import type { Engine, OpenOptions, Reader } from "./engine.js"
import * as LogFormat from "./logFormat.js"

const load = <A>(f: () => Promise<A>): Effect.Effect<A> => Effect.promise(f)

/**
 * Which store a command uses. The CLI's `--store` wins; otherwise a store the
 * config names (SQLite or PostgreSQL); otherwise the CLI's default SQLite
 * file, so that tasks outlive the process.
 */
type StoreChoice =
  | { readonly _tag: "memory" }
  | { readonly _tag: "postgres"; readonly url: Redacted.Redacted<string> }
  | { readonly _tag: "sqlite"; readonly file: string; readonly label: string }

const storeChoice = (
  config: Config.MedusaConfig,
  options: { readonly store: string; readonly storeGiven: boolean }
): StoreChoice => {
  const configured = config.medusa.store
  if (options.store === "memory") return { _tag: "memory" }
  if (!options.storeGiven && configured !== "memory" && "postgres" in configured) {
    return { _tag: "postgres", url: configured.postgres }
  }
  const label = !options.storeGiven && configured !== "memory" && "sqlite" in configured ?
    configured.sqlite :
    options.store
  return { _tag: "sqlite", file: path.resolve(label), label }
}

/** The config file, or an empty config when it may be missing and is. */
const loadConfig = (options: {
  readonly configFile: string
  readonly configOptional: boolean
}): Effect.Effect<Config.MedusaConfig, ConfigError> =>
  options.configOptional && !fs.existsSync(options.configFile) ?
    Config.decode({}, options.configFile) :
    Config.load(options.configFile)

/**
 * The engine layer for a store choice. A read-only engine runs no task, so it
 * loads no platform adapter.
 */
const engineLayer = (
  config: Config.MedusaConfig,
  options: OpenOptions
): Effect.Effect<{
  readonly layer: Layer.Layer<Medusa.Medusa | TaskStore, StoreError | ConfigError>
  /** The platform layers inside `layer` (the same value, so a build that merges them builds them once). */
  readonly platforms: Layer.Layer<never>
  readonly durable: boolean
  readonly label: string
}> =>
  Effect.gen(function*() {
    const Medusa = yield* load(() => import("../../Medusa.js"))
    const engineOptions = Medusa.optionsFromConfig(config)
    const platforms = options.readOnly ?
      Layer.empty :
      (yield* load(() => import("../../Live.js"))).platforms(config)
    const store = storeChoice(config, options)
    switch (store._tag) {
      case "memory":
        return {
          layer: Medusa.layerMemory(engineOptions).pipe(Layer.provide(platforms)),
          platforms,
          durable: false,
          label: "memory"
        }
      case "postgres": {
        // A process that only reads runs nothing: a cluster client.
        const Live = yield* load(() => import("../../Live.js"))
        return {
          layer: Live.layer(config, { clientOnly: options.readOnly, telemetry: false }),
          platforms,
          durable: true,
          label: "PostgreSQL"
        }
      }
      case "sqlite": {
        if (options.readOnly && !fs.existsSync(store.file)) {
          // Nothing was ever stored there: an empty store, without creating the file.
          return { layer: Medusa.layerMemory(engineOptions), platforms, durable: true, label: store.label }
        }
        const Durable = yield* load(() => import("../../Durable.js"))
        return {
          layer: Durable.layerDurable({ ...engineOptions, sqlite: store.file, readOnly: options.readOnly }).pipe(
            Layer.provide(platforms)
          ),
          platforms,
          durable: true,
          label: store.label
        }
      }
    }
  })

/**
 * The store alone, read-only, for the commands that only read tasks: a SQLite
 * file through better-sqlite3 (no SQL client, workflow engine or lock), a
 * PostgreSQL database through its SQL client (no cluster client).
 *
 * @internal
 */
export const openReader = (
  options: Omit<OpenOptions, "readOnly">
): Effect.Effect<Reader, ConfigError | StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* loadConfig(options)
    const store = storeChoice(config, options)
    const SqliteReader = yield* load(() => import("../../internal/store/sqliteReader.js"))
    switch (store._tag) {
      case "memory":
        // A new process's memory holds no task.
        return { storeLabel: "memory", ...SqliteReader.empty }
      case "sqlite":
        return {
          storeLabel: store.label,
          // Nothing was ever stored there: an empty store, without creating the file.
          ...(fs.existsSync(store.file) ? yield* SqliteReader.open(store.file) : SqliteReader.empty)
        }
      case "postgres": {
        const [SqlTaskStore, SqlStore] = yield* load(() =>
          Promise.all([import("../../SqlTaskStore.js"), import("../../internal/store/sql.js")])
        )
        const client = yield* Layer.build(SqlTaskStore.pgClient({ url: store.url, maxConnections: 1 }))
        const reader = yield* SqlStore.make({ readOnly: true }).pipe(Effect.provide(client))
        return { storeLabel: "PostgreSQL", get: reader.get, history: reader.history, list: reader.list }
      }
    }
  })

/** @internal */
export const open = (options: OpenOptions): Effect.Effect<Engine, ConfigError | StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* loadConfig(options)
    if (!options.readOnly) {
      // Before the engine: its fibers inherit the tracer (and the log format) set up here.
      if (config.telemetry?.logFormat === "json") yield* LogFormat.useJson(false)
      const Live = yield* load(() => import("../../Live.js"))
      yield* Layer.build(Live.telemetry(config))
    }
    const engine = yield* engineLayer(config, options)
    const context = yield* Layer.build(engine.layer)
    const [{ Medusa }, { TaskStore }] = yield* load(() =>
      Promise.all([import("../../Medusa.js"), import("../../TaskStore.js")])
    )
    const medusa = Context.get(context, Medusa)
    const store = Context.get(context, TaskStore)
    const unfinished = Effect.map(
      Effect.all([medusa.list({ status: "pending" }), medusa.list({ status: "in_progress" })]),
      ([a, b]) => [...a, ...b].sort((x, y) => x.createdAt - y.createdAt).map((t) => t.id)
    )
    const resume = (id: Option.Option<TaskId>) =>
      Option.match(id, {
        onNone: () => unfinished,
        onSome: (id) => Effect.map(medusa.status(id), (task) => (isFinal(task.state) ? [] : [task.id]))
      })
    return {
      durable: engine.durable,
      storeLabel: engine.label,
      configFile: options.configFile,
      timeZone: config.medusa.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
      submit: medusa.submit,
      validate: medusa.validate,
      get: (id) => medusa.status(id),
      history: (id) => store.history(id),
      watch: (id) => medusa.watch(id),
      cancel: (id) => Effect.asVoid(medusa.cancel(id)),
      list: (o) => medusa.list(o),
      reschedule: (id, runAt) => medusa.reschedule(id, runAt),
      publishBatch: (manifest, batchOptions) => medusa.publishBatch(manifest, batchOptions),
      retract: (id, retractOptions) => medusa.retract(id, retractOptions),
      resume,
      outbox: store.outbox
    } satisfies Engine
  })

/**
 * `medusa serve`: the engine and its store as the other commands open them,
 * with the HTTP server over them. Prints one line once listening, then runs
 * until interrupted.
 *
 * @internal
 */
export const serve = (
  options: OpenOptions & {
    readonly port: number
    readonly host: string
    /** Media folder when the config names none (the embedded sandbox: the working directory). */
    readonly defaultMediaRoot: string | undefined
  }
): Effect.Effect<
  never,
  ConfigError | StoreError | import("@effect/platform/HttpServerError").ServeError,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const config = yield* Config.load(options.configFile)
    // Before the engine and the server, as `open` does: their fibers inherit the tracer (and the log format).
    if (config.telemetry?.logFormat === "json") yield* LogFormat.useJson(false)
    const Live = yield* load(() => import("../../Live.js"))
    yield* Layer.build(Live.telemetry(config))
    const engine = yield* engineLayer(config, options)
    const [Server, HttpServer] = yield* load(() =>
      Promise.all([import("../../Server.js"), import("@effect/platform/HttpServer")])
    )
    const serverOptions = Server.optionsFromConfig(config)
    const mediaRoots = (serverOptions.mediaRoots ?? []).length === 0 && options.defaultMediaRoot !== undefined ?
      [options.defaultMediaRoot] :
      serverOptions.mediaRoots
    if (serverOptions.apiKeys.length === 0) {
      process.stderr.write(
        "warning: no API key configured, so every request but /healthz is refused; set server.api_keys in the " +
          `config or ${Config.serverApiKeyVariable}\n`
      )
    }
    const context = yield* Layer.build(
      Server.layerNode({ ...serverOptions, mediaRoots, port: options.port, host: options.host }).pipe(
        Layer.provide(Layer.merge(engine.layer, engine.platforms))
      )
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    const where = address._tag === "TcpAddress" ?
      `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}` :
      `unix:${address.path}`
    process.stdout.write(`Listening on ${where}\n`)
    return yield* Effect.never
  })

/**
 * What `medusa config validate` prints on success. Besides the file itself,
 * the files it names are read and checked (YouTube's client secrets and
 * credentials) without contacting any platform.
 *
 * @internal
 */
export const validateConfig = (configFile: string): Effect.Effect<ReadonlyArray<string>, ConfigError> =>
  Effect.gen(function*() {
    const config = yield* Config.load(configFile)
    const warnings: Array<string> = []
    if (config.youtube !== undefined) {
      const YouTube = yield* load(() => import("../../platforms/youtube/YouTube.js"))
      const NodeFileSystem = yield* load(() => import("@effect/platform-node/NodeFileSystem"))
      const found = yield* YouTube.checkFiles(config.youtube).pipe(Effect.provide(NodeFileSystem.layer))
      if (found.problems.length > 0) {
        return yield* new ConfigErrorClass({
          file: config.file,
          issues: found.problems.map((p) => new Issue({ path: ["youtube", p.key], message: p.message }))
        })
      }
      warnings.push(...found.warnings.map((w) => `warning: ${w}`))
    }
    const platforms = Config.configuredPlatforms(config)
    return [...summaryOf(config, platforms), ...warnings]
  })

/** `vimeo, facebook:brand (default), facebook:studio`: every account, a default one that is also named once. */
const accountsLine = (config: Config.MedusaConfig): string => {
  const targets = Config.configuredTargets(config)
  return targets.flatMap(({ platform, section, target }) => {
    const named = targets.some((t) => t.target !== target && t.section === section)
    return target === platform && named ? [] : [named ? `${target} (default)` : target]
  }).join(", ")
}

const summaryOf = (config: Config.MedusaConfig, platforms: ReadonlyArray<PlatformId>): ReadonlyArray<string> =>
  platforms.length === 0 ?
    [`no platform configured: add a ${
      allPlatforms.map((id) => moduleOf(id).config.section ?? id).join(", ")
    } section`] :
    [
      `platforms: ${accountsLine(config)}`,
      `store: ${
        config.medusa.store === "memory" ?
          "not set (the CLI uses .medusa/medusa.db)" :
          "sqlite" in config.medusa.store ?
          config.medusa.store.sqlite :
          "PostgreSQL"
      }`,
      `waits: up to ${Duration.format(config.medusa.maxWait)} for a platform (max_wait), fails after ${
        Duration.format(config.medusa.stallTimeout)
      } without progress (stall_timeout)`,
      ...(config.medusa.runner !== undefined ?
        [
          `runner: ${config.medusa.runner.role ?? "default role"}${
            config.medusa.runner.host !== undefined || config.medusa.runner.port !== undefined ?
              ` at ${config.medusa.runner.host ?? "?"}:${config.medusa.runner.port ?? "?"}` :
              ""
          }`
        ] :
        [])
    ]

/**
 * One credential's check, as `medusa auth check` prints it: the same shape
 * for every platform (each module's `checkCredentials`).
 *
 * @internal
 */
export interface CredentialCheck extends CredentialReport {
  /** The account checked: `facebook` (the default one) or `facebook:brand`. */
  readonly platform: Target
}

/** @internal */
export const checkCredentials = (
  configFile: string,
  only?: ReadonlyArray<Target>
): Effect.Effect<ReadonlyArray<CredentialCheck>, ConfigError> =>
  Effect.gen(function*() {
    const config = yield* Config.load(configFile)
    const [NodeHttpClient, NodeFileSystem] = yield* load(() =>
      Promise.all([import("@effect/platform-node/NodeHttpClient"), import("@effect/platform-node/NodeFileSystem")])
    )
    // Every account once: a default account that is also named is checked under its name.
    const targets = Config.configuredTargets(config)
    const checked = targets.filter(({ platform, section, target }) =>
      (only === undefined || only.includes(target)) &&
      !(target === platform && targets.some((t) => t.target !== target && t.section === section))
    )
    const checks = checked.map(({ platform, section, target: id }) =>
      moduleOf(platform).checkCredentials(section).pipe(
        // A platform that cannot be asked is a failed check, with the platform's message.
        Effect.catchAll((error) =>
          Effect.succeed<CredentialReport>({ ok: false, summary: error.message, details: [] })
        ),
        Effect.map((report): CredentialCheck => ({ platform: id, ...report }))
      )
    )
    return yield* Effect.all(checks, { concurrency: "unbounded" }).pipe(
      Effect.provide(NodeHttpClient.layerUndici),
      Effect.provide(NodeFileSystem.layer)
    )
  })

/** `medusa auth youtube`. @internal */
export const loginYouTube = (options: {
  readonly configFile: string
  readonly openBrowser: boolean
}): Effect.Effect<void, ConfigError | import("../../platforms/youtube/YouTubeLogin.js").LoginError> =>
  Effect.gen(function*() {
    const config = yield* Config.load(options.configFile)
    const [Login, NodeFileSystem] = yield* load(() =>
      Promise.all([import("../../platforms/youtube/YouTubeLogin.js"), import("@effect/platform-node/NodeFileSystem")])
    )
    if (!config.youtube) {
      return yield* Effect.fail(
        new ConfigErrorClass({
          file: config.file,
          issues: [new Issue({ path: ["youtube"], message: "missing: add client_secrets_file and credentials_file" })]
        })
      )
    }
    const result = yield* Login.login({
      clientSecretsFile: config.youtube.clientSecretsFile,
      credentialsFile: config.youtube.credentialsFile,
      baseUrl: config.youtube.baseUrl,
      onUrl: (url) =>
        Effect.sync(() => {
          process.stdout.write(`Open this URL in a browser to let Medusa upload to your channel:\n\n  ${url}\n\n`)
          if (options.openBrowser) openInBrowser(url)
        })
    }).pipe(Effect.provide(NodeFileSystem.layer))
    process.stdout.write(
      `Logged in. Credentials written to ${result.credentialsFile}${
        result.scope ? ` (scopes: ${result.scope})` : ""
      }.\n`
    )
  })

const openInBrowser = (url: string): void => {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "start" : "xdg-open"
  void import("node:child_process").then(({ spawn }) => {
    const child = spawn(command, [url], { stdio: "ignore", detached: true })
    child.on("error", () => undefined)
    child.unref()
  })
}
