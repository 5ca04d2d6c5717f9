/**
 * The sandbox: local emulators of every platform's HTTP API, on ephemeral
 * loopback ports, with inspectable state, injectable faults and a clock that
 * tests drive.
 *
 * ```ts
 * const sandbox = await Sandbox.start()
 * const configPath = await sandbox.writeConfig("/tmp/medusa-sandbox")
 * sandbox.inject({ platform: "youtube", route: "upload", action: { kind: "drop", afterBytes: 1_000_000 } })
 * // … run Medusa with configPath …
 * sandbox.state().posts
 * await sandbox.close()
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { chmod, mkdir, writeFile } from "node:fs/promises"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import type { PlatformId } from "../PlatformId.js"
import * as Credentials from "./Credentials.js"
import { makeBluesky } from "./emulators/bluesky.js"
import { type FacebookEmulatorOptions, makeFacebook } from "./emulators/facebook.js"
import { type LinkedInEmulatorOptions, makeLinkedIn } from "./emulators/linkedin.js"
import { makeMastodon, type MastodonEmulatorOptions } from "./emulators/mastodon.js"
import { makeThreads, type ThreadsEmulatorOptions } from "./emulators/threads.js"
import { makeVimeo } from "./emulators/vimeo.js"
import { makeX, type XEmulatorOptions } from "./emulators/x.js"
import { makeYouTube } from "./emulators/youtube.js"
import {
  dispatch,
  type Emulator,
  type EmulatorEnv,
  FaultEngine,
  type FaultRule,
  InvalidControlRequest,
  makeClock,
  parseFaultRule,
  parsePlatform,
  parseRandomFaults,
  parseSeedPost,
  type RandomFaults,
  type SandboxClock,
  SandboxState,
  type SeedPost,
  type StoredPost
} from "./internal/framework.js"

export type {
  FaultAction,
  FaultRule,
  RandomFaults,
  SandboxClock,
  SeedPost,
  StoredPost,
  StoredUpload
} from "./internal/framework.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxOptions {
  /** Override credentials (e.g. canary tokens in tests). */
  readonly credentials?: {
    readonly [K in keyof Credentials.SandboxCredentials]?: Partial<Credentials.SandboxCredentials[K]>
  }
  /** Start the sandbox clock at this epoch-ms time (default: real time). */
  readonly clockStart?: number
  /** Keep uploaded bytes in memory (default false: they are hashed and counted only). */
  readonly keepBytes?: boolean
  /**
   * How uploads of 32 MiB and more are hashed: `auto` (default) and `worker`
   * hash on a worker thread, beside the socket reads; `in-process` hashes on
   * the sandbox's own thread. The env var `MEDUSA_SANDBOX_HASH` (same values)
   * overrides the default. Results are identical; only the speed differs.
   */
  readonly hashing?: "auto" | "in-process" | "worker"
  /** Seed for ids and random faults (default 1). */
  readonly seed?: number
  /** Facebook Graph API version served (default `v26.0`). */
  readonly graphVersion?: string
  /** LinkedIn versions answered with `426` (sunset). Default: anything before `202511`. */
  readonly linkedinMinVersion?: string
  /** Latency added to every request, in ms (default 0). */
  readonly latencyMillis?: number
  /** Host to bind (default `127.0.0.1`). */
  readonly host?: string
  /** Fixed ports per platform (default: ephemeral). */
  readonly ports?: Partial<Record<PlatformId | "control", number>>
  /** YouTube emulator settings. */
  readonly youtube?: YouTubeOptions
  /** Vimeo emulator settings. */
  readonly vimeo?: VimeoOptions
  /** Facebook emulator settings (scheduling window, usage headers, scopes, token expiry). */
  readonly facebook?: FacebookEmulatorOptions
  /** X emulator settings (rate limits, OAuth timestamp window, media processing). */
  readonly x?: XEmulatorOptions
  /** LinkedIn emulator settings (daily post limit, duplicate window, commentary length). */
  readonly linkedin?: LinkedInEmulatorOptions
  /** Threads emulator settings (container processing, publishing limit, text length). */
  readonly threads?: ThreadsEmulatorOptions
  /** Mastodon emulator settings (status length, media processing, idempotency window). */
  readonly mastodon?: MastodonEmulatorOptions
}

/**
 * Settings of the Facebook, X and LinkedIn emulators.
 *
 * @since 0.1.0
 * @category models
 */
export type {
  FacebookEmulatorOptions,
  LinkedInEmulatorOptions,
  MastodonEmulatorOptions,
  ThreadsEmulatorOptions,
  XEmulatorOptions
}

/**
 * @since 0.1.0
 * @category models
 */
export interface YouTubeOptions {
  /** How long an upload session lives, in sandbox ms (default 1 day). */
  readonly sessionLifetimeMillis?: number
  /** `videos.list` polls that still report `processing` after an upload (default 1). */
  readonly processingPolls?: number
  /** Sandbox ms after which processing has succeeded regardless of polls (default 5 minutes). */
  readonly processingMillis?: number
  /** Outcome of processing (default `succeeded`). */
  readonly processingOutcome?: "succeeded" | "failed"
  /** The daily "Video Uploads" bucket (default 100 calls). */
  readonly uploadsPerDay?: number
  /** The daily unit pool (default 10,000). */
  readonly unitsPerDay?: number
  /** Uploads per channel per day before `uploadLimitExceeded` (400); default unlimited. */
  readonly channelUploadLimit?: number
  /** Largest thumbnail accepted, in bytes (default 2 MiB, the stricter documented limit). */
  readonly thumbnailMaxBytes?: number
  /** When set, `playlistItems.insert` into any other playlist id gets `playlistNotFound`. */
  readonly playlists?: ReadonlyArray<string>
  /** Scopes granted to the sandbox's refresh token, answered on refresh (default youtube.upload and youtube). */
  readonly scopes?: ReadonlyArray<string>
  /** The channel title `channels.list?mine=true` answers (default `Sandbox Channel`). */
  readonly channelTitle?: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface VimeoOptions {
  /** Upload quota in bytes (default 500 GiB); a larger `upload.size` gets error 4102. */
  readonly quotaBytes?: number
  /** Scopes `GET /oauth/verify` reports for the token (default public private create edit upload video_files). */
  readonly scopes?: ReadonlyArray<string>
  /** The account name `GET /oauth/verify` reports (default `Sandbox Vimeo User`). */
  readonly accountName?: string
}

/**
 * A running sandbox.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sandbox {
  /** Base URL of each platform's emulator. */
  readonly urls: Readonly<Record<PlatformId, string>>
  /** `GET` this for the state as JSON. */
  readonly stateUrl: string
  /** Base URL of the control server (`/_sandbox/...`). */
  readonly controlUrl: string
  readonly credentials: Credentials.SandboxCredentials
  readonly clock: SandboxClock
  /** Uploads, posts, counters and the (redacted) request log. */
  readonly state: () => ReturnType<SandboxState["toJSON"]> & {
    readonly platforms: Record<PlatformId, unknown>
    /** Per platform, the ids of videos created and neither completed nor deleted. */
    readonly orphans: Record<PlatformId, ReadonlyArray<string>>
    /** Per platform, unfinished videos whose creation answer was lost: no request named them since. */
    readonly unannounced: Record<PlatformId, ReadonlyArray<string>>
  }
  /** The live state object (uploads with their hashes, posts). */
  readonly raw: SandboxState
  readonly inject: (rule: FaultRule) => void
  readonly injectRandom: (spec: RandomFaults) => void
  readonly clearFaults: () => void
  readonly expireToken: (platform: PlatformId) => void
  readonly exhaustQuota: (platform: PlatformId) => void
  /**
   * Puts a post on Facebook, X, LinkedIn, Threads, Mastodon or Bluesky dated `at` by the sandbox clock
   * (default now), as if made outside Medusa: no duplicate or limit checks.
   * Searches list it like any other post. Also `POST /_sandbox/posts`.
   */
  readonly seedPost: (post: SeedPost) => StoredPost
  /**
   * Writes `medusa.config.json` (plus YouTube's client-secrets and credentials
   * files) pointing at this sandbox into `dir`; returns the config's path.
   */
  readonly writeConfig: (dir: string, options?: WriteConfigOptions) => Promise<string>
  readonly close: () => Promise<void>
}

const listen = (server: Server, host: string, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port))
  })

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })

/**
 * Starts every emulator and the control server.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (options: SandboxOptions = {}): Promise<Sandbox> => {
  const host = options.host ?? "127.0.0.1"
  const credentials = Credentials.make(options.credentials)
  const clock = makeClock(options.clockStart)
  const state = new SandboxState(options.keepBytes ?? false)
  state.externalHashing = (options.hashing ?? process.env.MEDUSA_SANDBOX_HASH ?? "auto") !== "in-process"
  const faults = new FaultEngine()
  const env: EmulatorEnv = { state, clock, credentials, options }
  const emulators: Record<PlatformId, Emulator> = {
    youtube: makeYouTube(env),
    vimeo: makeVimeo(env),
    facebook: makeFacebook(env),
    x: makeX(env),
    linkedin: makeLinkedIn(env),
    threads: makeThreads(env),
    mastodon: makeMastodon(env),
    bluesky: makeBluesky(env)
  }
  const servers: Array<Server> = []
  const urls = {} as Record<PlatformId, string>

  const snapshot = () => ({
    ...state.toJSON(),
    faults: faults.toJSON(),
    clock: clock.now(),
    /** Per platform, the ids of resources created and neither completed nor deleted. */
    orphans: Object.fromEntries(
      Object.entries(emulators).map(([id, e]) => [id, e.orphans?.() ?? []])
    ) as Record<PlatformId, ReadonlyArray<string>>,
    unannounced: Object.fromEntries(
      Object.entries(emulators).map(([id, e]) => [id, e.unannounced?.() ?? []])
    ) as Record<PlatformId, ReadonlyArray<string>>,
    platforms: Object.fromEntries(
      Object.entries(emulators).map(([id, e]) => [id, e.snapshot()])
    ) as Record<PlatformId, unknown>
  })

  const seedPost = (post: SeedPost): StoredPost => {
    const parsed = parseSeedPost(post)
    return emulators[parsed.platform].seedPost!({
      text: parsed.text,
      at: parsed.at ?? clock.now(),
      link: parsed.link
    })
  }

  const control = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (!url.pathname.startsWith("/_sandbox/")) return false
    const reply = (status: number, body?: unknown) => {
      const payload = Buffer.from(JSON.stringify(body ?? {}))
      res.writeHead(status, { "content-type": "application/json", "content-length": payload.length })
      res.end(payload)
    }
    const readJson = async (): Promise<any> => {
      const chunks: Array<Buffer> = []
      let size = 0
      for await (const c of req) {
        size += (c as Buffer).length
        if (size > 1024 * 1024) throw new InvalidControlRequest("Control request bodies are limited to 1 MiB")
        chunks.push(c as Buffer)
      }
      const text = Buffer.concat(chunks).toString("utf8")
      if (!text) return {}
      try {
        return JSON.parse(text)
      } catch (error) {
        throw new InvalidControlRequest(`The body is not valid JSON (${(error as Error).message})`)
      }
    }
    const route = `${req.method} ${url.pathname}`
    try {
      switch (route) {
        case "GET /_sandbox/state":
          reply(200, snapshot())
          return true
        case "GET /_sandbox/faults":
          reply(200, faults.toJSON())
          return true
        case "POST /_sandbox/faults": {
          const body = await readJson()
          const list: Array<unknown> = Array.isArray(body) ? body : Array.isArray(body?.rules) ? body.rules : [body]
          // Validate every rule before adding any, so a bad batch changes nothing.
          const rules = list.map((r, i) => {
            try {
              return parseFaultRule(r)
            } catch (error) {
              throw new InvalidControlRequest(
                list.length > 1 ? `rules[${i}]: ${(error as Error).message}` : (error as Error).message
              )
            }
          })
          rules.forEach((r) => faults.add(r))
          reply(200, faults.toJSON())
          return true
        }
        case "POST /_sandbox/faults/random":
          faults.addRandom(parseRandomFaults(await readJson()))
          reply(200, faults.toJSON())
          return true
        case "DELETE /_sandbox/faults":
          faults.clear()
          reply(200, faults.toJSON())
          return true
        case "POST /_sandbox/tokens/expire": {
          const platform = parsePlatform((await readJson())?.platform)
          emulators[platform].expireTokens()
          reply(200, { ok: true, platform })
          return true
        }
        case "POST /_sandbox/quota/exhaust": {
          const platform = parsePlatform((await readJson())?.platform)
          emulators[platform].exhaustQuota()
          reply(200, { ok: true, platform })
          return true
        }
        case "POST /_sandbox/posts":
          reply(200, { post: seedPost(parseSeedPost(await readJson())) })
          return true
        case "GET /_sandbox/clock":
          reply(200, { now: clock.now(), iso: new Date(clock.now()).toISOString() })
          return true
        case "POST /_sandbox/clock": {
          const body = await readJson()
          if (body?.set !== undefined) {
            const at = typeof body.set === "string" ? Date.parse(body.set) : body.set
            if (typeof at !== "number" || !Number.isFinite(at)) {
              throw new InvalidControlRequest(
                `set must be epoch milliseconds or an ISO 8601 date-time; got ${JSON.stringify(body.set)}`
              )
            }
            clock.set(at)
          }
          for (const [field, factor] of [["advanceMillis", 1], ["advanceSeconds", 1000]] as const) {
            const value = body?.[field]
            if (value === undefined) continue
            if (typeof value !== "number" || !Number.isFinite(value)) {
              throw new InvalidControlRequest(`${field} must be a number; got ${JSON.stringify(value)}`)
            }
            clock.advance(value * factor)
          }
          reply(200, { now: clock.now(), iso: new Date(clock.now()).toISOString() })
          return true
        }
        default:
          reply(404, {
            error: `Unknown sandbox control route ${route}`,
            routes: [
              "GET /_sandbox/state",
              "GET|POST|DELETE /_sandbox/faults",
              "POST /_sandbox/faults/random",
              "POST /_sandbox/tokens/expire",
              "POST /_sandbox/quota/exhaust",
              "POST /_sandbox/posts",
              "GET|POST /_sandbox/clock"
            ]
          })
          return true
      }
    } catch (error) {
      if (error instanceof InvalidControlRequest) reply(400, { error: `${route}: ${error.message}` })
      else reply(500, { error: `${route}: ${String(error)}` })
      return true
    }
  }

  const latency = options.latencyMillis ?? 0
  const serve = async (emulator: Emulator | undefined, baseUrl: () => string) => {
    // No request timeout: a multi-gigabyte upload may legitimately take long.
    const server = createServer({ keepAliveTimeout: 5_000, requestTimeout: 0 }, (req, res) => {
      const url = new URL(req.url ?? "/", baseUrl())
      void (async () => {
        if (await control(req, res, url)) return
        if (!emulator) {
          res.writeHead(404).end()
          return
        }
        if (latency > 0) await new Promise((r) => setTimeout(r, latency))
        await dispatch(emulator, faults, env, baseUrl(), req, res)
      })().catch((error) => {
        if (!res.headersSent) res.writeHead(500).end(String(error))
      })
    })
    servers.push(server)
    return server
  }

  let controlUrl = ""
  try {
    for (const [id, emulator] of Object.entries(emulators) as Array<[PlatformId, Emulator]>) {
      const server = await serve(emulator, () => urls[id])
      const port = await listen(server, host, options.ports?.[id] ?? 0)
      urls[id] = `http://${host}:${port}`
    }
    const controlServer = await serve(undefined, () => controlUrl)
    controlUrl = `http://${host}:${await listen(controlServer, host, options.ports?.control ?? 0)}`
  } catch (error) {
    await Promise.all(servers.map(closeServer))
    throw error
  }

  const handle: Sandbox = {
    urls,
    stateUrl: `${controlUrl}/_sandbox/state`,
    controlUrl,
    credentials,
    clock,
    raw: state,
    state: snapshot,
    inject: (rule) => faults.add(parseFaultRule(rule)),
    injectRandom: (spec) => faults.addRandom(parseRandomFaults(spec)),
    clearFaults: () => faults.clear(),
    expireToken: (platform) => emulators[platform].expireTokens(),
    exhaustQuota: (platform) => emulators[platform].exhaustQuota(),
    seedPost,
    writeConfig: (dir, writeOptions) => writeConfig(dir, urls, credentials, writeOptions),
    close: () => Promise.all(servers.map(closeServer)).then(() => state.dispose())
  }
  return handle
}

/**
 * @since 0.1.0
 * @category models
 */
export interface WriteConfigOptions {
  /** Name of the config file inside the directory (default `medusa.config.json`). */
  readonly fileName?: string
}

/**
 * Writes a ready `medusa.config.json` for a sandbox into `dir`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const writeConfig = async (
  dir: string,
  urls: Readonly<Record<PlatformId, string>>,
  credentials: Credentials.SandboxCredentials,
  options: WriteConfigOptions = {}
): Promise<string> => {
  // Absolute paths inside the config, so it works from any working directory.
  dir = path.resolve(dir)
  await mkdir(dir, { recursive: true })
  const secretsFile = path.join(dir, "youtube-client-secrets.json")
  const credentialsFile = path.join(dir, "youtube-credentials.json")
  const configFile = path.join(dir, options.fileName ?? "medusa.config.json")
  const write = async (file: string, value: unknown) => {
    await writeFile(file, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 })
    await chmod(file, 0o600)
  }
  await write(secretsFile, {
    installed: {
      client_id: credentials.youtube.clientId,
      client_secret: credentials.youtube.clientSecret,
      project_id: "medusa-sandbox",
      auth_uri: `${urls.youtube}/o/oauth2/v2/auth`,
      token_uri: `${urls.youtube}/token`,
      redirect_uris: ["http://127.0.0.1"]
    }
  })
  await write(credentialsFile, {
    refresh_token: credentials.youtube.refreshToken,
    access_token: credentials.youtube.accessToken,
    token_type: "Bearer",
    scope: "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube",
    expiry_date: Date.now() + 3_600_000
  })
  // The emulators list a post as soon as its request is handled: a few
  // seconds of settle time cover a request still being handled (latency
  // faults) instead of the real platforms' minutes.
  const settle_time = "5 seconds"
  await write(configFile, {
    youtube: { client_secrets_file: secretsFile, credentials_file: credentialsFile, base_url: urls.youtube },
    vimeo: { access_token: credentials.vimeo.accessToken, base_url: urls.vimeo },
    facebook: {
      page_id: credentials.facebook.pageId,
      access_token: credentials.facebook.pageAccessToken,
      base_url: urls.facebook,
      settle_time
    },
    twitter: {
      api_key: credentials.x.apiKey,
      api_secret: credentials.x.apiSecret,
      access_token: credentials.x.accessToken,
      access_token_secret: credentials.x.accessTokenSecret,
      base_url: urls.x,
      settle_time
    },
    linkedin: {
      access_token: credentials.linkedin.accessToken,
      author_urn: credentials.linkedin.authorUrn,
      base_url: urls.linkedin,
      settle_time
    },
    threads: {
      access_token: credentials.threads.accessToken,
      user_id: credentials.threads.userId,
      base_url: urls.threads,
      settle_time
    },
    mastodon: {
      access_token: credentials.mastodon.accessToken,
      instance_url: urls.mastodon,
      settle_time
    },
    bluesky: {
      identifier: credentials.bluesky.handle,
      app_password: credentials.bluesky.appPassword,
      service: urls.bluesky
    }
  })
  return configFile
}

// =============================================================================
// Effect API
// =============================================================================

/**
 * @since 0.1.0
 * @category tags
 */
export class SandboxService extends Context.Tag("@medusa/Sandbox")<SandboxService, Sandbox>() {}

/**
 * Starts the sandbox for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: SandboxOptions = {}): Effect.Effect<Sandbox, never, import("effect/Scope").Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(options)),
    (sandbox) => Effect.promise(() => sandbox.close())
  )

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: SandboxOptions = {}): Layer.Layer<SandboxService> =>
  Layer.scoped(SandboxService, make(options))
