/**
 * The server's error answers: one JSON shape, `{ "error": { code, message,
 * field? } }`, one class per HTTP status (so that the API's error schema
 * picks the status by class, and the typed client decodes each status back).
 *
 * @internal
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"

/** @internal */
export const ErrorBody = Schema.Struct({
  /** Stable snake_case: `invalid_request`, `invalid_json`, `unauthorized`, `task_not_found`, … */
  code: Schema.String,
  /** What is wrong and how to fix it. */
  message: Schema.String,
  /** The request field at fault (`mediaFile`, `metadata.youtube.title`, `status`), when there is one. */
  field: Schema.optional(Schema.String),
  /** Every problem, when there are several (a publish request's issues). */
  issues: Schema.optional(Schema.Array(Schema.Struct({ field: Schema.String, message: Schema.String })))
}).annotations({ identifier: "ErrorBody" })

/** @internal */
export type ErrorBody = typeof ErrorBody.Type

const fields = { error: ErrorBody }

/** @internal */
export class BadRequest extends Schema.Class<BadRequest>("BadRequest")(
  fields,
  HttpApiSchema.annotations({ status: 400, description: "The request is malformed or invalid" })
) {}

/** @internal */
export class Unauthorized extends Schema.Class<Unauthorized>("Unauthorized")(
  fields,
  HttpApiSchema.annotations({ status: 401, description: "No valid API key" })
) {}

/** @internal */
export class Forbidden extends Schema.Class<Forbidden>("Forbidden")(
  fields,
  HttpApiSchema.annotations({ status: 403, description: "The API key lacks the scope" })
) {}

/** @internal */
export class NotFound extends Schema.Class<NotFound>("NotFound")(
  fields,
  HttpApiSchema.annotations({ status: 404, description: "No such task or route" })
) {}

/** @internal */
export class MethodNotAllowed extends Schema.Class<MethodNotAllowed>("MethodNotAllowed")(
  fields,
  HttpApiSchema.annotations({ status: 405, description: "The route exists for other methods" })
) {}

/** @internal */
export class Conflict extends Schema.Class<Conflict>("Conflict")(
  fields,
  HttpApiSchema.annotations({ status: 409, description: "The task's state does not allow this" })
) {}

/** @internal */
export class PayloadTooLarge extends Schema.Class<PayloadTooLarge>("PayloadTooLarge")(
  fields,
  HttpApiSchema.annotations({ status: 413, description: "The body is over the configured limit" })
) {}

/** @internal */
export class ServiceUnavailable extends Schema.Class<ServiceUnavailable>("ServiceUnavailable")(
  fields,
  HttpApiSchema.annotations({ status: 503, description: "The task store cannot be reached" })
) {}

/** @internal */
export class InternalError extends Schema.Class<InternalError>("InternalError")(
  fields,
  HttpApiSchema.annotations({ status: 500, description: "An unexpected failure (details are in the server log)" })
) {}

/** @internal */
export type ApiError =
  | BadRequest
  | Unauthorized
  | Forbidden
  | NotFound
  | MethodNotAllowed
  | Conflict
  | PayloadTooLarge
  | ServiceUnavailable
  | InternalError

const body = (code: string, message: string, field?: string): ErrorBody =>
  field === undefined ? { code, message } : { code, message, field }

/** @internal */
export const badRequest = (code: string, message: string, field?: string): BadRequest =>
  new BadRequest({ error: body(code, message, field) })

/** @internal */
export const unauthorized = (): Unauthorized =>
  new Unauthorized({
    error: body(
      "unauthorized",
      "a valid API key is required: send `Authorization: Bearer <key>` with a key from the server section's api_keys"
    )
  })

/** @internal */
export const forbidden = (): Forbidden =>
  new Forbidden({
    error: body("forbidden", "this API key is read-only; this request needs a key with the \"write\" scope")
  })

/** @internal */
export const notFound = (code: string, message: string, field?: string): NotFound =>
  new NotFound({ error: body(code, message, field) })

/** @internal */
export const taskNotFound = (id: string): NotFound =>
  notFound("task_not_found", `no task with id ${JSON.stringify(id)}; list tasks with GET /v1/tasks`, "id")

/** @internal */
export const conflict = (code: string, message: string): Conflict => new Conflict({ error: body(code, message) })

/** @internal */
export const payloadTooLarge = (limit: number): PayloadTooLarge =>
  new PayloadTooLarge({
    error: body(
      "payload_too_large",
      `the body is larger than ${limit} bytes (server.max_body_bytes); send a smaller request`
    )
  })

/** @internal */
export const unavailable = (message: string): ServiceUnavailable =>
  new ServiceUnavailable({ error: body("store_unavailable", message) })

/** @internal */
export const internal = (): InternalError =>
  new InternalError({ error: body("internal", "the server failed unexpectedly; the details are in its log") })

/** @internal */
export const methodNotAllowed = (method: string, allowed: ReadonlyArray<string>): MethodNotAllowed =>
  new MethodNotAllowed({
    error: body("method_not_allowed", `${method} is not allowed here; use ${allowed.join(" or ")}`)
  })
