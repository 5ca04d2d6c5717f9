/**
 * The webhook outbox kept by a task store: events recorded with the changes
 * they describe, fanned out to the configured endpoints as deliveries, each
 * delivery attempted until it succeeds, runs out of tries or its endpoint is
 * disabled. The SQL and memory stores implement it; the dispatcher
 * (`Webhooks`) only talks to this interface.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type { StoreError } from "../../PublishError.js"
import type { EventType } from "./events.js"

/** @internal */
export interface EndpointSubscription {
  readonly url: string
  readonly events: ReadonlyArray<EventType>
}

/** @internal */
export type DeliveryState = "pending" | "delivered" | "failed" | "disabled"

/** @internal */
export interface Delivery {
  readonly id: number
  /** The `webhook-id`: the same on every attempt. */
  readonly eventId: string
  readonly type: EventType
  readonly taskId: string
  readonly url: string
  /** The signed body. */
  readonly body: string
  readonly state: DeliveryState
  readonly attempts: number
  /** The HTTP status of the last attempt (absent: none yet, or no response). */
  readonly lastStatus: number | undefined
  readonly lastError: string | undefined
  /** Epoch ms of the next try (pending only). */
  readonly nextAt: number | undefined
  readonly createdAt: number
  readonly updatedAt: number
}

/** @internal */
export interface DisabledEndpoint {
  readonly url: string
  readonly at: number
  readonly reason: string
}

/** @internal */
export interface Outcome {
  readonly state: DeliveryState
  readonly attempts: number
  readonly lastStatus: number | undefined
  readonly lastError: string | undefined
  readonly nextAt: number | undefined
  readonly now: number
}

/** @internal */
export interface DeliveryQuery {
  readonly limit?: number | undefined
  readonly state?: DeliveryState | undefined
  readonly taskId?: string | undefined
}

/** @internal */
export interface Outbox {
  /**
   * Turns every event not yet dispatched into one delivery per subscribed,
   * enabled endpoint (due at `now`), and marks the events dispatched, in one
   * transaction. Events older than `now - maxAge` are marked without
   * deliveries. Returns how many deliveries were created.
   */
  readonly fanOut: (
    endpoints: ReadonlyArray<EndpointSubscription>,
    now: number,
    maxAge: number
  ) => Effect.Effect<number, StoreError>
  /**
   * Takes up to `limit` due deliveries and pushes their next try to
   * `now + lease`: no other process takes them meanwhile, and one whose
   * attempt never reports (a crash) is due again after the lease.
   */
  readonly claim: (now: number, lease: number, limit: number) => Effect.Effect<ReadonlyArray<Delivery>, StoreError>
  /** Records an attempt's outcome. */
  readonly record: (id: number, outcome: Outcome) => Effect.Effect<void, StoreError>
  /** Disables an endpoint (a 410): its pending deliveries become `disabled`, and no new ones are made. */
  readonly disable: (url: string, now: number, reason: string) => Effect.Effect<void, StoreError>
  /** Enables an endpoint again (new events only). */
  readonly enable: (url: string) => Effect.Effect<boolean, StoreError>
  readonly disabled: Effect.Effect<ReadonlyArray<DisabledEndpoint>, StoreError>
  /** Newest first. */
  readonly deliveries: (query?: DeliveryQuery) => Effect.Effect<ReadonlyArray<Delivery>, StoreError>
}
