/**
 * `GET /v1/tasks/{id}` answered straight from Node's request event, before
 * the `HttpApi` stack: polling a task's status is the API's hottest call,
 * and the framework's per-request work (a fiber, routing, the middleware
 * chain) costs several times the answer itself.
 *
 * It serves only what it can serve exactly as the API would: a valid key
 * (the same check, `auth.ts`), an existing task read without waiting (the
 * in-memory store), answered with the same bytes and headers (`status.ts`).
 * Anything else (no or a wrong key, an unknown task, a query string, HEAD, a
 * store that reads asynchronously) goes on to the API unchanged, so every
 * error is the API's own. Off when CORS or request spans are on (their
 * headers and spans come from the API's middleware).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import * as TaskId from "../../TaskId.js"
import type { Service as TaskStoreService } from "../../TaskStore.js"
import { bearerOf, type Keys } from "./auth.js"
import * as Status from "./status.js"

const prefix = "/v1/tasks/"

/** How many requests were answered here (tests check that the path is taken). @internal */
export const counter: { served: number } = { served: 0 }

/** The answer's bytes, `undefined` to leave the request to the API, `"async"` for a store that reads asynchronously. */
const answer = (request: IncomingMessage, keys: Keys, store: TaskStoreService): Uint8Array | "async" | undefined => {
  const url = request.url
  if (request.method !== "GET" || url === undefined || !url.startsWith(prefix)) return undefined
  const id = url.slice(prefix.length)
  if (!TaskId.is(id)) return undefined
  if (keys.check(bearerOf(request.headers.authorization))._tag === "None") return undefined
  const read = Effect.runSyncExit(
    Effect.flatMap(
      store.get(id),
      (task) => Effect.map(store.history(id), (history) => Status.statusBytes(task, history))
    )
  )
  if (Exit.isSuccess(read)) return read.value
  const defect = Cause.dieOption(read.cause)
  return Option.isSome(defect) && Runtime.isAsyncFiberException(defect.value) ? "async" : undefined
}

/**
 * Makes `server` answer task reads itself and hand every other request to
 * the `request` listeners (the API's). A store whose reads are not
 * synchronous turns it off at its first read.
 *
 * @internal
 */
export const install = (server: Server, keys: Keys, store: TaskStoreService): Server => {
  let on = true
  const emit = server.emit
  server.emit = function(this: Server, event: string | symbol, ...args: Array<any>): boolean {
    if (on && event === "request") {
      const [request, response] = args as [IncomingMessage, ServerResponse]
      const bytes = answer(request, keys, store)
      // A store that reads asynchronously: the API serves its reads from now on.
      if (bytes === "async") on = false
      else if (bytes !== undefined) {
        counter.served++
        response.writeHead(200, { "content-type": Status.contentType, "content-length": String(bytes.length) })
        response.end(bytes)
        return true
      }
    }
    return (emit as (...all: Array<unknown>) => boolean).apply(this, [event, ...args])
  } as Server["emit"]
  return server
}
