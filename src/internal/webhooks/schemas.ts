/**
 * The delivery log's wire format (`GET /v1/webhooks/deliveries`, `medusa
 * webhooks --json`), as Schemas the server's API declares.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import { eventTypes } from "./events.js"

const DeliveryState = Schema.Literal("pending", "delivered", "failed", "disabled")

/** @internal */
export const DeliveryJson = Schema.Struct({
  id: Schema.Number,
  /** The `webhook-id` of every attempt. */
  event_id: Schema.String,
  type: Schema.Literal(...eventTypes),
  task_id: Schema.String,
  url: Schema.String,
  state: DeliveryState,
  attempts: Schema.Number,
  last_status: Schema.optional(Schema.Number),
  last_error: Schema.optional(Schema.String),
  next_attempt_at: Schema.optional(Schema.String),
  created_at: Schema.String,
  updated_at: Schema.String
}).annotations({ identifier: "WebhookDelivery" })

/** @internal */
export const DeliveryLog = Schema.Struct({
  deliveries: Schema.Array(DeliveryJson),
  /** Endpoints a `410 Gone` disabled. */
  disabled_endpoints: Schema.Array(Schema.Struct({
    url: Schema.String,
    disabled_at: Schema.String,
    reason: Schema.String
  }))
}).annotations({ identifier: "WebhookDeliveryLog" })

const Limit = Schema.NumberFromString.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= 1000, {
    message: () => "must be a whole number from 1 to 1000"
  })
)

/** @internal */
export const DeliveryParams = Schema.Struct({
  state: Schema.optional(
    DeliveryState.annotations({
      message: (issue) => `must be one of pending, delivered, failed, disabled; got ${JSON.stringify(issue.actual)}`
    })
  ),
  task_id: Schema.optional(Schema.String),
  limit: Schema.optional(Limit)
})
