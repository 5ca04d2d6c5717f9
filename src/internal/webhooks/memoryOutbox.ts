/**
 * The webhook outbox of the in-memory store: the same contract as the SQL
 * one, for one process (nothing survives it, like the tasks themselves).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { OutboxEvent } from "./events.js"
import type { Delivery, DeliveryQuery, DisabledEndpoint, EndpointSubscription, Outbox, Outcome } from "./outbox.js"

interface Row {
  id: number
  event: OutboxEvent
  url: string
  state: Delivery["state"]
  attempts: number
  lastStatus: number | undefined
  lastError: string | undefined
  nextAt: number | undefined
  createdAt: number
  updatedAt: number
}

const toDelivery = (row: Row): Delivery => ({
  id: row.id,
  eventId: row.event.id,
  type: row.event.type,
  taskId: row.event.taskId,
  url: row.url,
  body: row.event.body,
  state: row.state,
  attempts: row.attempts,
  lastStatus: row.lastStatus,
  lastError: row.lastError,
  nextAt: row.nextAt,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt
})

/** @internal */
export interface MemoryOutbox {
  /** Called by the store in the step that applies a change. */
  readonly append: (events: ReadonlyArray<OutboxEvent>) => void
  /** Drops a pruned task's events and deliveries. */
  readonly forget: (taskId: string) => void
  readonly outbox: Outbox
}

/** @internal */
export const make = (): MemoryOutbox => {
  let undispatched: Array<OutboxEvent> = []
  const rows = new Map<number, Row>()
  const disabledEndpoints = new Map<string, DisabledEndpoint>()
  let nextId = 1

  const append = (events: ReadonlyArray<OutboxEvent>) => {
    if (events.length > 0) undispatched.push(...events)
  }

  const forget = (taskId: string) => {
    undispatched = undispatched.filter((e) => e.taskId !== taskId)
    for (const [id, row] of rows) if (row.event.taskId === taskId) rows.delete(id)
  }

  const fanOut = (endpoints: ReadonlyArray<EndpointSubscription>, now: number, maxAge: number) =>
    Effect.sync(() => {
      const events = undispatched
      undispatched = []
      let created = 0
      for (const event of events) {
        if (event.at < now - maxAge) continue
        for (const endpoint of endpoints) {
          if (disabledEndpoints.has(endpoint.url) || !endpoint.events.includes(event.type)) continue
          const id = nextId++
          rows.set(id, {
            id,
            event,
            url: endpoint.url,
            state: "pending",
            attempts: 0,
            lastStatus: undefined,
            lastError: undefined,
            nextAt: now,
            createdAt: now,
            updatedAt: now
          })
          created++
        }
      }
      return created
    })

  const claim = (now: number, lease: number, limit: number) =>
    Effect.sync(() => {
      const due = [...rows.values()]
        .filter((r) => r.state === "pending" && r.nextAt !== undefined && r.nextAt <= now)
        .sort((a, b) => a.nextAt! - b.nextAt! || a.id - b.id)
        .slice(0, limit)
      for (const row of due) row.nextAt = now + lease
      return due.map(toDelivery)
    })

  const record = (id: number, o: Outcome) =>
    Effect.sync(() => {
      const row = rows.get(id)
      if (row === undefined) return
      row.state = o.state
      row.attempts = o.attempts
      row.lastStatus = o.lastStatus
      row.lastError = o.lastError
      row.nextAt = o.nextAt
      row.updatedAt = o.now
    })

  const disable = (url: string, now: number, reason: string) =>
    Effect.sync(() => {
      disabledEndpoints.set(url, { url, at: now, reason })
      for (const row of rows.values()) {
        if (row.url === url && row.state === "pending") {
          row.state = "disabled"
          row.nextAt = undefined
          row.updatedAt = now
        }
      }
    })

  const enable = (url: string) => Effect.sync(() => disabledEndpoints.delete(url))

  const disabled = Effect.sync(() => [...disabledEndpoints.values()])

  const deliveries = (query: DeliveryQuery = {}) =>
    Effect.sync(() =>
      [...rows.values()]
        .filter((r) =>
          (query.state === undefined || r.state === query.state) &&
          (query.taskId === undefined || r.event.taskId === query.taskId)
        )
        .sort((a, b) => b.id - a.id)
        .slice(0, query.limit ?? 100)
        .map(toDelivery)
    )

  return { append, forget, outbox: { fanOut, claim, record, disable, enable, disabled, deliveries } }
}
