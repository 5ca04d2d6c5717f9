/**
 * The CLI's wiring: config file → platform layers → `Medusa` over the task
 * store. Loaded on demand (it pulls in the engine, every adapter, the Google
 * client and SQL).
 *
 * @internal
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

import type * as Scope from "effect/Scope"
import * as Facebook from "../../Facebook.js"
import * as LinkedIn from "../../LinkedIn.js"
import * as Medusa from "../../Medusa.js"
import type { PlatformId } from "../../PlatformId.js"
import type { ConfigError, StoreError } from "../../PublishError.js"

import { isFinal } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import * as TaskStore from "../../TaskStore.js"
import * as Vimeo from "../../Vimeo.js"
import * as X from "../../X.js"
import * as YouTube from "../../YouTube.js"
import type { Engine, OpenOptions } from "./engine.js"
import * as Config from "./interimConfig.js"

/** The adapter layers of every configured platform. */
const platformsLayer = (configFile: string, config: Config.InterimConfig) => {
  const layers: Array<Layer.Layer<any, never, any>> = []
  if (config.youtube) {
    layers.push(YouTube.layer({
      clientSecretsFile: Config.resolveFrom(configFile, config.youtube.client_secrets_file),
      credentialsFile: Config.resolveFrom(configFile, config.youtube.credentials_file),
      baseUrl: config.youtube.base_url
    }))
  }
  if (config.vimeo) {
    layers.push(Vimeo.layer({ accessToken: config.vimeo.access_token, baseUrl: config.vimeo.base_url }))
  }
  if (config.facebook) {
    layers.push(Facebook.layer({
      pageId: config.facebook.page_id,
      accessToken: config.facebook.access_token,
      baseUrl: config.facebook.base_url,
      graphVersion: config.facebook.graph_version
    }))
  }
  if (config.twitter) {
    layers.push(X.layer({
      apiKey: config.twitter.api_key,
      apiSecret: config.twitter.api_secret,
      accessToken: config.twitter.access_token,
      accessTokenSecret: config.twitter.access_token_secret,
      baseUrl: config.twitter.base_url
    }))
  }
  if (config.linkedin) {
    layers.push(LinkedIn.layer({
      accessToken: config.linkedin.access_token,
      authorUrn: config.linkedin.author_urn,
      baseUrl: config.linkedin.base_url,
      apiVersion: config.linkedin.api_version
    }))
  }
  return Layer.mergeAll(Layer.empty, ...layers).pipe(
    Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer))
  ) as unknown as Layer.Layer<never>
}

/**
 * The task store. The durable SQLite store has not landed yet, so every
 * store is the in-memory one for now: tasks live as long as the process.
 */
const storeLayer = (_options: OpenOptions) => ({ layer: TaskStore.layerMemory, durable: false, label: "memory" })

/** @internal */
export const open = (options: OpenOptions): Effect.Effect<Engine, ConfigError | StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* Config.load(options.configFile)
    const store = storeLayer(options)
    const context = yield* Layer.build(
      Medusa.layer().pipe(
        Layer.provideMerge(store.layer),
        Layer.provide(platformsLayer(options.configFile, config))
      )
    )
    const medusa = Context.get(context, Medusa.Medusa)
    const resume = (id: Option.Option<TaskId>) =>
      Option.match(id, {
        onNone: () =>
          Effect.map(
            Effect.all([medusa.list({ status: "pending" }), medusa.list({ status: "in_progress" })]),
            ([a, b]) => [...a, ...b].map((t) => t.id)
          ),
        onSome: (id) =>
          Effect.flatMap(medusa.status(id), (task) => Effect.succeed(isFinal(task.state) ? [] : [task.id]))
      })
    return {
      durable: store.durable,
      storeLabel: store.label,
      submit: medusa.submit,
      get: (id) => medusa.status(id),
      watch: (id) => medusa.watch(id),
      cancel: (id) => Effect.asVoid(medusa.cancel(id)),
      list: (o) => medusa.list(o),
      resume
    } satisfies Engine
  })

/** What `medusa config validate` prints on success. @internal */
export const validateConfig = (configFile: string): Effect.Effect<ReadonlyArray<string>, ConfigError> =>
  Effect.map(Config.load(configFile), (config) => {
    const platforms = Config.configured(config)
    return platforms.length === 0 ?
      ["no platform configured: add a youtube, vimeo, facebook, twitter or linkedin section"] :
      [`platforms: ${platforms.join(", ")}`]
  })

/** One platform's credential check, as `medusa auth check` prints it. @internal */
export interface CredentialCheck {
  readonly platform: PlatformId
  readonly ok: boolean
  readonly summary: string
  readonly details: ReadonlyArray<string>
}

/** @internal */
export const checkCredentials = (configFile: string): Effect.Effect<ReadonlyArray<CredentialCheck>, ConfigError> =>
  Effect.gen(function*() {
    const config = yield* Config.load(configFile)
    const results: Array<CredentialCheck> = []
    if (config.facebook) {
      const report = yield* Facebook.checkCredentials({
        pageId: config.facebook.page_id,
        accessToken: config.facebook.access_token,
        baseUrl: config.facebook.base_url,
        graphVersion: config.facebook.graph_version
      }).pipe(
        Effect.provide(NodeHttpClient.layerUndici),
        Effect.either
      )
      results.push(
        report._tag === "Left" ?
          { platform: "facebook", ok: false, summary: report.left.message, details: [] } :
          {
            platform: "facebook",
            ok: report.right.ok,
            summary: `page ${report.right.pageName ?? "?"} (${report.right.pageId ?? "?"}), ${
              report.right.tokenType ?? "?"
            } token, ${
              report.right.expiresAt === undefined ?
                "does not expire" :
                `expires ${new Date(report.right.expiresAt).toISOString()}`
            }`,
            details: [`scopes: ${report.right.scopes.join(", ") || "none"}`, ...report.right.problems]
          }
      )
    }
    for (const id of Config.configured(config)) {
      if (id === "facebook") continue
      results.push({ platform: id, ok: true, summary: "configured (no online check available yet)", details: [] })
    }
    return results
  })

/** `medusa auth youtube`. @internal */
export const loginYouTube = (options: {
  readonly configFile: string
  readonly openBrowser: boolean
}): Effect.Effect<void, ConfigError | import("../../YouTubeLogin.js").LoginError> =>
  Effect.gen(function*() {
    const config = yield* Config.load(options.configFile)
    const Login = yield* Effect.promise(() => import("../../YouTubeLogin.js"))
    if (!config.youtube) {
      const { ConfigError: CE, Issue } = yield* Effect.promise(() => import("../../PublishError.js"))
      return yield* Effect.fail(
        new CE({
          file: options.configFile,
          issues: [new Issue({ path: ["youtube"], message: "missing: add client_secrets_file and credentials_file" })]
        })
      )
    }
    const result = yield* Login.login({
      clientSecretsFile: Config.resolveFrom(options.configFile, config.youtube.client_secrets_file),
      credentialsFile: Config.resolveFrom(options.configFile, config.youtube.credentials_file),
      baseUrl: config.youtube.base_url,
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
