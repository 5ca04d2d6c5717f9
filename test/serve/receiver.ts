import * as http from "node:http"
import type { AddressInfo } from "node:net"

/** One request a receiver got. */
export interface Received {
  readonly headers: Record<string, string>
  readonly body: string
  readonly status: number
}

/** A loopback webhook receiver: `answer(n)` gives the status (and headers) of the n-th request (from 0). */
export const startReceiver = async (
  answer: (n: number, body: string) => { readonly status: number; readonly headers?: Record<string, string> } = () => ({
    status: 200
  })
): Promise<{
  readonly url: string
  readonly received: Array<Received>
  /** Resolves once `count` requests have arrived; rejects after `ms`. */
  readonly waitFor: (count: number, ms?: number) => Promise<void>
  readonly close: () => Promise<void>
}> => {
  const received: Array<Received> = []
  const waiters: Array<() => void> = []
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const { status, headers } = answer(received.length, body)
      const flat: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") flat[k] = v
      received.push({ headers: flat, body, status })
      res.writeHead(status, headers).end()
      for (const w of waiters.splice(0)) w()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  const waitFor = (count: number, ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`receiver got ${received.length} requests, expected ${count}, within ${ms} ms`)),
        ms
      )
      const check = () => {
        if (received.length >= count) {
          clearTimeout(deadline)
          resolve()
        } else waiters.push(check)
      }
      check()
    })
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    waitFor,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
