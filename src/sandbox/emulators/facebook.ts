/**
 * Facebook Graph API emulator (Pages): page posts with scheduling, the token
 * introspection endpoints, Graph's error bodies and its usage headers.
 *
 * Routes (names for fault injection): `feed` (POST), `feed.list` (GET),
 * `scheduled_posts`, `post` (GET `/{post-id}`), `post.delete`, `debug_token`,
 * `permissions`, `me`, and the Page video upload: `videos` (POST
 * `/{page-id}/videos`, every `upload_phase`), `video` (GET `/{video-id}`),
 * `video.delete`.
 *
 * The video upload follows Graph's chunked phases: `start` (`file_size`)
 * answers `upload_session_id`, `video_id` and the first chunk's
 * `start_offset`/`end_offset`; each `transfer` (multipart, `start_offset`
 * and `video_file_chunk`) answers the next offsets; a transfer at the wrong
 * offset gets error 1363037 with the offsets the server expects in
 * `error_data` (clients use an empty chunk to ask where to go on); `finish`
 * publishes the video with its `description`.
 *
 * @internal
 */
import type { IncomingMessage } from "node:http"
import type { Emulator, EmulatorEnv, ErrorOptions, RequestContext } from "../internal/framework.js"
import { commitBytes, completeUpload, prng, randomId, type StoredUpload } from "../internal/framework.js"

/**
 * Settings of the Facebook emulator (`Sandbox.start({ facebook: {...} })`).
 *
 * @since 0.1.0
 * @category models
 */
export interface FacebookEmulatorOptions {
  /** Graph version served (default: the sandbox's `graphVersion`, else `v26.0`); others get Graph's error. */
  readonly graphVersion?: string | undefined
  /** Earliest `scheduled_publish_time`, in seconds ahead of the sandbox clock (default 600). */
  readonly scheduleMinSeconds?: number | undefined
  /** Latest `scheduled_publish_time`, in seconds ahead (default 75 days, the Page feed reference's bound). */
  readonly scheduleMaxSeconds?: number | undefined
  /** Percentage points of `call_count` each call adds to the usage headers (default 1). */
  readonly usagePerCall?: number | undefined
  /** Usage at the start of each window, in percent (default 0). */
  readonly usageStart?: number | undefined
  /** Length of the usage window by the sandbox clock, in ms (default one hour, Graph's rolling hour). */
  readonly usageWindowMillis?: number | undefined
  /** A post with the same message on the page within this many ms is a duplicate (default 24 h). */
  readonly duplicateWindowMillis?: number | undefined
  /** Permissions granted to the page token (default the posting set). */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** When the page token expires, epoch seconds by the sandbox clock (default never, like a long-lived page token). */
  readonly tokenExpiresAt?: number | undefined
  /** The page's display name (default `Medusa Sandbox Page`). */
  readonly pageName?: string | undefined
  /**
   * More Pages beside the sandbox's own, each with its own page token (one
   * person running several Pages): a token reaches its own Page only, and
   * each Page has its own feed.
   */
  readonly pages?:
    | ReadonlyArray<{ readonly id: string; readonly token: string; readonly name?: string | undefined }>
    | undefined
  /** Bytes of each transfer chunk the server asks for (default 4 MiB). */
  readonly videoChunkBytes?: number | undefined
  /** How long a video upload session lives, in sandbox ms (default 1 day); later requests get error 1363030. */
  readonly videoSessionTtlMillis?: number | undefined
}

/** @internal */
export const DEFAULT_GRAPH_VERSION = "v26.0"

/** @internal */
export const DEFAULT_SCOPES: ReadonlyArray<string> = [
  "pages_manage_posts",
  "pages_read_engagement",
  "pages_show_list",
  "public_profile"
]

const DAY = 86_400_000

// Graph's messages for the codes clients key on (F8). Subcodes marked "unverified" are plausible but unconfirmed.
const CODES: Record<number, { readonly type: string; readonly message: string; readonly status: number }> = {
  1: { type: "OAuthException", message: "An unknown error occurred", status: 500 },
  2: {
    type: "OAuthException",
    message: "An unexpected error has occurred. Please retry your request later.",
    status: 503
  },
  4: { type: "OAuthException", message: "(#4) Application request limit reached", status: 400 },
  10: { type: "OAuthException", message: "(#10) Application does not have permission for this action", status: 403 },
  12: { type: "OAuthException", message: "(#12) This Graph API version is not available", status: 400 },
  17: { type: "OAuthException", message: "(#17) User request limit reached", status: 400 },
  32: { type: "OAuthException", message: "(#32) Page request limit reached", status: 400 },
  100: { type: "OAuthException", message: "(#100) Invalid parameter", status: 400 },
  102: { type: "OAuthException", message: "Session key invalid or no longer valid", status: 400 },
  104: { type: "OAuthException", message: "An access token is required to request this resource.", status: 400 },
  190: { type: "OAuthException", message: "Invalid OAuth access token - Cannot parse access token", status: 400 },
  200: {
    type: "OAuthException",
    message:
      "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts permission with page token",
    status: 403
  },
  341: { type: "OAuthException", message: "(#341) Application limit reached", status: 400 },
  368: {
    type: "OAuthException",
    message: "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
    status: 400
  },
  506: { type: "OAuthException", message: "(#506) Duplicate status message", status: 400 },
  613: { type: "OAuthException", message: "(#613) Calls to this api have exceeded the rate limit.", status: 400 },
  80001: {
    type: "OAuthException",
    message: "(#80001) There have been too many calls to this Page account. Wait a bit and try again. " +
      "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
    status: 400
  }
}

const codeForStatus = (status: number): number => {
  if (status === 401) return 190
  if (status === 403) return 200
  if (status === 429) return 32
  if (status === 500) return 1
  if (status >= 500) return 2
  return 100
}

interface FbPost {
  readonly id: string
  /** The Page it is on. */
  readonly page: string
  readonly message: string | undefined
  readonly link: string | undefined
  readonly createdTime: number
  /** Epoch ms; undefined for posts published at once. */
  readonly scheduledAt: number | undefined
  readonly published: boolean
}

/** `2026-11-21T20:38:11+0000`, Graph's time format. */
const graphTime = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "+0000")

const readOptions = (env: EmulatorEnv): FacebookEmulatorOptions => env.options.facebook ?? {}

/** @internal */
export const makeFacebook = (env: EmulatorEnv): Emulator => {
  const options = readOptions(env)
  const version = options.graphVersion ?? env.options.graphVersion ?? DEFAULT_GRAPH_VERSION
  const creds = env.credentials.facebook
  const minSchedule = (options.scheduleMinSeconds ?? 600) * 1000
  const maxSchedule = (options.scheduleMaxSeconds ?? 75 * 86_400) * 1000
  const perCall = options.usagePerCall ?? 1
  const usageWindow = options.usageWindowMillis ?? 3_600_000
  const duplicateWindow = options.duplicateWindowMillis ?? DAY
  const scopes = options.scopes ?? DEFAULT_SCOPES
  const pageName = options.pageName ?? "Medusa Sandbox Page"
  const pages: ReadonlyArray<{ readonly id: string; readonly token: string; readonly name: string }> = [
    { id: creds.pageId, token: creds.pageAccessToken, name: pageName },
    ...(options.pages ?? []).map((p) => ({ id: p.id, token: p.token, name: p.name ?? `Sandbox Page ${p.id}` }))
  ]
  /** The Page a (valid) token belongs to. */
  const pageOf = (token: string | undefined) => pages.find((p) => p.token === token) ?? pages[0]!
  const random = prng((env.options.seed ?? 1) ^ 0xfb)
  const posts: Array<FbPost> = []
  let postCounter = 0
  let tokenExpiresAt = options.tokenExpiresAt === undefined ? 0 : options.tokenExpiresAt * 1000

  // ---------------------------------------------------------------------------
  // Usage: every answer counts one call; the window rolls by the sandbox clock.
  // ---------------------------------------------------------------------------
  let windowStart = env.clock.now()
  let calls = 0
  let exhausted = false
  const rollWindow = () => {
    const now = env.clock.now()
    if (now - windowStart >= usageWindow) {
      windowStart = now
      calls = 0
      exhausted = false
    }
  }
  const usage = (): number => {
    rollWindow()
    return exhausted ? 100 : Math.min(100, Math.floor((options.usageStart ?? 0) + calls * perCall))
  }
  const minutesToRegain = () => Math.max(1, Math.ceil((windowStart + usageWindow - env.clock.now()) / 60_000))
  const usageHeaders = (): Record<string, string> => {
    calls += 1
    const pct = usage()
    const time = Math.floor(pct / 2)
    return {
      "x-app-usage": JSON.stringify({ call_count: pct, total_cputime: time, total_time: time }),
      "x-business-use-case-usage": JSON.stringify({
        [creds.pageId]: [{
          type: "pages",
          call_count: pct,
          total_cputime: time,
          total_time: time,
          estimated_time_to_regain_access: pct >= 100 ? minutesToRegain() : 0
        }]
      })
    }
  }

  const render = (status: number, opts: ErrorOptions) => {
    const parsed = opts.code !== undefined && /^\d+$/.test(opts.code) ? Number(opts.code) : undefined
    const code = parsed ?? codeForStatus(status)
    const known = CODES[code]
    const body: Record<string, unknown> = {
      message: opts.message ?? known?.message ?? `(#${code}) Sandbox fault`,
      // Graph calls an unknown object or edge a GraphMethodException.
      type: status === 404 || opts.extra?.error_subcode === 33
        ? "GraphMethodException"
        : known?.type ?? "OAuthException",
      code,
      ...(code === 1 || code === 2 ? { is_transient: true } : {}),
      ...opts.extra,
      fbtrace_id: randomId(random, 27)
    }
    const headers: Record<string, string> = usageHeaders()
    if (code === 190) headers["www-authenticate"] = `OAuth "Facebook Platform" "invalid_token" "${body.message}"`
    return { body: { error: body }, headers }
  }

  const graphError = (ctx: RequestContext, code: number, extra?: Record<string, unknown>, message?: string) =>
    ctx.fail(CODES[code]?.status ?? 400, {
      code: String(code),
      ...(message === undefined ? {} : { message }),
      ...(extra === undefined ? {} : { extra })
    })

  const ok = (ctx: RequestContext, body: unknown) => ctx.send(200, body, usageHeaders())

  // ---------------------------------------------------------------------------
  // Request parsing
  // ---------------------------------------------------------------------------

  /** Query params merged with a form or JSON body (Graph accepts either). */
  const params = async (ctx: RequestContext): Promise<Map<string, string>> => {
    const out = new Map<string, string>(ctx.url.searchParams)
    if (ctx.req.method === "POST") {
      const type = ctx.req.headers["content-type"] ?? ""
      if (/application\/json/i.test(type)) {
        const json = await ctx.json()
        if (json !== null && typeof json === "object") {
          for (const [k, v] of Object.entries(json)) {
            out.set(k, typeof v === "string" ? v : JSON.stringify(v))
          }
        }
      } else {
        for (const [k, v] of await ctx.form()) out.set(k, v)
      }
    }
    return out
  }

  const tokenOf = (req: IncomingMessage, p: Map<string, string>): string | undefined => {
    const fromParams = p.get("access_token")
    if (fromParams !== undefined && fromParams !== "") return fromParams
    const m = /^(?:bearer|oauth)\s+(.+)$/i.exec(req.headers.authorization ?? "")
    return m?.[1]?.trim()
  }

  const tokenState = (token: string | undefined): "missing" | "invalid" | "expired" | "valid" => {
    if (token === undefined) return "missing"
    if (!pages.some((p) => p.token === token)) return "invalid"
    if (tokenExpiresAt > 0 && env.clock.now() >= tokenExpiresAt) return "expired"
    return "valid"
  }

  /** Version, throttle and token checks shared by every route; `false` when an error was sent. */
  const guard = (ctx: RequestContext, token: string | undefined, appTokenAllowed = false): boolean => {
    const asked = ctx.params.version
    if (asked !== version) {
      graphError(ctx, 12, undefined, `(#12) Graph API ${asked} is not served by this sandbox, which serves ${version}`)
      return false
    }
    if (usage() >= 100) {
      graphError(ctx, 80001, { error_subcode: 2446079, estimated_time_to_regain_access: minutesToRegain() })
      return false
    }
    // An app token (`<app-id>|<secret>`) may inspect tokens; the sandbox does not know the app secret.
    if (appTokenAllowed && token !== undefined && token.startsWith(`${creds.appId}|`)) return true
    switch (tokenState(token)) {
      case "missing":
        graphError(ctx, 104)
        return false
      case "invalid":
        graphError(ctx, 190)
        return false
      case "expired":
        graphError(
          ctx,
          190,
          { error_subcode: 463 },
          `Error validating access token: Session has expired on ${new Date(tokenExpiresAt).toUTCString()}.`
        )
        return false
      case "valid":
        return true
    }
  }

  const isPage = (id: string | undefined, token: string | undefined) => id === pageOf(token).id || id === "me"

  const unknownObject = (ctx: RequestContext, id: string, method: string) =>
    ctx.fail(400, {
      code: "100",
      message: `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to ` +
        "missing permissions, or does not support this operation.",
      extra: { error_subcode: 33 }
    })

  /** Parses `scheduled_publish_time`: Unix seconds, ISO 8601 with offset, or a date string. */
  const parseWhen = (value: string): number | undefined => {
    if (/^\d+$/.test(value)) return Number(value) * 1000
    const t = Date.parse(value)
    return Number.isNaN(t) ? undefined : t
  }

  const isDue = (p: FbPost) => p.published || (p.scheduledAt !== undefined && p.scheduledAt <= env.clock.now())

  // ---------------------------------------------------------------------------
  // Handlers
  // ---------------------------------------------------------------------------

  const createPost = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    const page = ctx.params.page!
    if (!isPage(page, tokenOf(ctx.req, p))) return unknownObject(ctx, page, "post")
    if (!scopes.includes("pages_manage_posts") || !scopes.includes("pages_read_engagement")) {
      return graphError(ctx, 200)
    }
    const message = p.get("message")
    const link = p.get("link")
    if ((message === undefined || message === "") && (link === undefined || link === "")) {
      return graphError(ctx, 100, undefined, "(#100) Missing message or attachment")
    }
    if (message !== undefined && message.length > 63_206) {
      return graphError(ctx, 100, undefined, "(#100) The message is longer than 63206 characters")
    }
    if (link !== undefined && link !== "") {
      let valid = false
      try {
        valid = /^https?:$/.test(new URL(link).protocol)
      } catch {
        valid = false
      }
      if (!valid) return graphError(ctx, 100, undefined, `(#100) The parameter link is not a valid URL: ${link}`)
    }
    const publishedParam = p.get("published")
    const published = publishedParam === undefined || !/^(false|0)$/i.test(publishedParam)
    const whenParam = p.get("scheduled_publish_time")
    let scheduledAt: number | undefined
    if (whenParam !== undefined && whenParam !== "") {
      if (published) {
        return graphError(
          ctx,
          100,
          undefined,
          "(#100) You cannot specify a scheduled publish time on a published post; send published=false"
        )
      }
      scheduledAt = parseWhen(whenParam)
      const ahead = scheduledAt === undefined ? NaN : scheduledAt - env.clock.now()
      if (!(ahead >= minSchedule && ahead <= maxSchedule)) {
        // error_subcode 1363003 is unverified; the code and wording follow Graph's invalid-parameter errors.
        return graphError(ctx, 100, {
          error_subcode: 1363003,
          error_user_title: "Invalid Scheduled Publish Time",
          error_user_msg: `The scheduled publish time must be between ${Math.round(minSchedule / 60_000)} minutes ` +
            `and ${Math.round(maxSchedule / DAY)} days from now`
        }, "(#100) The specified scheduled publish time is invalid.")
      }
    }
    const now = env.clock.now()
    if (message !== undefined && message !== "") {
      const onPage = pageOf(tokenOf(ctx.req, p)).id
      const duplicate = posts.some((q) =>
        q.page === onPage && q.message === message && now - q.createdTime < duplicateWindow
      )
      if (duplicate) {
        // error_subcode and user texts unverified; code 506 is documented.
        return graphError(ctx, 506, {
          error_subcode: 1455006,
          is_transient: false,
          error_user_title: "Duplicate Status Update",
          error_user_msg: "This status update is identical to the last one you posted. Try posting something different."
        })
      }
    }
    const stored = store({
      page: pageOf(tokenOf(ctx.req, p)).id,
      message,
      link,
      createdTime: now,
      scheduledAt,
      published
    })
    return ok(ctx, { id: stored.id })
  }

  /** `DELETE /{post-id}`: `{ success: true }`; an unknown id is Graph's code 100, subcode 33. */
  const deletePost = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    const id = ctx.params.post!
    const i = posts.findIndex((q) => q.id === id)
    if (i === -1) return unknownObject(ctx, id, "delete")
    posts.splice(i, 1)
    env.state.removePost("facebook", id)
    return ok(ctx, { success: true })
  }

  const store = (post: Omit<FbPost, "id">) => {
    postCounter += 1
    const id = `${post.page}_${(122_100_000_000_000_000n + BigInt(postCounter)).toString()}`
    posts.push({ id, ...post })
    return env.state.addPost({
      platform: "facebook",
      id,
      text: post.message ?? "",
      link: post.link,
      url: permalink(id),
      createdAt: post.createdTime,
      extra: {
        published: post.published,
        ...(post.scheduledAt === undefined ? {} : { scheduledPublishTime: Math.floor(post.scheduledAt / 1000) })
      }
    })
  }

  /** `<page>_<post>` → the page post's permalink, as Graph's `permalink_url` gives it. */
  const permalink = (id: string) => {
    const [page, post] = id.split("_")
    return `https://www.facebook.com/${page}/posts/${post}`
  }

  const FIELDS = ["id", "message", "created_time", "scheduled_publish_time", "is_published", "permalink_url"]
  const renderPost = (post: FbPost, fields: ReadonlyArray<string>) => {
    const all: Record<string, unknown> = {
      id: post.id,
      message: post.message,
      created_time: graphTime(post.createdTime),
      scheduled_publish_time: post.scheduledAt === undefined ? undefined : Math.floor(post.scheduledAt / 1000),
      is_published: isDue(post),
      permalink_url: permalink(post.id)
    }
    return Object.fromEntries(fields.filter((f) => all[f] !== undefined).map((f) => [f, all[f]]))
  }
  const fieldsOf = (ctx: RequestContext, defaults: ReadonlyArray<string>) => {
    const asked = ctx.url.searchParams.get("fields")
    return asked ? asked.split(",").map((f) => f.trim()).filter((f) => FIELDS.includes(f)) : defaults
  }
  const limitOf = (ctx: RequestContext) => {
    const n = Number(ctx.url.searchParams.get("limit") ?? 25)
    return Number.isInteger(n) && n > 0 ? Math.min(n, 100) : 25
  }

  /** Where a post sorts in a listing: newest first, by its time and then its id. */
  const sortKey = (post: FbPost) => ({ time: post.scheduledAt ?? post.createdTime, id: post.id })
  const newestFirst = (a: FbPost, b: FbPost) => {
    const [ka, kb] = [sortKey(a), sortKey(b)]
    return kb.time - ka.time || (ka.id < kb.id ? 1 : -1)
  }
  /** Graph's cursors are opaque: here the base64 of the post's sort key, so they survive a deleted post. */
  const cursorOf = (post: FbPost) => {
    const { id, time } = sortKey(post)
    return Buffer.from(`${time}:${id}`).toString("base64")
  }
  const isAfter = (cursor: string) => {
    const [time, id] = Buffer.from(cursor, "base64").toString("utf8").split(":")
    return (post: FbPost) => {
      const key = sortKey(post)
      return key.time < Number(time) || (key.time === Number(time) && key.id < String(id))
    }
  }

  /**
   * `GET /{page-id}/feed` (or `scheduled_posts`): a page of `limit` posts
   * after the `after` cursor; `paging.next` (this query with the last post's
   * cursor) only when more follow, as Graph pages, and no `paging` for none.
   */
  const listPosts = (scheduled: boolean) => async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    const page = ctx.params.page!
    if (!isPage(page, tokenOf(ctx.req, p))) return unknownObject(ctx, page, "get")
    const onPage = pageOf(tokenOf(ctx.req, p)).id
    const after = ctx.url.searchParams.get("after")
    const listed = posts
      .filter((post) => post.page === onPage)
      .filter((post) => scheduled ? !isDue(post) && post.scheduledAt !== undefined : isDue(post))
      .filter(after === null || after === "" ? () => true : isAfter(after))
      .sort(newestFirst)
    const selected = listed.slice(0, limitOf(ctx))
    const fields = fieldsOf(
      ctx,
      scheduled ? ["id", "message", "created_time", "scheduled_publish_time"] : ["id", "message", "created_time"]
    )
    const next = new URL(ctx.url.pathname, ctx.baseUrl)
    for (const [k, v] of ctx.url.searchParams) if (k !== "after") next.searchParams.set(k, v)
    if (selected.length > 0) next.searchParams.set("after", cursorOf(selected.at(-1)!))
    return ok(ctx, {
      data: selected.map((post) => renderPost(post, fields)),
      paging: selected.length === 0 ? undefined : {
        cursors: { before: cursorOf(selected[0]!), after: cursorOf(selected.at(-1)!) },
        ...(listed.length > selected.length ? { next: next.href } : {})
      }
    })
  }

  /** `GET /{post-id}?fields=`: one post, scheduled or not; an unknown id is Graph's code 100, subcode 33. */
  const getPost = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    const post = posts.find((q) => q.id === ctx.params.post)
    if (post === undefined) return unknownObject(ctx, ctx.params.post!, "get")
    return ok(ctx, renderPost(post, fieldsOf(ctx, ["id", "message", "created_time"])))
  }

  const debugToken = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p), true)) return
    const input = p.get("input_token")
    if (input === undefined || input === "") {
      return graphError(ctx, 100, undefined, "(#100) The parameter input_token is required")
    }
    const state = tokenState(input)
    const now = env.clock.now()
    if (state !== "valid" && state !== "expired") {
      return ok(ctx, {
        data: { error: { code: 190, message: "Invalid OAuth access token." }, is_valid: false, scopes: [] }
      })
    }
    return ok(ctx, {
      data: {
        app_id: creds.appId,
        type: "PAGE",
        application: "Medusa Sandbox",
        data_access_expires_at: Math.floor((now + 90 * DAY) / 1000),
        expires_at: Math.floor(tokenExpiresAt / 1000),
        is_valid: state === "valid",
        ...(state === "expired" ? { error: { code: 190, subcode: 463, message: "Session has expired" } } : {}),
        issued_at: Math.floor((now - DAY) / 1000),
        profile_id: pageOf(input).id,
        scopes,
        granular_scopes: scopes
          .filter((s) => s.startsWith("pages_"))
          .map((scope) => ({ scope, target_ids: [pageOf(input).id] })),
        user_id: "3000000000003"
      }
    })
  }

  const permissions = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    return ok(ctx, { data: scopes.map((permission) => ({ permission, status: "granted" })) })
  }

  const me = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    const page = pageOf(tokenOf(ctx.req, p))
    const all: Record<string, string> = { id: page.id, name: page.name }
    const asked = (ctx.url.searchParams.get("fields") ?? "id,name").split(",").map((f) => f.trim())
    return ok(ctx, Object.fromEntries(asked.filter((f) => f in all).map((f) => [f, all[f]])))
  }

  // ---------------------------------------------------------------------------
  // Page videos: Graph's chunked upload phases
  // ---------------------------------------------------------------------------

  interface FbVideo {
    readonly id: string
    readonly sessionId: string
    readonly size: number
    readonly upload: StoredUpload
    readonly createdTime: number
    description: string | undefined
    title: string | undefined
    published: boolean
    deleted: boolean
    /** A request named it after its creation (the client learned its ids). */
    announced: boolean
  }
  const videos = new Map<string, FbVideo>()
  const chunkBytes = Math.max(1, options.videoChunkBytes ?? 4 * 1024 * 1024)
  const sessionTtl = options.videoSessionTtlMillis ?? DAY
  let videoCounter = 0
  /** Graph's video limits (error codes F7): more than 1 KB, at most 2 GB by the guide's text. */
  const minVideoBytes = 1024
  const maxVideoBytes = 2 * 1024 * 1024 * 1024

  const offsets = (video: FbVideo) => ({
    // Graph sends the offsets as strings.
    start_offset: String(video.upload.bytes),
    end_offset: String(Math.min(video.size, video.upload.bytes + chunkBytes))
  })

  const sessionOf = (ctx: RequestContext, sessionId: string | undefined): FbVideo | undefined => {
    const video = [...videos.values()].find((v) => v.sessionId === sessionId && !v.deleted)
    if (video !== undefined) video.announced = true
    if (video === undefined) {
      graphError(ctx, 100, { error_subcode: 1363030 }, "(#100) The upload session does not exist or has expired")
      return undefined
    }
    if (!video.published && env.clock.now() - video.createdTime > sessionTtl) {
      graphError(
        ctx,
        100,
        { error_subcode: 1363030 },
        "(#100) Your video upload timed out before it could be completed"
      )
      return undefined
    }
    return video
  }

  const uploadVideo = async (ctx: RequestContext) => {
    const type = ctx.req.headers["content-type"] ?? ""
    let p: Map<string, string>
    let chunk: Buffer | undefined
    if (/multipart\/form-data/i.test(type)) {
      const body = await ctx.readBody()
      const form = await new Response(body, { headers: { "content-type": type } }).formData()
      p = new Map(ctx.url.searchParams)
      for (const [k, v] of form) {
        if (typeof v === "string") p.set(k, v)
        else if (k === "video_file_chunk") chunk = Buffer.from(await v.arrayBuffer())
      }
    } else {
      p = await params(ctx)
    }
    // A chunk is kept whole (or its acknowledged prefix) by a transfer that succeeds; any other answer throws
    // it away. Counted as thrown away here; the transfer takes back what it keeps.
    env.state.counters.facebook.discardedBytes += chunk?.length ?? 0
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    const page = ctx.params.page!
    if (!isPage(page, tokenOf(ctx.req, p))) return unknownObject(ctx, page, "post")
    if (!scopes.includes("pages_manage_posts")) return graphError(ctx, 200)
    switch (p.get("upload_phase")) {
      case "start": {
        const size = Number(p.get("file_size"))
        if (!Number.isInteger(size) || size <= 0) {
          return graphError(ctx, 100, undefined, "(#100) The parameter file_size is required")
        }
        if (size < minVideoBytes) {
          return graphError(ctx, 100, { error_subcode: 1363022 }, "(#100) The video file you selected is too small")
        }
        if (size > maxVideoBytes) {
          return graphError(ctx, 100, { error_subcode: 1363023 }, "(#100) The video file you selected is too large")
        }
        videoCounter += 1
        const id = (20_000_000_000_000n + BigInt(videoCounter)).toString()
        const sessionId = (30_000_000_000_000n + BigInt(videoCounter)).toString()
        const upload = env.state.newUpload("facebook", sessionId, size, { page }, env.clock.now())
        upload.videoId = id
        const video: FbVideo = {
          id,
          sessionId,
          size,
          upload,
          createdTime: env.clock.now(),
          description: undefined,
          title: undefined,
          published: false,
          deleted: false,
          announced: false
        }
        videos.set(id, video)
        return ok(ctx, { upload_session_id: sessionId, video_id: id, ...offsets(video) })
      }
      case "transfer": {
        const video = sessionOf(ctx, p.get("upload_session_id"))
        if (video === undefined) return
        const start = Number(p.get("start_offset"))
        const data = chunk ?? Buffer.alloc(0)
        if (start !== video.upload.bytes || start + data.length > video.size) {
          return graphError(
            ctx,
            100,
            { error_subcode: 1363037, error_data: offsets(video) },
            "(#100) The start offset of this chunk does not match the offset the server expects"
          )
        }
        // A partial acknowledgement keeps only a prefix; the client sends the rest again.
        const keep = Math.max(0, data.length - ctx.holdBack)
        if (keep > 0) {
          commitBytes(video.upload, data.subarray(0, keep))
          video.upload.requests += 1
        }
        env.state.counters.facebook.discardedBytes -= keep
        if (video.upload.bytes === video.size && !video.upload.complete) completeUpload(video.upload)
        return ok(ctx, offsets(video))
      }
      case "finish": {
        const video = sessionOf(ctx, p.get("upload_session_id"))
        if (video === undefined) return
        if (video.upload.bytes !== video.size) {
          return graphError(
            ctx,
            100,
            { error_subcode: 1363037, error_data: offsets(video) },
            "(#100) The upload is not complete"
          )
        }
        if (!video.published) {
          video.published = true
          video.description = p.get("description")
          video.title = p.get("title")
          env.state.addPost({
            platform: "facebook",
            id: video.id,
            text: video.description ?? "",
            url: `https://www.facebook.com/${creds.pageId}/videos/${video.id}`,
            createdAt: env.clock.now(),
            extra: { video: true, sha256: video.upload.sha256, bytes: video.size }
          })
        }
        return ok(ctx, { success: true })
      }
      default:
        return graphError(ctx, 100, undefined, "(#100) upload_phase must be start, transfer or finish")
    }
  }

  const getVideo = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    const video = videos.get(ctx.params.video!)
    if (video !== undefined) video.announced = true
    if (video === undefined || video.deleted) return unknownObject(ctx, ctx.params.video!, "get")
    const all: Record<string, unknown> = {
      id: video.id,
      description: video.description,
      title: video.title,
      created_time: graphTime(video.createdTime),
      published: video.published,
      permalink_url: `/${creds.pageId}/videos/${video.id}/`,
      status: { video_status: video.published ? "ready" : "upload_in_progress" }
    }
    const asked = (ctx.url.searchParams.get("fields") ?? "id,description,created_time").split(",").map((f) => f.trim())
    return ok(ctx, Object.fromEntries(asked.filter((f) => all[f] !== undefined).map((f) => [f, all[f]])))
  }

  const deleteVideo = async (ctx: RequestContext) => {
    const p = await params(ctx)
    if (!guard(ctx, tokenOf(ctx.req, p))) return
    const video = videos.get(ctx.params.video!)
    if (video !== undefined) video.announced = true
    if (video === undefined || video.deleted) return unknownObject(ctx, ctx.params.video!, "delete")
    video.deleted = true
    if (!video.upload.complete) {
      video.upload.discarded = true
      env.state.counters.facebook.discardedBytes += video.upload.bytes
    }
    env.state.removePost("facebook", video.id)
    return ok(ctx, { success: true })
  }

  const V = "(?<version>[^/]+)"
  return {
    platform: "facebook",
    routes: [
      { name: "feed", method: "POST", path: new RegExp(`^/${V}/(?<page>[^/]+)/feed$`), handler: createPost },
      { name: "feed.list", method: "GET", path: new RegExp(`^/${V}/(?<page>[^/]+)/feed$`), handler: listPosts(false) },
      {
        name: "scheduled_posts",
        method: "GET",
        path: new RegExp(`^/${V}/(?<page>[^/]+)/scheduled_posts$`),
        handler: listPosts(true)
      },
      { name: "debug_token", method: "GET", path: new RegExp(`^/${V}/debug_token$`), handler: debugToken },
      { name: "post", method: "GET", path: new RegExp(`^/${V}/(?<post>\\d+_\\d+)$`), handler: getPost },
      { name: "post.delete", method: "DELETE", path: new RegExp(`^/${V}/(?<post>\\d+_\\d+)$`), handler: deletePost },
      { name: "permissions", method: "GET", path: new RegExp(`^/${V}/me/permissions$`), handler: permissions },
      { name: "me", method: "GET", path: new RegExp(`^/${V}/me$`), handler: me },
      { name: "videos", method: "POST", path: new RegExp(`^/${V}/(?<page>[^/]+)/videos$`), handler: uploadVideo },
      { name: "video", method: "GET", path: new RegExp(`^/${V}/(?<video>\\d+)$`), handler: getVideo },
      { name: "video.delete", method: "DELETE", path: new RegExp(`^/${V}/(?<video>\\d+)$`), handler: deleteVideo }
    ],
    orphans: () => [...videos.values()].filter((v) => !v.published && !v.deleted && v.announced).map((v) => v.id),
    unannounced: () => [...videos.values()].filter((v) => !v.published && !v.deleted && !v.announced).map((v) => v.id),
    errorResponse: render,
    seedPost: ({ at, link, text }) =>
      store({ page: creds.pageId, message: text, link, createdTime: at, scheduledAt: undefined, published: true }),
    expireTokens: () => {
      tokenExpiresAt = env.clock.now()
    },
    exhaustQuota: () => {
      rollWindow()
      exhausted = true
    },
    snapshot: () => ({
      graphVersion: version,
      pageId: creds.pageId,
      tokenExpiresAt: tokenExpiresAt === 0 ? null : tokenExpiresAt,
      usage: { callCount: usage(), calls, windowStart },
      videos: [...videos.values()].map((v) => ({
        id: v.id,
        uploadSessionId: v.sessionId,
        size: v.size,
        bytes: v.upload.bytes,
        complete: v.upload.complete,
        published: v.published,
        deleted: v.deleted,
        description: v.description
      })),
      posts: posts.map((p) => ({
        id: p.id,
        message: p.message,
        link: p.link,
        published: isDue(p),
        scheduledPublishTime: p.scheduledAt === undefined ? undefined : Math.floor(p.scheduledAt / 1000)
      }))
    })
  }
}
