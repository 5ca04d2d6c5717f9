/**
 * OpenTelemetry export of Medusa's traces, metrics and logs (OTLP over HTTP, JSON),
 * and JSON log lines.
 *
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Medusa, Telemetry } from "medusa"
 *
 * const TelemetryLive = Telemetry.layer({ endpoint: "http://127.0.0.1:4318", serviceName: "publisher" }).pipe(
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 * // Provide it outside (before) the Medusa layer, so that task fibers see the tracer.
 * program.pipe(Effect.provide(MedusaLive), Effect.provide(TelemetryLive))
 * ```
 *
 * Off by default. `Live.layer` (the CLI, `createMedusa`) enables it when the
 * config's `telemetry` section or the standard variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`,
 * `OTEL_EXPORTER_OTLP_HEADERS`; `OTEL_SDK_DISABLED=true` switches it off)
 * say so.
 *
 * The exporter is `@effect/opentelemetry` (0.64, the Effect 3 line), an
 * optional peer dependency: it is loaded with a dynamic `import()` only when
 * telemetry is enabled, and only its OTLP modules are used (they need none of
 * the OpenTelemetry SDK packages it lists as peers). The compiled `medusa`
 * command carries it in a chunk of its own.
 *
 * Spans and metrics exist whether or not they are exported: spans go to
 * Effect's tracer (a no-export one by default), metrics to Effect's metric
 * registry (what `medusa serve`'s `/metrics` renders). Every exported span is
 * scrubbed of secrets: no URL query (upload session URLs and signed URLs are
 * credentials), only harmless headers, failures as name and message.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as JsonLogger from "./internal/telemetry/jsonLogger.js"
import * as Metrics from "./internal/telemetry/metrics.js"
import type { MedusaConfig, TelemetryConfig } from "./MedusaConfig.js"
import { ConfigError, Issue } from "./PublishError.js"

// =============================================================================
// Export
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318`; `/v1/traces`, `/v1/metrics` and `/v1/logs` are appended. */
  readonly endpoint: string
  /** `service.name` of the resource. Default `"medusa"`. */
  readonly serviceName?: string | undefined
  /** Headers sent with every export (an API key, …). */
  readonly headers?: Readonly<Record<string, Redacted.Redacted<string>>> | undefined
  /** How often spans, metrics and log records are sent. Default: spans every 5 seconds, metrics every 10, logs every second. */
  readonly exportInterval?: Duration.DurationInput | undefined
  /** How long closing the layer waits for the last export. Default 3 seconds. */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultServiceName: string = "medusa"

/**
 * The OTLP/HTTP endpoint when only `OTEL_SERVICE_NAME` is set (the OTLP default).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultEndpoint: string = "http://localhost:4318"

/**
 * The version of `@effect/opentelemetry` Medusa is built and tested with
 * (what the error for a missing exporter asks to install).
 *
 * @since 0.1.0
 * @category constants
 */
export const exporterPackage: string = "@effect/opentelemetry@0.64.1"

const missingExporter = (file: string, cause: unknown): ConfigError =>
  new ConfigError({
    file,
    issues: [
      new Issue({
        path: ["telemetry"],
        message: `telemetry export is enabled, but its exporter could not be loaded (${
          cause instanceof Error ? cause.message.split("\n")[0] : String(cause)
        }); install it beside Medusa: npm install ${exporterPackage}`
      })
    ],
    cause
  })

type Exporter = typeof import("./internal/telemetry/otlp.js")

/** The exporter module, imported once per process (each `import()` call goes through the module loader's hooks). */
let exporter: Promise<Exporter> | undefined

const loadExporter = (file: string) =>
  Effect.tryPromise({
    try: () => {
      exporter ??= import("./internal/telemetry/otlp.js").catch((cause: unknown) => {
        exporter = undefined
        throw cause
      })
      return exporter
    },
    catch: (cause) => missingExporter(file, cause)
  })

/**
 * Exports every span and metric of the program it is provided to, over the
 * platform `HttpClient`. Provide it outside the layers that start fibers (the
 * `Medusa` layer), so that they inherit its tracer. Closing it sends what is
 * left.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<never, ConfigError, HttpClient.HttpClient> =>
  layerFrom(options, "inline")

const layerFrom = (options: Options, file: string): Layer.Layer<never, ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(loadExporter(file), (otlp) =>
      otlp.layer({
        endpoint: options.endpoint,
        serviceName: options.serviceName ?? defaultServiceName,
        headers: options.headers,
        tracesInterval: options.exportInterval,
        metricsInterval: options.exportInterval,
        shutdownTimeout: options.shutdownTimeout
      }))
  )

/** `k1=v1,k2=v2` (OTEL_EXPORTER_OTLP_HEADERS; values may be percent-encoded). */
const parseHeaders = (text: string): Record<string, Redacted.Redacted<string>> => {
  const out: Record<string, Redacted.Redacted<string>> = {}
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=")
    if (eq <= 0) continue
    const key = pair.slice(0, eq).trim().toLowerCase()
    let value = pair.slice(eq + 1).trim()
    try {
      value = decodeURIComponent(value)
    } catch {
      // kept as written
    }
    if (key !== "") out[key] = Redacted.make(value)
  }
  return out
}

const env = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.string(name)).pipe(
    Effect.map(Option.filter((s) => s.trim() !== "")),
    Effect.orElseSucceed(() => Option.none<string>())
  )

/**
 * The export options from the config's `telemetry` section and the
 * environment (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`,
 * `OTEL_EXPORTER_OTLP_HEADERS`, which override the file, as Medusa's other
 * environment variables do), or `None` when export is off: no endpoint and
 * no service name anywhere, `enabled: false`, or `OTEL_SDK_DISABLED=true`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const optionsFromConfig = (config?: TelemetryConfig | undefined): Effect.Effect<Option.Option<Options>> =>
  Effect.gen(function*() {
    const disabled = yield* env("OTEL_SDK_DISABLED")
    if (Option.isSome(disabled) && disabled.value.trim().toLowerCase() === "true") return Option.none()
    if (config?.enabled === false) return Option.none()
    const endpoint = Option.orElse(
      yield* env("OTEL_EXPORTER_OTLP_ENDPOINT"),
      () => Option.fromNullable(config?.endpoint)
    )
    const serviceName = Option.orElse(yield* env("OTEL_SERVICE_NAME"), () => Option.fromNullable(config?.serviceName))
    if (Option.isNone(endpoint) && Option.isNone(serviceName) && config?.enabled !== true) return Option.none()
    const headers = Option.map(yield* env("OTEL_EXPORTER_OTLP_HEADERS"), parseHeaders)
    const allHeaders = { ...config?.headers, ...Option.getOrUndefined(headers) }
    return Option.some<Options>({
      endpoint: Option.getOrElse(endpoint, () => defaultEndpoint),
      serviceName: Option.getOrElse(serviceName, () => defaultServiceName),
      ...(Object.keys(allHeaders).length > 0 ? { headers: allHeaders } : {}),
      ...(config?.exportInterval !== undefined ? { exportInterval: config.exportInterval } : {})
    })
  })

/**
 * `layer` when the config or the environment enables export; otherwise a
 * layer that does nothing (and loads nothing).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (config: MedusaConfig): Layer.Layer<never, ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(
      optionsFromConfig(config.telemetry),
      Option.match({ onNone: () => Layer.empty, onSome: (options) => layerFrom(options, config.file) })
    )
  )

// =============================================================================
// Logs
// =============================================================================

/**
 * How log lines are written: `"text"` (Medusa's default) or `"json"`.
 *
 * @since 0.1.0
 * @category models
 */
export type LogFormat = "text" | "json"

/**
 * One JSON object per line on stderr, for entries at `minimum` (default
 * `Info`) and above: `time`, `level`, `message`, `task_id`, `platform`,
 * `trace_id`, `span_id`, `fiber`, `cause` (when there is one), then the log
 * annotations. Messages and causes are scrubbed like span attributes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jsonLogger = (options: {
  readonly write?: ((line: string) => void) | undefined
  readonly minimum?: LogLevel.LogLevel | undefined
} = {}): Logger.Logger<unknown, void> => JsonLogger.make(options.write, options.minimum ?? LogLevel.Info)

/**
 * Replaces Effect's default logger with `jsonLogger`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerJsonLogger: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, jsonLogger())

// =============================================================================
// Metrics
// =============================================================================

/**
 * The names of Medusa's metrics, in Effect's metric registry whether or not
 * they are exported.
 *
 * @since 0.1.0
 * @category constants
 */
export const metricNames: ReadonlyArray<string> = Metrics.names
