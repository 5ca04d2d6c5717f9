/**
 * Threads API emulator (`graph.threads.net/v1.0`): text containers
 * (`POST /{user-id}/threads`), their status (`GET /{container-id}?fields=status,error_message`),
 * publishing (`POST /{user-id}/threads_publish`), the user's threads,
 * `GET /me`, deletion, and Graph-style error bodies.
 *
 * A container is published at most once: a second `threads_publish` of the
 * same `creation_id` is refused. Containers expire 24 hours after creation
 * (status `EXPIRED`), as Meta documents.
 *
 * Routes (names for fault injection): `containers` (POST), `publish` (POST),
 * `object` (GET of a container or a thread), `threads.list` (GET), `me` (GET),
 * `threads.delete` (DELETE).
 *
 * @internal
 */
import type { Emulator, EmulatorEnv, ErrorOptions, RequestContext } from "../internal/framework.js"
import { bearer, numericId, prng, randomId } from "../internal/framework.js"

/**
 * Settings of the Threads emulator (`Sandbox.start({ threads: {...} })`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ThreadsEmulatorOptions {
  /** Status reads of a new container answering `IN_PROGRESS` before its outcome (default 0). */
  readonly containerPolls?: number | undefined
  /** What a container becomes once processed (default `FINISHED`). */
  readonly containerOutcome?: "FINISHED" | "ERROR" | undefined
  /** How long an unpublished container lives, in sandbox ms (default 24 h). */
  readonly containerLifetimeMillis?: number | undefined
  /** Posts per user per 24 hours before the publishing limit (default 250, Meta's documented figure). */
  readonly publishLimit?: number | undefined
  /** Longest text, in characters (default 500). */
  readonly maxTextLength?: number | undefined
  /** The user's handle `GET /me` answers (default `medusa.sandbox`). */
  readonly username?: string | undefined
}

/** @internal */
export const THREADS_VERSION = "v1.0"

const DAY = 86_400_000

interface Container {
  readonly id: string
  readonly text: string
  readonly createdAt: number
  polls: number
  published?: string | undefined
}

interface Thread {
  readonly id: string
  readonly text: string
  readonly createdAt: number
  readonly shortcode: string
}

const CODES: Record<number, { readonly message: string; readonly status: number }> = {
  1: { message: "An unknown error occurred", status: 500 },
  2: { message: "An unexpected error has occurred. Please retry your request later.", status: 503 },
  4: { message: "Application request limit reached", status: 429 },
  10: { message: "Application does not have permission for this action", status: 403 },
  24: { message: "The requested resource does not exist", status: 400 },
  100: { message: "Invalid parameter", status: 400 },
  190: { message: "Invalid OAuth access token - Cannot parse access token", status: 401 }
}

const codeForStatus = (status: number): number =>
  status === 401 ? 190 : status === 403 ? 10 : status === 429 ? 4 : status === 503 ? 2 : status >= 500 ? 1 : 100

/** ISO 8601 as the Threads API dates threads (`2026-12-06T00:10:00+0000`). */
const threadsTime = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "+0000")

/** @internal */
export const makeThreads = (env: EmulatorEnv): Emulator => {
  const options: ThreadsEmulatorOptions = env.options.threads ?? {}
  const creds = env.credentials.threads
  const random = prng(env.options.seed ?? 1)
  const containerPolls = options.containerPolls ?? 0
  const outcome = options.containerOutcome ?? "FINISHED"
  const lifetime = options.containerLifetimeMillis ?? DAY
  const publishLimit = options.publishLimit ?? 250
  const maxText = options.maxTextLength ?? 500
  const username = options.username ?? "medusa.sandbox"
  const containers = new Map<string, Container>()
  const threads: Array<Thread> = []
  let tokenExpired = false
  let quotaUsedUp = false

  const render = (status: number, opts: ErrorOptions) => {
    const parsed = opts.code !== undefined && /^\d+$/.test(opts.code) ? Number(opts.code) : undefined
    const code = parsed ?? codeForStatus(status)
    return {
      body: {
        error: {
          message: opts.message ?? CODES[code]?.message ?? `(#${code}) Sandbox fault`,
          type: code === 24 || status === 404 ? "GraphMethodException" : "OAuthException",
          code,
          ...(code === 1 || code === 2 ? { is_transient: true } : {}),
          ...opts.extra,
          fbtrace_id: randomId(random, 27)
        }
      }
    }
  }

  const graphError = (ctx: RequestContext, code: number, message?: string, extra?: Record<string, unknown>) =>
    ctx.fail(CODES[code]?.status ?? 400, {
      code: String(code),
      ...(message === undefined ? {} : { message }),
      ...(extra === undefined ? {} : { extra })
    })

  /** Parameters from the query string and a form or JSON body, as Graph reads both. */
  const params = async (ctx: RequestContext): Promise<URLSearchParams> => {
    const merged = new URLSearchParams(ctx.url.searchParams)
    if (ctx.req.method === "POST") {
      const type = ctx.req.headers["content-type"] ?? ""
      if (/application\/json/i.test(type)) {
        const body = await ctx.json()
        if (body !== null && typeof body === "object") {
          for (const [k, v] of Object.entries(body)) merged.set(k, typeof v === "string" ? v : JSON.stringify(v))
        }
      } else {
        for (const [k, v] of await ctx.form()) merged.set(k, v)
      }
    }
    return merged
  }

  /** Checks the token (header or `access_token`); `false` when an error was sent. */
  const guard = (ctx: RequestContext, p: URLSearchParams): boolean => {
    const token = bearer(ctx.req) ?? p.get("access_token") ?? undefined
    if (token === undefined || token === "") {
      graphError(ctx, 190, "An access token is required to request this resource.")
      return false
    }
    if (token !== creds.accessToken) {
      graphError(ctx, 190)
      return false
    }
    if (tokenExpired) {
      graphError(ctx, 190, "Error validating access token: Session has expired.", { error_subcode: 463 })
      return false
    }
    return true
  }

  const ownUser = (ctx: RequestContext, user: string): boolean => {
    if (user === "me" || user === creds.userId) return true
    graphError(
      ctx,
      10,
      `(#10) The token's user ${creds.userId} may not act for Threads user ${user}`
    )
    return false
  }

  const statusOf = (c: Container, now: number): string => {
    if (c.published !== undefined) return "PUBLISHED"
    if (now - c.createdAt >= lifetime) return "EXPIRED"
    if (c.polls < containerPolls) return "IN_PROGRESS"
    return outcome
  }

  const permalink = (t: Thread) => `https://www.threads.net/@${username}/post/${t.shortcode}`

  const renderThread = (t: Thread, fields: ReadonlyArray<string>) => {
    const all: Record<string, unknown> = {
      id: t.id,
      media_product_type: "THREADS",
      media_type: "TEXT_POST",
      text: t.text,
      timestamp: threadsTime(t.createdAt),
      permalink: permalink(t),
      shortcode: t.shortcode,
      username,
      is_quote_post: false
    }
    return Object.fromEntries(["id", ...fields].filter((f) => all[f] !== undefined).map((f) => [f, all[f]]))
  }

  const fieldsOf = (p: URLSearchParams): ReadonlyArray<string> =>
    (p.get("fields") ?? "").split(",").map((f) => f.trim()).filter((f) => f !== "")

  const publishedToday = (now: number) => threads.filter((t) => now - t.createdAt < DAY).length

  const store = (text: string, createdAt: number): Thread => {
    const thread: Thread = {
      id: numericId(random, 17),
      text,
      createdAt,
      shortcode: randomId(random, 11)
    }
    threads.push(thread)
    env.state.addPost({
      platform: "threads",
      id: thread.id,
      text,
      url: permalink(thread),
      createdAt,
      extra: { shortcode: thread.shortcode }
    })
    return thread
  }

  /** `POST /{user-id}/threads`: a container; only `TEXT` (with the first link as its preview) is emulated. */
  const createContainer = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, p) || !ownUser(ctx, ctx.params.user!)) return
    const type = p.get("media_type")
    if (type === null) return graphError(ctx, 100, "(#100) The parameter media_type is required")
    if (type !== "TEXT") {
      return graphError(ctx, 100, `(#100) The sandbox emulates media_type TEXT only; got ${type}`)
    }
    const text = p.get("text") ?? ""
    if (text.trim() === "") return graphError(ctx, 100, "(#100) The parameter text is required for TEXT posts")
    const length = [...text].length
    if (length > maxText) {
      return graphError(ctx, 100, `(#100) Param text must be at most ${maxText} characters long; got ${length}`)
    }
    const container: Container = { id: numericId(random, 17), text, createdAt: ctx.now(), polls: 0 }
    containers.set(container.id, container)
    return ctx.send(200, { id: container.id })
  }

  /** `POST /{user-id}/threads_publish`: publishes a `FINISHED` container, once. */
  const publish = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, p) || !ownUser(ctx, ctx.params.user!)) return
    const id = p.get("creation_id")
    if (id === null || id === "") return graphError(ctx, 100, "(#100) The parameter creation_id is required")
    const container = containers.get(id)
    if (container === undefined) {
      return graphError(ctx, 24, `(#24) The container ${id} does not exist`, { error_subcode: 4279009 })
    }
    const now = ctx.now()
    const status = statusOf(container, now)
    if (status === "PUBLISHED") {
      // The error's code and text are the sandbox's: Meta documents the PUBLISHED status, not this answer.
      return graphError(ctx, 100, `(#100) The container ${id} has already been published`, {
        error_subcode: 4279001
      })
    }
    if (status !== "FINISHED") {
      return graphError(ctx, 100, `(#100) The container ${id} is ${status} and cannot be published`, {
        error_subcode: 4279002
      })
    }
    if (quotaUsedUp || publishedToday(now) >= publishLimit) {
      return graphError(ctx, 4, `(#4) The user has reached the limit of ${publishLimit} posts in 24 hours`)
    }
    const thread = store(container.text, now)
    container.published = thread.id
    return ctx.send(200, { id: thread.id })
  }

  /** `GET /{id}`: a container's status or a thread's fields. */
  const read = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, p)) return
    const id = ctx.params.id!
    if (id === "me") return me(ctx, p)
    const container = containers.get(id)
    if (container !== undefined) {
      const status = statusOf(container, ctx.now())
      container.polls += 1
      const fields = fieldsOf(p)
      const all: Record<string, unknown> = {
        status,
        ...(status === "ERROR" ? { error_message: "FAILED_PROCESSING_TEXT" } : {})
      }
      return ctx.send(200, {
        ...Object.fromEntries(fields.filter((f) => all[f] !== undefined).map((f) => [f, all[f]])),
        id
      })
    }
    const thread = threads.find((t) => t.id === id)
    if (thread === undefined) {
      return graphError(ctx, 100, `(#100) Object with ID '${id}' does not exist`, { error_subcode: 33 })
    }
    return ctx.send(200, renderThread(thread, fieldsOf(p)))
  }

  const me = (ctx: RequestContext, p: URLSearchParams) => {
    const all: Record<string, unknown> = { id: creds.userId, username, name: "Medusa Sandbox" }
    const fields = fieldsOf(p)
    return ctx.send(
      200,
      Object.fromEntries(["id", ...fields].filter((f) => all[f] !== undefined).map((f) => [f, all[f]]))
    )
  }

  /** `GET /{user-id}/threads`: newest first, `limit` (default 25, at most 100) and `since`/`until` (UNIX s). */
  const list = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, p) || !ownUser(ctx, ctx.params.user!)) return
    const n = Number(p.get("limit") ?? 25)
    const limit = Number.isInteger(n) && n > 0 ? Math.min(n, 100) : 25
    const since = p.get("since") === null ? undefined : Number(p.get("since")) * 1000
    const until = p.get("until") === null ? undefined : Number(p.get("until")) * 1000
    const fields = fieldsOf(p)
    const data = [...threads]
      .filter((t) => (since === undefined || t.createdAt >= since) && (until === undefined || t.createdAt <= until))
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit)
      .map((t) => renderThread(t, fields))
    return ctx.send(200, { data, paging: {} })
  }

  /** `DELETE /{thread-id}`: `{ success: true }`; an unknown id is Graph's error. */
  const remove = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, p)) return
    const id = ctx.params.id!
    const i = threads.findIndex((t) => t.id === id)
    if (i === -1) return graphError(ctx, 100, `(#100) Object with ID '${id}' does not exist`, { error_subcode: 33 })
    threads.splice(i, 1)
    env.state.removePost("threads", id)
    return ctx.send(200, { success: true, deleted_id: id })
  }

  const v = THREADS_VERSION.replace(".", "\\.")
  return {
    platform: "threads",
    routes: [
      {
        name: "containers",
        method: "POST",
        path: new RegExp(`^/${v}/(?<user>[^/]+)/threads$`),
        handler: createContainer
      },
      { name: "publish", method: "POST", path: new RegExp(`^/${v}/(?<user>[^/]+)/threads_publish$`), handler: publish },
      { name: "threads.list", method: "GET", path: new RegExp(`^/${v}/(?<user>[^/]+)/threads$`), handler: list },
      { name: "object", method: "GET", path: new RegExp(`^/${v}/(?<id>[^/]+)$`), handler: read },
      { name: "threads.delete", method: "DELETE", path: new RegExp(`^/${v}/(?<id>[^/]+)$`), handler: remove }
    ],
    errorResponse: render,
    seedPost: ({ at, text }) => {
      const thread = store(text, at)
      return env.state.posts.find((p) => p.platform === "threads" && p.id === thread.id)!
    },
    expireTokens: () => {
      tokenExpired = true
    },
    exhaustQuota: () => {
      quotaUsedUp = true
    },
    snapshot: () => ({
      userId: creds.userId,
      username,
      tokenExpired,
      publishLimit,
      containers: [...containers.values()].map((c) => ({
        id: c.id,
        status: statusOf(c, env.clock.now()),
        polls: c.polls,
        published: c.published
      })),
      threads: threads.map((t) => ({ id: t.id, text: t.text }))
    })
  }
}
