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
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createHash } from "node:crypto"
import { Ingest } from "../../Ingest.js"
import { TaskStore } from "../../TaskStore.js"
import * as Webhooks from "../../Webhooks.js"
import { Api, type Authorization } from "../server/api.js"
import { enableWebhookEndpoint } from "../server/handlers.js"
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

/** `GET /v1/webhooks/deliveries`: the delivery log, newest first (declared in the API). @internal */
export const layerDeliveries: Layer.Layer<
  HttpApiGroup.ApiGroup<"medusa", "webhooks">,
  never,
  TaskStore | Authorization
> = HttpApiBuilder.group(Api, "webhooks", (handlers) =>
  Effect.gen(function*() {
    const store = yield* TaskStore
    return handlers.handle("deliveries", ({ urlParams }) =>
      Effect.gen(function*() {
        const outbox = store.outbox
        if (outbox === undefined) return { deliveries: [], disabled_endpoints: [] }
        const deliveries = yield* outbox.deliveries({
          limit: urlParams.limit ?? 100,
          state: urlParams.state,
          taskId: urlParams.task_id
        })
        const disabled = yield* outbox.disabled
        return {
          deliveries: deliveries.map(Webhooks.deliveryToJSON),
          disabled_endpoints: disabled.map((d) => ({
            url: d.url,
            disabled_at: new Date(d.at).toISOString(),
            reason: d.reason
          }))
        }
      }).pipe(Effect.orDie)).handle("enable", ({ payload }) => enableWebhookEndpoint(store, payload.url))
  }))

/** Whether a path is the page (for the server's public paths). @internal */
export const publicPaths: ReadonlyArray<string> = ["/"]
