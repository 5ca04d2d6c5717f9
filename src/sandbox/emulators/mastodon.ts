/**
 * Mastodon REST API emulator: statuses with `Idempotency-Key` (a retry with a
 * key already used by the account answers the first status instead of
 * posting again, for an hour as Mastodon keeps keys), the instance's status
 * length limit (URLs count 23 characters, `@user@domain` counts as `@user`),
 * media with asynchronous processing (`POST /api/v2/media` answers `202`,
 * `GET /api/v1/media/:id` answers `206` until processed, then `200` with a
 * `url`), the account's statuses, deletion, and Mastodon's `{ "error": … }`
 * bodies.
 *
 * Routes (names for fault injection): `statuses` (POST), `statuses.list`
 * (GET), `statuses.get` (GET), `statuses.delete` (DELETE), `media` (POST),
 * `media.get` (GET), `instance` (GET), `verify_credentials` (GET).
 *
 * @internal
 */
import type { Emulator, EmulatorEnv, ErrorOptions, RequestContext } from "../internal/framework.js"
import { bearer, commitBytes, completeUpload, numericId, prng } from "../internal/framework.js"

/**
 * Settings of the Mastodon emulator (`Sandbox.start({ mastodon: {...} })`).
 *
 * @since 0.1.0
 * @category models
 */
export interface MastodonEmulatorOptions {
  /** The instance's `configuration.statuses.max_characters` (default 500). */
  readonly maxCharacters?: number | undefined
  /** `GET /api/v1/media/:id` reads answering `206` (processing) before `200` (default 1). */
  readonly mediaPolls?: number | undefined
  /** Largest media file, in bytes (default 40 MiB: the sandbox keeps it in memory while parsing). */
  readonly mediaSizeLimit?: number | undefined
  /** How long an `Idempotency-Key` folds retries, in sandbox ms (default 1 hour, as Mastodon keeps keys). */
  readonly idempotencyTtlMillis?: number | undefined
  /** Statuses per account per 3 hours before `429` (default 300, Mastodon's default limit). */
  readonly statusLimit?: number | undefined
  /** The account's username (default `medusa`). */
  readonly username?: string | undefined
}

const HOUR = 3_600_000

interface Status {
  readonly id: string
  readonly text: string
  readonly spoilerText: string
  readonly visibility: string
  readonly language: string | null
  readonly mediaIds: ReadonlyArray<string>
  readonly createdAt: number
}

interface Media {
  readonly id: string
  readonly type: string
  readonly size: number
  readonly description: string | null
  polls: number
  attachedTo?: string | undefined
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

const URL_RE = /https?:\/\/[^\s<>"]+/g

/** The status as Mastodon's formatter renders it: paragraphs, line breaks, linked URLs and hashtags. @internal */
export const renderContent = (text: string, instance: string): string =>
  text.split(/\n{2,}/).map((paragraph) => {
    const html = paragraph.split("\n").map((line) => {
      let out = ""
      let last = 0
      for (const m of line.matchAll(URL_RE)) {
        out += linkTags(escapeHtml(line.slice(last, m.index)), instance)
        const url = m[0]
        const scheme = /^https?:\/\//.exec(url)![0]
        const rest = url.slice(scheme.length)
        out += `<a href="${escapeHtml(url)}" target="_blank" rel="nofollow noopener noreferrer" translate="no">` +
          `<span class="invisible">${scheme}</span><span class="${rest.length > 30 ? "ellipsis" : ""}">${
            escapeHtml(rest.slice(0, 30))
          }</span><span class="invisible">${escapeHtml(rest.slice(30))}</span></a>`
        last = m.index + url.length
      }
      return out + linkTags(escapeHtml(line.slice(last)), instance)
    }).join("<br />")
    return `<p>${html}</p>`
  }).join("")

const linkTags = (html: string, instance: string): string =>
  html.replace(
    /(^|\s)#(\w+)/g,
    (_, pre: string, tag: string) =>
      `${pre}<a href="${instance}/tags/${tag.toLowerCase()}" class="mention hashtag" rel="tag">#<span>${tag}</span></a>`
  )

/** Characters as Mastodon counts them: each URL is 23, a remote mention counts its local part only. @internal */
export const countCharacters = (text: string): number =>
  [...text.replace(URL_RE, "x".repeat(23)).replace(/@(\w+)@[\w.-]+\w/g, "@$1")].length

/** @internal */
export const makeMastodon = (env: EmulatorEnv): Emulator => {
  const options: MastodonEmulatorOptions = env.options.mastodon ?? {}
  const creds = env.credentials.mastodon
  const random = prng((env.options.seed ?? 1) + 7)
  const maxCharacters = options.maxCharacters ?? 500
  const mediaPolls = options.mediaPolls ?? 1
  const mediaSizeLimit = options.mediaSizeLimit ?? 40 * 1024 * 1024
  const keyTtl = options.idempotencyTtlMillis ?? HOUR
  const statusLimit = options.statusLimit ?? 300
  const username = options.username ?? "medusa"
  const statuses: Array<Status> = []
  const media = new Map<string, Media>()
  const keys = new Map<string, { readonly statusId: string; readonly at: number }>()
  let tokenExpired = false
  let quotaUsedUp = false
  let baseUrl = ""

  const render = (status: number, opts: ErrorOptions) => {
    const fallback: Record<number, string> = {
      401: "The access token is invalid",
      403: "This action is not allowed",
      404: "Record not found",
      422: "Validation failed",
      429: "Too many requests",
      500: "Internal Server Error",
      503: "Service Unavailable"
    }
    return {
      body: { error: opts.message ?? fallback[status] ?? "Error" },
      ...(status === 429 ?
        { headers: { "x-ratelimit-limit": statusLimit, "x-ratelimit-remaining": 0 } } :
        {})
    }
  }

  const guard = (ctx: RequestContext): boolean => {
    baseUrl = ctx.baseUrl
    const token = bearer(ctx.req)
    if (token === undefined || token !== creds.accessToken) {
      ctx.fail(401, { message: "The access token is invalid" })
      return false
    }
    if (tokenExpired) {
      ctx.fail(401, { message: "The access token was revoked" })
      return false
    }
    return true
  }

  const account = () => ({
    id: creds.accountId,
    username,
    acct: username,
    display_name: "Medusa Sandbox",
    locked: false,
    bot: false,
    created_at: "2026-01-01T00:00:00.000Z",
    note: "",
    url: `${baseUrl}/@${username}`,
    avatar: `${baseUrl}/avatars/original/missing.png`,
    header: `${baseUrl}/headers/original/missing.png`,
    followers_count: 0,
    following_count: 0,
    statuses_count: statuses.length,
    emojis: [],
    fields: []
  })

  const renderMedia = (m: Media) => {
    const processed = m.polls >= mediaPolls
    return {
      id: m.id,
      type: m.type,
      url: processed ? `${baseUrl}/system/media_attachments/files/${m.id}/original/file.mp4` : null,
      preview_url: processed ? `${baseUrl}/system/media_attachments/files/${m.id}/small/file.png` : null,
      remote_url: null,
      text_url: null,
      meta: processed ? { original: { size: m.size } } : null,
      description: m.description,
      blurhash: null
    }
  }

  const renderStatus = (s: Status) => ({
    id: s.id,
    created_at: new Date(s.createdAt).toISOString(),
    in_reply_to_id: null,
    in_reply_to_account_id: null,
    sensitive: s.spoilerText !== "",
    spoiler_text: s.spoilerText,
    visibility: s.visibility,
    language: s.language,
    uri: `${baseUrl}/users/${username}/statuses/${s.id}`,
    url: `${baseUrl}/@${username}/${s.id}`,
    replies_count: 0,
    reblogs_count: 0,
    favourites_count: 0,
    edited_at: null,
    content: renderContent(s.text, baseUrl),
    reblog: null,
    account: account(),
    media_attachments: s.mediaIds.map((id) => renderMedia(media.get(id)!)),
    mentions: [],
    tags: [],
    emojis: [],
    card: null,
    poll: null
  })

  const store = (status: Omit<Status, "id">): Status => {
    // Mastodon ids are snowflakes: time-ordered numeric strings.
    const stored: Status = { ...status, id: `${status.createdAt}${numericId(random, 4)}` }
    statuses.push(stored)
    env.state.addPost({
      platform: "mastodon",
      id: stored.id,
      text: stored.text,
      url: `${baseUrl}/@${username}/${stored.id}`,
      createdAt: stored.createdAt,
      extra: { visibility: stored.visibility, mediaIds: stored.mediaIds, spoilerText: stored.spoilerText }
    })
    return stored
  }

  /** Form, JSON or multipart parameters, as Rails reads them (`media_ids[]` and `media_ids` alike). */
  const params = async (ctx: RequestContext): Promise<Record<string, unknown>> => {
    const type = ctx.req.headers["content-type"] ?? ""
    if (/application\/json/i.test(type)) {
      const body = await ctx.json()
      return body !== null && typeof body === "object" && !Array.isArray(body) ? body as Record<string, unknown> : {}
    }
    const raw = await ctx.readBody()
    const form = /multipart\/form-data/i.test(type) ?
      await new Response(raw, { headers: { "content-type": type } }).formData() :
      new URLSearchParams(raw.toString("utf8"))
    const out: Record<string, unknown> = {}
    for (const [k, v] of form) {
      if (k.endsWith("[]")) {
        const name = k.slice(0, -2)
        out[name] = [...(Array.isArray(out[name]) ? out[name] as Array<unknown> : []), v]
      } else out[k] = v
    }
    return out
  }

  const createStatus = async (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const p = await params(ctx)
    const now = ctx.now()
    const key = ctx.req.headers["idempotency-key"]
    if (typeof key === "string" && key !== "") {
      const seen = keys.get(key)
      if (seen !== undefined && now - seen.at < keyTtl) {
        const first = statuses.find((s) => s.id === seen.statusId)
        if (first !== undefined) return ctx.send(200, renderStatus(first))
      }
    }
    const text = typeof p.status === "string" ? p.status : ""
    const spoilerText = typeof p.spoiler_text === "string" ? p.spoiler_text : ""
    const mediaIds = (Array.isArray(p.media_ids) ? p.media_ids : []).map(String)
    if (text.trim() === "" && mediaIds.length === 0) {
      return ctx.fail(422, { message: "Validation failed: Text can't be blank" })
    }
    const length = countCharacters(text) + countCharacters(spoilerText)
    if (length > maxCharacters) {
      return ctx.fail(422, { message: `Validation failed: Text character limit of ${maxCharacters} exceeded` })
    }
    const visibility = typeof p.visibility === "string" ? p.visibility : "public"
    if (!["public", "unlisted", "private", "direct"].includes(visibility)) {
      return ctx.fail(422, { message: `Validation failed: Visibility '${visibility}' is not a valid visibility` })
    }
    if (mediaIds.length > 4) return ctx.fail(422, { message: "Validation failed: Media attachments is too long" })
    for (const id of mediaIds) {
      const m = media.get(id)
      if (m === undefined || m.attachedTo !== undefined) {
        return ctx.fail(422, { message: `Validation failed: Media attachment ${id} is unknown or already used` })
      }
      if (m.polls < mediaPolls) {
        return ctx.fail(422, {
          message: "Cannot attach files that have not finished processing. Try again in a moment!"
        })
      }
    }
    const recent = statuses.filter((s) => now - s.createdAt < 3 * HOUR).length
    if (quotaUsedUp || recent >= statusLimit) {
      return ctx.fail(429, {
        message: "Too many requests",
        headers: { "x-ratelimit-reset": new Date(now + 3 * HOUR).toISOString() }
      })
    }
    const status = store({
      text,
      spoilerText,
      visibility,
      language: typeof p.language === "string" ? p.language : null,
      mediaIds,
      createdAt: now
    })
    for (const id of mediaIds) media.get(id)!.attachedTo = status.id
    if (typeof key === "string" && key !== "") keys.set(key, { statusId: status.id, at: now })
    return ctx.send(200, renderStatus(status))
  }

  /** `GET /api/v1/accounts/:id/statuses`: newest first, `limit` (default 20, at most 40) and `max_id`. */
  const listStatuses = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    if (ctx.params.id !== creds.accountId) return ctx.send(200, [])
    const q = ctx.url.searchParams
    const n = Number(q.get("limit") ?? 20)
    const limit = Number.isInteger(n) && n > 0 ? Math.min(n, 40) : 20
    const maxId = q.get("max_id")
    const list = [...statuses]
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
      .filter((s) => maxId === null || BigInt(s.id) < BigInt(maxId))
      .slice(0, limit)
    return ctx.send(200, list.map(renderStatus))
  }

  const getStatus = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const s = statuses.find((x) => x.id === ctx.params.id)
    return s === undefined ? ctx.fail(404, { message: "Record not found" }) : ctx.send(200, renderStatus(s))
  }

  /** `DELETE /api/v1/statuses/:id`: answers the deleted status with its source `text`. */
  const deleteStatus = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const i = statuses.findIndex((x) => x.id === ctx.params.id)
    if (i === -1) return ctx.fail(404, { message: "Record not found" })
    const [s] = statuses.splice(i, 1)
    env.state.removePost("mastodon", s!.id)
    return ctx.send(200, { ...renderStatus(s!), text: s!.text })
  }

  /** `POST /api/v2/media`: multipart `file` (and `description`); video answers `202` and processes. */
  const uploadMedia = async (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const type = ctx.req.headers["content-type"] ?? ""
    if (!/multipart\/form-data/i.test(type)) {
      return ctx.fail(422, { message: "Validation failed: File can't be blank" })
    }
    const chunks: Array<Buffer> = []
    let size = 0
    const result = await ctx.consume((c) => {
      size += c.length
      if (size <= mediaSizeLimit + 64 * 1024) chunks.push(c)
    })
    if (result.dropped) {
      // An attachment is stored whole or not at all.
      env.state.counters.mastodon.discardedBytes += result.bytes
      return
    }
    if (size > mediaSizeLimit + 64 * 1024) {
      return ctx.fail(422, { message: `Validation failed: File file size must be less than ${mediaSizeLimit} bytes` })
    }
    const form = await new Response(Buffer.concat(chunks), { headers: { "content-type": type } }).formData()
    const file = form.get("file")
    if (file === null || typeof file === "string") {
      return ctx.fail(422, { message: "Validation failed: File can't be blank" })
    }
    const bytes = Buffer.from(await file.arrayBuffer())
    const mime = file.type || "application/octet-stream"
    const kind = mime.startsWith("video/") ? "video" : mime.startsWith("image/") ? "image" : undefined
    if (kind === undefined) {
      return ctx.fail(422, { message: `Validation failed: File content type '${mime}' is not supported` })
    }
    const id = `${ctx.now()}${numericId(random, 4)}`
    const upload = env.state.newUpload("mastodon", id, bytes.length, { mimeType: mime, name: file.name }, ctx.now())
    commitBytes(upload, bytes)
    completeUpload(upload)
    upload.requests = 1
    const description = form.get("description")
    const m: Media = {
      id,
      type: kind,
      size: bytes.length,
      description: typeof description === "string" ? description : null,
      // Images are processed synchronously; video is not.
      polls: kind === "image" ? mediaPolls : 0
    }
    media.set(id, m)
    return ctx.send(kind === "image" ? 200 : 202, renderMedia(m))
  }

  const getMedia = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    const m = media.get(ctx.params.id!)
    if (m === undefined) return ctx.fail(404, { message: "Record not found" })
    const processed = m.polls >= mediaPolls
    const body = renderMedia(m)
    m.polls += 1
    return ctx.send(processed ? 200 : 206, body)
  }

  const instance = (ctx: RequestContext) => {
    baseUrl = ctx.baseUrl
    return ctx.send(200, {
      domain: new URL(ctx.baseUrl).host,
      title: "Medusa sandbox",
      version: "4.3.0",
      source_url: "https://github.com/mastodon/mastodon",
      description: "The sandbox's Mastodon instance",
      usage: { users: { active_month: 1 } },
      thumbnail: { url: `${baseUrl}/thumbnail.png` },
      languages: ["en"],
      configuration: {
        urls: { streaming: baseUrl.replace(/^http/, "ws") },
        accounts: { max_featured_tags: 10 },
        statuses: { max_characters: maxCharacters, max_media_attachments: 4, characters_reserved_per_url: 23 },
        media_attachments: {
          supported_mime_types: ["image/jpeg", "image/png", "video/mp4", "video/quicktime", "video/webm"],
          image_size_limit: 16_777_216,
          image_matrix_limit: 33_177_600,
          video_size_limit: mediaSizeLimit,
          video_frame_rate_limit: 120,
          video_matrix_limit: 8_294_400
        },
        polls: { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2_629_746 },
        translation: { enabled: false }
      },
      registrations: { enabled: false, approval_required: false, message: null },
      contact: { email: "sandbox@example.invalid", account: null },
      rules: []
    })
  }

  const verifyCredentials = (ctx: RequestContext) => {
    if (!guard(ctx)) return
    return ctx.send(200, { ...account(), source: { privacy: "public", sensitive: false, language: null, note: "" } })
  }

  return {
    platform: "mastodon",
    routes: [
      { name: "statuses", method: "POST", path: "/api/v1/statuses", handler: createStatus },
      {
        name: "statuses.list",
        method: "GET",
        path: /^\/api\/v1\/accounts\/(?<id>[^/]+)\/statuses$/,
        handler: listStatuses
      },
      {
        name: "verify_credentials",
        method: "GET",
        path: "/api/v1/accounts/verify_credentials",
        handler: verifyCredentials
      },
      { name: "statuses.get", method: "GET", path: /^\/api\/v1\/statuses\/(?<id>\d+)$/, handler: getStatus },
      { name: "statuses.delete", method: "DELETE", path: /^\/api\/v1\/statuses\/(?<id>\d+)$/, handler: deleteStatus },
      { name: "media", method: "POST", path: "/api/v2/media", handler: uploadMedia },
      { name: "media.get", method: "GET", path: /^\/api\/v1\/media\/(?<id>\d+)$/, handler: getMedia },
      { name: "instance", method: "GET", path: "/api/v2/instance", handler: instance }
    ],
    errorResponse: render,
    seedPost: ({ at, text }) => {
      const s = store({ text, spoilerText: "", visibility: "public", language: null, mediaIds: [], createdAt: at })
      return env.state.posts.find((p) => p.platform === "mastodon" && p.id === s.id)!
    },
    expireTokens: () => {
      tokenExpired = true
    },
    exhaustQuota: () => {
      quotaUsedUp = true
    },
    snapshot: () => ({
      accountId: creds.accountId,
      username,
      maxCharacters,
      tokenExpired,
      idempotencyKeys: keys.size,
      media: [...media.values()].map((m) => ({ id: m.id, type: m.type, processed: m.polls >= mediaPolls })),
      statuses: statuses.map((s) => ({ id: s.id, text: s.text, visibility: s.visibility, mediaIds: s.mediaIds }))
    })
  }
}
