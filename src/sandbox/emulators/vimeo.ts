/**
 * Vimeo API emulator: `POST /me/videos` with the tus approach, `GET
 * /videos/:id`, and the tus 1.0.0 upload endpoint the returned `upload_link`
 * points at (HEAD, PATCH, OPTIONS), with Vimeo's error bodies.
 *
 * @internal
 */
import {
  bearer,
  completeUpload,
  currentDigest,
  type Emulator,
  type EmulatorEnv,
  EmulatorFailure,
  type ErrorOptions,
  finishUpload,
  makeCommitter,
  makeLocks,
  numericId,
  prng,
  randomId,
  RawBody,
  type RequestContext,
  type Route,
  type StoredUpload
} from "../internal/framework.js"

const TUS_VERSION = "1.0.0"
const TUS_ROUTES = new Set(["tus.head", "tus.patch", "tus.options", "tus.other"])

const PRIVACY_VIEW = new Set(["anybody", "contacts", "disable", "nobody", "password", "unlisted", "users"])

/**
 * `error_code` for a status when a fault names none. 2204, 8002, 4102 and 4003
 * are from Vimeo's API spec; 5000 (not found) and 9000 (rate limited) are not
 * verified and chosen as generic codes.
 */
const DEFAULT_CODE: Record<number, number> = {
  400: 2204,
  401: 8002,
  403: 4102,
  404: 5000,
  429: 9000,
  500: 4003,
  503: 4003
}

interface Video {
  readonly id: string
  readonly upload: StoredUpload
  readonly ticket: string
  readonly size: number
  readonly name: string | undefined
  readonly description: string | undefined
  readonly privacy: Record<string, unknown>
  readonly createdAt: number
  /** Creation order (several videos may share a millisecond). */
  readonly serial: number
  finishing?: Promise<void>
}

const fail = (status: number, code: number, message: string): never => {
  throw new EmulatorFailure(status, { code: String(code), message })
}

/** @internal */
export const makeVimeo = (env: EmulatorEnv): Emulator => {
  const { clock, credentials, state } = env
  const random = prng((env.options.seed ?? 1) * 104_729 + 3)
  const quotaBytes = env.options.vimeo?.quotaBytes ?? 500 * 1024 ** 3
  const validTokens = new Set([credentials.vimeo.accessToken])
  const scopes = env.options.vimeo?.scopes ?? ["public", "private", "create", "edit", "upload", "video_files"]
  const userId = numericId(prng((env.options.seed ?? 1) * 31 + 5), 8)
  const accountName = env.options.vimeo?.accountName ?? "Sandbox Vimeo User"
  let quotaUsed = 0
  const videos = new Map<string, Video>()
  const tickets = new Map<string, Video>()
  const withLock = makeLocks()
  let deleted = 0
  let serial = 0

  const errorResponse = (status: number, options: ErrorOptions) => {
    if (options.route !== undefined && TUS_ROUTES.has(options.route)) {
      // tus servers answer errors as plain text, always with Tus-Resumable.
      return {
        body: new RawBody(`${options.message ?? `Sandbox fault (${status})`}\n`),
        headers: { "tus-resumable": TUS_VERSION }
      }
    }
    const errorCode = options.code !== undefined && /^\d+$/.test(options.code)
      ? Number(options.code)
      : DEFAULT_CODE[status] ?? 5000
    const message = options.message ?? `Sandbox fault (${status})`
    return {
      body: { error: message, link: null, developer_message: message, error_code: errorCode },
      headers: { "content-type": "application/vnd.vimeo.error+json" }
    }
  }

  const authorize = (ctx: RequestContext) => {
    const token = bearer(ctx.req)
    if (token === undefined || !validTokens.has(token)) {
      fail(
        401,
        8002,
        token === undefined
          ? "You must provide a valid authenticated access token."
          : "The access token is not valid for any user: it is unknown, revoked or expired."
      )
    }
  }

  const renderVideo = (video: Video, fields: string | null) => {
    const complete = video.upload.complete
    const full: Record<string, unknown> = {
      uri: `/videos/${video.id}`,
      name: video.name ?? "Untitled",
      description: video.description ?? null,
      type: "video",
      link: `https://vimeo.com/${video.id}`,
      player_embed_url: `https://player.vimeo.com/video/${video.id}`,
      created_time: new Date(video.createdAt).toISOString(),
      privacy: { view: "anybody", embed: "public", comments: "anybody", download: false, ...video.privacy },
      status: complete ? "available" : "uploading",
      upload: {
        status: complete ? "complete" : "in_progress",
        approach: "tus",
        upload_link: `${envBase.url}/files/${video.ticket}`,
        size: video.size,
        form: null,
        complete_uri: null,
        redirect_url: null,
        link: null
      },
      transcode: { status: complete ? "complete" : "in_progress" }
    }
    if (!fields) return full
    const wanted = fields.split(",").map((f) => f.trim().split(".")[0]!)
    return Object.fromEntries(Object.entries(full).filter(([k]) => wanted.includes(k)))
  }
  // The emulator's own origin, learned from the first request (the framework binds the port after construction).
  const envBase = { url: "" }

  const create = async (ctx: RequestContext) => {
    envBase.url = ctx.baseUrl
    authorize(ctx)
    let body: Record<string, any> | undefined
    try {
      body = (await ctx.json()) as Record<string, any> | undefined
    } catch {
      fail(400, 2205, "The request body is not valid JSON.")
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      fail(400, 2205, "The request body must be a JSON object with an `upload` object.")
    }
    const b = body as Record<string, any>
    if (b.type !== undefined && b.upload?.approach === undefined) {
      fail(400, 3116, "Use `upload.approach` instead of `type` to choose the upload approach.")
    }
    const upload = b.upload as Record<string, unknown> | undefined
    if (typeof upload !== "object" || upload === null) {
      fail(400, 2204, "The parameter `upload` is required: {\"upload\":{\"approach\":\"tus\",\"size\":<bytes>}}.")
    }
    const approach = upload!.approach
    if (approach !== "tus") {
      fail(
        400,
        2230,
        `The upload approach '${String(approach)}' is not valid here: the sandbox emulates upload.approach "tus".`
      )
    }
    const size = Number(upload!.size)
    if (upload!.size === undefined || upload!.size === "" || !Number.isSafeInteger(size) || size < 0) {
      fail(400, 2204, `The parameter upload.size '${String(upload!.size)}' must be the file size in bytes.`)
    }
    const privacy = (b.privacy ?? {}) as Record<string, unknown>
    if (privacy.view !== undefined && !PRIVACY_VIEW.has(String(privacy.view))) {
      fail(
        400,
        2204,
        `The parameter privacy.view '${String(privacy.view)}' is not one of ${[...PRIVACY_VIEW].join(", ")}.`
      )
    }
    if (privacy.view === "password" && (typeof b.password !== "string" || b.password.length === 0)) {
      fail(400, 2204, "privacy.view 'password' requires the top-level `password` parameter.")
    }
    if (b.name !== undefined && typeof b.name !== "string") fail(400, 2204, "The parameter `name` must be a string.")
    if (quotaUsed + size > quotaBytes) {
      fail(
        403,
        4102,
        `The upload of ${size} bytes exceeds the remaining upload quota of ${quotaBytes - quotaUsed} bytes.`
      )
    }
    quotaUsed += size
    const id = numericId(random, 9)
    const ticket = randomId(random, 32)
    const metadata = {
      name: b.name,
      description: b.description,
      privacy: b.privacy
    }
    const stored = state.newUpload("vimeo", ticket, size, metadata, clock.now())
    state.hashExternally(stored)
    stored.videoId = id
    const video: Video = {
      id,
      upload: stored,
      ticket,
      size,
      name: b.name,
      description: typeof b.description === "string" ? b.description : undefined,
      privacy,
      createdAt: clock.now(),
      serial: serial++
    }
    if (size === 0) completeUpload(stored)
    videos.set(id, video)
    tickets.set(ticket, video)
    ctx.send(201, renderVideo(video, ctx.url.searchParams.get("fields")), {
      "content-type": "application/vnd.vimeo.video+json"
    })
  }

  /** `DELETE /videos/{id}`: `204`; the video and its upload link are gone. */
  const remove = (ctx: RequestContext) => {
    authorize(ctx)
    const video = videos.get(ctx.params.id ?? "")
    if (!video) fail(404, 5000, `The requested video '${ctx.params.id}' couldn't be found.`)
    videos.delete(video!.id)
    tickets.delete(video!.ticket)
    deleted += 1
    if (!video!.upload.complete) {
      // What the upload held is lost with it.
      state.counters.vimeo.discardedBytes += video!.upload.bytes
      video!.upload.discarded = true
      video!.upload.external?.dispose()
      video!.upload.external = undefined
    }
    quotaUsed = Math.max(0, quotaUsed - video!.size)
    ctx.send(204)
  }

  /**
   * `GET /me/videos`: the account's videos, newest first (`per_page` up to
   * 100, `page`), as Vimeo lists them; `filter_upload_status` is not
   * emulated.
   */
  const list = (ctx: RequestContext) => {
    envBase.url = ctx.baseUrl
    authorize(ctx)
    const perPage = Math.min(100, Math.max(1, Number(ctx.url.searchParams.get("per_page") ?? 25) || 25))
    const page = Math.max(1, Number(ctx.url.searchParams.get("page") ?? 1) || 1)
    const all = [...videos.values()].sort((a, b) => b.createdAt - a.createdAt || b.serial - a.serial)
    const data = all.slice((page - 1) * perPage, page * perPage)
      .map((v) => renderVideo(v, ctx.url.searchParams.get("fields")))
    ctx.send(200, {
      total: all.length,
      page,
      per_page: perPage,
      paging: { next: page * perPage < all.length ? `/me/videos?page=${page + 1}` : null, previous: null },
      data
    }, { "content-type": "application/vnd.vimeo.video+json" })
  }

  const get = (ctx: RequestContext) => {
    envBase.url = ctx.baseUrl
    authorize(ctx)
    const video = videos.get(ctx.params.id ?? "")
    if (!video) fail(404, 5000, `The requested video '${ctx.params.id}' couldn't be found.`)
    ctx.send(200, renderVideo(video!, ctx.url.searchParams.get("fields")), {
      "content-type": "application/vnd.vimeo.video+json"
    })
  }

  /**
   * `GET /oauth/verify`: the token's scopes (one space-separated string) and
   * its user. ⚠️ Unverified: the fact sheet does not cover this endpoint; the
   * shape follows Vimeo's API reference (`access_token`, `token_type`,
   * `scope`, `app`, `user`).
   */
  const verify = (ctx: RequestContext) => {
    authorize(ctx)
    ctx.send(200, {
      access_token: bearer(ctx.req),
      token_type: "bearer",
      scope: scopes.join(" "),
      app: { name: "Medusa sandbox app", uri: "/apps/100001" },
      user: { uri: `/users/${userId}`, name: accountName, link: `https://vimeo.com/user${userId}`, account: "plus" }
    }, { "content-type": "application/vnd.vimeo.auth+json" })
  }

  // --- tus 1.0.0 -------------------------------------------------------------
  const tusHeaders = { "tus-resumable": TUS_VERSION }

  const tusVersionOk = (ctx: RequestContext): boolean => {
    if (ctx.req.headers["tus-resumable"] === TUS_VERSION) return true
    ctx.send(412, new RawBody(`Tus-Resumable must be ${TUS_VERSION}\n`), { ...tusHeaders, "tus-version": TUS_VERSION })
    return false
  }

  const findTicket = (ctx: RequestContext): Video | undefined => tickets.get(ctx.params.ticket ?? "")

  const head = (ctx: RequestContext) => {
    if (!tusVersionOk(ctx)) return
    const video = findTicket(ctx)
    if (!video) return ctx.send(404, undefined, { ...tusHeaders, "cache-control": "no-store" })
    ctx.send(200, undefined, {
      ...tusHeaders,
      "upload-offset": video.upload.bytes,
      "upload-length": video.size,
      "cache-control": "no-store"
    })
  }

  const patch = async (ctx: RequestContext) => {
    const drainAnd = async (status: number, message: string, headers: Record<string, string | number> = {}) => {
      const { dropped } = await ctx.consume(() => {})
      if (!dropped) ctx.send(status, new RawBody(`${message}\n`), { ...tusHeaders, ...headers })
    }
    if (ctx.req.headers["tus-resumable"] !== TUS_VERSION) {
      return drainAnd(412, `Tus-Resumable must be ${TUS_VERSION}`, { "tus-version": TUS_VERSION })
    }
    const video = findTicket(ctx)
    if (!video) return drainAnd(404, "Upload not found")
    const contentType = String(ctx.req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
    if (contentType !== "application/offset+octet-stream") {
      return drainAnd(415, `Content-Type must be application/offset+octet-stream, not '${contentType || "(none)"}'`)
    }
    const offsetText = ctx.req.headers["upload-offset"]
    const offset = Number(offsetText)
    if (offsetText === undefined || !/^\d+$/.test(String(offsetText))) {
      return drainAnd(400, `Upload-Offset '${String(offsetText ?? "(missing)")}' must be a non-negative integer`)
    }
    const { upload } = video
    if (offset !== upload.bytes) {
      return drainAnd(409, `Upload-Offset ${offset} does not match the current offset ${upload.bytes}`)
    }
    const lengthText = ctx.req.headers["content-length"]
    const remaining = video.size - upload.bytes
    if (lengthText !== undefined && Number(lengthText) > remaining) {
      return drainAnd(413, `The body of ${lengthText} bytes goes past Upload-Length ${video.size}`)
    }
    // Keep as many received bytes as possible (tus), capped at Upload-Length.
    const committer = makeCommitter(upload, ctx.holdBack, remaining, state.counters.vimeo)
    upload.requests += 1
    const { dropped } = await ctx.consume(committer.push)
    committer.end()
    if (upload.bytes === video.size && !upload.complete) {
      video.finishing ??= finishUpload(upload)
      await video.finishing
    }
    if (dropped) return
    // The video was deleted while the body streamed: the upload is gone.
    if (upload.discarded === true) return ctx.send(404, new RawBody("Upload not found\n"), tusHeaders)
    ctx.send(204, undefined, { ...tusHeaders, "upload-offset": upload.bytes })
  }

  const options = (ctx: RequestContext) => {
    ctx.send(204, undefined, {
      ...tusHeaders,
      "tus-version": TUS_VERSION,
      "tus-max-size": quotaBytes,
      "tus-extension": ""
    })
  }

  const override = async (ctx: RequestContext) => {
    const method = String(ctx.req.headers["x-http-method-override"] ?? "").toUpperCase()
    if (method === "PATCH") return withLock(ctx.params.ticket ?? "", () => patch(ctx))
    if (method === "HEAD") return withLock(ctx.params.ticket ?? "", async () => head(ctx))
    return notAllowed(ctx)
  }

  const notAllowed = async (ctx: RequestContext) => {
    const { dropped } = await ctx.consume(() => {})
    if (dropped) return
    ctx.send(405, new RawBody(`${ctx.req.method} is not allowed on a tus upload: use HEAD, PATCH or OPTIONS\n`), {
      ...tusHeaders,
      allow: "HEAD, PATCH, OPTIONS"
    })
  }

  const routes: Array<Route> = [
    { name: "videos.create", method: "POST", path: "/me/videos", handler: create },
    { name: "oauth.verify", method: "GET", path: "/oauth/verify", handler: verify },
    { name: "videos.list", method: "GET", path: "/me/videos", handler: list },
    { name: "videos.get", method: "GET", path: /^\/videos\/(?<id>\d+)$/, handler: get },
    { name: "videos.delete", method: "DELETE", path: /^\/videos\/(?<id>\d+)$/, handler: remove },
    // Under the upload's lock, as tusd does: an offset is never read while a PATCH still writes.
    {
      name: "tus.head",
      method: "HEAD",
      path: /^\/files\/(?<ticket>[\w-]+)$/,
      handler: (ctx) => withLock(ctx.params.ticket ?? "", async () => head(ctx))
    },
    {
      name: "tus.patch",
      method: "PATCH",
      path: /^\/files\/(?<ticket>[\w-]+)$/,
      handler: (ctx) => withLock(ctx.params.ticket ?? "", () => patch(ctx))
    },
    { name: "tus.options", method: "OPTIONS", path: /^\/files\/(?<ticket>[\w-]+)$/, handler: options },
    // tus: X-HTTP-Method-Override lets clients behind restrictive proxies send PATCH/HEAD as POST.
    { name: "tus.patch", method: "POST", path: /^\/files\/(?<ticket>[\w-]+)$/, handler: override },
    ...(["GET", "PUT", "DELETE"] as const).map((method): Route => ({
      name: "tus.other",
      method,
      path: /^\/files\/(?<ticket>[\w-]+)$/,
      handler: notAllowed
    }))
  ]

  return {
    platform: "vimeo",
    routes,
    errorResponse,
    expireTokens: () => validTokens.clear(),
    exhaustQuota: () => {
      quotaUsed = quotaBytes
    },
    orphans: () => [...videos.values()].filter((v) => !v.upload.complete).map((v) => v.id),
    snapshot: () => ({
      deleted,
      orphans: [...videos.values()].filter((v) => !v.upload.complete).map((v) => v.id),
      quota: { bytes: quotaBytes, used: quotaUsed, left: Math.max(0, quotaBytes - quotaUsed) },
      videos: [...videos.values()].map((v) => ({
        id: v.id,
        uri: `/videos/${v.id}`,
        link: `https://vimeo.com/${v.id}`,
        name: v.name,
        description: v.description,
        privacy: v.privacy,
        size: v.size,
        bytes: v.upload.bytes,
        complete: v.upload.complete,
        sha256: currentDigest(v.upload) ?? null
      }))
    })
  }
}
