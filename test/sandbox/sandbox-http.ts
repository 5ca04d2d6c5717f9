/**
 * Small real-HTTP helpers for the sandbox tests (node:http, so that tests
 * control every header and can stream or cut bodies).
 */
import { createHash } from "node:crypto"
import * as http from "node:http"

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

export const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex")

/** Deterministic pseudo-random bytes. */
export const bytes = (length: number, seed = 1): Buffer => {
  const out = Buffer.alloc(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

export const json = (value: unknown) => JSON.stringify(value)
