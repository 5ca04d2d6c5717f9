/**
 * The sandbox's machinery shared by every emulator: routing, request log,
 * counters, fault injection, the sandbox clock and stored uploads and posts.
 *
 * Emulators are plain `node:http` handlers on purpose: they must stream
 * gigabytes at loopback speed and be able to misbehave at the byte level
 * (drop a connection after K body bytes, acknowledge less than received).
 *
 * @internal
 */
import { createHash, type Hash } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Worker } from "node:worker_threads"
import { all, type PlatformId } from "../../PlatformId.js"

// =============================================================================
// Clock
// =============================================================================

/** @internal */
export interface SandboxClock {
  /** Epoch milliseconds as the sandbox sees them. */
  readonly now: () => number
  readonly advance: (millis: number) => void
  readonly set: (epochMillis: number) => void
}

/** Real time plus an offset that tests move. @internal */
export const makeClock = (start?: number): SandboxClock => {
  let offset = start === undefined ? 0 : start - Date.now()
  return {
    now: () => Date.now() + offset,
    advance: (millis) => {
      offset += millis
    },
    set: (epochMillis) => {
      offset = epochMillis - Date.now()
    }
  }
}

// =============================================================================
// Faults
// =============================================================================

/** @internal */
export type FaultAction =
  /** Answer this status with the platform's own error body. */
  | { readonly kind: "status"; readonly status: number; readonly code?: string; readonly message?: string }
  /** Destroy the connection after K request-body bytes were received (they are kept). */
  | { readonly kind: "drop"; readonly afterBytes: number }
  /** Acknowledge `bytes` fewer than received (YouTube `308` Range / tus offset), as real servers may. */
  | { readonly kind: "partialAck"; readonly bytes: number }
  /** Wait before handling. */
  | { readonly kind: "latency"; readonly millis: number }
  /** The platform's `429` with `Retry-After`. */
  | { readonly kind: "rateLimit"; readonly retryAfterSeconds: number }
  /**
   * Handle the request (read and store its body) but never answer: the
   * connection stays open until the client gives up (or the sandbox closes).
   */
  | { readonly kind: "stall" }

/** @internal */
export interface FaultRule {
  readonly platform: PlatformId
  /** Route name (see each emulator's routes), or any route when omitted. */
  readonly route?: string | undefined
  readonly method?: string | undefined
  /** How many matching requests it applies to (default 1). `Infinity` for all. */
  readonly times?: number | undefined
  /**
   * Matching requests it lets through before it applies (default 0): reaches
   * a later step of a route that serves several (an upload's later chunk, its
   * finish).
   */
  readonly skip?: number | undefined
  readonly action: FaultAction
}

/** @internal */
export interface RandomFaults {
  readonly seed: number
  /** Chance (0..1) that a matching request gets one of `actions`. */
  readonly probability: number
  readonly platform?: PlatformId | undefined
  readonly route?: string | undefined
  readonly actions: ReadonlyArray<FaultAction>
}

const PLATFORMS: ReadonlyArray<PlatformId> = all

/** Thrown for a malformed fault rule or control request; the message names the field and the fix. @internal */
export class InvalidControlRequest extends Error {}

const invalid = (message: string): never => {
  throw new InvalidControlRequest(message)
}

/** A platform id from JSON, or a typed complaint naming `field`. @internal */
export const parsePlatform = (value: unknown, field = "platform"): PlatformId =>
  PLATFORMS.includes(value as PlatformId)
    ? value as PlatformId
    : invalid(`${field} must be one of ${PLATFORMS.join(", ")}; got ${JSON.stringify(value)}`)

/**
 * A post put on a platform from outside the API (made by hand, by another
 * tool, or long ago), dated `at` by the sandbox clock.
 *
 * @internal
 */
export interface SeedPost {
  readonly platform: "facebook" | "x" | "linkedin" | "threads" | "mastodon" | "bluesky"
  /** The post's text as a reader sees it (LinkedIn's commentary is escaped by the emulator). */
  readonly text: string
  /** Epoch ms by the sandbox clock (default: now). */
  readonly at?: number | undefined
  /** Facebook's `link`, LinkedIn's article source. */
  readonly link?: string | undefined
}

const SEEDABLE: ReadonlyArray<SeedPost["platform"]> = ["facebook", "x", "linkedin", "threads", "mastodon", "bluesky"]

/** Validates a seeded post from JSON (`at` may be epoch ms or an ISO 8601 date-time). @internal */
export const parseSeedPost = (input: unknown): SeedPost => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return invalid(`the body must be an object such as {"platform":"x","text":"…","at":"2026-01-01T00:00:00Z"}`)
  }
  const b = input as Record<string, unknown>
  if (!SEEDABLE.includes(b.platform as SeedPost["platform"])) {
    return invalid(
      `platform must be one of ${SEEDABLE.join(", ")} (platforms with posts); got ${JSON.stringify(b.platform)}`
    )
  }
  if (typeof b.text !== "string" || b.text === "") {
    return invalid(`text must be a non-empty string; got ${JSON.stringify(b.text)}`)
  }
  let at: number | undefined
  if (b.at !== undefined) {
    at = typeof b.at === "string" ? Date.parse(b.at) : typeof b.at === "number" ? b.at : NaN
    if (!Number.isFinite(at)) {
      return invalid(`at must be epoch milliseconds or an ISO 8601 date-time; got ${JSON.stringify(b.at)}`)
    }
  }
  if (b.link !== undefined && typeof b.link !== "string") {
    return invalid(`link must be a string; got ${JSON.stringify(b.link)}`)
  }
  return {
    platform: b.platform as SeedPost["platform"],
    text: b.text,
    at,
    link: b.link as string | undefined
  }
}

const nonNegative = (value: unknown, field: string): number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0
    ? value
    : invalid(`${field} must be a non-negative number; got ${JSON.stringify(value)}`)

/** Validates a fault action from JSON. @internal */
export const parseFaultAction = (input: unknown, field = "action"): FaultAction => {
  if (typeof input !== "object" || input === null) {
    return invalid(`${field} must be an object with a "kind" (status, drop, partialAck, latency, rateLimit, stall)`)
  }
  const a = input as Record<string, unknown>
  switch (a.kind) {
    case "status": {
      const status = a.status
      if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
        return invalid(`${field}.status must be an HTTP status between 100 and 599; got ${JSON.stringify(status)}`)
      }
      if (a.code !== undefined && typeof a.code !== "string") return invalid(`${field}.code must be a string`)
      if (a.message !== undefined && typeof a.message !== "string") return invalid(`${field}.message must be a string`)
      return {
        kind: "status",
        status,
        ...(a.code !== undefined ? { code: a.code as string } : {}),
        ...(a.message !== undefined ? { message: a.message as string } : {})
      }
    }
    case "drop":
      return { kind: "drop", afterBytes: nonNegative(a.afterBytes, `${field}.afterBytes`) }
    case "partialAck":
      return { kind: "partialAck", bytes: nonNegative(a.bytes, `${field}.bytes`) }
    case "latency":
      return { kind: "latency", millis: nonNegative(a.millis, `${field}.millis`) }
    case "rateLimit":
      return { kind: "rateLimit", retryAfterSeconds: nonNegative(a.retryAfterSeconds, `${field}.retryAfterSeconds`) }
    case "stall":
      return { kind: "stall" }
    default:
      return invalid(
        `${field}.kind must be one of status, drop, partialAck, latency, rateLimit, stall; got ${
          JSON.stringify(a.kind)
        }`
      )
  }
}

/**
 * Validates a fault rule from JSON. `times` may be a count, or `null`,
 * `"Infinity"` or `-1` for every matching request (JSON has no Infinity).
 * @internal
 */
export const parseFaultRule = (input: unknown): FaultRule => {
  if (typeof input !== "object" || input === null) {
    return invalid("A fault rule must be an object: {\"platform\", \"route\"?, \"times\"?, \"action\"}")
  }
  const r = input as Record<string, unknown>
  const platform = parsePlatform(r.platform)
  if (r.route !== undefined && typeof r.route !== "string") return invalid("route must be a string (a route name)")
  if (r.method !== undefined && typeof r.method !== "string") return invalid("method must be a string")
  let times: number | undefined
  if (r.times === null || r.times === "Infinity" || r.times === -1 || r.times === Infinity) times = Infinity
  else if (r.times !== undefined) {
    if (typeof r.times !== "number" || !Number.isInteger(r.times) || r.times < 1) {
      return invalid(
        `times must be a positive integer, or null / "Infinity" for always; got ${JSON.stringify(r.times)}`
      )
    }
    times = r.times
  }
  if (
    r.skip !== undefined && (typeof r.skip !== "number" || !Number.isInteger(r.skip) || r.skip < 0)
  ) {
    return invalid(
      `skip must be a non-negative integer (matching requests let through first); got ${JSON.stringify(r.skip)}`
    )
  }
  return {
    platform,
    ...(r.route !== undefined ? { route: r.route as string } : {}),
    ...(r.method !== undefined ? { method: r.method as string } : {}),
    ...(times !== undefined ? { times } : {}),
    ...(r.skip !== undefined && r.skip > 0 ? { skip: r.skip as number } : {}),
    action: parseFaultAction(r.action)
  }
}

/** Validates random-fault settings from JSON. @internal */
export const parseRandomFaults = (input: unknown): RandomFaults => {
  if (typeof input !== "object" || input === null) {
    return invalid("Random faults must be an object: {\"seed\", \"probability\", \"actions\": [...]}")
  }
  const r = input as Record<string, unknown>
  if (typeof r.seed !== "number" || !Number.isFinite(r.seed)) return invalid("seed must be a number")
  if (typeof r.probability !== "number" || r.probability < 0 || r.probability > 1) {
    return invalid(`probability must be between 0 and 1; got ${JSON.stringify(r.probability)}`)
  }
  if (!Array.isArray(r.actions) || r.actions.length === 0) return invalid("actions must be a non-empty array")
  if (r.route !== undefined && typeof r.route !== "string") return invalid("route must be a string (a route name)")
  return {
    seed: r.seed,
    probability: r.probability,
    ...(r.platform !== undefined ? { platform: parsePlatform(r.platform) } : {}),
    ...(r.route !== undefined ? { route: r.route as string } : {}),
    actions: r.actions.map((a, i) => parseFaultAction(a, `actions[${i}]`))
  }
}

/** mulberry32: small, fast, reproducible from a seed. @internal */
export const prng = (seed: number): () => number => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// =============================================================================
// State
// =============================================================================

/** @internal */
export interface StoredUpload {
  readonly platform: PlatformId
  readonly id: string
  /** Platform video/media id once known. */
  videoId?: string | undefined
  totalBytes: number | undefined
  /** Bytes committed (acknowledged). */
  bytes: number
  complete: boolean
  /** Hex sha256 of the committed bytes (of the whole file once complete). */
  sha256: string
  metadata: unknown
  /** Number of requests that carried body bytes for this upload. */
  requests: number
  createdAt: number
  /** Internal incremental hash; not serialised. */
  hash: Hash
  /** The bytes themselves, only when the sandbox was asked to keep them. */
  chunks: Array<Buffer> | undefined
  /** Set while a large upload hashes on a worker thread (see `SandboxState.hashExternally`). */
  external?: ExternalHash | undefined
  /** The platform threw the upload away (an expired session, a deleted video): its bytes are in `discardedBytes`. */
  discarded?: boolean | undefined
}

/** @internal */
export interface StoredPost {
  readonly platform: PlatformId
  readonly id: string
  readonly text: string
  readonly link?: string | undefined
  readonly url?: string | undefined
  readonly createdAt: number
  readonly extra?: Record<string, unknown> | undefined
}

/** @internal */
export interface Counters {
  requests: number
  bodyBytes: number
  faults: number
  /**
   * Body bytes the platform received and then threw away: held back by a
   * partial acknowledgement, sent past the offset it holds, or held by an
   * upload session that expired or a video that was deleted (with what a
   * request still streamed into it afterwards). A client must send these again; anything
   * it sends beyond the file plus these is its own choice.
   */
  discardedBytes: number
  /** Requests handled and never answered (the `stall` fault). */
  stalls: number
}

/** @internal */
export interface LogEntry {
  readonly at: number
  readonly platform: PlatformId | "control"
  readonly method: string
  readonly path: string
  status: number | "dropped"
  readonly headers: Record<string, string>
}

const SECRET_HEADERS = new Set([
  "authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "x-goog-api-key",
  "proxy-authorization"
])
// Anchored on `?`/`&` so that e.g. `error_code=` or `oauth_token_secret=` are matched by their own name only.
const SECRET_PARAMS =
  /([?&](?:access_token|refresh_token|client_secret|input_token|code_verifier|code|oauth_signature|oauth_token|oauth_token_secret|oauth_consumer_key|id_token|password|api_key|key|token|assertion))=([^&#\s]*)/gi

/** Redacts credentials from a path's query string. @internal */
export const redactPath = (path: string): string => path.replace(SECRET_PARAMS, "$1=<redacted>")

/** @internal */
export class SandboxState {
  readonly uploads = new Map<string, StoredUpload>()
  readonly posts: Array<StoredPost> = []
  readonly counters: Record<PlatformId, Counters> = {
    youtube: { requests: 0, bodyBytes: 0, faults: 0, discardedBytes: 0, stalls: 0 },
    vimeo: { requests: 0, bodyBytes: 0, faults: 0, discardedBytes: 0, stalls: 0 },
    facebook: { requests: 0, bodyBytes: 0, faults: 0, discardedBytes: 0, stalls: 0 },
    x: { requests: 0, bodyBytes: 0, faults: 0, discardedBytes: 0, stalls: 0 },
    linkedin: { requests: 0, bodyBytes: 0, faults: 0, discardedBytes: 0, stalls: 0 },
    threads: { requests: 0, bodyBytes: 0, faults: 0, discardedBytes: 0, stalls: 0 },
    mastodon: { requests: 0, bodyBytes: 0, faults: 0, discardedBytes: 0, stalls: 0 },
    bluesky: { requests: 0, bodyBytes: 0, faults: 0, discardedBytes: 0, stalls: 0 }
  }
  readonly log: Array<LogEntry> = []
  private readonly logLimit = 2000
  private idCounter = 0

  constructor(readonly keepBytes: boolean) {}

  /** An id with a prefix, unique within a sandbox. */
  nextId(prefix = ""): string {
    this.idCounter += 1
    return `${prefix}${Date.now().toString(36)}${this.idCounter.toString(36).padStart(4, "0")}`
  }

  newUpload(platform: PlatformId, id: string, totalBytes: number | undefined, metadata: unknown, now: number) {
    const upload: StoredUpload = {
      platform,
      id,
      totalBytes,
      bytes: 0,
      complete: false,
      sha256: createHash("sha256").digest("hex"),
      metadata,
      requests: 0,
      createdAt: now,
      hash: createHash("sha256"),
      chunks: this.keepBytes ? [] : undefined
    }
    this.uploads.set(id, upload)
    return upload
  }

  /**
   * Switches a new, large upload of known size to hashing on a worker thread
   * (when no byte was committed yet). Call `finishUpload` to complete it. @internal
   */
  hashExternally(upload: StoredUpload): void {
    if (!this.externalHashing || upload.bytes > 0 || upload.external !== undefined || this.closed) return
    if (upload.totalBytes === undefined || upload.totalBytes < EXTERNAL_HASH_THRESHOLD) return
    upload.external = spawnWorkerHash()
  }

  /**
   * Whether large uploads hash on a worker thread. The sandbox turns it on
   * unless told otherwise: the hash then runs beside the socket reads
   * (bench/sandbox.ts measures both).
   */
  externalHashing = false

  private closed = false

  /** Ends every external hasher still running (abandoned uploads). */
  dispose(): void {
    this.closed = true
    for (const upload of this.uploads.values()) {
      upload.external?.dispose()
      upload.external = undefined
    }
  }

  addPost(post: StoredPost): StoredPost {
    this.posts.push(post)
    return post
  }

  /** Deletes a post (the platform's delete API); `false` when there is none with that id. */
  removePost(platform: PlatformId, id: string): boolean {
    const i = this.posts.findIndex((p) => p.platform === platform && p.id === id)
    if (i === -1) return false
    this.posts.splice(i, 1)
    return true
  }

  postsOf(platform: PlatformId): ReadonlyArray<StoredPost> {
    return this.posts.filter((p) => p.platform === platform)
  }

  addLog(entry: LogEntry): void {
    this.log.push(entry)
    if (this.log.length > this.logLimit) this.log.splice(0, this.log.length - this.logLimit)
  }

  toJSON() {
    return {
      uploads: [...this.uploads.values()].map((u) => ({
        platform: u.platform,
        id: u.id,
        videoId: u.videoId,
        totalBytes: u.totalBytes,
        bytes: u.bytes,
        complete: u.complete,
        sha256: currentDigest(u) ?? null,
        metadata: u.metadata,
        requests: u.requests,
        createdAt: u.createdAt,
        discarded: u.discarded === true
      })),
      posts: this.posts,
      counters: this.counters,
      requestLog: this.log
    }
  }
}

// =============================================================================
// External hashing
// =============================================================================

/**
 * Hashes on a worker thread (see `SandboxOptions.hashing`), so that sha256
 * (about as costly as receiving the bytes) runs on another core while this
 * thread reads the socket. Chunks are copied into 1 MiB batches whose buffers
 * are transferred, not cloned; `update` asks the sender to pause while 8 MiB
 * are unhashed, so memory stays flat.
 * @internal
 */
export interface ExternalHash {
  /** Resolves when the hasher can take more (undefined when it can now). */
  readonly update: (chunk: Buffer) => Promise<void> | undefined
  readonly digest: () => Promise<string>
  readonly dispose: () => void
}

// Each batch travels to the worker and back (transferred both ways, never
// copied), so a handful of buffers serve a whole upload.
const HASH_WORKER = `
const { parentPort } = require("node:worker_threads")
const hash = require("node:crypto").createHash("sha256")
parentPort.on("message", (message) => {
  if (message === "digest") return parentPort.postMessage({ digest: hash.digest("hex") })
  hash.update(new Uint8Array(message.buffer, 0, message.length))
  parentPort.postMessage({ buffer: message.buffer, length: message.length }, [message.buffer])
})
`

const BATCH_BYTES = 1024 * 1024
const UNHASHED_LIMIT = 8 * 1024 * 1024

const spawnWorkerHash = (): ExternalHash => {
  // No inherited loader flags (tsx): the worker is plain CommonJS.
  const worker = new Worker(HASH_WORKER, { eval: true, execArgv: [] })
  worker.unref()
  const free: Array<ArrayBuffer> = []
  let batch = new Uint8Array(BATCH_BYTES)
  let used = 0
  let unhashed = 0
  let failure: Error | undefined
  let resume: (() => void) | undefined
  let settle: ((result: { readonly digest?: string; readonly error?: Error }) => void) | undefined
  const wake = () => {
    const r = resume
    resume = undefined
    r?.()
  }
  const fail = (error: Error) => {
    failure ??= error
    wake()
    settle?.({ error: failure })
  }
  worker.on(
    "message",
    (message: { readonly buffer?: ArrayBuffer; readonly length?: number; readonly digest?: string }) => {
      if (message.digest !== undefined) return settle?.({ digest: message.digest })
      free.push(message.buffer!)
      unhashed -= message.length!
      if (unhashed < UNHASHED_LIMIT) wake()
    }
  )
  worker.on("error", fail)
  worker.on("exit", (code) => fail(new Error(`the hashing worker exited (code ${code})`)))
  const flush = () => {
    if (used === 0) return
    const buffer = batch.buffer as ArrayBuffer
    worker.postMessage({ buffer, length: used }, [buffer])
    unhashed += used
    used = 0
    const next = free.pop()
    batch = next === undefined ? new Uint8Array(BATCH_BYTES) : new Uint8Array(next)
  }
  return {
    update: (chunk) => {
      if (failure !== undefined) return undefined
      for (let offset = 0; offset < chunk.length;) {
        const n = Math.min(BATCH_BYTES - used, chunk.length - offset)
        batch.set(chunk.subarray(offset, offset + n), used)
        used += n
        offset += n
        if (used === BATCH_BYTES) flush()
      }
      if (unhashed < UNHASHED_LIMIT) return undefined
      return new Promise<void>((resolve) => (resume = resolve))
    },
    digest: () =>
      new Promise<string>((resolve, reject) => {
        if (failure !== undefined) return reject(failure)
        settle = (result) => {
          settle = undefined
          void worker.terminate()
          if (result.digest !== undefined) resolve(result.digest)
          else reject(result.error)
        }
        flush()
        worker.postMessage("digest")
      }),
    dispose: () => {
      settle = undefined
      void worker.terminate()
    }
  }
}

/** Uploads at least this large (when their size is known) hash on a worker thread. @internal */
export const EXTERNAL_HASH_THRESHOLD = 32 * 1024 * 1024

/**
 * Commits request-body bytes to an upload: hashes and counts them, keeps them
 * only when asked. Use `makeCommitter` to honour `holdBack`. @internal
 */
export const commitBytes = (upload: StoredUpload, chunk: Buffer): void => {
  void commitChunk(upload, chunk)
}

/** `commitBytes` that returns a promise when the hasher wants the sender paused. @internal */
export const commitChunk = (upload: StoredUpload, chunk: Buffer): Promise<void> | undefined => {
  upload.bytes += chunk.length
  upload.chunks?.push(Buffer.from(chunk))
  if (upload.external !== undefined) return upload.external.update(chunk)
  upload.hash.update(chunk)
  return undefined
}

/**
 * Streams chunks into an upload while holding back the last `holdBack` bytes
 * of this request (the partial-acknowledgement fault): only the acknowledged
 * prefix is hashed, counted and kept. `limit` caps how many bytes this request
 * may commit (e.g. a chunk rounded down to a granularity). @internal
 */
export interface Committer {
  /** Returns a promise when the sender should pause until it resolves (back-pressure). */
  readonly push: (chunk: Buffer) => Promise<void> | undefined
  /** Commits what may be committed; returns the bytes committed by this request. */
  readonly end: () => number
}

/** @internal */
export const makeCommitter = (
  upload: StoredUpload,
  holdBack: number,
  limit = Infinity,
  counters?: Counters
): Committer => {
  let committed = 0
  let received = 0
  let pending: Array<Buffer> = []
  let pendingBytes = 0
  const budget = () => limit - committed
  const commit = (chunk: Buffer): Promise<void> | undefined => {
    const room = budget()
    if (room <= 0) return undefined
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk
    committed += piece.length
    // The platform threw the upload away while this request still streamed
    // (a video deleted, a session expired): what arrives now is thrown away
    // too. These bytes were sent once, before the client gave the upload up,
    // and are discarded, not re-sent.
    if (upload.discarded === true) {
      if (counters !== undefined) counters.discardedBytes += piece.length
      return undefined
    }
    return commitChunk(upload, piece)
  }
  return {
    push: (chunk) => {
      received += chunk.length
      if (holdBack <= 0) return commit(chunk)
      // Keep at most `holdBack` bytes pending; everything older is acknowledged.
      let wait: Promise<void> | undefined
      pending.push(chunk)
      pendingBytes += chunk.length
      while (pending.length > 0 && pendingBytes - pending[0]!.length >= holdBack) {
        const head = pending.shift()!
        pendingBytes -= head.length
        wait = commit(head) ?? wait
      }
      const excess = pendingBytes - holdBack
      if (excess > 0) {
        const head = pending[0]!
        wait = commit(head.subarray(0, excess)) ?? wait
        pending[0] = head.subarray(excess)
        pendingBytes -= excess
      }
      return wait
    },
    end: () => {
      // The held-back tail is forgotten: the client must send it again.
      pending = []
      pendingBytes = 0
      if (counters !== undefined) counters.discardedBytes += received - committed
      return committed
    }
  }
}

/**
 * Finalises the digest of a complete upload hashed in-process. For an upload
 * that may hash externally use `finishUpload`. @internal
 */
export const completeUpload = (upload: StoredUpload): void => {
  if (upload.external !== undefined) throw new Error(`Upload ${upload.id} hashes externally: use finishUpload`)
  upload.complete = true
  upload.sha256 = upload.hash.copy().digest("hex")
}

/** Finalises the digest of a complete upload, however it is hashed. @internal */
export const finishUpload = async (upload: StoredUpload): Promise<void> => {
  if (upload.external === undefined) return completeUpload(upload)
  const external = upload.external
  upload.sha256 = await external.digest()
  upload.external = undefined
  upload.complete = true
}

/**
 * Current digest of the committed prefix; `undefined` while an external hasher
 * holds the state (it cannot be read mid-stream). @internal
 */
export const currentDigest = (upload: StoredUpload): string | undefined =>
  upload.complete ? upload.sha256 : upload.external !== undefined ? undefined : upload.hash.copy().digest("hex")

// =============================================================================
// Requests
// =============================================================================

/** @internal */
export interface RequestContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly url: URL
  /** Named groups of the route's pattern. */
  readonly params: Record<string, string>
  readonly platform: PlatformId
  readonly route: string
  /** `http://127.0.0.1:<port>` of this emulator. */
  readonly baseUrl: string
  readonly now: () => number
  readonly state: SandboxState
  /** Bytes to acknowledge fewer than received (partial-acknowledgement fault), 0 normally. */
  readonly holdBack: number
  /**
   * Streams the request body to `onChunk`. Resolves with the bytes seen and
   * whether the connection was dropped by a fault (then do not answer: the
   * framework destroys the socket).
   */
  readonly consume: (
    onChunk: (chunk: Buffer) => Promise<void> | void
  ) => Promise<{ readonly bytes: number; readonly dropped: boolean }>
  /** Reads a small body whole (JSON, forms), at most 16 MiB. */
  readonly readBody: () => Promise<Buffer>
  readonly json: () => Promise<unknown>
  readonly form: () => Promise<URLSearchParams>
  /** Answers JSON (or no body when `body` is undefined). */
  readonly send: (status: number, body?: unknown, headers?: Record<string, string | number>) => void
  /** Answers with the platform's own error format. */
  readonly fail: (status: number, options?: ErrorOptions) => void
}

/** @internal */
export interface ErrorOptions {
  /** Platform-specific code: YouTube reason, Graph code, Vimeo error_code, … */
  readonly code?: string | undefined
  readonly message?: string | undefined
  readonly headers?: Record<string, string | number> | undefined
  /** Extra fields some formats carry (Graph `error_subcode`, …). */
  readonly extra?: Record<string, unknown> | undefined
  /** Route name the error answers (set by the framework when known), for platforms whose format varies by endpoint. */
  readonly route?: string | undefined
}

/**
 * A non-JSON body (e.g. tus's plain-text errors): `send` writes it as is.
 * @internal
 */
export class RawBody {
  constructor(readonly body: string | Buffer, readonly contentType = "text/plain; charset=utf-8") {}
}

/** @internal */
export interface Route {
  /** Stable name, used to target faults (e.g. `"upload"`, `"tweets"`). */
  readonly name: string
  readonly method: string
  /** Exact path, or a RegExp over the path with named groups. */
  readonly path: string | RegExp
  readonly handler: (ctx: RequestContext) => void | Promise<void>
}

/** @internal */
export interface Emulator {
  readonly platform: PlatformId
  readonly routes: ReadonlyArray<Route>
  /** Renders an error in the platform's own format. */
  readonly errorResponse: (
    status: number,
    options: ErrorOptions
  ) => { readonly body: unknown; readonly headers?: Record<string, string | number> | undefined }
  /** Invalidates every access token issued so far (the next request gets the platform's 401). */
  readonly expireTokens: () => void
  /** Uses up the platform's quota (the next metered request fails as the platform does). */
  readonly exhaustQuota: () => void
  /** Platform-specific state for `/_sandbox/state`. */
  readonly snapshot: () => unknown
  /**
   * Stores a post as if made at `at` (sandbox clock), without the API's
   * checks (duplicates, limits): what a search must tell apart from Medusa's.
   * Only platforms with posts have it.
   */
  readonly seedPost?: (
    post: { readonly text: string; readonly at: number; readonly link?: string | undefined }
  ) => StoredPost
  /**
   * Resources the platform shows the user that no finished upload explains:
   * videos created and neither completed nor deleted (their ids).
   */
  readonly orphans?: (() => ReadonlyArray<string>) | undefined
  /**
   * Videos created and left unfinished that no request named after their
   * creation: its answer was lost, so the client never learned their ids and
   * could neither go on with them nor delete them (platforms without a
   * listing of unfinished videos). Not in `orphans`.
   */
  readonly unannounced?: (() => ReadonlyArray<string>) | undefined
}

/** What every emulator factory receives. @internal */
export interface EmulatorEnv {
  readonly state: SandboxState
  readonly clock: SandboxClock
  readonly credentials: import("../Credentials.js").SandboxCredentials
  readonly options: import("../Sandbox.js").SandboxOptions
}

const MAX_SMALL_BODY = 16 * 1024 * 1024

/** Faults that answer the request in place of the emulator. */
const answerKinds: ReadonlySet<string> = new Set(["status", "rateLimit", "stall"])

/** @internal */
export class FaultEngine {
  private rules: Array<{ rule: FaultRule; remaining: number; skip: number }> = []
  private random: Array<{ spec: RandomFaults; next: () => number }> = []

  add(rule: FaultRule): void {
    this.rules.push({ rule, remaining: rule.times ?? 1, skip: rule.skip ?? 0 })
  }

  addRandom(spec: RandomFaults): void {
    this.random.push({ spec, next: prng(spec.seed) })
  }

  clear(): void {
    this.rules = []
    this.random = []
  }

  /** Takes every action that applies to this request (consuming rule counts). */
  take(platform: PlatformId, route: string, method: string): Array<FaultAction> {
    const actions: Array<FaultAction> = []
    // One action of each kind per request: two rules of the same kind queue up for consecutive
    // requests (two 503 rules answer two requests), while different kinds combine (latency + drop).
    const kinds = new Set<string>()
    for (const entry of this.rules) {
      const { rule } = entry
      if (entry.remaining <= 0) continue
      if (rule.platform !== platform) continue
      if (rule.route !== undefined && rule.route !== route) continue
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue
      if (entry.skip > 0) {
        entry.skip -= 1
        continue
      }
      const kind = answerKinds.has(rule.action.kind) ? "answer" : rule.action.kind
      if (kinds.has(kind)) continue
      kinds.add(kind)
      entry.remaining -= 1
      actions.push(rule.action)
    }
    this.rules = this.rules.filter((e) => e.remaining > 0)
    for (const { next, spec } of this.random) {
      if (spec.platform !== undefined && spec.platform !== platform) continue
      if (spec.route !== undefined && spec.route !== route) continue
      if (next() < spec.probability && spec.actions.length > 0) {
        actions.push(spec.actions[Math.floor(next() * spec.actions.length)]!)
      }
    }
    return actions
  }

  toJSON() {
    return {
      rules: this.rules.map(({ remaining, rule, skip }) => ({
        ...rule,
        // What is left to let through, for a rule that had some.
        ...(rule.skip !== undefined ? { skip } : {}),
        times: rule.times === Infinity ? null : rule.times,
        remaining: remaining === Infinity ? null : remaining
      })),
      random: this.random.map(({ spec }) => spec)
    }
  }
}

const matchRoute = (
  routes: ReadonlyArray<Route>,
  method: string,
  path: string
): { route: Route; params: Record<string, string> } | undefined => {
  const find = (wanted: string) => {
    for (const route of routes) {
      if (route.method !== wanted) continue
      if (typeof route.path === "string") {
        if (route.path === path) return { route, params: {} }
      } else {
        const m = route.path.exec(path)
        if (m) return { route, params: { ...m.groups } }
      }
    }
    return undefined
  }
  // HTTP semantics: HEAD is GET without a body, unless an emulator routes HEAD itself (tus).
  return find(method) ?? (method === "HEAD" ? find("GET") : undefined)
}

const redactHeaders = (headers: IncomingMessage["headers"]): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue
    out[k] = SECRET_HEADERS.has(k) ? "<redacted>" : Array.isArray(v) ? v.join(", ") : v
  }
  return out
}

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

/**
 * Handles one request for an emulator: log, count, faults, route.
 *
 * A `drop` fault means the client never gets an answer: at most `afterBytes`
 * body bytes reach the handler, then the socket is destroyed. When the body is
 * shorter than `afterBytes` the handler runs to completion and its answer is
 * lost instead (the "request landed, response lost" case).
 *
 * @internal
 */
export const dispatch = async (
  emulator: Emulator,
  faults: FaultEngine,
  env: EmulatorEnv,
  baseUrl: string,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> => {
  const url = new URL(req.url ?? "/", baseUrl)
  const method = req.method ?? "GET"
  const counters = env.state.counters[emulator.platform]
  counters.requests += 1
  const entry: LogEntry = {
    at: env.clock.now(),
    platform: emulator.platform,
    method,
    path: redactPath(url.pathname + url.search),
    status: 0,
    headers: redactHeaders(req.headers)
  }
  env.state.addLog(entry)
  res.on("finish", () => {
    if (entry.status !== "dropped") entry.status = res.statusCode
  })

  let dropAfter: number | undefined
  let dropped = false
  let stall = false
  let routeName: string | undefined

  const send = (status: number, body?: unknown, headers: Record<string, string | number> = {}) => {
    if (res.headersSent || res.destroyed) return
    // A stalled request is handled but its answer never leaves.
    if (stall) return
    if (dropAfter !== undefined) {
      // The answer is lost on a dropped connection.
      dropped = true
      return
    }
    if (body === undefined) {
      res.writeHead(status, { "content-length": 0, ...headers })
      res.end()
    } else if (body instanceof RawBody) {
      const payload = typeof body.body === "string" ? Buffer.from(body.body) : body.body
      res.writeHead(status, { "content-type": body.contentType, "content-length": payload.length, ...headers })
      res.end(payload)
    } else {
      const payload = Buffer.from(JSON.stringify(body))
      res.writeHead(status, {
        "content-type": "application/json; charset=UTF-8",
        "content-length": payload.length,
        ...headers
      })
      res.end(payload)
    }
  }
  const fail = (status: number, options: ErrorOptions = {}) => {
    const rendered = emulator.errorResponse(status, { route: routeName, ...options })
    send(status, rendered.body, { ...rendered.headers, ...options.headers })
  }

  const matched = matchRoute(emulator.routes, method, url.pathname)
  if (!matched) {
    drain(req)
    return fail(404, { message: `The sandbox's ${emulator.platform} emulator has no route ${method} ${url.pathname}` })
  }
  routeName = matched.route.name

  const actions = faults.take(emulator.platform, matched.route.name, method)
  if (actions.length > 0) counters.faults += actions.length
  let holdBack = 0
  for (const action of actions) {
    switch (action.kind) {
      case "latency":
        await sleep(action.millis)
        break
      case "status":
        drain(req)
        return fail(action.status, { code: action.code, message: action.message })
      case "rateLimit":
        drain(req)
        return fail(429, {
          code: "rate_limited",
          message: "Rate limit exceeded (sandbox fault)",
          headers: { "retry-after": action.retryAfterSeconds }
        })
      case "drop":
        dropAfter = Math.max(0, action.afterBytes)
        break
      case "partialAck":
        holdBack = Math.max(0, action.bytes)
        break
      case "stall":
        stall = true
        break
    }
  }

  let consumed = false
  const consume = (onChunk: (chunk: Buffer) => Promise<void> | void) =>
    new Promise<{ bytes: number; dropped: boolean }>((resolve, reject) => {
      consumed = true
      let bytes = 0
      let settled = false
      const settle = (value: { bytes: number; dropped: boolean }) => {
        if (settled) return
        settled = true
        req.off("data", onData)
        resolve(value)
      }
      const cut = () => {
        dropped = true
        req.pause()
        settle({ bytes, dropped: true })
      }
      const onData = (chunk: Buffer) => {
        if (settled) return
        if (dropAfter !== undefined && bytes + chunk.length >= dropAfter) {
          const keep = dropAfter - bytes
          if (keep > 0) {
            bytes += keep
            counters.bodyBytes += keep
            onChunk(chunk.subarray(0, keep))
          }
          return cut()
        }
        bytes += chunk.length
        counters.bodyBytes += chunk.length
        // Callbacks typed `void` may return anything (e.g. `chunks.push(c)`): only a thenable means "wait".
        const wait: unknown = onChunk(chunk)
        if (wait instanceof Promise) {
          // Back-pressure from the consumer (an external hasher): stop reading until it catches up.
          req.pause()
          void wait.then(() => {
            if (!settled) req.resume()
          })
        }
      }
      if (dropAfter === 0) return cut()
      // A second consume after the body was read: nothing more will come.
      if (req.readableEnded) return settle({ bytes: 0, dropped: false })
      req.on("data", onData)
      req.once("end", () => settle({ bytes, dropped: false }))
      req.once("error", (e) => {
        if (settled) return
        if (dropped || !req.complete) {
          dropped = true
          settle({ bytes, dropped: true })
        } else {
          settled = true
          reject(e)
        }
      })
      // The client went away mid-body: what arrived is kept, nobody is answered.
      req.once("close", () => {
        if (!req.complete) {
          dropped = true
          settle({ bytes, dropped: true })
        }
      })
    })
  const readBody = async () => {
    const chunks: Array<Buffer> = []
    let size = 0
    const result = await consume((c) => {
      size += c.length
      if (size <= MAX_SMALL_BODY) chunks.push(c)
    })
    if (result.dropped) {
      // A body read whole is handled whole or not at all: what arrived before the cut is thrown away.
      counters.discardedBytes += result.bytes
      throw new DroppedConnection()
    }
    if (size > MAX_SMALL_BODY) throw new BodyTooLarge(size)
    return Buffer.concat(chunks)
  }

  const ctx: RequestContext = {
    req,
    res,
    url,
    params: matched.params,
    platform: emulator.platform,
    route: matched.route.name,
    baseUrl,
    now: env.clock.now,
    state: env.state,
    holdBack,
    consume,
    readBody,
    json: async () => {
      const body = await readBody()
      return body.length === 0 ? undefined : JSON.parse(body.toString("utf8"))
    },
    form: async () => new URLSearchParams((await readBody()).toString("utf8")),
    send,
    fail
  }

  try {
    await matched.route.handler(ctx)
  } catch (error) {
    if (!(error instanceof DroppedConnection)) {
      if (error instanceof EmulatorFailure) fail(error.status, error.options)
      else if (error instanceof SyntaxError) fail(400, { message: `Malformed request body: ${error.message}` })
      else if (error instanceof BodyTooLarge) fail(413, { message: error.message })
      else fail(500, { message: `Sandbox emulator failure: ${String(error)}` })
    }
  }
  if (dropped || dropAfter !== undefined) {
    entry.status = "dropped"
    req.socket.destroy()
    return
  }
  if (stall) {
    // Keep the connection open and silent; the client's deadline must end it.
    entry.status = "dropped"
    counters.stalls += 1
    if (!consumed) drain(req)
    return
  }
  if (!consumed) drain(req)
  if (!res.headersSent && !res.destroyed) fail(500, { message: "The sandbox emulator sent no answer" })
}

class DroppedConnection extends Error {}

/**
 * Thrown by a route handler to answer with the platform's own error format
 * (`ctx.fail(status, options)`) from however deep it is. @internal
 */
export class EmulatorFailure {
  constructor(readonly status: number, readonly options: ErrorOptions) {}
}

class BodyTooLarge extends Error {
  constructor(size: number) {
    super(`Request body of ${size} bytes is larger than the sandbox's ${MAX_SMALL_BODY}-byte limit for this endpoint`)
  }
}

const drain = (req: IncomingMessage) => {
  if (!req.complete) req.resume()
}

// =============================================================================
// Small helpers for emulators
// =============================================================================

/**
 * Serialises work per key (an upload session): a retry that arrives while the
 * previous request still streams into the same upload waits for it, as a real
 * server's session lock would, instead of interleaving bytes. @internal
 */
export const makeLocks = () => {
  const tails = new Map<string, Promise<void>>()
  return async <A>(key: string, f: () => Promise<A>): Promise<A> => {
    const previous = tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => mine)
    tails.set(key, tail)
    await previous
    try {
      return await f()
    } finally {
      release()
      if (tails.get(key) === tail) tails.delete(key)
    }
  }
}

// =============================================================================
// =============================================================================

/** `Authorization: Bearer <token>` → token. @internal */
export const bearer = (req: IncomingMessage): string | undefined => {
  const h = req.headers.authorization
  if (!h) return undefined
  const m = /^bearer\s+(.+)$/i.exec(h)
  return m?.[1]?.trim()
}

/** A random-looking id of the given length from [A-Za-z0-9_-]. @internal */
export const randomId = (next: () => number, length: number): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
  let s = ""
  for (let i = 0; i < length; i++) s += alphabet[Math.floor(next() * alphabet.length)]
  return s
}

/** Numeric id string of the given length. @internal */
export const numericId = (next: () => number, length: number): string => {
  let s = String(1 + Math.floor(next() * 9))
  for (let i = 1; i < length; i++) s += String(Math.floor(next() * 10))
  return s
}
