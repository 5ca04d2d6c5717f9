/**
 * `medusa serve` as a library: an HTTP API over the same `Medusa` service and
 * `TaskStore` the CLI uses (SQLite by default, PostgreSQL when configured),
 * built with `@effect/platform`'s `HttpApi`. Endpoints and schemas are
 * declared once (`Api`); the OpenAPI document (`GET /openapi.json`), the
 * docs page (`GET /docs`, Scalar, bundled: works offline) and a typed client
 * (`HttpApiClient.make(Server.Api)`) derive from them.
 *
 * ```ts
 * import { Layer } from "effect"
 * import { Live } from "medusa"
 * import * as Server from "medusa/server"
 *
 * const ServerLive = Server.layerNode({
 *   port: 8080,
 *   apiKeys: [{ key: Redacted.make(process.env.API_KEY!), scopes: ["read", "write"] }],
 *   mediaRoots: ["/srv/media"]
 * }).pipe(Layer.provide(Live.layerFromConfigFile("medusa.config.json")))
 * ```
 *
 * Everything but `/healthz` needs `Authorization: Bearer <key>`; errors are
 * `{ "error": { code, message, field? } }`. More routes mount beside the API
 * through `Options.routes`: layers that add to `HttpApiBuilder.Router`
 * (`HttpApiBuilder.Router.use((router) => router.get(...))`), behind the same
 * key check and error shape (list a route in `publicPaths` to serve it
 * without a key).
 *
 * @since 0.1.0
 */
import "./internal/checkNode.js"
import type * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Tracer from "effect/Tracer"
import { createServer } from "node:http"
import type * as Ingest from "./Ingest.js"
import * as ApiModule from "./internal/server/api.js"
import * as App from "./internal/server/app.js"
import { layerAuthorization, makeKeys } from "./internal/server/auth.js"
import * as FastRead from "./internal/server/fastRead.js"
import { layerHandlers } from "./internal/server/handlers.js"
import * as Web from "./internal/web/layer.js"
import type { Medusa } from "./Medusa.js"
import type { MedusaConfig } from "./MedusaConfig.js"
import type { ConfigError, StoreError } from "./PublishError.js"
import { TaskStore } from "./TaskStore.js"
import type * as Webhooks from "./Webhooks.js"

// =============================================================================
// Models
// =============================================================================

/**
 * The API's declaration: build a typed client with `HttpApiClient.make(Api)`.
 *
 * @since 0.1.0
 * @category api
 */
export const Api: typeof ApiModule.Api = ApiModule.Api

/**
 * @since 0.1.0
 * @category api
 */
export type Api = ApiModule.Api

/**
 * An API key and what it may do: `["read"]` (status, lists, events) or
 * `["read", "write"]` (also submit, cancel, resume).
 *
 * @since 0.1.0
 * @category models
 */
export interface ApiKey {
  readonly key: Redacted.Redacted<string>
  readonly scopes: ReadonlyArray<"read" | "write">
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Keys accepted in `Authorization: Bearer <key>`. Without any, every request but /healthz is refused. */
  readonly apiKeys: ReadonlyArray<ApiKey>
  /** Folders a request's `mediaFile` may come from (symlinks followed). Without any, submits are refused. */
  readonly mediaRoots?: ReadonlyArray<string> | undefined
  /** Origins allowed by CORS; CORS is off when empty (the default). */
  readonly corsOrigins?: ReadonlyArray<string> | undefined
  /** Largest request body, in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** How often an idle event stream gets a comment. Default 15 seconds. */
  readonly heartbeat?: Duration.DurationInput | undefined
  /**
   * Extra routes: layers adding to `HttpApiBuilder.Router`
   * (`HttpApiBuilder.Router.use((router) => router.get(...))`); they may use
   * the same `Medusa` and `TaskStore`.
   */
  readonly routes?: Layer.Layer<never, never, HttpApi.Api | Medusa | TaskStore> | undefined
  /** Request headers CORS allows besides the API's own (a mounted route's, e.g. tus's `Upload-Offset`). */
  readonly corsAllowedHeaders?: ReadonlyArray<string> | undefined
  /** Response headers CORS exposes besides `Location`. */
  readonly corsExposedHeaders?: ReadonlyArray<string> | undefined
  /** Paths served without a key besides /healthz (exact, or a prefix ending in `/`). */
  readonly publicPaths?: ReadonlyArray<string> | undefined
  /** Signed webhooks (`Webhooks`): no dispatcher runs without endpoints. */
  readonly webhooks?: Webhooks.Options | undefined
  /** The tus ingest at `/v1/uploads` (`Ingest`), whose uploads `media_id` names; off when absent. */
  readonly uploads?: Ingest.Options | undefined
  /** The status page at `/` (default true). */
  readonly statusPage?: boolean | undefined
  /**
   * A span per request (`http.server GET`, with the route, status and
   * headers, keys redacted). Default: when a tracer other than Effect's
   * built-in one is installed (telemetry export on, `Telemetry.layer`); the
   * built-in tracer sends spans nowhere, and a request's span costs about
   * as much CPU as the rest of a `GET /v1/tasks/{id}`.
   */
  readonly traceRequests?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaults: {
  readonly maxBodyBytes: number
  readonly heartbeat: Duration.Duration
  readonly port: number
  readonly host: string
} = {
  maxBodyBytes: 1024 * 1024,
  heartbeat: Duration.seconds(15),
  port: 8080,
  host: "127.0.0.1"
}

// =============================================================================
// Layers
// =============================================================================

/**
 * The API with its handlers, over `Medusa` and `TaskStore` (platform layers
 * in context, when given, make `POST /v1/validate` check platform rules
 * too).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerApi = (options: Options): Layer.Layer<HttpApi.Api, never, Medusa | TaskStore> =>
  HttpApiBuilder.api(Api).pipe(
    Layer.provide(layerHandlers({
      mediaRoots: options.mediaRoots ?? [],
      maxBodyBytes: options.maxBodyBytes ?? defaults.maxBodyBytes,
      heartbeat: options.heartbeat ?? defaults.heartbeat
    })),
    Layer.provide(Web.layerWebhooksGroup),
    Layer.provide(layerAuthorization(makeKeys(options.apiKeys)))
  )

const corsHeaders = ["authorization", "content-type", "idempotency-key", "last-event-id"]

/**
 * The routes beside the API (docs, extras) and the middleware around all of
 * them: the key check, one error shape, CORS when configured.
 */
const layerAround = (
  options: Options,
  web: Web.WebOptions
): Layer.Layer<never, never, HttpApi.Api | Medusa | TaskStore | Ingest.Ingest> => {
  const wrap = App.wrap({
    keys: makeKeys(options.apiKeys),
    publicPaths: ["/healthz", ...Web.publicPaths(web), ...(options.publicPaths ?? [])],
    readOnlyPosts: ["/v1/validate"]
  })
  const origins = options.corsOrigins ?? []
  const middleware = HttpApiBuilder.middleware((app) =>
    origins.length === 0 ? wrap(app) : HttpMiddleware.cors({
      allowedOrigins: origins,
      allowedHeaders: [...corsHeaders, ...(options.corsAllowedHeaders ?? []).map((h) => h.toLowerCase())],
      exposedHeaders: ["location", "idempotent-replayed", ...(options.corsExposedHeaders ?? [])],
      allowedMethods: ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"]
    })(wrap(app))
  )
  // The docs page inlines Scalar's script (3 MB), loaded only when a server starts.
  const docs = Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@effect/platform/HttpApiScalar")),
      (Scalar) => Scalar.layer({ path: "/docs", scalar: { withDefaultFonts: false } })
    )
  )
  return Layer.mergeAll(middleware, docs, Web.layerRoutes(web), options.routes ?? Layer.empty)
}

/**
 * The server on whatever `HttpServer` is provided.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<never, ConfigError | StoreError, HttpServer.HttpServer | Medusa | TaskStore> => {
  // The status page, the tus ingest and the delivery log beside the API; the
  // ingest and the webhook dispatcher run with the server.
  const web: Web.WebOptions = { webhooks: options.webhooks, uploads: options.uploads, statusPage: options.statusPage }
  const served = HttpApiBuilder.serve().pipe(
    Layer.provide(layerAround(options, web)),
    Layer.provide(layerApi(options)),
    Layer.provide(Web.layerServices(web)),
    Layer.provide(HttpServer.layerContext)
  )
  return Layer.unwrapEffect(Effect.map(Effect.tracer, (tracer) => {
    const traced = options.traceRequests ?? tracer !== builtInTracer
    return traced ? served : HttpMiddleware.withTracerDisabledWhen(served, () => true)
  }))
}

/** Effect's own tracer: its spans are kept in memory only, exported nowhere. */
const builtInTracer: Tracer.Tracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * @since 0.1.0
 * @category models
 */
export interface NodeOptions extends Options {
  /** Default 8080; 0 picks a free port. */
  readonly port?: number | undefined
  /** Default 127.0.0.1. */
  readonly host?: string | undefined
}

/**
 * The server on Node's `http`, listening on `host:port`. Its address is the
 * `HttpServer` it also provides (`HttpServer.addressFormattedWith`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNode = (
  options: NodeOptions
): Layer.Layer<HttpServer.HttpServer, ServeError | ConfigError | StoreError, Medusa | TaskStore> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const NodeHttpServer = yield* Effect.promise(() => import("@effect/platform-node/NodeHttpServer"))
    // Task reads are answered before the API's stack when nothing around it (CORS, spans) must see them.
    const store = yield* TaskStore
    const tracer = yield* Effect.tracer
    const direct = (options.corsOrigins ?? []).length === 0 && !(options.traceRequests ?? tracer !== builtInTracer)
    const keys = makeKeys(options.apiKeys)
    return layer(options).pipe(
      Layer.provideMerge(
        NodeHttpServer.layer(() => direct ? FastRead.install(createServer(), keys, store) : createServer(), {
          port: options.port ?? defaults.port,
          host: options.host ?? defaults.host
        })
      )
    )
  }))

// =============================================================================
// Configuration
// =============================================================================

/**
 * The options of a config file's `server` section.
 *
 * @since 0.1.0
 * @category constructors
 */
export const optionsFromConfig = (config: MedusaConfig): Options => {
  const server = config.server
  return {
    apiKeys: server?.apiKeys ?? [],
    mediaRoots: server?.mediaRoots ?? [],
    corsOrigins: server?.corsOrigins ?? [],
    ...(server?.maxBodyBytes !== undefined ? { maxBodyBytes: server.maxBodyBytes } : {}),
    ...(server?.webhooks !== undefined && server.webhooks.length > 0 ?
      { webhooks: { endpoints: server.webhooks } } :
      {}),
    ...(server?.uploads !== undefined ?
      {
        uploads: {
          directory: server.uploads.directory ?? ".medusa/uploads",
          maxUploadBytes: server.uploads.maxUploadBytes,
          maxTotalBytes: server.uploads.maxTotalBytes,
          expireAfter: server.uploads.expireAfter
        }
      } :
      {})
  }
}
