/**
 * Browser ingest: a tus 1.0 endpoint (`@tus/server` over `@tus/file-store`)
 * whose finished uploads become `media_id`s a publish request may name
 * instead of a `mediaFile`. Its storage is bounded (per upload and in total)
 * and each upload is deleted once the tasks that used it have ended, or when
 * it expires unused.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { InvalidRequest, Issue } from "../../PublishError.js"
import { isFinal } from "../../Task.js"
import { TaskStore } from "../../TaskStore.js"

/** @internal */
export interface Options {
  /** Where uploads are kept (created when missing). */
  readonly directory: string
  /** The route (default `/v1/uploads`). */
  readonly path?: string | undefined
  /** Largest single upload (default 5 GiB). */
  readonly maxUploadBytes?: number | undefined
  /** All uploads kept at once, finished or not (default 20 GiB). */
  readonly maxTotalBytes?: number | undefined
  /** Unfinished or never used uploads are deleted after this (default 24 h). */
  readonly expireAfter?: Duration.DurationInput | undefined
  /** How often expired uploads are looked for (default 10 min). */
  readonly sweepInterval?: Duration.DurationInput | undefined
}

/** @internal */
export interface Service {
  /** The tus endpoint, as a web handler. */
  readonly handle: (request: Request) => Promise<Response>
  /**
   * Runs `f` with the file of a finished upload; while it runs, the upload
   * is not deleted (a task being submitted with it). Fails with
   * `InvalidRequest` naming `media_id` when there is no such finished upload.
   */
  readonly useMedia: <A, E, R>(
    mediaId: string,
    f: (file: string) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | InvalidRequest, R>
  /** `useMedia` for the rest of the scope: the upload is kept until the scope closes. */
  readonly acquireMedia: (mediaId: string) => Effect.Effect<string, InvalidRequest, Scope.Scope>
  /** Bytes and uploads kept now. */
  readonly usage: Effect.Effect<{ readonly bytes: number; readonly uploads: number }>
  /** Deletes what is no longer needed (also run periodically). */
  readonly sweep: Effect.Effect<number>
}

const mediaIdPattern = /^media_[0-9a-f]{32}$/

/** @internal */
export const isMediaId = (value: string): boolean => mediaIdPattern.test(value)

interface Info {
  readonly id: string
  readonly size: number | undefined
  readonly offset: number
  readonly created: number
  readonly used: boolean
}

/** @internal */
export const make = (options: Options): Effect.Effect<Service, never, TaskStore | Scope.Scope> =>
  Effect.gen(function*() {
    const store = yield* TaskStore
    const directory = path.resolve(options.directory)
    fs.mkdirSync(directory, { recursive: true })
    const route = options.path ?? "/v1/uploads"
    const maxUpload = options.maxUploadBytes ?? 5 * 1024 ** 3
    const maxTotal = options.maxTotalBytes ?? 20 * 1024 ** 3
    const expireAfter = Duration.toMillis(options.expireAfter ?? "24 hours")
    // Loaded here: only a server with ingest loads tus.
    const { Server } = yield* Effect.promise(() => import("@tus/server"))
    const { FileStore } = yield* Effect.promise(() => import("@tus/file-store"))
    const datastore = new FileStore({ directory, expirationPeriodInMilliseconds: expireAfter })

    const fileOf = (id: string) => path.join(directory, id)
    const markerOf = (id: string) => path.join(directory, `${id}.used`)

    /** Every upload kept, read from the file store's records. */
    const list = (): Array<Info> => {
      const out: Array<Info> = []
      for (const name of fs.readdirSync(directory)) {
        if (!name.endsWith(".json")) continue
        const id = name.slice(0, -".json".length)
        if (!isMediaId(id)) continue
        try {
          const record = JSON.parse(fs.readFileSync(path.join(directory, name), "utf8")) as {
            size?: number
            creation_date?: string
          }
          const stat = fs.statSync(fileOf(id))
          out.push({
            id,
            size: record.size,
            offset: stat.size,
            created: record.creation_date ? Date.parse(record.creation_date) : stat.mtimeMs,
            used: fs.existsSync(markerOf(id))
          })
        } catch {
          // Being created or deleted.
        }
      }
      return out
    }

    // Admission: uploads being created count with their declared length.
    const refuse = (status: number, message: string) => ({
      status_code: status,
      body: JSON.stringify({ error: { code: status === 413 ? "too_large" : "bad_request", message } })
    })

    const tus = new Server({
      path: route,
      datastore,
      maxSize: maxUpload,
      respectForwardedHeaders: false,
      namingFunction: () => `media_${randomUUID().replace(/-/g, "")}`,
      onUploadCreate: async (_req, upload) => {
        if (upload.size === undefined) {
          throw refuse(400, "Upload-Length is required: Medusa bounds its storage by declared sizes")
        }
        const kept = list().reduce((sum, u) => sum + (u.size ?? u.offset), 0)
        if (kept + upload.size > maxTotal) {
          throw refuse(
            413,
            `the upload storage is full: ${kept} of ${maxTotal} bytes are in use and this upload declares ${upload.size}; ` +
              "retry once running tasks have ended"
          )
        }
        return {}
      },
      onUploadFinish: async (_req, upload) => ({
        headers: { "Medusa-Media-Id": upload.id }
      })
    })

    // Uploads a submit is using right now: never deleted meanwhile.
    const inFlight = new Map<string, number>()

    const remove = (id: string): Effect.Effect<boolean> =>
      Effect.promise(async () => {
        try {
          await datastore.remove(id)
        } catch {
          // Already gone.
        }
        fs.rmSync(markerOf(id), { force: true })
        return true
      })

    /** Paths that unfinished tasks use. */
    const inUse = Effect.map(
      Effect.all([store.list({ status: "pending" }), store.list({ status: "in_progress" })]),
      ([a, b]) => new Set([...a, ...b].map((t) => t.media.path))
    ).pipe(Effect.orElseSucceed(() => undefined))

    const sweep: Effect.Effect<number> = Effect.gen(function*() {
      const busy = yield* inUse
      if (busy === undefined) return 0
      const now = Date.now()
      let removed = 0
      for (const upload of list()) {
        if (inFlight.has(upload.id) || busy.has(fileOf(upload.id))) continue
        // Used by tasks that have all ended, or never finished/used and expired.
        if (upload.used || now - upload.created > expireAfter) {
          if (yield* remove(upload.id)) removed++
        }
      }
      return removed
    })

    const acquireMedia = (mediaId: string): Effect.Effect<string, InvalidRequest, Scope.Scope> => {
      const invalid = (message: string) =>
        Effect.fail(new InvalidRequest({ issues: [new Issue({ path: ["media_id"], message })] }))
      if (!isMediaId(mediaId)) {
        return invalid(`${JSON.stringify(mediaId)} is not a media id (media_<32 hex digits>, from ${route})`)
      }
      return Effect.zipRight(
        Effect.acquireRelease(
          Effect.sync(() => inFlight.set(mediaId, (inFlight.get(mediaId) ?? 0) + 1)),
          () =>
            Effect.sync(() => {
              const n = (inFlight.get(mediaId) ?? 1) - 1
              if (n <= 0) inFlight.delete(mediaId)
              else inFlight.set(mediaId, n)
            })
        ),
        Effect.gen(function*() {
          const upload = list().find((u) => u.id === mediaId)
          if (upload === undefined) {
            return yield* invalid(`no upload ${mediaId}: it never existed, expired, or its tasks have ended`)
          }
          if (upload.size === undefined || upload.offset < upload.size) {
            return yield* invalid(
              `upload ${mediaId} is not finished (${upload.offset} of ${upload.size ?? "?"} bytes); resume it first`
            )
          }
          // Marked used before the task exists: from now on it goes when its tasks end.
          fs.writeFileSync(markerOf(mediaId), "")
          return fileOf(mediaId)
        })
      )
    }

    const useMedia = <A, E, R>(
      mediaId: string,
      f: (file: string) => Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | InvalidRequest, R> => Effect.scoped(Effect.flatMap(acquireMedia(mediaId), f))

    const usage = Effect.sync(() => {
      const all = list()
      return { bytes: all.reduce((sum, u) => sum + u.offset, 0), uploads: all.length }
    })

    // A task using an upload ended: delete it unless another task still needs it.
    yield* store.changes.pipe(
      Stream.filter((c) =>
        isFinal(c.task.state) && c.previous !== c.task.state && path.dirname(c.task.media.path) === directory
      ),
      Stream.runForEach((c) =>
        Effect.gen(function*() {
          const id = path.basename(c.task.media.path)
          if (!isMediaId(id) || inFlight.has(id)) return
          const busy = yield* inUse
          if (busy === undefined || busy.has(c.task.media.path)) return
          yield* remove(id)
        })
      ),
      Effect.catchAllCause((cause) => Effect.logWarning("Medusa: upload clean-up stopped", cause)),
      Effect.forkScoped
    )
    // At start (tasks may have ended while the server was down), then periodically.
    yield* sweep.pipe(
      Effect.zipRight(Effect.sleep(options.sweepInterval ?? "10 minutes")),
      Effect.forever,
      Effect.forkScoped
    )

    return {
      handle: (request: Request) => tus.handleWeb(request),
      useMedia,
      acquireMedia,
      usage,
      sweep
    }
  })
