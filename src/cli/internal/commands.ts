/**
 * What each command does. Loaded on demand by `Cli.ts`, and itself loading
 * the engine and adapters on demand (`./live.js`), so that `--help` and bad
 * arguments never pay for them.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as path from "node:path"
import { displayName, type Target, targetName } from "../../PlatformId.js"
import type { PublishRequestInput } from "../../PublishRequest.js"
import type { Task } from "../../Task.js"
import * as TaskId from "../../TaskId.js"
import * as TaskStatus from "../../TaskStatus.js"
import type {
  AuthCheckOptions,
  AuthYouTubeOptions,
  BatchOptions as BatchCommandOptions,
  CancelOptions,
  CommonOptions,
  ConfigValidateOptions,
  PublishOptions,
  RescheduleOptions,
  ResumeOptions,
  RetractCommandOptions,
  SandboxCommandOptions,
  ServeOptions,
  StatusOptions,
  TasksOptions,
  WebhooksEnableOptions,
  WebhooksOptions
} from "../Cli.js"
import type { Engine, OpenOptions, Reader } from "./engine.js"
import { badInput, CliExit, ExitCode } from "./exit.js"
import { type Output, printSummary, stdout } from "./output.js"

// Loaded by the commands that use them: the commands that only read tasks load neither streams nor requests.
const loadFollow = Effect.promise(() => import("./follow.js"))
const loadRequest = Effect.promise(() => import("./request.js"))

// =============================================================================
// Environment: store, config, embedded sandbox
// =============================================================================

/** Default SQLite file, relative to the working directory. */
const defaultStore = path.join(".medusa", "medusa.db")

/**
 * The store a command uses: `--store`, else the default file. With an embedded sandbox, which lives only as long as
 * the command, its tasks live in memory too (they could not be resumed, and they are not the user's tasks), unless
 * the task is detached: other processes follow it through the file.
 */
const storeOf = (common: CommonOptions & { readonly detach?: boolean }): string =>
  Option.getOrElse(common.store, () => common.sandbox && common.detach !== true ? "memory" : defaultStore)

/** Library errors the user can fix (bad request, config, unknown id) exit 2 with their message. */
const userErrorTags = new Set([
  "ConfigError",
  "InvalidRequest",
  "InvalidBatch",
  "TaskNotFound",
  "InvalidTransition",
  "TaskNotReady",
  "StoreError",
  "ParseError"
])

/** Maps any failure of the library to the CLI's exit codes. */
export const toCliExit = (error: unknown): CliExit => {
  if (error instanceof CliExit) return error
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : undefined
  const message = error instanceof Error ? error.message : String(error)
  if (tag !== undefined && userErrorTags.has(tag)) return badInput(message)
  return new CliExit({ code: ExitCode.taskFailed, text: message })
}

const mapErrors = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, CliExit, R> =>
  Effect.mapError(self, toCliExit)

/**
 * Starts an embedded sandbox for the life of the scope and returns the path of
 * the config it wrote (in a fresh temporary directory).
 */
const embeddedSandbox: Effect.Effect<string, never, Scope.Scope> = Effect.gen(function*() {
  const [Sandbox, { tmpdir }] = yield* Effect.promise(() =>
    Promise.all([import("../../sandbox/Sandbox.js"), import("node:os")])
  )
  const sandbox = yield* Sandbox.make()
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(tmpdir(), "medusa-sandbox-"))),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )
  return yield* Effect.promise(() => sandbox.writeConfig(dir))
})

const defaultConfig = "medusa.config.json"

const configFileOf = (common: CommonOptions): Effect.Effect<string, CliExit, Scope.Scope> =>
  common.sandbox ? embeddedSandbox : Effect.succeed(path.resolve(Option.getOrElse(common.config, () => defaultConfig)))

/** Where `live.open` / `live.openReader` find the config and the store. */
const openOptions = (common: CommonOptions, readOnly: boolean): Effect.Effect<OpenOptions, CliExit, Scope.Scope> =>
  Effect.map(configFileOf(common), (configFile) => ({
    configFile,
    // Reading tasks needs no platform: without a config file, an empty one will do.
    configOptional: readOnly && !common.sandbox && Option.isNone(common.config),
    store: storeOf(common),
    storeGiven: Option.isSome(common.store),
    readOnly
  }))

/** Opens the engine on the config (or an embedded sandbox) and the store. */
const openEngine = (
  common: CommonOptions,
  readOnly: boolean
): Effect.Effect<Engine, CliExit, Scope.Scope> =>
  Effect.gen(function*() {
    const options = yield* openOptions(common, readOnly)
    if (!readOnly && options.store !== "memory") {
      fs.mkdirSync(path.dirname(path.resolve(options.store)), { recursive: true })
    }
    const live = yield* Effect.promise(() => import("./live.js"))
    return yield* mapErrors(live.open(options))
  })

/** Opens the store alone, read-only (status, tasks). */
const openReader = (common: CommonOptions): Effect.Effect<Reader, CliExit, Scope.Scope> =>
  Effect.gen(function*() {
    const options = yield* openOptions(common, true)
    const live = yield* Effect.promise(() => import("./live.js"))
    return yield* mapErrors(live.openReader(options))
  })

const parseTaskId = (input: string): Effect.Effect<TaskId.TaskId, CliExit> =>
  TaskId.is(input) ? Effect.succeed(input) : Effect.fail(
    badInput(
      `<task-id>: ${JSON.stringify(input)} is not a task id (medusa_task_<uuid>); list them with \`medusa tasks\``
    )
  )

const exitForFinal = (task: Task | undefined): Effect.Effect<void, CliExit> =>
  task === undefined || task.state === "completed" ?
    Effect.void :
    Effect.fail(new CliExit({ code: task.state === "failed" || task.state === "cancelled" ? ExitCode.taskFailed : 0 }))

// =============================================================================
// publish
// =============================================================================

/** Set in a detached worker: the file descriptor to report the task (or batch) id on. */
const detachFdVariable = "MEDUSA_DETACH_FD"

const isBatchId = (id: string): boolean => /^medusa_batch_[A-Za-z0-9_-]+$/.test(id)

/**
 * `--detach`: re-runs the same command without `--detach` as a background
 * process whose output goes to a log file beside the store; it reports the
 * task id (`publish`) or the batch id (`batch`) on an extra pipe as soon as
 * it is submitted, then runs the tasks.
 */
const detach = (
  options: CommonOptions & { readonly detach: boolean },
  out: Output,
  what: "task" | "batch" = "task"
): Effect.Effect<void, CliExit> =>
  Effect.flatMap(
    Effect.promise(() => import("node:child_process")),
    ({ spawn }) =>
      Effect.async<void, CliExit>((resume) => {
        const logDir = path.join(path.dirname(path.resolve(storeOf(options))), "logs")
        fs.mkdirSync(logDir, { recursive: true })
        const logFile = path.join(
          logDir,
          `detached-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`
        )
        const log = fs.openSync(logFile, "a", 0o600)
        const args = process.argv.slice(2).filter((a) => a !== "--detach")
        const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
          detached: true,
          stdio: ["ignore", log, log, "pipe"],
          env: { ...process.env, [detachFdVariable]: "3" }
        })
        fs.closeSync(log)
        let received = ""
        const channel = child.stdio[3] as NodeJS.ReadableStream
        channel.setEncoding("utf8")
        channel.on("data", (chunk: string) => {
          received += chunk
        })
        channel.on("end", () => {
          const id = received.trim()
          if (what === "task" ? TaskId.is(id) : isBatchId(id)) {
            child.unref()
            ;(channel as unknown as { destroy: () => void }).destroy()
            out.write(
              what === "batch" ?
                out.json ?
                  JSON.stringify({ batch_id: id, log: logFile }) + "\n" :
                  `${id}\nDetached: the batch's tasks run in the background (log: ${logFile}).\nFollow them with: medusa status --batch ${id}\n` :
                out.json ?
                JSON.stringify({ status: "pending", task_id: id, log: logFile }) + "\n" :
                `${id}\nDetached: the task runs in the background (log: ${logFile}).\nFollow it with: medusa status ${id} --watch\n`
            )
            resume(Effect.void)
            return
          }
          // The worker ended before submitting (bad request or config): show why, with its exit code.
          child.on("exit", (code) => {
            const text = fs.readFileSync(logFile, "utf8").trim()
            resume(Effect.fail(new CliExit({ code: code ?? ExitCode.taskFailed, text })))
          })
        })
      })
  )

/** In a detached worker: report the id to the parent and close the channel. */
const reportDetachedId = (id: string): void => {
  const fd = process.env[detachFdVariable]
  if (fd === undefined) return
  try {
    fs.writeSync(Number(fd), id + "\n")
    fs.closeSync(Number(fd))
  } catch {
    // The parent is gone; the task runs anyway.
  }
}

/**
 * `--at <time>` read in the engine's time zone: the request with its
 * `runAt`, or bad input naming the flag.
 */
const withAt = (
  flag: string,
  at: Option.Option<string>,
  request: PublishRequestInput,
  timeZone: string
): Effect.Effect<PublishRequestInput, CliExit> =>
  Effect.gen(function*() {
    if (Option.isNone(at)) return request
    const Time = yield* Effect.promise(() => import("../../internal/planning/time.js"))
    const parsed = Time.parseTime(at.value, timeZone, Date.now())
    if ("error" in parsed) return yield* Effect.fail(badInput(`${flag}: ${parsed.error}`))
    return { ...request, runAt: new Date(parsed.at).toISOString() }
  })

/** `Scheduled for <UTC> (<local>)`, once a scheduled task is stored. */
const scheduledLine = async (runAt: number, timeZone: string): Promise<string> => {
  const Time = await import("../../internal/planning/time.js")
  return `Scheduled for ${Time.describeTime(runAt, timeZone)}`
}

const formatBytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`

/**
 * `--dry-run`: every check of a submit, with the in-memory store (no lock,
 * no file), and with `--online` the selected platforms' credentials.
 */
const dryRun = (
  options: PublishOptions,
  request: PublishRequestInput,
  out: Output
): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const engine = yield* openEngine({ ...options, store: Option.some("memory") }, false)
    const scheduled = yield* withAt("--at", options.at, request, engine.timeZone)
    const validation = yield* mapErrors(engine.validate(scheduled))
    const Planning = yield* Effect.promise(() => import("../../Planning.js"))
    const live = yield* Effect.promise(() => import("./live.js"))
    const credentials = options.online ?
      yield* mapErrors(live.checkCredentials(engine.configFile, validation.request.platforms)) :
      undefined
    if (out.json) {
      out.write(
        JSON.stringify({ ...Planning.validationToJSON(validation), ...(credentials ? { credentials } : {}) }) + "\n"
      )
    } else {
      out.write("Dry run: nothing was stored or sent.\n")
      out.write(`  File        ${validation.media.path} (${formatBytes(validation.media.size)})\n`)
      out.write(`  Platforms   ${validation.request.platforms.map((p) => targetName(p)).join(", ")}\n`)
      out.write(`  Policy      ${validation.request.policy}\n`)
      out.write(
        `  Starts      ${
          validation.runAt === undefined ?
            "at once" :
            yield* Effect.promise(() =>
              scheduledLine(validation.runAt!, engine.timeZone).then((l) => l.replace(/^Scheduled for /, ""))
            )
        }\n`
      )
      for (const q of validation.quota) {
        out.write(
          `  Quota       ${targetName(q.platform)} ${q.bucket}: ${q.used} used + ${q.needs} of ${q.limit}, resets ${
            new Date(q.resetsAt).toISOString()
          }${q.fits ? "" : " (does not fit: the task waits for the reset)"}\n`
        )
      }
      for (const c of credentials ?? []) {
        out.write(`  Credentials ${targetName(c.platform).padEnd(9)} ${c.ok ? "ok     " : "FAILED "} ${c.summary}\n`)
        for (const d of c.details) out.write(`                        ${d}\n`)
      }
    }
    const unusable = (credentials ?? []).filter((c) => !c.ok)
    if (unusable.length > 0) {
      return yield* Effect.fail(
        badInput(`Some credentials are not usable: ${unusable.map((c) => targetName(c.platform)).join(", ")}`)
      )
    }
    if (!out.json) out.write("The publish would be accepted.\n")
  }))

/** @internal */
export const publish = (options: PublishOptions): Effect.Effect<void, CliExit> =>
  Effect.gen(function*() {
    const built = (yield* loadRequest).buildRequest(options)
    if ("error" in built) return yield* Effect.fail(badInput(built.error))
    const out = stdout(options.json)
    if (options.online && !options.dryRun) {
      return yield* Effect.fail(badInput("--online checks credentials in a dry run: use it with --dry-run"))
    }
    if (options.dryRun) return yield* dryRun(options, built.request, out)
    if (options.detach) return yield* detach(options, out)
    yield* Effect.scoped(Effect.gen(function*() {
      const engine = yield* openEngine(options, false)
      const request = yield* withAt("--at", options.at, built.request, engine.timeZone)
      const id = yield* mapErrors(engine.submit(request))
      reportDetachedId(id)
      if (!out.json && out.isTTY) out.write(`Task ${id}\n\n`)
      else if (!out.json) out.write(`task ${id} submitted\n`)
      // A time given with --at, or the quota plan's (a task held until a platform's reset).
      const runAt = request.runAt !== undefined ? Date.parse(request.runAt) : (yield* mapErrors(engine.get(id))).runAt
      if (runAt !== undefined) {
        const line = yield* Effect.promise(() => scheduledLine(runAt, engine.timeZone))
        if (engine.durable) {
          // The task waits in the store, not in this process: any medusa process that runs
          // tasks on the store then (`medusa resume`, a later publish) starts it.
          if (out.json) out.write(JSON.stringify(TaskStatus.toJSON(yield* mapErrors(engine.get(id)))) + "\n")
          else {
            out.write(
              `${line}.\nIt waits pending in ${engine.storeLabel}; a medusa process running tasks on that store then ` +
                `starts it (leave \`medusa resume\` running, or run it after that time).\n` +
                `Move it with: medusa reschedule ${id} <time>\n`
            )
          }
          return
        }
        if (!out.json) out.write(`${line}; it waits pending in this process's memory: keep it running.\n`)
      }
      // Ctrl+C: a durable task is left to `medusa resume` (unless the platforms are an
      // embedded sandbox that dies with this process); otherwise the task is cancelled.
      const detachOnInterrupt = engine.durable && !options.sandbox
      const { follow } = yield* loadFollow
      const last = yield* follow(engine.watch(id), out).pipe(
        mapErrors,
        Effect.onInterrupt(() =>
          detachOnInterrupt ?
            Effect.sync(() =>
              process.stderr.write(
                `\nInterrupted. Task ${id} is kept in ${engine.storeLabel}; uploads resume from what the servers hold.\nResume it with: medusa resume ${id}\n`
              )
            ) :
            engine.cancel(id).pipe(
              Effect.ignore,
              Effect.zipRight(Effect.sync(() => process.stderr.write(`\nInterrupted: task ${id} cancelled.\n`)))
            )
        )
      )
      if (last) printSummary(last, out)
      yield* exitForFinal(last)
    }))
  })

// =============================================================================
// status, tasks, cancel, resume
// =============================================================================

const printStatus = (task: Task, states: ReadonlyArray<TaskStatus.HistoryEntry>, out: Output): void => {
  const json = TaskStatus.toJSONWithHistory(task, states)
  if (out.json) {
    out.write(JSON.stringify(json) + "\n")
    return
  }
  const history = json.history ?? []
  out.write(`Task     ${task.id}\n`)
  out.write(`State    ${task.state}${task.message ? ` (${task.message})` : ""}\n`)
  out.write(`Created  ${new Date(task.createdAt).toISOString()}\n`)
  out.write(`Updated  ${new Date(task.updatedAt).toISOString()}\n`)
  out.write(`File     ${task.media.path}\n`)
  if (history.length > 0) {
    out.write(`History\n`)
    for (const h of history) {
      out.write(`  ${h.at}  ${(h.event ?? h.state).padEnd(11)}${h.message ? `  ${h.message}` : ""}\n`)
    }
  }
  printSummary(task, out)
}

/** @internal */
export const status = (options: StatusOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    if (Option.isSome(options.batch)) {
      if (Option.isSome(options.taskId)) {
        return yield* Effect.fail(badInput("Give a <task-id> or --batch <batch-id>, not both"))
      }
      return yield* batchStatus(options.batch.value, options)
    }
    if (Option.isNone(options.taskId)) {
      return yield* Effect.fail(badInput("Missing <task-id> (or --batch <batch-id>); list tasks with `medusa tasks`"))
    }
    const id = yield* parseTaskId(options.taskId.value)
    const store = yield* openReader(options)
    const out = stdout(options.json)
    if (!options.watch) {
      const task = yield* mapErrors(store.get(id))
      printStatus(task, yield* mapErrors(store.history(id)), out)
      return yield* exitForFinal(task.state === "pending" || task.state === "in_progress" ? undefined : task)
    }
    const { follow, poll } = yield* loadFollow
    const last = yield* mapErrors(follow(poll(store.get(id), 200), out))
    if (last) printSummary(last, out)
    yield* exitForFinal(last)
  }))

const pad = (s: string, n: number) => s.padEnd(n)

/** @internal */
export const tasks = (options: TasksOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    if (options.limit <= 0) {
      return yield* Effect.fail(badInput(`--limit must be a positive number, got ${options.limit}`))
    }
    if (options.scheduled) return yield* scheduledTasks(yield* openEngine(options, true), options)
    const store = yield* openReader(options)
    const list = yield* mapErrors(store.list({ status: Option.getOrUndefined(options.status), limit: options.limit }))
    const out = stdout(options.json)
    if (out.json) {
      for (const task of list) out.write(JSON.stringify(TaskStatus.toJSON(task)) + "\n")
      return
    }
    if (list.length === 0) {
      out.write(
        `No tasks${Option.isSome(options.status) ? ` in state ${options.status.value}` : ""} in ${store.storeLabel}.\n`
      )
      return
    }
    out.write(`${pad("TASK", 48)}  ${pad("STATE", 11)}  ${pad("CREATED", 20)}  PLATFORMS\n`)
    for (const task of list) {
      const created = new Date(task.createdAt).toISOString().slice(0, 19).replace("T", " ")
      const platforms = task.request.platforms.map((p) => targetName(p)).join(",")
      const failure = task.failures[0]
      out.write(
        `${pad(task.id, 48)}  ${pad(task.state, 11)}  ${pad(created, 20)}  ${platforms}${
          failure ? `  ${failure.message.replace(/\s*\n\s*/g, " ")}` : ""
        }\n`
      )
    }
  }))

const titleOf = (task: Task): string =>
  task.request.metadata.youtube?.title ?? task.request.metadata.vimeo?.title ?? task.media.name

const whenOf = (task: Task): string =>
  task.runAt !== undefined && task.state === "pending" ?
    new Date(task.runAt).toISOString().slice(0, 16).replace("T", " ") :
    ""

/** One line per task of a batch, in submission order, then the count per state. */
const printBatchTable = (tasks: ReadonlyArray<Task>, out: Output): void => {
  out.write(
    `${pad("#", 3)}  ${pad("TASK", 48)}  ${pad("STATE", 11)}  ${pad("STARTS (UTC)", 16)}  ${pad("TITLE", 30)}  NOTE\n`
  )
  tasks.forEach((task, i) => {
    const note = task.failures[0]?.message.replace(/\s*\n\s*/g, " ") ?? task.message ?? ""
    out.write(
      `${pad(String(i + 1), 3)}  ${pad(task.id, 48)}  ${pad(task.state, 11)}  ${pad(whenOf(task), 16)}  ${
        pad(titleOf(task).slice(0, 30), 30)
      }  ${note}\n`
    )
  })
  const counts = new Map<string, number>()
  for (const task of tasks) counts.set(task.state, (counts.get(task.state) ?? 0) + 1)
  out.write(
    `\n${tasks.length} task${tasks.length === 1 ? "" : "s"}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(", ")}\n`
  )
}

/** `medusa status --batch <id>`: the batch's summary table. Exits 1 if a task failed. */
const batchStatus = (batchId: string, options: StatusOptions): Effect.Effect<void, CliExit, Scope.Scope> =>
  Effect.gen(function*() {
    const engine = yield* openEngine(options, true)
    const tasks = [...yield* mapErrors(engine.list({ batchId }))].sort((a, b) => a.createdAt - b.createdAt)
    const out = stdout(options.json)
    if (tasks.length === 0) {
      return yield* Effect.fail(
        badInput(`No task of batch ${JSON.stringify(batchId)} in ${engine.storeLabel}; \`medusa batch\` prints the id`)
      )
    }
    if (out.json) { for (const task of tasks) out.write(JSON.stringify(TaskStatus.toJSON(task)) + "\n") }
    else {
      out.write(`Batch ${batchId}\n\n`)
      printBatchTable(tasks, out)
    }
    if (tasks.some((t) => t.state === "failed" || t.state === "cancelled")) {
      return yield* Effect.fail(new CliExit({ code: ExitCode.taskFailed }))
    }
  })

/** @internal */
export const batch = (options: BatchCommandOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const Manifest = yield* Effect.promise(() => import("../../internal/planning/manifest.js"))
    const file = path.resolve(options.manifest)
    let text: string
    try {
      text = fs.readFileSync(file, "utf8")
    } catch (error) {
      return yield* Effect.fail(
        badInput(`<manifest> ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
      )
    }
    const parsed = Manifest.parseManifest(text, file, path.dirname(file))
    if ("error" in parsed) return yield* Effect.fail(badInput(parsed.error))
    if (options.detach && !options.dryRun) return yield* detach(options, stdout(options.json), "batch")
    const engine = yield* openEngine(
      options.dryRun ? { ...options, store: Option.some("memory") } : options,
      false
    )
    const out = stdout(options.json)
    const submitted = yield* mapErrors(
      engine.publishBatch(parsed.manifest, { file, lines: parsed.lines, dryRun: options.dryRun })
    )
    if (!options.dryRun) reportDetachedId(submitted.batchId)
    if (out.json) {
      out.write(
        JSON.stringify({
          batch_id: options.dryRun ? undefined : submitted.batchId,
          dry_run: options.dryRun,
          tasks: submitted.tasks.map(TaskStatus.toJSON)
        }) + "\n"
      )
    } else {
      out.write(
        options.dryRun ?
          `Dry run: ${submitted.tasks.length} videos would be published; nothing was stored or sent.\n\n` :
          `Batch ${submitted.batchId}: ${submitted.tasks.length} tasks submitted.\n\n`
      )
      printBatchTable(submitted.tasks, out)
    }
    if (options.dryRun) return
    // Follow the tasks that start now; scheduled ones wait in the store (or in this process's memory).
    const now = Date.now()
    const startingNow = submitted.tasks.filter((t) => t.runAt === undefined || t.runAt <= now)
    if (engine.durable && startingNow.length < submitted.tasks.length && !out.json) {
      out.write(
        `\n${submitted.tasks.length - startingNow.length} scheduled task(s) wait in ${engine.storeLabel}; ` +
          `a medusa process running tasks on that store then starts them (\`medusa resume\`).\n`
      )
    }
    const followed = engine.durable ? startingNow : submitted.tasks
    if (followed.length === 0) return
    const Stream = yield* Effect.promise(() => import("effect/Stream"))
    const finals = yield* Effect.forEach(
      followed,
      (task) =>
        mapErrors(Stream.runLast(engine.watch(task.id))).pipe(
          Effect.tap((last) =>
            Effect.sync(() => {
              if (!out.json && Option.isSome(last)) {
                out.write(
                  `${last.value.id} ${last.value.state}${
                    last.value.failures[0] ? `: ${last.value.failures[0].message}` : ""
                  }\n`
                )
              }
            })
          )
        ),
      { concurrency: "unbounded" }
    )
    if (finals.some((f) => Option.isSome(f) && f.value.state !== "completed")) {
      return yield* Effect.fail(new CliExit({ code: ExitCode.taskFailed }))
    }
  }))

/** `medusa tasks --scheduled`: pending tasks with a start time, soonest first. */
const scheduledTasks = (engine: Engine, options: TasksOptions): Effect.Effect<void, CliExit> =>
  Effect.gen(function*() {
    const pending = yield* mapErrors(engine.list({ status: "pending" }))
    const list = pending.filter((t) => t.runAt !== undefined).sort((a, b) => a.runAt! - b.runAt!).slice(
      0,
      options.limit
    )
    const out = stdout(options.json)
    if (out.json) {
      for (const task of list) out.write(JSON.stringify(TaskStatus.toJSON(task)) + "\n")
      return
    }
    if (list.length === 0) {
      out.write(`No scheduled tasks in ${engine.storeLabel}.\n`)
      return
    }
    const Time = yield* Effect.promise(() => import("../../internal/planning/time.js"))
    out.write(`${pad("TASK", 48)}  ${pad("STARTS (UTC)", 20)}  ${pad(`LOCAL (${engine.timeZone})`, 26)}  PLATFORMS\n`)
    for (const task of list) {
      const utc = new Date(task.runAt!).toISOString().slice(0, 16).replace("T", " ")
      const local = Time.localTime(task.runAt!, engine.timeZone)
      const platforms = task.request.platforms.map((p) => targetName(p)).join(",")
      out.write(
        `${pad(task.id, 48)}  ${pad(utc, 20)}  ${pad(local, 26)}  ${platforms}${
          task.message ? `  ${task.message}` : ""
        }${task.batchId ? `  batch ${task.batchId}` : ""}\n`
      )
    }
  })

/** @internal */
export const retract = (options: RetractCommandOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const id = yield* parseTaskId(options.taskId)
    let platforms: ReadonlyArray<Target> | undefined
    if (Option.isSome(options.platforms)) {
      const parsed = (yield* loadRequest).parsePlatforms(options.platforms.value)
      if ("error" in parsed) return yield* Effect.fail(badInput(parsed.error.replace(/^--to/, "--platforms")))
      platforms = parsed.platforms
    }
    const engine = yield* openEngine(options, false)
    const task = yield* mapErrors(engine.retract(id, { platforms, videos: options.videos }))
    const out = stdout(options.json)
    if (out.json) {
      out.write(JSON.stringify(TaskStatus.toJSON(task)) + "\n")
      return
    }
    const taken = task.retracted ?? []
    out.write(`Task ${id}: ${taken.length} item${taken.length === 1 ? "" : "s"} taken back.\n`)
    for (const r of taken) {
      out.write(`  ${targetName(r.platform).padEnd(9)} ${r.kind} ${r.id}  ${new Date(r.at).toISOString()}\n`)
    }
  }))

/** @internal */
export const reschedule = (options: RescheduleOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const id = yield* parseTaskId(options.taskId)
    const engine = yield* openEngine(options, false)
    const Time = yield* Effect.promise(() => import("../../internal/planning/time.js"))
    const parsed = Time.parseTime(options.time, engine.timeZone, Date.now())
    if ("error" in parsed) return yield* Effect.fail(badInput(`<time>: ${parsed.error}`))
    const task = yield* mapErrors(engine.reschedule(id, new Date(parsed.at).toISOString()))
    const out = stdout(options.json)
    if (out.json) out.write(JSON.stringify(TaskStatus.toJSON(task)) + "\n")
    else out.write(`Task ${id} rescheduled for ${Time.describeTime(parsed.at, engine.timeZone)}.\n`)
  }))

/** @internal */
export const cancel = (options: CancelOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const id = yield* parseTaskId(options.taskId)
    const engine = yield* openEngine(options, true)
    yield* mapErrors(engine.cancel(id))
    process.stdout.write(`Task ${id} cancelled.\n`)
  }))

/** @internal */
export const resume = (options: ResumeOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const only = Option.isSome(options.taskId) ? Option.some(yield* parseTaskId(options.taskId.value)) : Option.none()
    const engine = yield* openEngine(options, false)
    const ids = yield* mapErrors(engine.resume(only))
    const out = stdout(options.json)
    if (ids.length === 0) {
      if (!out.json) out.write(`Nothing to resume in ${engine.storeLabel}.\n`)
      return
    }
    const { follow } = yield* loadFollow
    let failed = false
    for (const id of ids) {
      if (!out.json) out.write(`Resuming task ${id}\n\n`)
      const last = yield* mapErrors(follow(engine.watch(id), out))
      if (last) printSummary(last, out)
      if (last && last.state !== "completed") failed = true
    }
    if (failed) return yield* Effect.fail(new CliExit({ code: ExitCode.taskFailed }))
  }))

// =============================================================================
// auth, config, sandbox
// =============================================================================

/** @internal */
export const authYouTube = (options: AuthYouTubeOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const configFile = yield* configFileOf(options)
    const live = yield* Effect.promise(() => import("./live.js"))
    yield* mapErrors(live.loginYouTube({ configFile, openBrowser: !options.noBrowser && !options.sandbox }))
  }))

/** @internal */
export const authCheck = (options: AuthCheckOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const configFile = yield* configFileOf(options)
    const live = yield* Effect.promise(() => import("./live.js"))
    const results = yield* mapErrors(live.checkCredentials(configFile))
    const out = stdout(options.json)
    if (out.json) out.write(JSON.stringify(results) + "\n")
    else {
      for (const r of results) {
        out.write(`${targetName(r.platform).padEnd(9)} ${r.ok ? "ok     " : "FAILED "} ${r.summary}\n`)
        for (const d of r.details) out.write(`          ${d}\n`)
      }
    }
    if (results.some((r) => !r.ok)) {
      return yield* Effect.fail(
        badInput(
          `Some credentials are not usable: ${
            results.filter((r) => !r.ok).map((r) => targetName(r.platform)).join(", ")
          }`
        )
      )
    }
  }))

/** @internal */
export const configValidate = (options: ConfigValidateOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const configFile = yield* configFileOf(options)
    const live = yield* Effect.promise(() => import("./live.js"))
    const summary = yield* mapErrors(live.validateConfig(configFile))
    process.stdout.write(`${configFile}: valid\n${summary.map((l) => `  ${l}\n`).join("")}`)
  }))

/** @internal */
export const sandbox = (options: SandboxCommandOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const Runner = yield* Effect.promise(() => import("../../sandbox/Runner.js"))
    const port = Option.getOrUndefined(options.port)
    if (port !== undefined && (port < 1 || port > 65_530)) {
      return yield* Effect.fail(badInput(`--port must be between 1 and 65530, got ${port}`))
    }
    // Runs until Ctrl+C: the runtime interrupts it, which closes the sandbox.
    return yield* Runner.runForeground({
      configOut: options.configOut,
      port,
      sandbox: { latencyMillis: options.latency },
      label: (id) => displayName[id],
      hints: (configFile) => [
        `Try: medusa publish examples/media/sample.mp4 --config ${
          path.relative(process.cwd(), configFile)
        } --request examples/demo-request.json`
      ]
    }).pipe(Effect.mapError((e) => badInput(e.message)))
  }))

/** @internal */
export const webhooks = (options: WebhooksOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    if (options.limit <= 0) {
      return yield* Effect.fail(badInput(`--limit must be a positive number, got ${options.limit}`))
    }
    const engine = yield* openEngine(options, true)
    const out = stdout(options.json)
    const { deliveryToJSON } = yield* Effect.promise(() => import("../../Webhooks.js"))
    const outbox = engine.outbox
    const deliveries = outbox === undefined ? [] : yield* mapErrors(outbox.deliveries({
      limit: options.limit,
      state: Option.getOrUndefined(options.state),
      taskId: Option.getOrUndefined(options.task)
    }))
    const disabled = outbox === undefined ? [] : yield* mapErrors(outbox.disabled)
    if (out.json) {
      for (const d of deliveries) out.write(JSON.stringify(deliveryToJSON(d)) + "\n")
      return
    }
    for (const d of disabled) {
      out.write(`Endpoint ${d.url} is disabled since ${new Date(d.at).toISOString()} (${d.reason}).\n`)
    }
    if (deliveries.length === 0) {
      out.write(`No webhook deliveries in ${engine.storeLabel}.\n`)
      return
    }
    const time = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ")
    out.write(
      `${pad("TYPE", 17)}  ${pad("STATE", 9)}  ${pad("ATTEMPTS", 8)}  ${pad("LAST", 22)}  ${pad("NEXT TRY", 19)}  ${
        pad("TASK", 48)
      }  URL\n`
    )
    for (const d of deliveries) {
      const last = d.lastStatus !== undefined ? `HTTP ${d.lastStatus}` : d.lastError ?? "-"
      const next = d.state === "pending" && d.nextAt !== undefined ? time(d.nextAt) : "-"
      out.write(
        `${pad(d.type, 17)}  ${pad(d.state, 9)}  ${pad(String(d.attempts), 8)}  ${pad(last.slice(0, 22), 22)}  ${
          pad(next, 19)
        }  ${pad(d.taskId, 48)}  ${d.url}\n`
      )
    }
  }))

/** @internal */
export const webhooksEnable = (options: WebhooksEnableOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    const engine = yield* openEngine(options, false)
    const outbox = engine.outbox
    if (outbox === undefined) return yield* Effect.fail(badInput(`${engine.storeLabel} keeps no webhook outbox`))
    const enabled = yield* mapErrors(outbox.enable(options.url))
    if (!enabled) {
      const disabled = yield* mapErrors(outbox.disabled)
      return yield* Effect.fail(
        badInput(
          `<url>: ${options.url} is not a disabled webhook endpoint in ${engine.storeLabel}; disabled: ${
            disabled.length === 0 ? "none" : disabled.map((d) => d.url).join(", ")
          }`
        )
      )
    }
    process.stdout.write(`Endpoint ${options.url} is enabled again: events from now on are delivered to it.\n`)
  }))

// =============================================================================
// serve
// =============================================================================

/** @internal */
export const serve = (options: ServeOptions): Effect.Effect<void, CliExit> =>
  Effect.scoped(Effect.gen(function*() {
    if (options.port < 0 || options.port > 65_535) {
      return yield* Effect.fail(badInput(`--port must be between 0 and 65535, got ${options.port}`))
    }
    const configFile = yield* configFileOf(options)
    const store = storeOf(options)
    if (store !== "memory") fs.mkdirSync(path.dirname(path.resolve(store)), { recursive: true })
    const live = yield* Effect.promise(() => import("./live.js"))
    // Runs until Ctrl+C: the runtime interrupts it, which closes the server and the engine.
    return yield* mapErrors(
      live.serve({
        configFile,
        configOptional: false,
        store,
        storeGiven: Option.isSome(options.store),
        readOnly: false,
        port: options.port,
        host: options.host,
        defaultMediaRoot: options.sandbox ? process.cwd() : undefined
      })
    )
  }))
