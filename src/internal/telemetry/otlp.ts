/**
 * The OTLP/HTTP JSON exporters of `@effect/opentelemetry` (traces and
 * metrics), over the platform `HttpClient`, with every span scrubbed
 * (`./scrub.ts`). Only `Telemetry.layer` imports this module, with a dynamic
 * `import()` once telemetry is enabled, so that neither the library nor the
 * CLI loads the exporter otherwise.
 *
 * @internal
 */
import * as OtlpMetrics from "@effect/opentelemetry/OtlpMetrics"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scrub from "./scrub.js"

/** @internal */
export interface ExportOptions {
  /** OTLP/HTTP base URL; `/v1/traces` and `/v1/metrics` are appended. */
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
  return Layer.merge(tracer, metrics).pipe(Layer.provide(OtlpSerialization.layerJson))
}
