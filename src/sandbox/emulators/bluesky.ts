/**
 * Bluesky PDS emulator (XRPC over HTTP): one account signing in with an app
 * password, and its repository of `app.bsky.feed.post` records written under
 * client-chosen record keys.
 *
 * What it copies from a real PDS (`@atproto/pds` 0.4, measured in
 * test/publishers/bluesky-pds.test.ts): XRPC error bodies
 * `{ "error": "RecordNotFound", "message": … }`; `createRecord` under a key
 * the repository already holds answers `500 InternalServerError` (the
 * repository's unique key, not a friendly conflict); `getRecord` of a missing
 * key answers `400 RecordNotFound`; `deleteRecord` of a missing key answers
 * `200`; a post over 300 graphemes (or 3,000 bytes) is `400 InvalidRequest`;
 * a `429` carries `ratelimit-*` headers.
 *
 * Video: `uploadBlob` stores the body as a blob (hashed: its sha256 is in the
 * state's uploads, its CID is the raw-codec CID of the bytes) with the type
 * sniffed from its first bytes (an `ftyp` box is `video/mp4`), as the
 * reference PDS does, else the request's `Content-Type`; at most
 * 100,000,000 bytes (Bluesky's video limit; the reference PDS's default is
 * 5 MiB). A post may embed it with `app.bsky.embed.video`: a `mimeType` other
 * than `video/mp4` is `400 InvalidRequest` (the lexicon), an unknown CID
 * `400 BlobNotFound`, a type or size other than the stored blob's
 * `400 InvalidMimeType` / `InvalidSize` (as the reference PDS answers). A
 * blob no record references is not an orphan: a PDS garbage-collects it.
 *
 * Routes (names for fault injection): `createSession`, `refreshSession`,
 * `getSession`, `createRecord`, `getRecord`, `deleteRecord`, `uploadBlob`.
 *
 * @internal
 */
import { createHash } from "node:crypto"
import type {
  Emulator,
  EmulatorEnv,
  ErrorOptions,
  RequestContext,
  StoredPost,
  StoredUpload
} from "../internal/framework.js"
import { bearer, commitChunk, finishUpload } from "../internal/framework.js"

const POST = "app.bsky.feed.post"
const TID = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/
const S32 = "234567abcdefghijklmnopqrstuvwxyz"
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })
const graphemes = (text: string): number => [...segmenter.segment(text)].length

interface BskyRecord {
  readonly rkey: string
  readonly uri: string
  readonly cid: string
  readonly value: Record<string, unknown>
  readonly createdAt: number
}

const names: Record<number, string> = {
  400: "InvalidRequest",
  401: "AuthenticationRequired",
  403: "Forbidden",
  404: "XRPCNotSupported",
  429: "RateLimitExceeded",
  500: "InternalServerError",
  502: "UpstreamFailure",
  503: "NotEnoughResources"
}

/** A TID for `at` (epoch ms) and a counter, as a PDS makes for keys it chooses. */
const tidAt = (at: number, counter: number): string => {
  const value = ((BigInt(Math.floor(at)) * 1000n + BigInt(counter % 1000)) << 10n) | BigInt(counter & 0x3ff)
  let out = ""
  for (let i = 12; i >= 0; i--) out += S32[Number((value >> BigInt(i * 5)) & 31n)]
  return out
}

const B32 = "abcdefghijklmnopqrstuvwxyz234567"

/** A CIDv1 (dag-cbor, sha2-256) of `content`, in base32 as a PDS writes them (`bafyrei…`). */
const cidOf = (content: string): string => cidOfDigest(0x71, createHash("sha256").update(content).digest())

/** Bluesky's largest video blob. */
const MAX_BLOB_BYTES = 100_000_000

/** A CIDv1 of a codec (0x71 dag-cbor, 0x55 raw bytes: a blob's `bafkrei…`) and a sha2-256 digest, in base32. */
const cidOfDigest = (codec: number, digest: Buffer): string => {
  const bytes = Buffer.concat([Buffer.from([0x01, codec, 0x12, 0x20]), digest])
  let bits = 0
  let value = 0
  let out = "b"
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]
  return out
}

interface StoredBlob {
  readonly cid: string
  readonly mimeType: string
  readonly size: number
  readonly upload: StoredUpload
  /** The record keys of the posts that embed it. */
  readonly referencedBy: Set<string>
}

/** The type a PDS sniffs from a file's first bytes (an ISO media `ftyp` box); undefined when not a video it knows. */
const sniffVideo = (head: Buffer): string | undefined => {
  if (head.length < 12 || head.toString("latin1", 4, 8) !== "ftyp") return undefined
  return head.toString("latin1", 8, 12) === "qt  " ? "video/quicktime" : "video/mp4"
}

/** @internal */
export const makeBluesky = (env: EmulatorEnv): Emulator => {
  const creds = env.credentials.bluesky
  const records = new Map<string, BskyRecord>()
  /** Blobs by CID. */
  const blobs = new Map<string, StoredBlob>()
  /** Access tokens that are valid now; refresh tokens likewise. */
  const access = new Set<string>()
  const refresh = new Set<string>()
  let passwordRevoked = false
  let counter = 0
  let sessions = 0

  const render = (status: number, opts: ErrorOptions) => {
    const retryAfter = opts.headers?.["retry-after"]
    const headers = status === 429 ?
      {
        "ratelimit-limit": 5000,
        "ratelimit-remaining": 0,
        "ratelimit-reset": Math.ceil(env.clock.now() / 1000) + Number(retryAfter ?? 60),
        "ratelimit-policy": "5000;w=3600"
      } :
      undefined
    const error = opts.code !== undefined && /^[A-Z][A-Za-z]+$/.test(opts.code) ? opts.code : names[status] ?? "Error"
    return {
      body: { error, message: opts.message ?? error },
      ...(headers === undefined ? {} : { headers })
    }
  }

  const xfail = (ctx: RequestContext, status: number, error: string, message: string) =>
    ctx.fail(status, { code: error, message })

  const openSession = () => {
    sessions += 1
    const accessJwt = `${creds.accessTokenPrefix}-${sessions}`
    const refreshJwt = `${creds.accessTokenPrefix}-refresh-${sessions}`
    access.add(accessJwt)
    refresh.add(refreshJwt)
    return { did: creds.did, handle: creds.handle, accessJwt, refreshJwt, active: true, email: undefined }
  }

  /** The session's check: `false` when an error was sent. */
  const authed = (ctx: RequestContext): boolean => {
    const token = bearer(ctx.req)
    if (token === undefined) {
      xfail(ctx, 401, "AuthenticationRequired", "Authentication Required")
      return false
    }
    if (!access.has(token)) {
      xfail(ctx, 400, "ExpiredToken", "Token has expired")
      return false
    }
    return true
  }

  const createSession = async (ctx: RequestContext) => {
    const body = (await ctx.json()) as { identifier?: unknown; password?: unknown } | null
    if (typeof body?.identifier !== "string" || typeof body.password !== "string") {
      return xfail(ctx, 400, "InvalidRequest", "Input must have the properties \"identifier\" and \"password\"")
    }
    const known = body.identifier === creds.handle || body.identifier === creds.did
    if (!known || body.password !== creds.appPassword || passwordRevoked) {
      return xfail(ctx, 401, "AuthenticationRequired", "Invalid identifier or password")
    }
    return ctx.send(200, openSession())
  }

  const refreshSession = (ctx: RequestContext) => {
    const token = bearer(ctx.req)
    if (token === undefined || !refresh.has(token)) {
      return xfail(ctx, 400, "ExpiredToken", "Token has been revoked")
    }
    refresh.delete(token)
    return ctx.send(200, openSession())
  }

  const getSession = (ctx: RequestContext) => {
    if (!authed(ctx)) return
    return ctx.send(200, { did: creds.did, handle: creds.handle, active: true })
  }

  const ownRepo = (ctx: RequestContext, repo: unknown): boolean => {
    if (repo === creds.did || repo === creds.handle) return true
    xfail(ctx, 400, "InvalidRequest", `Could not find repo: ${String(repo)}`)
    return false
  }

  /** The checks of the post lexicon a PDS applies; the message names the path as the PDS does. */
  const invalidPost = (value: Record<string, unknown>): string | undefined => {
    if (typeof value.text !== "string") return "expected a string at $.record.text"
    const bytes = Buffer.byteLength(value.text, "utf8")
    if (bytes > 3000) return `string too big (maximum 3000, got ${bytes}) at $.record.text`
    const length = graphemes(value.text)
    if (length > 300) return `grapheme too big (maximum 300, got ${length}) at $.record.text`
    if (typeof value.createdAt !== "string" || Number.isNaN(Date.parse(value.createdAt))) {
      return "Record/createdAt must be an valid atproto datetime"
    }
    const textBytes = Buffer.byteLength(value.text, "utf8")
    const facets = value.facets
    if (facets !== undefined) {
      if (!Array.isArray(facets)) return "Record/facets must be an array"
      for (const [i, facet] of facets.entries()) {
        const index = (facet as { index?: { byteStart?: unknown; byteEnd?: unknown } })?.index
        const start = index?.byteStart
        const end = index?.byteEnd
        if (typeof start !== "number" || typeof end !== "number" || start < 0 || end > textBytes || start > end) {
          return `Record/facets/${i}/index must lie within the text's ${textBytes} bytes`
        }
      }
    }
    const embed = value.embed as { $type?: unknown; external?: Record<string, unknown> } | undefined
    if (embed?.$type === "app.bsky.embed.video") return invalidVideo(embed as Record<string, unknown>)
    if (embed !== undefined) {
      if (embed.$type !== "app.bsky.embed.external") return `Record/embed $type ${String(embed.$type)} is not served`
      const external = embed.external
      for (const field of ["uri", "title", "description"]) {
        if (typeof external?.[field] !== "string") return `Record/embed/external must have the property "${field}"`
      }
      try {
        new URL(external!.uri as string)
      } catch {
        return "Record/embed/external/uri must be a uri"
      }
    }
    return undefined
  }

  /** The lexicon's checks of `app.bsky.embed.video` (the message names the path as the PDS does). */
  const invalidVideo = (embed: Record<string, unknown>): string | undefined => {
    const video = embed.video as { $type?: unknown; ref?: { $link?: unknown }; mimeType?: unknown; size?: unknown }
    if (typeof video !== "object" || video === null || video.$type !== "blob" || typeof video.ref?.$link !== "string") {
      return "Expected a blob at $.record.embed.video"
    }
    if (video.mimeType !== "video/mp4") {
      return `Expected "video/mp4" (got ${JSON.stringify(video.mimeType)}) at $.record.embed.video.mimeType`
    }
    if (embed.alt !== undefined && (typeof embed.alt !== "string" || graphemes(embed.alt) > 1000)) {
      return "Record/embed/alt must be a string of at most 1000 graphemes"
    }
    const ratio = embed.aspectRatio as { width?: unknown; height?: unknown } | undefined
    if (
      ratio !== undefined &&
      ![ratio.width, ratio.height].every((n) => typeof n === "number" && Number.isInteger(n) && n >= 1)
    ) {
      return "Record/embed/aspectRatio must have the integers width and height, at least 1"
    }
    return undefined
  }

  /** The write's check of the blob a video embed references against the stored one: `[error, message]`. */
  const blobProblem = (value: Record<string, unknown>): readonly [string, string] | undefined => {
    const video = value.embed as { $type?: unknown; video?: Record<string, unknown> } | undefined
    if (video?.$type !== "app.bsky.embed.video") return undefined
    const ref = video.video as { ref: { $link: string }; mimeType: unknown; size: unknown }
    const stored = blobs.get(ref.ref.$link)
    if (stored === undefined) return ["BlobNotFound", `Could not find blob: ${ref.ref.$link}`]
    if (ref.mimeType !== stored.mimeType) {
      return [
        "InvalidMimeType",
        `Referenced Mimetype does not match stored blob. Expected: ${stored.mimeType}, Got: ${String(ref.mimeType)}`
      ]
    }
    if (ref.size !== stored.size) {
      return [
        "InvalidSize",
        `Referenced Size does not match stored blob. Expected: ${stored.size}, Got: ${String(ref.size)}`
      ]
    }
    return undefined
  }

  const uploadBlob = async (ctx: RequestContext) => {
    if (!authed(ctx)) return
    const declared = Number(ctx.req.headers["content-length"])
    const total = Number.isInteger(declared) && declared >= 0 ? declared : undefined
    if (total !== undefined && total > MAX_BLOB_BYTES) {
      return xfail(ctx, 413, "PayloadTooLarge", "request entity too large")
    }
    const upload = env.state.newUpload("bluesky", env.state.nextId("bsky-blob-"), total, {}, env.clock.now())
    env.state.hashExternally(upload)
    const head: Array<Buffer> = []
    let headBytes = 0
    const result = await ctx.consume((chunk) => {
      if (headBytes < 12) {
        head.push(chunk.subarray(0, 12 - headBytes))
        headBytes += Math.min(chunk.length, 12 - headBytes)
      }
      if (upload.bytes + chunk.length > MAX_BLOB_BYTES) return undefined
      return commitChunk(upload, chunk)
    })
    if (result.dropped) {
      upload.discarded = true
      upload.external?.dispose()
      upload.external = undefined
      return
    }
    if (result.bytes > MAX_BLOB_BYTES) {
      upload.discarded = true
      return xfail(ctx, 413, "PayloadTooLarge", "request entity too large")
    }
    upload.totalBytes = upload.bytes
    await finishUpload(upload)
    const cid = cidOfDigest(0x55, Buffer.from(upload.sha256, "hex"))
    upload.videoId = cid
    upload.requests = 1
    const declaredType = (ctx.req.headers["content-type"] ?? "application/octet-stream").split(";")[0]!.trim()
    const mimeType = sniffVideo(Buffer.concat(head)) ?? declaredType
    upload.metadata = { mimeType }
    const known = blobs.get(cid)
    const blob: StoredBlob = known ?? { cid, mimeType, size: upload.bytes, upload, referencedBy: new Set() }
    blobs.set(cid, blob)
    return ctx.send(200, { blob: { $type: "blob", ref: { $link: cid }, mimeType, size: blob.size } })
  }

  const store = (
    rkey: string,
    value: Record<string, unknown>,
    at: number
  ): { record: BskyRecord; stored: StoredPost } => {
    counter += 1
    const uri = `at://${creds.did}/${POST}/${rkey}`
    const record: BskyRecord = { rkey, uri, cid: cidOf(`${uri} ${JSON.stringify(value)}`), value, createdAt: at }
    records.set(rkey, record)
    const embed = value.embed as { external?: { uri?: unknown }; video?: { ref?: { $link?: unknown } } } | undefined
    const blobCid = embed?.video?.ref?.$link
    if (typeof blobCid === "string") blobs.get(blobCid)?.referencedBy.add(rkey)
    const stored = env.state.addPost({
      platform: "bluesky",
      id: uri,
      text: value.text as string,
      link: typeof embed?.external?.uri === "string" ? embed.external.uri : undefined,
      url: `https://bsky.app/profile/${creds.handle}/post/${rkey}`,
      createdAt: at,
      extra: { rkey, facets: value.facets, embed: value.embed, langs: value.langs }
    })
    return { record, stored }
  }

  const createRecord = async (ctx: RequestContext) => {
    if (!authed(ctx)) return
    const body = (await ctx.json()) as Record<string, unknown> | null
    if (body === null || typeof body !== "object") return xfail(ctx, 400, "InvalidRequest", "Input must be an object")
    if (!ownRepo(ctx, body.repo)) return
    if (body.collection !== POST) {
      return xfail(ctx, 400, "InvalidRequest", `The sandbox serves ${POST} only, not ${String(body.collection)}`)
    }
    const value = body.record as Record<string, unknown> | null
    if (value === null || typeof value !== "object") return xfail(ctx, 400, "InvalidRequest", "Input/record required")
    const invalid = invalidPost(value)
    if (invalid !== undefined) return xfail(ctx, 400, "InvalidRequest", `Invalid ${POST} record: ${invalid}`)
    const problem = blobProblem(value)
    if (problem !== undefined) return xfail(ctx, 400, problem[0], problem[1])
    const now = env.clock.now()
    const rkey = body.rkey === undefined ? tidAt(now, counter + 1) : body.rkey
    if (typeof rkey !== "string" || !TID.test(rkey)) {
      return xfail(ctx, 400, "InvalidRequest", `Invalid record key for ${POST} (a TID): ${String(rkey)}`)
    }
    if (records.has(rkey)) {
      // What the real PDS answers: its repository's unique key refuses the write.
      return xfail(ctx, 500, "InternalServerError", "Internal Server Error")
    }
    const { record } = store(rkey, { ...value, $type: POST }, now)
    return ctx.send(200, {
      uri: record.uri,
      cid: record.cid,
      commit: { cid: cidOf(`commit ${counter}`), rev: tidAt(now, counter) },
      validationStatus: "valid"
    })
  }

  const getRecord = (ctx: RequestContext) => {
    const q = ctx.url.searchParams
    if (!ownRepo(ctx, q.get("repo"))) return
    const rkey = q.get("rkey") ?? ""
    const record = q.get("collection") === POST ? records.get(rkey) : undefined
    if (record === undefined) {
      return xfail(
        ctx,
        400,
        "RecordNotFound",
        `Could not locate record: at://${creds.did}/${q.get("collection")}/${rkey}`
      )
    }
    return ctx.send(200, { uri: record.uri, cid: record.cid, value: record.value })
  }

  const deleteRecord = async (ctx: RequestContext) => {
    if (!authed(ctx)) return
    const body = (await ctx.json()) as Record<string, unknown> | null
    if (!ownRepo(ctx, body?.repo)) return
    const record = body?.collection === POST ? records.get(String(body.rkey)) : undefined
    if (record !== undefined) {
      for (const blob of blobs.values()) blob.referencedBy.delete(record.rkey)
      records.delete(record.rkey)
      env.state.removePost("bluesky", record.uri)
    }
    counter += 1
    return ctx.send(200, { commit: { cid: cidOf(`commit ${counter}`), rev: tidAt(env.clock.now(), counter) } })
  }

  const seedPost = (
    { at, link, text }: { readonly text: string; readonly at: number; readonly link?: string | undefined }
  ): StoredPost =>
    store(tidAt(at, counter + 1), {
      $type: POST,
      text,
      createdAt: new Date(at).toISOString(),
      ...(link === undefined ?
        {} :
        { embed: { $type: "app.bsky.embed.external", external: { uri: link, title: "", description: "" } } })
    }, at).stored

  return {
    platform: "bluesky",
    routes: [
      { name: "createSession", method: "POST", path: "/xrpc/com.atproto.server.createSession", handler: createSession },
      {
        name: "refreshSession",
        method: "POST",
        path: "/xrpc/com.atproto.server.refreshSession",
        handler: refreshSession
      },
      { name: "getSession", method: "GET", path: "/xrpc/com.atproto.server.getSession", handler: getSession },
      { name: "createRecord", method: "POST", path: "/xrpc/com.atproto.repo.createRecord", handler: createRecord },
      { name: "getRecord", method: "GET", path: "/xrpc/com.atproto.repo.getRecord", handler: getRecord },
      { name: "deleteRecord", method: "POST", path: "/xrpc/com.atproto.repo.deleteRecord", handler: deleteRecord },
      { name: "uploadBlob", method: "POST", path: "/xrpc/com.atproto.repo.uploadBlob", handler: uploadBlob }
    ],
    errorResponse: render,
    seedPost,
    expireTokens: () => {
      // The app password is revoked, which ends its sessions too.
      passwordRevoked = true
      access.clear()
      refresh.clear()
    },
    exhaustQuota: () => {
      // A PDS meters writes per hour; exhausting it is the rate-limit fault (`rateLimit`), not a quota.
    },
    snapshot: () => ({
      did: creds.did,
      handle: creds.handle,
      passwordRevoked,
      sessions,
      records: [...records.values()].map((r) => ({ rkey: r.rkey, uri: r.uri, text: r.value.text })),
      blobs: [...blobs.values()].map((b) => ({
        cid: b.cid,
        mimeType: b.mimeType,
        size: b.size,
        sha256: b.upload.sha256,
        referencedBy: [...b.referencedBy]
      }))
    })
  }
}
