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
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Durable from "./Durable.js"
import * as Facebook from "./Facebook.js"
import * as LinkedIn from "./LinkedIn.js"
import * as Medusa from "./Medusa.js"
import * as Config from "./MedusaConfig.js"
import type { MedusaConfig } from "./MedusaConfig.js"
import type { ConfigError, StoreError } from "./PublishError.js"
import * as TaskStore from "./TaskStore.js"
import * as Vimeo from "./Vimeo.js"
import * as X from "./X.js"
import * as YouTube from "./YouTube.js"

/**
 * The adapters of every platform the config has a section for. Typed
 * `Layer<never>` because which tags it provides depends on the config; the
 * engine resolves whichever are present.
 *
 * @since 0.1.0
 * @category layers
 */
export const platforms = (config: MedusaConfig): Layer.Layer<never> => {
  const layers: Array<Layer.Layer<any, never, any>> = []
  if (config.youtube) layers.push(YouTube.layer(config.youtube))
  if (config.vimeo) layers.push(Vimeo.layer(config.vimeo))
  if (config.facebook) layers.push(Facebook.layer(config.facebook))
  if (config.x) layers.push(X.layer(config.x))
  if (config.linkedin) layers.push(LinkedIn.layer(config.linkedin))
  if (layers.length === 0) return Layer.empty
  const [first, ...rest] = layers
  return Layer.mergeAll(first!, ...rest).pipe(
    Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer))
  ) as unknown as Layer.Layer<never>
}

/**
 * Where a cluster worker listens, from `MEDUSA_RUNNER` (`host:port`); without
 * it the process is a client only (submits and watches, runs nothing).
 */
const runnerFromEnv = (): { readonly host: string; readonly port: number } | "client" => {
  const value = process.env.MEDUSA_RUNNER
  if (!value) return "client"
  const at = value.lastIndexOf(":")
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) }
}

/**
 * `Medusa` and its store for a decoded config: in memory, on SQLite
 * (embedded, durable) or on PostgreSQL (a cluster worker or client).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: MedusaConfig): Layer.Layer<Medusa.Medusa | TaskStore.TaskStore, StoreError> => {
  const options = Medusa.optionsFromConfig(config)
  const store = config.medusa.store
  const engine: Layer.Layer<Medusa.Medusa | TaskStore.TaskStore, StoreError> = store === "memory" ?
    Medusa.layerMemory(options) :
    "sqlite" in store ?
    Durable.layerDurable({ ...options, sqlite: store.sqlite }) :
    Durable.layerCluster({ ...options, postgres: store.postgres, runner: runnerFromEnv() })
  return engine.pipe(Layer.provide(platforms(config)))
}

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
