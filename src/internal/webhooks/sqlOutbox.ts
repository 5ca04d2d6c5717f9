/**
 * The webhook outbox on `@effect/sql` (SQLite and PostgreSQL). Events are
 * inserted by the store inside the transaction of the change they describe
 * (`recordEvents`); the rest runs in the dispatching process.
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import { StoreError } from "../../PublishError.js"
import type { EventType, OutboxEvent } from "./events.js"
import type {
  Delivery,
  DeliveryQuery,
  DeliveryState,
  DisabledEndpoint,
  EndpointSubscription,
  Outbox
} from "./outbox.js"

const num = (u: unknown): number => typeof u === "number" ? u : Number(u)
const opt = (u: unknown): number | undefined => u === null || u === undefined ? undefined : num(u)

const unavailable = (what: string) => (cause: SqlError.SqlError): StoreError =>
  new StoreError({ reason: "unavailable", description: `${what} failed: ${String(cause.message)}`, cause })

/** Inside the store's write transaction. @internal */
export const recordEvents = (
  sql: SqlClient.SqlClient,
  events: ReadonlyArray<OutboxEvent>
): Effect.Effect<void, SqlError.SqlError> =>
  events.length === 0 ?
    Effect.void :
    Effect.forEach(events, (e) =>
      sql`INSERT INTO medusa_webhook_events (id, type, task_id, at, body)
      VALUES (${e.id}, ${e.type}, ${e.taskId}, ${e.at}, ${e.body})`, { discard: true })

interface Row {
  readonly id: unknown
  readonly event_id: string
  readonly type: string
  readonly task_id: string
  readonly url: string
  readonly body: string
  readonly state: string
  readonly attempts: unknown
  readonly last_status: unknown
  readonly last_error: string | null
  readonly next_at: unknown
  readonly created_at: unknown
  readonly updated_at: unknown
}

const toDelivery = (row: Row): Delivery => ({
  id: num(row.id),
  eventId: row.event_id,
  type: row.type as EventType,
  taskId: row.task_id,
  url: row.url,
  body: row.body,
  state: row.state as DeliveryState,
  attempts: num(row.attempts),
  lastStatus: opt(row.last_status),
  lastError: row.last_error ?? undefined,
  nextAt: opt(row.next_at),
  createdAt: num(row.created_at),
  updatedAt: num(row.updated_at)
})

/** @internal */
export const make = (
  sql: SqlClient.SqlClient,
  guardWrite: <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
): Outbox => {
  const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
  const selectDeliveries = sql.literal(`SELECT d.id, d.event_id, e.type, d.task_id, d.url, e.body, d.state,
    d.attempts, d.last_status, d.last_error, d.next_at, d.created_at, d.updated_at
    FROM medusa_webhook_deliveries d JOIN medusa_webhook_events e ON e.id = d.event_id`)

  const fanOut = (endpoints: ReadonlyArray<EndpointSubscription>, now: number, maxAge: number) =>
    guardWrite(
      "Dispatching webhook events",
      sql.withTransaction(Effect.gen(function*() {
        const events = yield* (isPg ?
          sql<{ id: string; type: string; task_id: string; at: unknown }>`SELECT id, type, task_id, at
            FROM medusa_webhook_events WHERE dispatched_at IS NULL ORDER BY seq LIMIT 500 FOR UPDATE SKIP LOCKED` :
          sql<{ id: string; type: string; task_id: string; at: unknown }>`SELECT id, type, task_id, at
            FROM medusa_webhook_events WHERE dispatched_at IS NULL ORDER BY seq LIMIT 500`)
        if (events.length === 0) return 0
        const disabled = new Set(
          (yield* sql<{ url: string }>`SELECT url FROM medusa_webhook_endpoints`).map((r) => r.url)
        )
        let created = 0
        for (const e of events) {
          if (num(e.at) < now - maxAge) continue
          for (const endpoint of endpoints) {
            if (disabled.has(endpoint.url) || !endpoint.events.includes(e.type as EventType)) continue
            yield* sql`INSERT INTO medusa_webhook_deliveries
              (event_id, task_id, url, state, attempts, next_at, created_at, updated_at)
              VALUES (${e.id}, ${e.task_id}, ${endpoint.url}, 'pending', 0, ${now}, ${now}, ${now})
              ON CONFLICT (event_id, url) DO NOTHING`
            created++
          }
        }
        yield* sql`UPDATE medusa_webhook_events SET dispatched_at = ${now} WHERE ${
          sql.in("id", events.map((e) => e.id))
        }`
        return created
      })).pipe(Effect.mapError(unavailable("Dispatching webhook events")))
    )

  const claim = (now: number, lease: number, limit: number) =>
    guardWrite(
      "Claiming webhook deliveries",
      sql.withTransaction(Effect.gen(function*() {
        const due = yield* (isPg ?
          sql<{ id: unknown }>`SELECT id FROM medusa_webhook_deliveries WHERE state = 'pending' AND next_at <= ${now}
            ORDER BY next_at LIMIT ${limit} FOR UPDATE SKIP LOCKED` :
          sql<{ id: unknown }>`SELECT id FROM medusa_webhook_deliveries WHERE state = 'pending' AND next_at <= ${now}
            ORDER BY next_at LIMIT ${limit}`)
        if (due.length === 0) return []
        const ids = due.map((r) => num(r.id))
        yield* sql`UPDATE medusa_webhook_deliveries SET next_at = ${now + lease} WHERE ${sql.in("id", ids)}`
        const rows = yield* sql<Row>`${selectDeliveries} WHERE ${sql.in("d.id", ids)} ORDER BY d.id`
        return rows.map(toDelivery)
      })).pipe(Effect.mapError(unavailable("Claiming webhook deliveries")))
    )

  const record = (id: number, o: Parameters<Outbox["record"]>[1]) =>
    guardWrite(
      "Recording a webhook attempt",
      sql`UPDATE medusa_webhook_deliveries SET state = ${o.state}, attempts = ${o.attempts},
        last_status = ${o.lastStatus ?? null}, last_error = ${o.lastError ?? null}, next_at = ${o.nextAt ?? null},
        updated_at = ${o.now} WHERE id = ${id}`.pipe(
        Effect.asVoid,
        Effect.mapError(unavailable("Recording a webhook attempt"))
      )
    )

  const disable = (url: string, now: number, reason: string) =>
    guardWrite(
      "Disabling a webhook endpoint",
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO medusa_webhook_endpoints (url, disabled_at, reason) VALUES (${url}, ${now}, ${reason})
          ON CONFLICT (url) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`
        yield* sql`UPDATE medusa_webhook_deliveries SET state = 'disabled', next_at = NULL, updated_at = ${now}
          WHERE url = ${url} AND state = 'pending'`
      })).pipe(Effect.mapError(unavailable("Disabling a webhook endpoint")))
    )

  const enable = (url: string) =>
    guardWrite(
      "Enabling a webhook endpoint",
      sql<{ url: string }>`DELETE FROM medusa_webhook_endpoints WHERE url = ${url} RETURNING url`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.mapError(unavailable("Enabling a webhook endpoint"))
      )
    )

  const disabled: Effect.Effect<ReadonlyArray<DisabledEndpoint>, StoreError> = sql<
    { url: string; disabled_at: unknown; reason: string }
  >`SELECT url, disabled_at, reason FROM medusa_webhook_endpoints ORDER BY url`.pipe(
    Effect.map((rows) => rows.map((r) => ({ url: r.url, at: num(r.disabled_at), reason: r.reason }))),
    Effect.mapError(unavailable("Reading disabled webhook endpoints"))
  )

  const deliveries = (query: DeliveryQuery = {}) => {
    const limit = query.limit ?? 100
    const where = [
      ...(query.state !== undefined ? [sql`d.state = ${query.state}`] : []),
      ...(query.taskId !== undefined ? [sql`d.task_id = ${query.taskId}`] : [])
    ]
    return sql<Row>`${selectDeliveries} ${where.length > 0 ? sql`WHERE ${sql.and(where)}` : sql``}
      ORDER BY d.id DESC LIMIT ${limit}`.pipe(
      Effect.map((rows) => rows.map(toDelivery)),
      Effect.mapError(unavailable("Reading webhook deliveries"))
    )
  }

  return { fanOut, claim, record, disable, enable, disabled, deliveries }
}
