/**
 * The routes `medusa serve` mounts beside its API: the status page at `/`,
 * the tus ingest at `/v1/uploads`, and the webhook delivery log at
 * `/v1/webhooks/deliveries`. They sit behind the server's key check (the
 * page itself is public: it asks for the key in the browser).
 *
 * @internal
 */
import type * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createHash } from "node:crypto"
import { Ingest } from "../../Ingest.js"
import { TaskStore } from "../../TaskStore.js"
import * as Webhooks from "../../Webhooks.js"
import { statusPageHtml } from "./statusPage.js"

const hashOf = (tag: "script" | "style"): string => {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(statusPageHtml)
  return `'sha256-${createHash("sha256").update(match?.[1] ?? "").digest("base64")}'`
}

/** Only the page's own script and style run; it talks to this origin only. @internal */
export const pageHeaders: Readonly<Record<string, string>> = {
  "content-security-policy": [
    "default-src 'none'",
    `script-src ${hashOf("script")}`,
    `style-src ${hashOf("style")}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; "),
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "cache-control": "no-store"
}

/** `GET /`: the status page (public: the page asks for the key). @internal */
export const layerStatusPage: Layer.Layer<never, never, HttpApi.Api> = HttpApiBuilder.Router.use(
  (router) =>
    router.get(
      "/",
      Effect.succeed(
        HttpServerResponse.text(statusPageHtml, { contentType: "text/html; charset=utf-8", headers: pageHeaders })
      )
    )
)

/** `/v1/uploads` and `/v1/uploads/*`: tus 1.0. @internal */
export const layerIngest: Layer.Layer<never, never, HttpApi.Api | Ingest> = HttpApiBuilder.Router
  .use((router) =>
    Effect.gen(function*() {
      const ingest = yield* Ingest
      const app = HttpApp.fromWebHandler(ingest.handle)
      yield* router.all("/v1/uploads", app)
      yield* router.all("/v1/uploads/*", app)
    })
  )

const states = new Set(["pending", "delivered", "failed", "disabled"])

/** `GET /v1/webhooks/deliveries?limit&state&task_id`: the delivery log, newest first. @internal */
export const layerDeliveries: Layer.Layer<never, never, HttpApi.Api | TaskStore> = HttpApiBuilder
  .Router.use((router) =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const bad = (field: string, message: string) =>
        HttpServerResponse.unsafeJson(
          { error: { code: "invalid_parameter", message: `${field}: ${message}`, field } },
          {
            status: 400
          }
        )
      yield* router.get(
        "/v1/webhooks/deliveries",
        Effect.gen(function*() {
          const params = yield* HttpServerRequest.ParsedSearchParams
          const one = (name: string): string | undefined => {
            const v = params[name]
            return typeof v === "string" ? v : undefined
          }
          const limitText = one("limit")
          const limit = limitText === undefined ? 100 : Number(limitText)
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
            return bad("limit", "must be a whole number from 1 to 1000")
          }
          const state = one("state")
          if (state !== undefined && !states.has(state)) {
            return bad("state", "must be one of pending, delivered, failed, disabled")
          }
          const taskId = one("task_id")
          if (store.outbox === undefined) {
            return HttpServerResponse.unsafeJson({ deliveries: [], disabled_endpoints: [] })
          }
          const deliveries = yield* store.outbox.deliveries({
            limit,
            ...(state !== undefined ? { state: state as Webhooks.DeliveryState } : {}),
            ...(taskId !== undefined ? { taskId } : {})
          })
          const disabled = yield* store.outbox.disabled
          return HttpServerResponse.unsafeJson({
            deliveries: deliveries.map(Webhooks.deliveryToJSON),
            disabled_endpoints: disabled.map((d) => ({
              url: d.url,
              disabled_at: new Date(d.at).toISOString(),
              reason: d.reason
            }))
          })
        }).pipe(Effect.orDie)
      )
    })
  )

/** Whether a path is the page (for the server's public paths). @internal */
export const publicPaths: ReadonlyArray<string> = ["/"]
