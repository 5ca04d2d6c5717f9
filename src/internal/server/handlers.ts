/**
 * The API's handlers, over the `Medusa` service and its `TaskStore`.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { IncomingMessage, ServerResponse } from "node:http"
import { Ingest } from "../../Ingest.js"
import { Medusa } from "../../Medusa.js"
import { validationToJSON } from "../../Planning.js"
import { mapMetadataFilePaths, metadataFilePaths } from "../../platforms/youtube/index.js"
import type { InvalidRequest, InvalidTransition, StoreError, TaskNotFound } from "../../PublishError.js"
import type { PublishRequestInput } from "../../PublishRequest.js"
import { isFinal, type Task, TaskState } from "../../Task.js"
import * as TaskId from "../../TaskId.js"
import * as TaskStatus from "../../TaskStatus.js"
import { TaskStore } from "../../TaskStore.js"
import type { Service as TaskStoreService } from "../../TaskStore.js"
import { locateSyntaxError } from "../request/jsonSyntax.js"
import { Api, type Authorization, CurrentCaller, DocumentedApi } from "./api.js"
import type { ApiError, BadRequest, PayloadTooLarge } from "./errors.js"
import * as Errors from "./errors.js"
import type { Feed } from "./events.js"
import { makeFeed } from "./events.js"
import type { MediaRoots } from "./media.js"
import { makeMediaRoots } from "./media.js"
import * as Metrics from "./metrics.js"
import * as Status from "./status.js"

/** @internal */
export interface HandlerOptions {
  readonly mediaRoots: ReadonlyArray<string>
  readonly maxBodyBytes: number
  readonly heartbeat: Duration.DurationInput
}

// =============================================================================
// Library errors → API errors
// =============================================================================

const fieldOf = (path: ReadonlyArray<string | number>): string =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("")

/** @internal */
export const fromInvalidRequest = (error: InvalidRequest): BadRequest => {
  const issues = error.issues.map((i) => ({ field: fieldOf(i.path), message: i.message }))
  const first = issues[0]
  return new Errors.BadRequest({
    error: {
      code: "invalid_request",
      message: first === undefined ?
        "the publish request is invalid" :
        issues.map((i) => `${i.field || "(root)"}: ${i.message}`).join("; "),
      ...(first !== undefined && first.field !== "" ? { field: first.field } : {}),
      issues
    }
  })
}

const fromStoreError = (error: StoreError) =>
  Effect.zipRight(
    Effect.logError("Medusa server: task store error", error),
    Effect.fail(
      error.reason === "locked" ?
        Errors.unavailable(
          "the task store is owned by another process (read-only here); run the server where tasks run"
        ) :
        Errors.unavailable("the task store cannot be reached right now; try again")
    )
  )

type LibraryError = InvalidRequest | TaskNotFound | InvalidTransition | StoreError

const mapLibrary = <A, R>(effect: Effect.Effect<A, LibraryError, R>): Effect.Effect<A, ApiError, R> =>
  Effect.catchAll(effect, (error): Effect.Effect<never, ApiError> => {
    switch (error._tag) {
      case "InvalidRequest":
        return Effect.fail(fromInvalidRequest(error))
      case "TaskNotFound":
        return Effect.fail(Errors.taskNotFound(error.taskId))
      case "InvalidTransition":
        return Effect.fail(
          Errors.conflict("invalid_transition", `task ${error.taskId} is ${error.from}; it cannot become ${error.to}`)
        )
      case "StoreError":
        return fromStoreError(error)
    }
  })

const requireWrite = Effect.flatMap(
  CurrentCaller,
  (caller) => caller.scopes.has("write") ? Effect.void : Effect.fail(Errors.forbidden())
)

// =============================================================================
// Bodies
// =============================================================================

/** Reads a JSON body within the limit; malformed JSON names its line and column. @internal */
export const readJson = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<unknown, BadRequest | PayloadTooLarge> =>
  Effect.gen(function*() {
    const length = request.headers["content-length"]
    if (length !== undefined && Number(length) > limit) return yield* Effect.fail(Errors.payloadTooLarge(limit))
    const type = request.headers["content-type"]
    if (type !== undefined && !/^application\/(.+\+)?json\b/i.test(type.trim())) {
      return yield* Effect.fail(
        Errors.badRequest("unsupported_media_type", `send the body as application/json, not ${type}`)
      )
    }
    const text = yield* request.text.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(limit)),
      Effect.mapError(() => Errors.payloadTooLarge(limit))
    )
    if (Buffer.byteLength(text, "utf8") > limit) return yield* Effect.fail(Errors.payloadTooLarge(limit))
    if (text.trim() === "") {
      return yield* Effect.fail(Errors.badRequest("invalid_json", "the body is empty; send a JSON object"))
    }
    try {
      return JSON.parse(text) as unknown
    } catch (cause) {
      const at = locateSyntaxError(text)
      const where = at === undefined ? "" : ` at line ${at.line}, column ${at.column}`
      const what = at?.message ?? (cause instanceof Error ? cause.message : String(cause))
      return yield* Effect.fail(Errors.badRequest("invalid_json", `the body is not valid JSON${where}: ${what}`))
    }
  })

/**
 * The request with its files (`mediaFile`, a YouTube `thumbnail` and caption files) replaced
 * by their checked real paths; a missing or non-string path is left to the
 * request decoder.
 */
const withCheckedMedia = (
  roots: MediaRoots,
  input: unknown
): Effect.Effect<unknown, BadRequest> =>
  Effect.gen(function*() {
    if (!Predicate.isRecord(input)) return input
    let out: Record<string, unknown> = input
    if (typeof input.mediaFile === "string" && input.mediaFile !== "") {
      out = { ...out, mediaFile: yield* roots.resolve(input.mediaFile, "mediaFile") }
    }
    const files = metadataFilePaths(input.metadata)
    if (files.length > 0) {
      // The thumbnail and every caption file of every YouTube account, each
      // checked before anything opens it.
      const resolved = new Map<string, string>()
      for (const { path, value } of files) {
        resolved.set(path, yield* roots.resolve(value, `metadata.${path}`))
      }
      out = {
        ...out,
        metadata: mapMetadataFilePaths(input.metadata, (value, path) => resolved.get(path) ?? value)
      }
    }
    return out
  })

const fingerprintOf = (input: unknown): string =>
  createHash("sha256").update(JSON.stringify(input) ?? "").digest("base64url")

// =============================================================================
// Cursor
// =============================================================================

interface Cursor {
  readonly createdAt: number
  readonly id: string
}

const encodeCursor = (task: Task): string =>
  Buffer.from(JSON.stringify([task.createdAt, task.id]), "utf8").toString("base64url")

const decodeCursor = (text: string): Either.Either<Cursor, BadRequest> => {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as unknown
    if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string") {
      return Either.right({ createdAt: value[0], id: value[1] })
    }
  } catch {
    // falls through
  }
  return Either.left(
    Errors.badRequest("invalid_cursor", "is not a cursor this server gave out; pass next_cursor as it is", "cursor")
  )
}

// =============================================================================
// Handlers
// =============================================================================

const jsonResponse = (body: unknown, status: number, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson(body, { status, ...(headers !== undefined ? { headers } : {}) })

/** The groups' layers (the `Authorization` middleware is provided apart). @internal */
export const layerHandlers = (
  options: HandlerOptions
): Layer.Layer<
  | HttpApiGroup.ApiGroup<"medusa", "health">
  | HttpApiGroup.ApiGroup<"medusa", "meta">
  | HttpApiGroup.ApiGroup<"medusa", "tasks">,
  never,
  Medusa | TaskStore | Authorization
> => {
  const health = HttpApiBuilder.group(
    Api,
    "health",
    (handlers) => handlers.handle("healthz", () => Effect.succeed({ status: "ok" as const }))
  )

  const spec = OpenApi.fromApi(DocumentedApi)
  const meta = HttpApiBuilder.group(Api, "meta", (handlers) =>
    Effect.gen(function*() {
      const store = yield* TaskStore
      const countByState = Effect.map(
        Effect.forEach(TaskState.literals, (state) =>
          Effect.map(store.list({ status: state }), (l) => [state, l.length] as const)),
        (pairs) =>
          Object.fromEntries(pairs)
      )
      return handlers
        .handle("openapi", () => Effect.succeed(spec))
        .handle("metrics", () =>
          countByState.pipe(
            Effect.flatMap(Metrics.page),
            Effect.catchTag("StoreError", fromStoreError)
          ))
    }))

  const tasks = HttpApiBuilder.group(Api, "tasks", (handlers) =>
    Effect.gen(function*() {
      const medusa = yield* Medusa
      const store = yield* TaskStore
      const roots = yield* makeMediaRoots(options.mediaRoots)
      const feed: Feed = yield* makeFeed(store, { heartbeat: options.heartbeat })

      // The one place a `media_id` (a finished upload to /v1/uploads) becomes the
      // request's mediaFile; the upload is kept until the request's scope ends.
      const ingest = yield* Effect.serviceOption(Ingest)
      const withMedia = (body: unknown): Effect.Effect<unknown, BadRequest, Scope.Scope> =>
        Effect.gen(function*() {
          if (!Predicate.isRecord(body) || !("media_id" in body)) return yield* withCheckedMedia(roots, body)
          const { media_id: mediaId, ...rest } = body
          const refuse = (code: string, message: string) => Effect.fail(Errors.badRequest(code, message, "media_id"))
          if (rest.mediaFile !== undefined) {
            return yield* refuse("invalid_parameter", "give mediaFile or media_id, not both")
          }
          if (typeof mediaId !== "string") {
            return yield* refuse("invalid_parameter", "must be the id of a finished upload to /v1/uploads (media_…)")
          }
          if (Option.isNone(ingest)) {
            return yield* refuse("uploads_disabled", "this server takes no uploads: configure server.uploads")
          }
          const file = yield* ingest.value.acquireMedia(mediaId).pipe(
            Effect.mapError((e) => Errors.badRequest("media_not_found", e.issues[0]?.message ?? e.message, "media_id"))
          )
          const checked = yield* withCheckedMedia(roots, rest)
          return { ...(checked as Record<string, unknown>), mediaFile: file }
        })

      const location = (id: string) => `/v1/tasks/${encodeURIComponent(id)}`

      const submitOnce = (input: unknown) =>
        Effect.flatMap(
          medusa.submit(input as PublishRequestInput),
          (id) => store.get(id)
        )

      const submit = (request: HttpServerRequest.HttpServerRequest, idempotencyKey: string | undefined) =>
        Effect.gen(function*() {
          yield* requireWrite
          const body = yield* readJson(request, options.maxBodyBytes)
          const input = yield* withMedia(body)
          const accepted = (task: Task, replayed: boolean) =>
            jsonResponse(TaskStatus.toJSON(task), 202, {
              location: location(task.id),
              ...(replayed ? { "idempotent-replayed": "true" } : {})
            })
          if (idempotencyKey === undefined) return accepted(yield* mapLibrary(submitOnce(input)), false)
          if (idempotencyKey.length === 0 || idempotencyKey.length > 255) {
            return yield* Effect.fail(
              Errors.badRequest("invalid_idempotency_key", "must be 1 to 255 characters", "Idempotency-Key")
            )
          }
          const fingerprint = fingerprintOf(body)
          const now = yield* Clock.currentTimeMillis
          const claim = yield* mapLibrary(store.claimIdempotencyKey(idempotencyKey, fingerprint, now))
          if (claim._tag === "Existing") {
            if (claim.fingerprint !== fingerprint) {
              return yield* Effect.fail(
                Errors.conflict(
                  "idempotency_key_reused",
                  "this Idempotency-Key was used for a different request; use a new key for a new request"
                )
              )
            }
            if (claim.taskId === undefined) {
              return yield* Effect.fail(
                Errors.conflict(
                  "idempotency_key_in_use",
                  "the first request with this Idempotency-Key is still being submitted; retry shortly"
                )
              )
            }
            return accepted(yield* mapLibrary(store.get(claim.taskId)), true)
          }
          const task = yield* mapLibrary(submitOnce(input)).pipe(
            Effect.tapError(() => Effect.ignore(store.releaseIdempotencyKey(idempotencyKey)))
          )
          yield* mapLibrary(store.completeIdempotencyKey(idempotencyKey, task.id))
          return accepted(task, false)
        })

      const list = (params: typeof import("./api.js").ListParams.Type) =>
        Effect.gen(function*() {
          const limit = params.limit ?? 50
          const cursor = params.cursor === undefined ? undefined : yield* decodeCursor(params.cursor)
          const after = params.created_after === undefined ? undefined : Date.parse(params.created_after)
          const beforeParam = params.created_before === undefined ? undefined : Date.parse(params.created_before)
          // The cursor's own millisecond is read again; tasks up to the cursor's are skipped.
          const before = cursor === undefined ?
            beforeParam :
            Math.min(beforeParam ?? Infinity, cursor.createdAt + 1)
          const found = yield* mapLibrary(store.list({
            status: params.status,
            createdAfter: after,
            createdBefore: before === Infinity ? undefined : before,
            limit: limit + 1 + (cursor === undefined ? 0 : 64)
          }))
          let page = found
          if (cursor !== undefined) {
            const at = found.findIndex((t) => t.id === cursor.id)
            page = at >= 0 ? found.slice(at + 1) : found.filter((t) => t.createdAt < cursor.createdAt)
          }
          const more = page.length > limit
          const tasks = page.slice(0, limit)
          return {
            tasks: tasks.map(TaskStatus.toJSON),
            ...(more ? { next_cursor: encodeCursor(tasks[tasks.length - 1]!) } : {})
          }
        })

      const parseLastEventId = (header: string | undefined) => {
        if (header === undefined || header.trim() === "") return Either.right(undefined)
        const n = Number(header.trim())
        return Number.isInteger(n) && n >= 0 ?
          Either.right(n) :
          Either.left(
            Errors.badRequest("invalid_last_event_id", "must be the id of an event this server sent", "Last-Event-ID")
          )
      }

      const sse = (stream: Stream.Stream<Uint8Array, StoreError>) =>
        HttpServerResponse.stream(
          stream.pipe(
            Stream.catchAllCause((cause) =>
              Stream.fromEffect(Effect.logError("Medusa server: an event stream failed", cause)).pipe(Stream.drain)
            )
          ),
          {
            contentType: "text/event-stream",
            headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
          }
        )

      // A request served by Node: its live events are written to its response as they happen.
      const socketOf = (request: HttpServerRequest.HttpServerRequest) => {
        if (!(request.source instanceof IncomingMessage)) return undefined
        const response = NodeHttpServerRequest.toServerResponse(request)
        return response instanceof ServerResponse ? response : undefined
      }

      const wantsProgress = (request: HttpServerRequest.HttpServerRequest) =>
        !/[?&]progress=(false|0)(&|$)/.test(request.url)

      return handlers
        .handleRaw("submit", ({ headers, request }) => Effect.scoped(submit(request, headers["idempotency-key"])))
        .handle("list", ({ urlParams }) => list(urlParams))
        // Answered as bytes directly: the status JSON is built in its encoded form already,
        // and encoded once per version of the task (the same bytes as `./fastRead.ts`).
        .handleRaw("get", ({ path }) =>
          TaskId.is(path.id) ?
            mapLibrary(store.get(path.id)).pipe(
              Effect.flatMap((task) =>
                mapLibrary(Effect.map(store.history(task.id), (history) => Status.statusBytes(task, history)))
              ),
              Effect.map((bytes) =>
                HttpServerResponse.uint8Array(bytes, { status: 200, contentType: Status.contentType })
              )
            ) :
            Effect.fail(Errors.taskNotFound(path.id)))
        .handle("cancel", ({ path }) =>
          Effect.zipRight(requireWrite, mapLibrary(Effect.map(medusa.cancel(path.id), TaskStatus.toJSON))))
        .handle("resume", ({ path }) =>
          Effect.zipRight(
            requireWrite,
            Effect.gen(function*() {
              const task = yield* mapLibrary(medusa.status(path.id))
              // Unfinished tasks of this server's store are carried on by its engine (started
              // on start-up, taken over from a stopped process); a final task stays as it is.
              if (isFinal(task.state)) {
                return yield* Effect.fail(
                  Errors.conflict(
                    "task_finished",
                    `task ${task.id} is ${task.state}; only unfinished tasks resume (submit it again to retry)`
                  )
                )
              }
              return TaskStatus.toJSON(task)
            })
          ))
        .handleRaw("validate", ({ request }) =>
          Effect.gen(function*() {
            const body = yield* readJson(request, options.maxBodyBytes)
            const input = yield* Effect.either(withMedia(body))
            if (Either.isLeft(input)) {
              const e = input.left.error
              return jsonResponse(
                { valid: false, issues: [{ field: e.field ?? "mediaFile", message: e.message }] },
                200
              )
            }
            // The library's dry run: the same checks as a submit, the quota plan included.
            const result = yield* Effect.either(medusa.validate(input.right as PublishRequestInput)).pipe(
              Effect.flatMap((either) =>
                Either.isLeft(either) && either.left._tag === "StoreError" ?
                  mapLibrary(Effect.fail(either.left)) :
                  Effect.succeed(either)
              )
            )
            return jsonResponse(
              Either.isRight(result) ?
                { ...validationToJSON(result.right), issues: [] } :
                {
                  valid: false,
                  issues: result.left._tag === "InvalidRequest" ?
                    result.left.issues.map((i) => ({ field: fieldOf(i.path), message: i.message })) :
                    []
                },
              200
            )
          }))
        .handleRaw("taskEvents", ({ headers, path, request }) =>
          Effect.gen(function*() {
            const after = yield* parseLastEventId(headers["last-event-id"])
            const task = yield* mapLibrary(medusa.status(path.id))
            return sse(
              feed.follow({ taskId: task.id, after, progress: wantsProgress(request), socket: socketOf(request) })
            )
          }))
        .handleRaw("events", ({ headers, request }) =>
          Effect.gen(function*() {
            const after = yield* parseLastEventId(headers["last-event-id"])
            return sse(feed.follow({ after, progress: wantsProgress(request), socket: socketOf(request) }))
          }))
    }))

  return Layer.mergeAll(health, meta, tasks)
}

/**
 * `POST /v1/webhooks/endpoints/enable`: an endpoint a 410 disabled gets the
 * events from now on again.
 *
 * @internal
 */
export const enableWebhookEndpoint = (
  store: TaskStoreService,
  url: string
): Effect.Effect<{ readonly url: string; readonly enabled: true }, ApiError, CurrentCaller> =>
  Effect.gen(function*() {
    yield* requireWrite
    const outbox = store.outbox
    const enabled = outbox === undefined ? false : yield* mapLibrary(outbox.enable(url))
    if (!enabled) {
      const disabled = outbox === undefined ? [] : yield* mapLibrary(outbox.disabled)
      return yield* Effect.fail(
        Errors.notFound(
          "endpoint_not_disabled",
          `${JSON.stringify(url)} is not a disabled webhook endpoint; disabled: ${
            disabled.length === 0 ? "none" : disabled.map((d) => d.url).join(", ")
          } (GET /v1/webhooks/deliveries lists them)`,
          "url"
        )
      )
    }
    return { url, enabled: true as const }
  })

/** Checks a path id early: the handlers' 404 names it. @internal */
export const isTaskId = TaskId.is
