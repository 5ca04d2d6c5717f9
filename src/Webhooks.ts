/**
 * Signed webhooks: tells other systems when a task is created, an upload
 * finishes, a post goes out and a task ends.
 *
 * Events (`task.created`, `upload.completed`, `post.published`,
 * `task.completed`, `task.failed`, `task.cancelled`) are written to an outbox
 * in the task store in the same step (on SQL, the same transaction) that
 * records the change they describe: a change that committed has its event,
 * whatever happens to the process next. The dispatcher this layer runs turns
 * them into deliveries (one per subscribed endpoint), sends each as the
 * Standard Webhooks specification says, and records every attempt in the
 * store, so a restart carries on with the next try. Retries follow
 * `retrySchedule` (the specification's, jittered) or the endpoint's
 * `Retry-After`; a `410 Gone` disables the endpoint.
 *
 * ```ts
 * const WebhooksLive = Webhooks.layer({
 *   endpoints: [{ url: "https://app.example/hooks/medusa", secret: Redacted.make("whsec_…"), events: ["task.completed"] }]
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * A request carries `webhook-id` (the same on every retry of one event),
 * `webhook-timestamp` (seconds, per attempt) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the base64
 * bytes after `whsec_`); the body is `{ type, timestamp, data }`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as MetricKeyType from "effect/MetricKeyType"
import type * as MetricState from "effect/MetricState"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as dispatcher from "./internal/webhooks/dispatcher.js"
import * as events from "./internal/webhooks/events.js"
import type * as outbox from "./internal/webhooks/outbox.js"
import * as signing from "./internal/webhooks/signing.js"
import type { ConfigError } from "./PublishError.js"
import { StoreError } from "./PublishError.js"
import { TaskStore } from "./TaskStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export type EventType = events.EventType

/**
 * Every event type, in the order a task produces them.
 *
 * @since 0.1.0
 * @category constants
 */
export const eventTypes: ReadonlyArray<EventType> = events.eventTypes

/**
 * An endpoint and the events it receives.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint {
  readonly url: string
  /** `whsec_` followed by base64 of 24 to 64 random bytes. */
  readonly secret: Redacted.Redacted<string>
  readonly events: ReadonlyArray<EventType>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly endpoints: ReadonlyArray<Endpoint>
  /** Delays between attempts (default `retrySchedule`); when it ends, the delivery is `failed`. */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** How often due retries and other processes' events are looked for (default 1 s). */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** Per attempt (default 15 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Attempts in flight at once (default 8). */
  readonly concurrency?: number | undefined
  /** Events older than this when first dispatched are not sent (default 24 h). */
  readonly maxEventAge?: Duration.DurationInput | undefined
  /** A `Retry-After` longer than this is cut to it (default 24 h). */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
}

/**
 * One delivery of one event to one endpoint, as `deliveries` and `medusa
 * webhooks` show it.
 *
 * @since 0.1.0
 * @category models
 */
export type Delivery = outbox.Delivery

/**
 * @since 0.1.0
 * @category models
 */
export type DeliveryState = outbox.DeliveryState

/**
 * @since 0.1.0
 * @category models
 */
export type DisabledEndpoint = outbox.DisabledEndpoint

/**
 * The outbox a store keeps (`TaskStore.Service.outbox`).
 *
 * @since 0.1.0
 * @category models
 */
export type Outbox = outbox.Outbox

/**
 * The specification's example schedule after the first attempt: 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, each jittered by ±20 %.
 *
 * @since 0.1.0
 * @category schedules
 */
export const retrySchedule: Schedule.Schedule<Duration.Duration> = dispatcher.retrySchedule

/**
 * The wait before the next attempt after `attempts` failed ones; `None` when
 * the schedule gives no more.
 *
 * @since 0.1.0
 * @category schedules
 */
export const delayAfter: (
  schedule: Schedule.Schedule<unknown, unknown>,
  attempts: number
) => Effect.Effect<Option.Option<number>> = dispatcher.delayAfter

/**
 * Attempts by `result`: `success` (2xx), `failure` (anything else, or no
 * response), `disabled` (410).
 *
 * @since 0.1.0
 * @category metrics
 */
export const deliveriesTotal: Metric.Metric<
  MetricKeyType.MetricKeyType.Counter<number>,
  number,
  MetricState.MetricState.Counter<number>
> = dispatcher.deliveriesTotal

/**
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (
  secret: Redacted.Redacted<string>,
  id: string,
  timestampSeconds: number,
  body: string
): string => {
  const key = signing.keyOf(secret)
  if (typeof key === "string") throw new TypeError(`Webhook secret: ${key}`)
  return signing.sign(key, id, timestampSeconds, body)
}

/**
 * A new random `whsec_` secret.
 *
 * @since 0.1.0
 * @category signing
 */
export const generateSecret: () => Redacted.Redacted<string> = signing.generateSecret

/**
 * Runs the dispatcher for as long as the layer lives. Fails at start with a
 * `ConfigError` naming each bad URL or secret (never showing the secret).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<never, ConfigError | StoreError, TaskStore | HttpClient.HttpClient> =>
  Layer.scopedDiscard(dispatcher.run(options))

const outboxOf: Effect.Effect<Outbox, StoreError, TaskStore> = Effect.flatMap(
  TaskStore,
  (store) =>
    store.outbox !== undefined ?
      Effect.succeed(store.outbox) :
      Effect.fail(
        new StoreError({
          reason: "unavailable",
          description: "This task store keeps no webhook outbox; use the memory, SQLite or PostgreSQL store."
        })
      )
)

/**
 * The delivery log, newest first.
 *
 * @since 0.1.0
 * @category accessors
 */
export const deliveries = (
  query?: { readonly limit?: number; readonly state?: DeliveryState; readonly taskId?: string }
): Effect.Effect<ReadonlyArray<Delivery>, StoreError, TaskStore> => Effect.flatMap(outboxOf, (o) => o.deliveries(query))

/**
 * Endpoints disabled by a `410 Gone`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const disabledEndpoints: Effect.Effect<ReadonlyArray<DisabledEndpoint>, StoreError, TaskStore> = Effect
  .flatMap(outboxOf, (o) => o.disabled)

/**
 * Enables an endpoint a `410` disabled (for events from now on); `false` if it was not disabled.
 *
 * @since 0.1.0
 * @category accessors
 */
export const enableEndpoint = (url: string): Effect.Effect<boolean, StoreError, TaskStore> =>
  Effect.flatMap(outboxOf, (o) => o.enable(url))

/**
 * A delivery as JSON (what `GET /v1/webhooks/deliveries` and `medusa webhooks
 * --json` print): no body, no secret.
 *
 * @since 0.1.0
 * @category conversions
 */
export const deliveryToJSON = (d: Delivery): {
  readonly id: number
  readonly event_id: string
  readonly type: EventType
  readonly task_id: string
  readonly url: string
  readonly state: DeliveryState
  readonly attempts: number
  readonly last_status?: number
  readonly last_error?: string
  readonly next_attempt_at?: string
  readonly created_at: string
  readonly updated_at: string
} => ({
  id: d.id,
  event_id: d.eventId,
  type: d.type,
  task_id: d.taskId,
  url: d.url,
  state: d.state,
  attempts: d.attempts,
  ...(d.lastStatus !== undefined ? { last_status: d.lastStatus } : {}),
  ...(d.lastError !== undefined ? { last_error: d.lastError } : {}),
  ...(d.nextAt !== undefined && d.state === "pending" ? { next_attempt_at: new Date(d.nextAt).toISOString() } : {}),
  created_at: new Date(d.createdAt).toISOString(),
  updated_at: new Date(d.updatedAt).toISOString()
})
