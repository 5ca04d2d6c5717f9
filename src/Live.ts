/**
 * The production wiring: a decoded `medusa.config.json` becomes the real
 * platform adapters (over Node's HTTP client and file system) and the store
 * its `medusa.store` names. The CLI and the Promise facade both start here.
 *
 * ```ts
 * const MedusaLive = Live.layerFromConfigFile("medusa.config.json")
 * const program = Medusa.publish(request).pipe(Effect.provide(MedusaLive))
 * ```
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Durable from "./Durable.js"
import * as Medusa from "./Medusa.js"
import * as Config from "./MedusaConfig.js"
import type { MedusaConfig } from "./MedusaConfig.js"
import { Accounts, type Host, type Publisher } from "./Platform.js"
import { moduleOf, modulesList, type PlatformId, type Target } from "./PlatformId.js"
import type * as PlatformModule from "./PlatformModule.js"
import type { ConfigError, StoreError } from "./PublishError.js"
import * as TaskStore from "./TaskStore.js"
import * as Telemetry from "./Telemetry.js"

/**
 * The adapters of every platform the config has a section for. Typed
 * `Layer<never>` because which tags it provides depends on the config; the
 * engine resolves whichever are present.
 *
 * @since 0.1.0
 * @category layers
 */
export const platforms = (config: MedusaConfig): Layer.Layer<never> => {
  // `medusa.max_wait` and `medusa.stall_timeout` hold for every platform that does not set its own.
  const defaults = { maxWait: config.medusa.maxWait, stallTimeout: config.medusa.stallTimeout }
  const layers: Array<Layer.Layer<any, never, PlatformModule.Requirements>> = []
  const named = Config.configuredTargets(config).filter(({ platform, target }) => target !== platform)
  for (const module of modulesList) {
    const section = config[module.id as PlatformId]
    if (section === undefined) continue
    // The default account named by `default_account` is one adapter under both targets.
    const same = named.find((t) => t.section === section)
    layers.push(
      Layer.effect(
        module.tag as Context.Tag<any, any>,
        (same !== undefined ?
          Effect.map(Accounts, (a) => adapterIn(a, same.target)) :
          module.make(section, defaults)) as Effect.Effect<any, never, PlatformModule.Requirements>
      )
    )
  }
  if (named.length > 0) {
    // One adapter per named account, each from its own section (its own credentials, bounds and ledgers).
    const accounts = Layer.effect(
      Accounts,
      Effect.gen(function*() {
        const hosts: Record<string, Host<any>> = {}
        const publishers: Record<string, Publisher<any>> = {}
        for (const { platform, section, target } of named) {
          const module = moduleOf(platform)
          if (module.kind === "host") hosts[target] = yield* module.make(section, defaults)
          else publishers[target] = yield* module.make(section, defaults)
        }
        return { hosts, publishers } as Context.Tag.Service<Accounts>
      })
    )
    for (let i = 0; i < layers.length; i++) layers[i] = layers[i]!.pipe(Layer.provideMerge(accounts))
    layers.push(accounts)
  }
  if (layers.length === 0) return Layer.empty
  const [first, ...rest] = layers
  return Layer.mergeAll(first!, ...rest).pipe(
    Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer))
  ) as unknown as Layer.Layer<never>
}

const adapterIn = (accounts: Context.Tag.Service<Accounts>, target: Target): Host<any> | Publisher<any> =>
  (accounts.hosts as Record<string, Host<any>>)[target] ??
    (accounts.publishers as Record<string, Publisher<any>>)[target]!

/**
 * What `layer` may change in the config's choice.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions {
  /**
   * Only submit and watch, whatever `medusa.runner` says (PostgreSQL): for
   * processes that only read tasks.
   */
  readonly clientOnly?: boolean | undefined
  /**
   * Whether `layer` sets up telemetry from the config's `telemetry` section
   * and the `OTEL_*` variables (`telemetry`, below) and its `log_format`.
   * Default `true`; `false` leaves both to the caller (the CLI does its own).
   */
  readonly telemetry?: boolean | undefined
}

/**
 * `Medusa` and its store for a decoded config: in memory, on SQLite
 * (embedded, durable) or on PostgreSQL, where the process is a cluster
 * runner unless `medusa.runner.role` is `"client"`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  config: MedusaConfig,
  layerOptions: LayerOptions = {}
): Layer.Layer<Medusa.Medusa | TaskStore.TaskStore, StoreError | ConfigError> => {
  const options = Medusa.optionsFromConfig(config)
  const store = config.medusa.store
  const runner = config.medusa.runner
  const engine: Layer.Layer<Medusa.Medusa | TaskStore.TaskStore, StoreError> = store === "memory" ?
    Medusa.layerMemory(options) :
    "sqlite" in store ?
    Durable.layerDurable({ ...options, sqlite: store.sqlite }) :
    Durable.layerCluster({
      ...options,
      postgres: store.postgres,
      runner: layerOptions.clientOnly === true || runner?.role === "client" ?
        "client" :
        { host: runner?.host, port: runner?.port }
    })
  const wired = engine.pipe(Layer.provide(platforms(config)))
  if (layerOptions.telemetry === false) return wired
  // Built first, so that the engine's fibers inherit the tracer and the logger.
  return wired.pipe(
    Layer.provide(telemetry(config)),
    Layer.provide(config.telemetry?.logFormat === "json" ? Telemetry.layerJsonLogger : Layer.empty)
  )
}

/**
 * OTLP export of traces and metrics over Node's HTTP client when the config's
 * `telemetry` section or the `OTEL_*` variables enable it; otherwise nothing
 * (the exporter is not even loaded). See `Telemetry.optionsFromConfig`.
 *
 * @since 0.1.0
 * @category layers
 */
export const telemetry = (config: MedusaConfig): Layer.Layer<never, ConfigError> =>
  Telemetry.layerConfig(config).pipe(Layer.provide(NodeHttpClient.layerUndici))

/**
 * Reads the config file (default `medusa.config.json`), then builds `layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromConfigFile = (
  file: string = Config.defaultFile
): Layer.Layer<Medusa.Medusa | TaskStore.TaskStore, ConfigError | StoreError> =>
  Layer.unwrapEffect(Effect.map(Config.load(file), layer))
