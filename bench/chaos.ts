/**
 * `npm run bench:chaos`: a seeded fault campaign against the sandbox.
 *
 * Each run starts a fresh sandbox, picks a media file size and a handful of
 * fault rules from its seed (every kind the sandbox's fault engine has:
 * status answers including expired sessions and refused tokens, drops at
 * random offsets and after the platform handled the request, partial
 * acknowledgements, latency, 429s with `Retry-After`, and stalls: requests
 * handled but never answered), then publishes several tasks at once, each to
 * YouTube, Vimeo, Facebook, X, LinkedIn, Threads, Mastodon and Bluesky,
 * through the real adapters and the in-memory engine. In half the runs some
 * tasks post to Facebook and LinkedIn as native videos (`video: true`: Graph's
 * start / transfer / finish phases, LinkedIn's initializeUpload / part PUTs /
 * finalizeUpload, in chunks of 128 to 512 KiB), and some tasks attach the
 * video on Mastodon; faults then reach those routes too, a rule on a route of
 * several steps now and then letting the first few requests through (`skip`).
 * Afterwards it reads the sandbox:
 *
 * - hung: a task not finished within the bound (`--hang-seconds`, default 120);
 * - defects: a task that failed with `internal_error`, or a run that crashed;
 * - sha256: every completed task's stored videos equal the file (the hosts'
 *   videos, the native videos its posts show, its Mastodon attachment);
 * - duplicates: more than one finished video per host, or post per publisher,
 *   for one task; more finished native videos on a platform than tasks posting one;
 * - orphans: videos created and neither completed nor deleted, that no
 *   failed task holds as a resumable session (hosts and native videos);
 *   videos whose creation answer was lost are counted apart (`unannounced`:
 *   the client never had their ids, and neither platform lists them);
 * - bytes received per receiving platform (hosts, native videos, Mastodon)
 *   over the file size × tasks (the largest run);
 * - bytes re-sent beyond what the platform discarded: received − discarded −
 *   what the platform holds, over the file size × tasks (the largest run; the
 *   small JSON bodies of session creations and the multipart framing of
 *   Graph's transfers are counted in it).
 *
 * One summary line, then a replay command for every run that missed a target.
 * Timing under concurrency varies, so a replay repeats the faults of the run,
 * not necessarily the exact interleaving.
 *
 * Options: `--seed N` (default 1), `--runs N` (default 100), `--tasks N`
 * (publishes at once per run, default 3), `--hang-seconds N`, `--verbose`.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Medusa from "../src/Medusa.js"
import * as Config from "../src/MedusaConfig.js"
import type { HostId, PlatformId } from "../src/PlatformId.js"
import * as Bluesky from "../src/platforms/bluesky/Bluesky.js"
import * as Facebook from "../src/platforms/facebook/Facebook.js"
import * as LinkedIn from "../src/platforms/linkedin/LinkedIn.js"
import * as Mastodon from "../src/platforms/mastodon/Mastodon.js"
import * as Threads from "../src/platforms/threads/Threads.js"
import * as Vimeo from "../src/platforms/vimeo/Vimeo.js"
import * as X from "../src/platforms/x/X.js"
import * as YouTube from "../src/platforms/youtube/YouTube.js"
import type { FaultAction, FaultRule } from "../src/sandbox/internal/framework.js"
import { prng } from "../src/sandbox/internal/framework.js"
import * as Sandbox from "../src/sandbox/Sandbox.js"
import type { Task } from "../src/Task.js"
import * as TaskStore from "../src/TaskStore.js"

// =============================================================================
// Faults
// =============================================================================

/** Every kind of the sandbox's fault engine; the campaign reports how often each was armed. */
export const faultKinds = ["status", "drop", "partialAck", "latency", "rateLimit", "stall"] as const

interface RouteSpec {
  readonly platform: PlatformId
  readonly route: string
  /** Carries the file's bytes. */
  readonly bytes?: boolean
  /** Refers to an upload session (a 404 there means the session is gone). */
  readonly session?: boolean
  /** Serves several steps of one publish (phases, parts, polls): a rule may pass over the first requests. */
  readonly phases?: boolean
  /** Only a native video post (`video: true`) uses it. */
  readonly native?: boolean
}

const routes: ReadonlyArray<RouteSpec> = [
  { platform: "youtube", route: "upload.initiate" },
  { platform: "youtube", route: "upload", bytes: true, session: true },
  { platform: "youtube", route: "token" },
  { platform: "vimeo", route: "videos.create" },
  { platform: "vimeo", route: "tus.patch", bytes: true, session: true },
  { platform: "vimeo", route: "tus.head", session: true },
  { platform: "vimeo", route: "videos.list" },
  { platform: "vimeo", route: "videos.delete" },
  { platform: "facebook", route: "feed" },
  { platform: "facebook", route: "feed.list" },
  { platform: "x", route: "tweets" },
  { platform: "x", route: "users.tweets" },
  { platform: "linkedin", route: "posts" },
  { platform: "linkedin", route: "posts.find" },
  { platform: "bluesky", route: "createRecord" },
  { platform: "bluesky", route: "getRecord" },
  { platform: "bluesky", route: "createSession" },
  // Threads: the container, its status (and the permalink), the publish, the user's threads (the search).
  { platform: "threads", route: "containers" },
  { platform: "threads", route: "object", phases: true },
  { platform: "threads", route: "publish" },
  { platform: "threads", route: "threads.list" },
  // Mastodon: the status, the account's statuses (the search), the video attached and its processing state.
  { platform: "mastodon", route: "statuses" },
  { platform: "mastodon", route: "statuses.list" },
  { platform: "mastodon", route: "media", bytes: true },
  { platform: "mastodon", route: "media.get", phases: true },
  // Native videos: Graph's start / transfer / finish phases share one route, as do LinkedIn's
  // initializeUpload and finalizeUpload; the parts are pre-signed PUTs.
  { platform: "facebook", route: "videos", bytes: true, session: true, phases: true, native: true },
  { platform: "facebook", route: "video", native: true },
  { platform: "facebook", route: "video.delete", native: true },
  { platform: "linkedin", route: "videos.initialize", phases: true, native: true },
  { platform: "linkedin", route: "videos.part", bytes: true, session: true, phases: true, native: true }
]

const pick = <A>(next: () => number, items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)]!

const int = (next: () => number, min: number, max: number): number => min + Math.floor(next() * (max - min + 1))

/** The fault rules of one run, from its seed. */
export const faultsFor = (next: () => number, size: number, native: boolean): ReadonlyArray<FaultRule> => {
  const count = int(next, 1, 6)
  const rules: Array<FaultRule> = []
  const armed = native ? routes : routes.filter((r) => r.native !== true)
  for (let i = 0; i < count; i++) {
    const spec = pick(next, armed)
    const kind = pick(next, faultKinds)
    let action: FaultAction
    switch (kind) {
      case "status": {
        const choices: Array<number> = [500, 502, 503, 503]
        if (spec.session) choices.push(404, 410)
        if (spec.bytes) choices.push(401)
        action = { kind: "status", status: pick(next, choices) }
        break
      }
      case "drop":
        // Within the body, or (a large threshold) after the platform handled the request: the answer is lost.
        action = {
          kind: "drop",
          afterBytes: next() < 0.3 ? 100 * size : spec.bytes ? int(next, 0, size) : int(next, 0, 200)
        }
        break
      case "partialAck":
        action = { kind: "partialAck", bytes: int(next, 1, Math.min(size, 300_000)) }
        break
      case "latency":
        action = { kind: "latency", millis: int(next, 20, 400) }
        break
      case "rateLimit":
        // Mostly short waits; now and then longer than max_wait (3 s here).
        action = { kind: "rateLimit", retryAfterSeconds: next() < 0.1 ? 30 : int(next, 0, 2) }
        break
      case "stall":
        action = { kind: "stall" }
        break
    }
    // On a route of several steps, the rule may wait for a later one (a transfer, a part, a finish).
    const skip = spec.phases === true && next() < 0.6 ? int(next, 1, 6) : 0
    rules.push({
      platform: spec.platform,
      route: spec.route,
      times: int(next, 1, 3),
      ...(skip > 0 ? { skip } : {}),
      action
    })
  }
  return rules
}

// =============================================================================
// One run
// =============================================================================

const hosts: ReadonlyArray<HostId> = ["youtube", "vimeo"]
const publishers = ["facebook", "x", "linkedin", "threads", "mastodon", "bluesky"] as const
const everyPlatform: ReadonlyArray<PlatformId> = [...hosts, ...publishers]
/** Publishers that upload the file themselves for a native video post (`video: true`). */
const nativeVideo = ["facebook", "linkedin"] as const
/** Where bytes of the file go: the hosts, the native videos, Mastodon's attachment. */
const receivers: ReadonlyArray<PlatformId> = [...hosts, ...nativeVideo, "mastodon"]

/** What one run found. */
/** What a run and the whole campaign both count. */
interface Counts {
  readonly seed: number
  readonly tasks: number
  readonly completed: number
  /** Typed failures by `error_code`. */
  readonly failures: Record<string, number>
  readonly hung: number
  readonly defects: number
  readonly sha256Equal: number
  readonly sha256Mismatch: number
  readonly duplicates: number
  readonly orphans: number
  /** Unfinished native videos whose creation answer was lost (the client never had their ids); not a target. */
  readonly unannounced: number
  /** Tasks that posted to Facebook and LinkedIn as native videos. */
  readonly nativeTasks: number
}

export interface RunResult extends Counts {
  /** Largest bytes received by one host over file size × tasks. */
  readonly receivedRatio: number
  /** Largest bytes re-sent beyond the platform's discards, by one host, over file size × tasks. */
  readonly resentRatio: number
  readonly faults: ReadonlyArray<FaultRule>
  readonly notes: ReadonlyArray<string>
}

const hostLimits = {
  retry: { baseDelay: "20 millis", maxDelay: "500 millis", maxRetries: 8 },
  requestTimeout: "3 seconds",
  idleTimeout: "3 seconds",
  maxWait: "3 seconds",
  stallTimeout: "20 seconds"
} as const

// The sandbox lists a post as soon as it is handled: the settle time of its config.
const publisherLimits = { requestTimeout: "3 seconds", maxRateLimitWait: "5 seconds", settleTime: "5 seconds" } as const

/** Runs one seeded run: a fresh sandbox, its faults, `tasks` publishes at once. */
export const runOne = async (seed: number, options: { tasks?: number; hangSeconds?: number } = {}) => {
  const tasks = options.tasks ?? 3
  const hangMillis = (options.hangSeconds ?? 120) * 1000
  const next = prng(seed * 7919 + 17)
  // LinkedIn takes videos from 75 KB.
  const size = int(next, 80 * 1024, 1536 * 1024)
  // Which tasks post to Facebook and LinkedIn as native videos (the others post links); in half the runs none.
  const native = Array.from({ length: tasks }, () => next() < 0.5)
  if (next() < 0.5) native.fill(false)
  const attach = Array.from({ length: tasks }, () => next() < 0.5)
  const faults = faultsFor(next, size, native.some((n) => n))
  // Small chunks and parts, so that an upload takes several requests.
  const chunk = int(next, 128, 512) * 1024
  const sandbox = await Sandbox.start({
    seed,
    hashing: "in-process",
    facebook: { videoChunkBytes: chunk },
    linkedin: { videoPartBytes: chunk }
  })
  const dir = mkdtempSync(path.join(tmpdir(), "medusa-chaos-"))
  const notes: Array<string> = []
  try {
    const data = Buffer.alloc(size)
    for (let i = 0; i < size; i++) data[i] = Math.floor(next() * 256)
    const mediaFile = path.join(dir, "chaos.mp4")
    // An MP4 signature so that the media check accepts it.
    Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]).copy(data)
    writeFileSync(mediaFile, data)
    const fileSha = createHash("sha256").update(data).digest("hex")
    const config = await Effect.runPromise(Config.load(await sandbox.writeConfig(dir)))
    const platforms = Layer.mergeAll(
      YouTube.layer({ ...config.youtube!, ...hostLimits }),
      Vimeo.layer({ ...config.vimeo!, ...hostLimits }),
      Facebook.layer({ ...config.facebook!, ...publisherLimits, videoUpload: hostLimits }),
      X.layer({ ...config.x!, ...publisherLimits }),
      LinkedIn.layer({ ...config.linkedin!, ...publisherLimits, videoUpload: hostLimits }),
      Threads.layer({ ...config.threads!, ...publisherLimits }),
      Mastodon.layer({ ...config.mastodon!, ...publisherLimits }),
      Bluesky.layer({ ...config.bluesky!, ...publisherLimits, settleTime: "0 seconds" })
    ).pipe(Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer)))
    const medusa = Medusa.layerMemory({ maxConcurrentTasks: tasks }).pipe(Layer.provide(platforms))

    for (const rule of faults) sandbox.inject(rule)

    const tag = (i: number) => `chaos-${seed}-${i}`
    /** Whether a post's text names task `i` (not a task whose number starts with `i`). */
    const names = (text: string, i: number) => new RegExp(`${tag(i)}(?!\\d)`).test(text)
    const program = Effect.gen(function*() {
      const ids = yield* Effect.forEach(
        Array.from({ length: tasks }, (_, i) => i),
        (i) =>
          Medusa.submit({
            mediaFile,
            platforms: [...everyPlatform],
            metadata: {
              youtube: { title: `Launch ${tag(i)}` },
              vimeo: { title: `Launch ${tag(i)}` },
              facebook: { message: `Watch ${tag(i)}: {youtube_url}`, ...(native[i] ? { video: true } : {}) },
              x: { text: `New ${tag(i)} {youtube_url} {vimeo_url}` },
              linkedin: { text: `Out now ${tag(i)} {vimeo_url}`, ...(native[i] ? { video: true } : {}) },
              threads: { text: `On Threads ${tag(i)} {youtube_url}` },
              mastodon: { status: `Tooted ${tag(i)} {vimeo_url}`, ...(attach[i] ? { attachVideo: true } : {}) },
              bluesky: { text: `Now on Bluesky ${tag(i)} {youtube_url}` }
            }
          }),
        { concurrency: "unbounded" }
      )
      const finals = yield* Effect.forEach(
        ids,
        (id) =>
          Medusa.watch(id).pipe(
            Stream.filter((t) => t.state === "completed" || t.state === "failed" || t.state === "cancelled"),
            Stream.runHead,
            Effect.timeoutTo({
              duration: hangMillis,
              onTimeout: (): Option.Option<Task> => Option.none(),
              onSuccess: (t): Option.Option<Task> => t
            })
          ),
        { concurrency: "unbounded" }
      )
      const store = yield* TaskStore.TaskStore
      // Sessions failed tasks keep for a resume are theirs, not orphans.
      const held = new Set<string>()
      for (const id of ids) {
        for (const host of [...hosts, ...nativeVideo]) {
          const session = yield* store.loadUploadSession(id, host)
          if (Option.isSome(session) && session.value.videoId !== undefined) held.add(session.value.videoId)
        }
      }
      return { finals, held }
    })
    const exit = await Effect.runPromiseExit(
      program.pipe(Effect.scoped, Effect.provide(medusa), Logger.withMinimumLogLevel(LogLevel.Warning))
    )
    if (Exit.isFailure(exit)) {
      notes.push(`run crashed: ${String(exit.cause)}`.slice(0, 500))
      return {
        seed,
        tasks,
        completed: 0,
        failures: {},
        hung: 0,
        defects: 1,
        sha256Equal: 0,
        sha256Mismatch: 0,
        duplicates: 0,
        orphans: 0,
        unannounced: 0,
        nativeTasks: native.filter((n) => n).length,
        receivedRatio: 0,
        resentRatio: 0,
        faults,
        notes
      } satisfies RunResult
    }
    const { finals, held } = exit.value
    const state = sandbox.state()
    let completed = 0
    let hung = 0
    let defects = 0
    let sha256Equal = 0
    let sha256Mismatch = 0
    let duplicates = 0
    const failures: Record<string, number> = {}
    finals.forEach((final, i) => {
      if (Option.isNone(final)) {
        hung += 1
        notes.push(`task ${i} still running after ${hangMillis / 1000} s`)
        return
      }
      const task = final.value
      if (task.state === "completed") {
        completed += 1
        const check = (where: string, stored: (typeof state.uploads)[number] | undefined) => {
          if (stored?.complete && stored.sha256 === fileSha) sha256Equal += 1
          else {
            sha256Mismatch += 1
            notes.push(`task ${i}: ${where} stored ${stored?.sha256 ?? "nothing"}`)
          }
        }
        for (const video of task.videos) {
          check(
            `${video.host} video ${video.videoId}`,
            state.uploads.find((u) => u.platform === video.host && u.videoId === video.videoId)
          )
        }
        // The videos the publishers uploaded themselves: the one their post shows.
        const postOf = (publisher: PlatformId) => state.posts.find((p) => p.platform === publisher && names(p.text, i))
        if (native[i]) {
          const fb = postOf("facebook")
          check(
            `facebook native video ${fb?.id}`,
            fb?.extra?.["video"] === true ?
              state.uploads.find((u) => u.platform === "facebook" && u.videoId === fb.id) :
              undefined
          )
          const li = postOf("linkedin")?.extra?.["video"]
          check(
            `linkedin native video ${String(li)}`,
            typeof li === "string"
              ? state.uploads.find((u) => u.platform === "linkedin" && u.videoId === li)
              : undefined
          )
        }
        if (attach[i]) {
          const ids = postOf("mastodon")?.extra?.["mediaIds"]
          const id = Array.isArray(ids) ? ids[0] : undefined
          check(`mastodon attachment ${id}`, state.uploads.find((u) => u.platform === "mastodon" && u.id === id))
        }
      } else {
        for (const failure of task.failures) {
          failures[failure.code] = (failures[failure.code] ?? 0) + 1
          if (failure.code === "internal_error") {
            defects += 1
            notes.push(`task ${i}: ${failure.message}`)
          }
        }
      }
      // One finished video per host and one post per publisher, whatever the outcome.
      for (const host of hosts) {
        const n = state.uploads.filter((u) =>
          u.platform === host && u.complete && JSON.stringify(u.metadata ?? "").includes(`${tag(i)}"`)
        ).length
        if (n > 1) {
          duplicates += n - 1
          notes.push(`task ${i}: ${n} finished videos on ${host}`)
        }
      }
      for (const publisher of publishers) {
        const n = state.posts.filter((p) => p.platform === publisher && names(p.text, i)).length
        if (n > 1) {
          duplicates += n - 1
          notes.push(`task ${i}: ${n} posts on ${publisher}`)
        }
      }
    })
    // A second native video for one task: more finished videos on a platform than tasks posting one.
    const nativeTasks = native.filter((n) => n).length
    for (const publisher of nativeVideo) {
      const finished = state.uploads.filter((u) => u.platform === publisher && u.complete && !u.discarded).length
      if (finished > nativeTasks) {
        duplicates += finished - nativeTasks
        notes.push(`${finished} finished native videos on ${publisher} for ${nativeTasks} tasks`)
      }
    }
    const orphanIds = Object.values(state.orphans).flat().filter((id) => !held.has(id))
    if (orphanIds.length > 0) notes.push(`orphans: ${orphanIds.join(", ")}`)
    if (process.env["CHAOS_DEBUG"]) {
      notes.push(
        ...finals.flatMap((f, i) =>
          Option.isSome(f) ? f.value.failures.map((x) => `task ${i} failed: ${x.code} ${x.message.slice(0, 300)}`) : []
        ),
        ...state.requestLog.filter((e) => receivers.includes(e.platform as PlatformId)).map((e) =>
          `${e.at % 100000} ${e.platform} ${e.method} ${e.path.slice(0, 60)} ${e.status} ${
            e.headers["content-length"] ?? ""
          } ${e.headers["upload-offset"] ?? e.headers["content-range"] ?? ""}`
        ),
        JSON.stringify(state.platforms.vimeo),
        `held: ${[...held].join(",")}`
      )
    }
    let receivedRatio = 0
    let resentRatio = 0
    for (const host of receivers) {
      const counters = state.counters[host]
      const holds = state.uploads.filter((u) => u.platform === host && !u.discarded)
        .reduce((sum, u) => sum + u.bytes, 0)
      const denominator = size * tasks
      receivedRatio = Math.max(receivedRatio, counters.bodyBytes / denominator)
      resentRatio = Math.max(resentRatio, (counters.bodyBytes - counters.discardedBytes - holds) / denominator)
    }
    return {
      seed,
      tasks,
      completed,
      failures,
      hung,
      defects,
      sha256Equal,
      sha256Mismatch,
      duplicates,
      orphans: orphanIds.length,
      unannounced: Object.values(state.unannounced).flat().length,
      nativeTasks,
      receivedRatio,
      resentRatio,
      faults,
      notes
    } satisfies RunResult
  } finally {
    await sandbox.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

// =============================================================================
// Campaign
// =============================================================================

/** The campaign's figures. */
export interface Summary extends Counts {
  readonly runs: number
  readonly maxReceivedRatio: number
  readonly maxResentRatio: number
  readonly faultKinds: Record<string, number>
  /** Rules armed per `platform/route`. */
  readonly faultRoutes: Record<string, number>
  readonly failing: ReadonlyArray<RunResult>
  readonly seconds: number
}

/** Targets: 0 hung, defects, mismatches, duplicates and orphans; re-sent beyond discarded ≤ 0.05 × the file. */
export const missesTarget = (r: RunResult): boolean =>
  r.hung > 0 || r.defects > 0 || r.sha256Mismatch > 0 || r.duplicates > 0 || r.orphans > 0 || r.resentRatio > 0.05

export const campaign = async (options: {
  readonly seed: number
  readonly runs: number
  readonly tasks?: number
  readonly hangSeconds?: number
  readonly onRun?: (result: RunResult, index: number) => void
}): Promise<Summary> => {
  const started = Date.now()
  const results: Array<RunResult> = []
  for (let i = 0; i < options.runs; i++) {
    const result = await runOne(options.seed + i, options)
    results.push(result)
    options.onRun?.(result, i)
  }
  const sum = (f: (r: RunResult) => number) => results.reduce((s, r) => s + f(r), 0)
  const failures: Record<string, number> = {}
  const kinds: Record<string, number> = Object.fromEntries(faultKinds.map((k) => [k, 0]))
  const routesArmed: Record<string, number> = {}
  for (const r of results) {
    for (const [code, n] of Object.entries(r.failures)) failures[code] = (failures[code] ?? 0) + n
    for (const rule of r.faults) {
      kinds[rule.action.kind] = (kinds[rule.action.kind] ?? 0) + 1
      const route = `${rule.platform}/${rule.route}`
      routesArmed[route] = (routesArmed[route] ?? 0) + 1
    }
  }
  return {
    seed: options.seed,
    runs: results.length,
    tasks: sum((r) => r.tasks),
    completed: sum((r) => r.completed),
    failures,
    hung: sum((r) => r.hung),
    defects: sum((r) => r.defects),
    sha256Equal: sum((r) => r.sha256Equal),
    sha256Mismatch: sum((r) => r.sha256Mismatch),
    duplicates: sum((r) => r.duplicates),
    orphans: sum((r) => r.orphans),
    unannounced: sum((r) => r.unannounced),
    nativeTasks: sum((r) => r.nativeTasks),
    faultRoutes: routesArmed,
    maxReceivedRatio: Math.max(0, ...results.map((r) => r.receivedRatio)),
    maxResentRatio: Math.max(0, ...results.map((r) => r.resentRatio)),
    faultKinds: kinds,
    failing: results.filter(missesTarget),
    seconds: (Date.now() - started) / 1000
  }
}

const format = (record: Record<string, number>): string =>
  Object.entries(record).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}:${v}`).join(",") || "-"

/** The one summary line. */
export const summaryLine = (s: Summary): string =>
  `chaos seed=${s.seed} runs=${s.runs} tasks=${s.tasks} completed=${s.completed} typed_failures={${
    format(s.failures)
  }} native_video_tasks=${s.nativeTasks} hung=${s.hung} defects=${s.defects} sha256_equal=${s.sha256Equal}/${
    s.sha256Equal + s.sha256Mismatch
  } duplicates=${s.duplicates} orphans=${s.orphans} unannounced=${s.unannounced} max_received_ratio=${
    s.maxReceivedRatio.toFixed(2)
  } max_resent_beyond_discarded_ratio=${s.maxResentRatio.toFixed(3)} faults={${format(s.faultKinds)}} time=${
    s.seconds.toFixed(0)
  }s`

const main = async () => {
  const args = process.argv.slice(2)
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`)
    return i === -1 ? undefined : args[i + 1]
  }
  const seed = Number(arg("seed") ?? 1)
  const runs = Number(arg("runs") ?? 100)
  const tasks = Number(arg("tasks") ?? 3)
  const hangSeconds = Number(arg("hang-seconds") ?? 120)
  const verbose = args.includes("--verbose")
  const summary = await campaign({
    seed,
    runs,
    tasks,
    hangSeconds,
    onRun: (r, i) => {
      if (verbose || missesTarget(r)) {
        process.stderr.write(
          `run ${i + 1}/${runs} seed=${r.seed} completed=${r.completed}/${r.tasks} failures=${format(r.failures)} ` +
            `received=${r.receivedRatio.toFixed(2)} resent=${r.resentRatio.toFixed(3)} faults=${
              r.faults.map((f) => `${f.platform}/${f.route}:${f.action.kind}`).join(" ")
            }${r.notes.length > 0 ? `\n  ${r.notes.join("\n  ")}` : ""}\n`
        )
      }
    }
  })
  process.stdout.write(summaryLine(summary) + "\n")
  for (const r of summary.failing) {
    process.stdout.write(`replay: npm run bench:chaos -- --seed ${r.seed} --runs 1 --tasks ${r.tasks} --verbose\n`)
  }
  process.exit(summary.failing.length > 0 ? 1 : 0)
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  void main()
}
