/**
 * Small real-HTTP helpers for the sandbox tests (node:http, so that tests
 * control every header and can stream or cut bodies).
 */
import * as http from "node:http"
import { sha256, xorshiftBytes } from "../contract/bytes.js"

export interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  readonly text: string
  readonly json: any
}

export interface RequestOptions {
  readonly method?: string
  readonly headers?: Record<string, string | number>
  readonly body?: string | Buffer | undefined
}

/** One request on a fresh connection; rejects when the server drops it. */
export const request = (url: string, options: RequestOptions = {}): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const body = typeof options.body === "string" ? Buffer.from(options.body) : options.body
    const req = http.request(url, {
      method: options.method ?? "GET",
      agent: false,
      headers: { ...(body !== undefined ? { "content-length": body.length } : {}), ...options.headers }
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("error", reject)
      res.on("end", () => {
        const buffer = Buffer.concat(chunks)
        const text = buffer.toString("utf8")
        let json: unknown = undefined
        try {
          json = text.length > 0 ? JSON.parse(text) : undefined
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buffer, text, json })
      })
    })
    req.on("error", reject)
    if (body !== undefined) req.end(body)
    else req.end()
  })

export { sha256 }

/** Deterministic pseudo-random bytes. */
export const bytes = (length: number, seed = 1): Buffer => xorshiftBytes(length, seed)

export const json = (value: unknown) => JSON.stringify(value)
