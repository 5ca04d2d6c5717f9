/**
 * What the server adds for web applications, as two layers the `Server`
 * module merges: the routes (status page, tus ingest, delivery log) and the
 * background services (the webhook dispatcher, the ingest store).
 *
 * @internal
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpApi from "@effect/platform/HttpApi"
import * as Layer from "effect/Layer"
import * as Ingest from "../../Ingest.js"
import type { ConfigError, StoreError } from "../../PublishError.js"
import type { TaskStore } from "../../TaskStore.js"
import * as Webhooks from "../../Webhooks.js"
import * as Routes from "./routes.js"

/** @internal */
export interface WebOptions {
  /** Endpoints (and dispatch options); no dispatcher runs without endpoints. */
  readonly webhooks?: Webhooks.Options | undefined
  /** The tus ingest at `/v1/uploads`; off when absent. */
  readonly uploads?: Ingest.Options | undefined
  /** The status page at `/` (default true). */
  readonly statusPage?: boolean | undefined
}

/** Paths served without a key. @internal */
export const publicPaths = (options: WebOptions): ReadonlyArray<string> =>
  options.statusPage === false ? [] : Routes.publicPaths

/** The routes, beside the API. @internal */
export const layerRoutes = (options: WebOptions): Layer.Layer<never, never, HttpApi.Api | TaskStore | Ingest.Ingest> =>
  Layer.mergeAll(
    options.statusPage === false ? Layer.empty : Routes.layerStatusPage,
    options.uploads === undefined ? Layer.empty : Routes.layerIngest
  )

/** The handlers of the API's `webhooks` group. @internal */
export const layerWebhooksGroup = Routes.layerDeliveries

/**
 * The ingest (when configured) and the webhook dispatcher (when endpoints
 * are), over the server's store. Webhooks go out through undici, which
 * follows no redirect: a 3xx is a failed attempt, as the specification says.
 *
 * @internal
 */
export const layerServices = (
  options: WebOptions
): Layer.Layer<Ingest.Ingest, ConfigError | StoreError, TaskStore> => {
  // Without uploads nothing reads `Ingest`: its routes are not mounted, and
  // a `media_id` is refused (the handlers look it up with `serviceOption`).
  const ingest = options.uploads === undefined ?
    (Layer.empty as unknown as Layer.Layer<Ingest.Ingest>) :
    Ingest.layer(options.uploads)
  const webhooks = options.webhooks === undefined || options.webhooks.endpoints.length === 0 ?
    Layer.empty :
    Webhooks.layer(options.webhooks).pipe(Layer.provide(NodeHttpClient.layerUndici))
  return Layer.merge(ingest, webhooks)
}
