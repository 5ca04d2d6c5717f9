/**
 * The OTLP/HTTP JSON exporters of `@effect/opentelemetry` (traces, metrics
 * and logs), over the platform `HttpClient`, with every span and log record
 * scrubbed (`./scrub.ts`). Only `Telemetry.layer` imports this module, with a dynamic
 * `import()` once telemetry is enabled, so that neither the library nor the
 * CLI loads the exporter otherwise.
 *
 * @internal
 */
import * as OtlpLogger from "@effect/opentelemetry/OtlpLogger"
import * as OtlpMetrics from "@effect/opentelemetry/OtlpMetrics"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Scrub from "./scrub.js"

/** @internal */
export interface ExportOptions {
  /** OTLP/HTTP base URL; `/v1/traces`, `/v1/metrics` and `/v1/logs` are appended. */
  readonly endpoint: string
  readonly serviceName: string
  readonly serviceVersion?: string | undefined
  readonly headers?: Readonly<Record<string, Redacted.Redacted<string>>> | undefined
  readonly tracesInterval?: Duration.DurationInput | undefined
  readonly metricsInterval?: Duration.DurationInput | undefined
  readonly shutdownTimeout?: Duration.DurationInput | undefined
}

const path = (endpoint: string, signal: string): string => `${endpoint.replace(/\/+$/, "")}/v1/${signal}`

/** @internal */
export const layer = (options: ExportOptions): Layer.Layer<never, never, HttpClient.HttpClient> => {
  const resource = {
    serviceName: options.serviceName,
    ...(options.serviceVersion !== undefined ? { serviceVersion: options.serviceVersion } : {})
  }
  // Header values stay Redacted until the exporter's request is built.
  const headers = options.headers === undefined ?
    undefined :
    Object.fromEntries(Object.entries(options.headers).map(([k, v]) => [k, Redacted.value(v)]))
  const common = {
    resource,
    ...(headers !== undefined ? { headers } : {}),
    ...(options.shutdownTimeout !== undefined ? { shutdownTimeout: options.shutdownTimeout } : {})
  }
  const tracer = Layer.unwrapScoped(
    Effect.map(
      OtlpTracer.make({
        ...common,
        url: path(options.endpoint, "traces"),
        ...(options.tracesInterval !== undefined ? { exportInterval: options.tracesInterval } : {})
      }),
      (t) => Layer.setTracer(Scrub.tracer(t))
    )
  )
  const metrics = OtlpMetrics.layer({
    ...common,
    url: path(options.endpoint, "metrics"),
    ...(options.metricsInterval !== undefined ? { exportInterval: options.metricsInterval } : {})
  })
  // Log records: added beside the process's own logger (stderr text or JSON lines), scrubbed as spans are.
  const logs = Logger.addScoped(
    Effect.map(
      OtlpLogger.make({
        ...common,
        url: path(options.endpoint, "logs"),
        excludeLogSpans: true,
        ...(options.tracesInterval !== undefined ? { exportInterval: options.tracesInterval } : {})
      }),
      scrubbed
    )
  )
  // One after the other, not `Layer.mergeAll`: layers built in parallel run in
  // child fibers whose tracer and logger changes are joined into the parent
  // and never undone, so the closed exporter's tracer and logger would stay
  // installed after the layer's scope ends (and pile up at each rebuild).
  return tracer.pipe(
    Layer.provideMerge(logs),
    Layer.provideMerge(metrics),
    Layer.provide(OtlpSerialization.layerJson)
  )
}

const messageText = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((m) => (typeof m === "string" ? m : Inspectable.toStringUnknown(m, 0))).join(" ")
}

/** The exporter's logger, fed the message, cause and annotations scrubbed (no URL query, no cause chain). */
const scrubbed = (inner: Logger.Logger<unknown, void>): Logger.Logger<unknown, void> =>
  Logger.make((entry) =>
    inner.log({
      ...entry,
      message: Scrub.text(messageText(entry.message)),
      cause: Scrub.cause(entry.cause),
      annotations: HashMap.map(entry.annotations, (value) => typeof value === "string" ? Scrub.text(value) : value)
    })
  )
