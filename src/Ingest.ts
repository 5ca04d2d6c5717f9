/**
 * Browser ingest for `medusa serve`: a tus 1.0 endpoint (`/v1/uploads`, the
 * real `@tus/server` with its file store) so that a web page sends a large
 * video resumably. A finished upload's id is a `media_id` (the last segment
 * of its upload URL, `media_<32 hex digits>`, also sent back in the
 * `Medusa-Media-Id` header of the last `PATCH`) that `POST /v1/tasks` accepts
 * instead of `mediaFile`.
 *
 * Storage is bounded: each upload must declare its length, at most
 * `maxUploadBytes`, and a creation that would take the uploads kept past
 * `maxTotalBytes` is refused with 413. An upload is deleted once every task
 * that used it has ended; unfinished or never used uploads expire after
 * `expireAfter`.
 *
 * @since 0.1.0
 */
import * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/ingest/tus.js"
import type { InvalidRequest } from "./PublishError.js"
import type { TaskStore } from "./TaskStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends internal.Options {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service extends internal.Service {}

/**
 * @since 0.1.0
 * @category tags
 */
export class Ingest extends Context.Tag("@medusa/Ingest")<Ingest, Service>() {}

/**
 * Whether a string has the shape of a `media_id`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isMediaId: (value: string) => boolean = internal.isMediaId

/**
 * The tus endpoint and its clean-up, for as long as the layer lives.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Ingest, never, TaskStore> =>
  Layer.scoped(Ingest, internal.make(options))

/**
 * The endpoint as an `HttpApp`, to mount at `/v1/uploads` and
 * `/v1/uploads/*` (behind the server's authentication).
 *
 * @since 0.1.0
 * @category handlers
 */
export const app: HttpApp.Default<HttpServerError.HttpServerError, Ingest> = Effect.flatMap(
  Ingest,
  (ingest) => HttpApp.fromWebHandler(ingest.handle)
)

/**
 * Runs `f` with the file of the finished upload `mediaId` (kept while `f`
 * runs); the one place a `media_id` becomes a `mediaFile`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const useMedia = <A, E, R>(
  mediaId: string,
  f: (file: string) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | InvalidRequest, R | Ingest> => Effect.flatMap(Ingest, (ingest) => ingest.useMedia(mediaId, f))
