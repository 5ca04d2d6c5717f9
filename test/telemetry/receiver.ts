/**
 * An OTLP/HTTP JSON receiver on loopback (an ephemeral port): keeps every
 * request body it gets on `/v1/traces`, `/v1/metrics` and `/v1/logs`, and
 * answers 200 `{}` as a collector does. `keep: false` only counts bytes and
 * requests (for benchmarks: what a collector does with the data is not
 * Medusa's cost).
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface OtlpAttribute {
  readonly key: string
  readonly value: {
    readonly stringValue?: string
    readonly intValue?: number | string
    readonly doubleValue?: number
    readonly boolValue?: boolean
    readonly arrayValue?: { readonly values: ReadonlyArray<OtlpAttribute["value"]> }
  }
}

export interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly attributes: ReadonlyArray<OtlpAttribute>
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: ReadonlyArray<OtlpAttribute> }>
  readonly status: { readonly code: number; readonly message?: string }
}

export interface OtlpLogRecord {
  readonly severityText: string
  readonly body: OtlpAttribute["value"]
  readonly attributes: ReadonlyArray<OtlpAttribute>
  readonly traceId?: string
  readonly spanId?: string
}

export interface Receiver {
  readonly url: string
  /** Raw bodies by path. */
  readonly bodies: ReadonlyMap<string, ReadonlyArray<string>>
  readonly requests: () => number
  readonly bytes: () => number
  readonly spans: () => ReadonlyArray<OtlpSpan>
  readonly logs: () => ReadonlyArray<OtlpLogRecord>
  readonly resourceAttributes: () => ReadonlyArray<OtlpAttribute>
  /** The latest data points of every metric by name (the exporter sends cumulative values). */
  readonly metrics: () => ReadonlyMap<string, any>
  readonly close: () => Promise<void>
}

export const attr = (attributes: ReadonlyArray<OtlpAttribute>, key: string): unknown => {
  const found = attributes.find((a) => a.key === key)
  if (found === undefined) return undefined
  const v = found.value
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.arrayValue !== undefined) return v.arrayValue.values.map((x) => x.stringValue ?? x.intValue)
  return undefined
}

export const start = (options: { readonly keep?: boolean } = {}): Promise<Receiver> => {
  const keep = options.keep ?? true
  const bodies = new Map<string, Array<string>>()
  let requests = 0
  let bytes = 0
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length
      if (keep) chunks.push(chunk)
    })
    req.on("end", () => {
      requests++
      if (keep) {
        const list = bodies.get(req.url ?? "") ?? []
        list.push(Buffer.concat(chunks).toString("utf8"))
        bodies.set(req.url ?? "", list)
      }
      res.writeHead(200, { "content-type": "application/json" })
      res.end("{}")
    })
  })
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        bodies,
        requests: () => requests,
        bytes: () => bytes,
        spans: () =>
          (bodies.get("/v1/traces") ?? []).flatMap((b) =>
            (JSON.parse(b).resourceSpans as Array<any>).flatMap((r) =>
              (r.scopeSpans as Array<any>).flatMap((s) => s.spans as Array<OtlpSpan>)
            )
          ),
        logs: () =>
          (bodies.get("/v1/logs") ?? []).flatMap((b) =>
            (JSON.parse(b).resourceLogs as Array<any>).flatMap((r) =>
              (r.scopeLogs as Array<any>).flatMap((s) => s.logRecords as Array<OtlpLogRecord>)
            )
          ),
        resourceAttributes: () => {
          const first = (bodies.get("/v1/traces") ?? [])[0]
          return first === undefined ? [] : JSON.parse(first).resourceSpans[0].resource.attributes
        },
        metrics: () => {
          const out = new Map<string, any>()
          for (const b of bodies.get("/v1/metrics") ?? []) {
            for (const r of JSON.parse(b).resourceMetrics as Array<any>) {
              for (const s of r.scopeMetrics as Array<any>) for (const m of s.metrics) out.set(m.name, m)
            }
          }
          return out
        },
        close: () => {
          server.closeAllConnections()
          return new Promise<void>((done) => server.close(() => done()))
        }
      })
    })
  )
}
