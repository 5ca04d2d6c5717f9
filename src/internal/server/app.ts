/**
 * What wraps every route, the API's and any mounted beside it:
 * - the key check: a valid key on everything but the public paths (/healthz),
 *   a "write" key for every method but GET and HEAD (POST /v1/validate
 *   reads only);
 * - one error shape: every failure becomes `{ "error": { code, message,
 *   field? } }` with its status, here (not after the middleware chain), so
 *   CORS headers reach error answers too; a defect is logged and answered
 *   500 without its details.
 *
 * @internal
 */
import * as HttpApiError from "@effect/platform/HttpApiError"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Api } from "./api.js"
import { bearerOf, checkedCallers, type Keys } from "./auth.js"
import type { ErrorBody } from "./errors.js"
import * as Errors from "./errors.js"

const errorClasses: ReadonlyArray<readonly [new(...args: Array<any>) => { readonly error: ErrorBody }, number]> = [
  [Errors.BadRequest, 400],
  [Errors.Unauthorized, 401],
  [Errors.Forbidden, 403],
  [Errors.NotFound, 404],
  [Errors.MethodNotAllowed, 405],
  [Errors.Conflict, 409],
  [Errors.PayloadTooLarge, 413],
  [Errors.InternalError, 500],
  [Errors.ServiceUnavailable, 503]
]

const answer = (status: number, error: ErrorBody, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson({ error }, { status, ...(headers !== undefined ? { headers } : {}) })

/** Every route of the API as a pattern, with its methods (for 405). */
const routes: ReadonlyArray<{ readonly pattern: RegExp; readonly methods: ReadonlyArray<string> }> = (() => {
  const byPath = new Map<string, Set<string>>()
  for (const group of Object.values(Api.groups)) {
    for (const endpoint of Object.values(group.endpoints)) {
      const methods = byPath.get(endpoint.path) ?? new Set<string>()
      methods.add(endpoint.method)
      byPath.set(endpoint.path, methods)
    }
  }
  byPath.set("/docs", new Set(["GET"]))
  return [...byPath].map(([path, methods]) => ({
    pattern: new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]+/g, "[^/]+")}$`),
    methods: [...methods]
  }))
})()

const pathOf = (url: string): string => {
  const q = url.indexOf("?")
  return q === -1 ? url : url.slice(0, q)
}

const notFound = (method: string, url: string) => {
  const path = pathOf(url)
  const route = routes.find((r) => r.pattern.test(path))
  if (route !== undefined && !route.methods.includes(method)) {
    return answer(405, Errors.methodNotAllowed(method, route.methods).error, { allow: route.methods.join(", ") })
  }
  return answer(
    404,
    Errors.notFound("route_not_found", `no route ${method} ${path}; see GET /openapi.json for the API`).error
  )
}

const decodeIssue = (error: HttpApiError.HttpApiDecodeError) => {
  const first = error.issues[0]
  const field = first === undefined ? undefined : first.path.map(String).join(".")
  const message = first === undefined ? error.message : `${field ? `${field}: ` : ""}${first.message}`
  return answer(400, {
    code: "invalid_parameter",
    message,
    ...(field ? { field } : {})
  })
}

/** Failure → answer; `undefined` for an interruption (the client went away). @internal */
export const toResponse = (
  cause: Cause.Cause<unknown>,
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<HttpServerResponse.HttpServerResponse, unknown> => {
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    for (const [cls, status] of errorClasses) {
      if (error instanceof cls) {
        return Effect.succeed(
          answer(
            status,
            error.error,
            status === 401 ? { "www-authenticate": "Bearer" } : status === 405 ? {} : undefined
          )
        )
      }
    }
    if (error instanceof HttpApiError.HttpApiDecodeError) return Effect.succeed(decodeIssue(error))
    if (HttpServerError.isServerError(error)) {
      if (error._tag === "RouteNotFound") return Effect.succeed(notFound(request.method, request.url))
      if (error._tag === "RequestError") {
        return Effect.succeed(answer(400, { code: "bad_request", message: "the request could not be read" }))
      }
    }
  }
  return Effect.as(
    Effect.logError("Medusa server: unexpected failure", cause),
    answer(500, Errors.internal().error)
  )
}

/** @internal */
export interface GuardOptions {
  readonly keys: Keys
  /** Paths served without a key (exact, or a prefix when ending in `/`). */
  readonly publicPaths: ReadonlyArray<string>
  /** Non-GET paths a read key may call. */
  readonly readOnlyPosts: ReadonlyArray<string>
}

const isPublic = (path: string, publicPaths: ReadonlyArray<string>): boolean =>
  publicPaths.some((p) => p.endsWith("/") && p !== "/" ? path.startsWith(p) : path === p)

/** The outer middleware: key check, then one error shape. @internal */
export const wrap = (options: GuardOptions) => <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<never, R> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = pathOf(request.url)
    // CORS preflights carry no key; the CORS middleware outside answers them.
    if (request.method !== "OPTIONS" && !isPublic(path, options.publicPaths)) {
      const caller = options.keys.check(bearerOf(request.headers.authorization))
      if (Option.isNone(caller)) return yield* Effect.fail(Errors.unauthorized())
      const reads = request.method === "GET" || request.method === "HEAD" || options.readOnlyPosts.includes(path)
      if (!reads && !caller.value.scopes.has("write")) return yield* Effect.fail(Errors.forbidden())
      checkedCallers.set(request.source as object, caller.value)
    }
    return yield* app
  }).pipe(
    Effect.catchAllCause((cause) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => toResponse(cause, request))
    )
  ) as HttpApp.Default<never, R>
