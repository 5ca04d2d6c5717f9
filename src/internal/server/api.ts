/**
 * The HTTP API, declared once: endpoints, their schemas and errors. The
 * server implements it (handlers.ts), the OpenAPI document is derived from
 * it, and `HttpApiClient.make(Api)` gives a typed client.
 *
 * @internal
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"
import { PublishRequest } from "../../PublishRequest.js"
import { TaskState } from "../../Task.js"
import { TaskStatus } from "../../TaskStatus.js"
import { DeliveryLog, DeliveryParams } from "../webhooks/schemas.js"
import {
  BadRequest,
  Conflict,
  Forbidden,
  InternalError,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  ServiceUnavailable,
  Unauthorized
} from "./errors.js"

// =============================================================================
// Security
// =============================================================================

/** @internal */
export type Scope = "read" | "write"

/** The key a request was made with (never its value): its scopes. @internal */
export interface Caller {
  /** Position of the key in `api_keys` (for logs), never the key. */
  readonly index: number
  readonly scopes: ReadonlySet<Scope>
}

/** @internal */
export class CurrentCaller extends Context.Tag("@medusa/Server/CurrentCaller")<CurrentCaller, Caller>() {}

/** `Authorization: Bearer <key>` on every endpoint but /healthz. @internal */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@medusa/Server/Authorization", {
  failure: Unauthorized,
  provides: CurrentCaller,
  security: {
    bearer: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(
        OpenApi.Description,
        "An API key from the server section's api_keys; keys with the \"write\" scope may submit, cancel and resume"
      )
    )
  }
}) {}

// =============================================================================
// Schemas
// =============================================================================

const TaskId = Schema.String.annotations({
  description: "A task id, medusa_task_<uuid>",
  examples: ["medusa_task_0b5c9a6e-8d0f-4a53-9a8e-7a4f1f1b2c3d"]
})

/** @internal */
export const TaskPath = Schema.Struct({ id: TaskId })

/** The status JSON (docs/status-json.md). @internal */
export const StatusJson = TaskStatus.annotations({ identifier: "TaskStatus" })

/** @internal */
export const TaskList = Schema.Struct({
  tasks: Schema.Array(StatusJson),
  /** Pass as `cursor` to read the next page; absent on the last page. */
  next_cursor: Schema.optional(Schema.String)
}).annotations({ identifier: "TaskList" })

const IsoDate = Schema.String.pipe(
  Schema.filter((s) => !Number.isNaN(Date.parse(s)), {
    message: (issue) => `must be an ISO 8601 date such as 2026-12-05T09:00:00Z, got ${JSON.stringify(issue.actual)}`
  })
)

const Limit = Schema.NumberFromString.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= 1000, {
    message: () => "must be a whole number from 1 to 1000"
  })
)

/** @internal */
export const ListParams = Schema.Struct({
  status: Schema.optional(
    TaskState.annotations({
      message: (issue) =>
        `must be one of pending, in_progress, completed, failed, cancelled; got ${JSON.stringify(issue.actual)}`
    })
  ),
  created_after: Schema.optional(IsoDate),
  created_before: Schema.optional(IsoDate),
  limit: Schema.optional(Limit),
  cursor: Schema.optional(Schema.String)
})

/** @internal */
export const ValidationResult = Schema.Struct({
  valid: Schema.Boolean,
  /** Every problem a submit of this request would refuse, with the field at fault. */
  issues: Schema.Array(Schema.Struct({ field: Schema.String, message: Schema.String })),
  /** When valid: what a submit would do (the library's dry-run report, `Planning.ValidationJson`). */
  media_file: Schema.optional(Schema.String),
  media_bytes: Schema.optional(Schema.Number),
  platforms: Schema.optional(Schema.Array(Schema.String)),
  policy: Schema.optional(Schema.String),
  run_at: Schema.optional(Schema.String),
  quota: Schema.optional(Schema.Array(Schema.Struct({
    platform: Schema.String,
    bucket: Schema.String,
    used: Schema.Number,
    needs: Schema.Number,
    limit: Schema.Number,
    resets_at: Schema.String,
    fits: Schema.Boolean
  })))
}).annotations({ identifier: "ValidationResult" })

/** The publish request, as JSON (its encoded form). @internal */
export const PublishRequestJson = Schema.encodedSchema(PublishRequest).annotations({ identifier: "PublishRequest" })

const MediaId = Schema.String.pipe(Schema.pattern(/^media_[0-9a-f]{32}$/)).annotations({
  description: "A finished upload to the tus endpoint /v1/uploads: the last segment of its upload URL, " +
    "also sent in the Medusa-Media-Id header of its last PATCH",
  examples: ["media_0b5c9a6e8d0f4a539a8e7a4f1f1b2c3d"]
})

/**
 * What POST /v1/tasks and /v1/validate take: the publish request, with its
 * `mediaFile` (a path inside a media root) or instead a `media_id`.
 *
 * @internal
 */
export const SubmitPayload = Schema.Union(
  PublishRequestJson,
  Schema.extend(
    PublishRequestJson.pipe(Schema.omit("mediaFile")),
    Schema.Struct({ media_id: MediaId })
  ).annotations({ identifier: "PublishRequestWithMediaId" })
).annotations({
  description: "The publish request (docs/publish-request in the library): `mediaFile`, a path inside one of " +
    "the server's media_roots, or `media_id`, an upload finished on /v1/uploads (not both)"
})

/** @internal */
export const SubmitHeaders = Schema.Struct({
  "idempotency-key": Schema.optional(
    Schema.String.annotations({
      description: "Makes a retried submit return the task its first attempt created (kept at least 24 hours)"
    })
  )
})

/** @internal */
export const EventsHeaders = Schema.Struct({
  "last-event-id": Schema.optional(
    Schema.String.annotations({ description: "Resume after this event (the id of the last event received)" })
  )
})

const EventStream = HttpApiSchema.Text({ contentType: "text/event-stream" }).annotations({
  description: "Server-Sent Events: `status` events (id = the change's sequence number, data = the status JSON), " +
    "`progress` events (no id), and heartbeat comments"
})

/** @internal */
export const Health = Schema.Struct({ status: Schema.Literal("ok") })

// =============================================================================
// Endpoints
// =============================================================================

/** @internal */
export class HealthGroup extends HttpApiGroup.make("health", { topLevel: true })
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Health))
  .annotate(OpenApi.Description, "Liveness; needs no key")
{}

/** @internal */
export class MetaGroup extends HttpApiGroup.make("meta", { topLevel: true })
  .add(
    HttpApiEndpoint.get("openapi", "/openapi.json").addSuccess(
      Schema.Unknown.annotations({ description: "This document" })
    )
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics").addSuccess(
      HttpApiSchema.Text({ contentType: "text/plain; version=0.0.4" }).annotations({
        description: "Prometheus text format: tasks by state and every metric the process records"
      })
    )
  )
  .middleware(Authorization)
{}

/** @internal */
export class TasksGroup extends HttpApiGroup.make("tasks")
  .add(
    HttpApiEndpoint.post("submit", "/tasks")
      .setPayload(SubmitPayload)
      .setHeaders(SubmitHeaders)
      .addSuccess(StatusJson, { status: 202 })
      .annotate(OpenApi.Description, "Submits a publish; answers 202 with the status JSON and `Location`")
  )
  .add(
    HttpApiEndpoint.get("list", "/tasks")
      .setUrlParams(ListParams)
      .addSuccess(TaskList)
      .annotate(OpenApi.Description, "Tasks, newest first")
  )
  .add(
    HttpApiEndpoint.get("get", "/tasks/:id")
      .setPath(TaskPath)
      .addSuccess(StatusJson)
      .annotate(OpenApi.Description, "The status JSON with the task's `history`")
  )
  .add(
    HttpApiEndpoint.post("cancel", "/tasks/:id/cancel")
      .setPath(TaskPath)
      .addSuccess(StatusJson)
      .addError(Conflict)
  )
  .add(
    HttpApiEndpoint.post("resume", "/tasks/:id/resume")
      .setPath(TaskPath)
      .addSuccess(StatusJson, { status: 202 })
      .addError(Conflict)
      .annotate(OpenApi.Description, "Carries on an unfinished task (a final task answers 409)")
  )
  .add(
    HttpApiEndpoint.post("validate", "/validate")
      .setPayload(SubmitPayload)
      .addSuccess(ValidationResult)
      .annotate(OpenApi.Description, "Every check a submit makes, without submitting anything")
  )
  .add(
    HttpApiEndpoint.get("taskEvents", "/tasks/:id/events")
      .setPath(TaskPath)
      .setHeaders(EventsHeaders)
      .addSuccess(EventStream)
      .annotate(OpenApi.Description, "The task's history, then its changes as they happen")
  )
  .add(
    HttpApiEndpoint.get("events", "/events")
      .setHeaders(EventsHeaders)
      .addSuccess(EventStream)
      .annotate(OpenApi.Description, "Every task's changes from now on (or after `Last-Event-ID`)")
  )
  .addError(NotFound)
  .addError(Forbidden)
  .addError(PayloadTooLarge)
  .middleware(Authorization)
  .prefix("/v1")
{}

/** @internal */
export const EnableEndpoint = Schema.Struct({
  url: Schema.String.annotations({ description: "The endpoint's url, as in server.webhooks and the delivery log" })
}).annotations({ identifier: "EnableWebhookEndpoint" })

/** @internal */
export const EnabledEndpoint = Schema.Struct({ url: Schema.String, enabled: Schema.Literal(true) }).annotations({
  identifier: "EnabledWebhookEndpoint"
})

/** The webhook delivery log (handlers in `internal/web`). @internal */
export class WebhooksGroup extends HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.get("deliveries", "/webhooks/deliveries")
      .setUrlParams(DeliveryParams)
      .addSuccess(DeliveryLog)
      .annotate(
        OpenApi.Description,
        "Webhook deliveries, newest first: state, attempts, last status or error, next try; and disabled endpoints"
      )
  )
  .add(
    HttpApiEndpoint.post("enable", "/webhooks/endpoints/enable")
      .setPayload(EnableEndpoint)
      .addSuccess(EnabledEndpoint)
      .addError(NotFound)
      .addError(Forbidden)
      .annotate(
        OpenApi.Description,
        "Enables an endpoint a 410 Gone disabled: events from now on are delivered to it again (its deliveries " +
          "marked disabled stay so). 404 `endpoint_not_disabled` when the url is not a disabled endpoint"
      )
  )
  .middleware(Authorization)
  .prefix("/v1")
{}

const TusResumable = Schema.Literal("1.0.0").annotations({ description: "The tus protocol version" })
const UploadPath = Schema.Struct({ media_id: MediaId })
const tusAnswers = "Answered by @tus/server with tus's own statuses: 404 for an unknown upload, 409 for an " +
  "Upload-Offset other than the upload's, 410 for an expired one, 413 beyond server.uploads' limits"

/**
 * The tus 1.0 ingest for browsers (`server.uploads`), served by @tus/server
 * beside the API; declared here so that the OpenAPI document describes it.
 *
 * @internal
 */
export class UploadsGroup extends HttpApiGroup.make("uploads")
  .add(
    HttpApiEndpoint.options("capabilities", "/uploads")
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(
        OpenApi.Description,
        "tus discovery: answers Tus-Version 1.0.0, Tus-Extension (creation, creation-with-upload, termination, " +
          "expiration) and Tus-Max-Size (server.uploads.max_upload_bytes)"
      )
  )
  .add(
    HttpApiEndpoint.post("create", "/uploads")
      .setHeaders(Schema.Struct({
        "tus-resumable": TusResumable,
        "upload-length": Schema.String.annotations({
          description: "The file's size in bytes (required: the server bounds its storage by declared sizes)"
        }),
        "upload-metadata": Schema.optional(
          Schema.String.annotations({ description: "tus metadata: comma-separated `key base64value` pairs" })
        )
      }))
      .addSuccess(HttpApiSchema.Created)
      .annotate(
        OpenApi.Description,
        "Creates an upload: 201 with `Location: /v1/uploads/<media_id>`. " +
          "413 when it is larger than server.uploads.max_upload_bytes or would take the uploads kept past " +
          "max_total_bytes. " + tusAnswers
      )
  )
  .add(
    HttpApiEndpoint.head("offset", "/uploads/:media_id")
      .setPath(UploadPath)
      .setHeaders(Schema.Struct({ "tus-resumable": TusResumable }))
      .addSuccess(HttpApiSchema.Empty(200))
      .annotate(
        OpenApi.Description,
        "How much of the upload the server holds: `Upload-Offset` and `Upload-Length` headers (resume from there). " +
          tusAnswers
      )
  )
  .add(
    HttpApiEndpoint.patch("append", "/uploads/:media_id")
      .setPath(UploadPath)
      .setHeaders(Schema.Struct({
        "tus-resumable": TusResumable,
        "upload-offset": Schema.String.annotations({ description: "Where these bytes start (the server's offset)" })
      }))
      .setPayload(HttpApiSchema.Uint8Array({ contentType: "application/offset+octet-stream" }))
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(
        OpenApi.Description,
        "Appends bytes: 204 with the new `Upload-Offset`. The PATCH that completes the upload also answers " +
          "`Medusa-Media-Id`: the `media_id` that POST /v1/tasks takes. " + tusAnswers
      )
  )
  .add(
    HttpApiEndpoint.del("terminate", "/uploads/:media_id")
      .setPath(UploadPath)
      .setHeaders(Schema.Struct({ "tus-resumable": TusResumable }))
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(OpenApi.Description, "Deletes an upload. " + tusAnswers)
  )
  .annotate(
    OpenApi.Description,
    "Resumable uploads for browsers (tus 1.0, on when the server's config has `uploads`); a finished upload is a " +
      "`media_id`. An upload is deleted once the tasks that used it have ended; an unused one expires."
  )
  .middleware(Authorization)
  .prefix("/v1")
{}

/** @internal */
export class Api extends HttpApi.make("medusa")
  .add(HealthGroup)
  .add(MetaGroup)
  .add(TasksGroup)
  .add(WebhooksGroup)
  .addError(BadRequest)
  .addError(MethodNotAllowed)
  .addError(ServiceUnavailable)
  .addError(InternalError)
  .annotate(OpenApi.Title, "Medusa")
  .annotate(
    OpenApi.Description,
    "Publish one video everywhere: submit a publish, follow it live, cancel or resume it. " +
      "Errors are `{ \"error\": { \"code\", \"message\", \"field\"? } }`."
  )
{}

/**
 * What `GET /openapi.json` describes: the API and the tus endpoint beside it.
 *
 * @internal
 */
export class DocumentedApi extends Api.add(UploadsGroup) {}
