/**
 * A task cancelled during a publisher's native video upload abandons it, as
 * a host's unfinished upload is: through the engine and the real adapters
 * against the sandbox over loopback HTTP. Facebook deletes the video it
 * started (the sandbox then counts no orphan); LinkedIn documents no delete
 * for an unfinalized video, so it is left and the task's history says so.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as path from "node:path"
import * as Durable from "../../src/Durable.js"
import * as Medusa from "../../src/Medusa.js"
import type { PlatformId } from "../../src/PlatformId.js"
import * as Facebook from "../../src/platforms/facebook/Facebook.js"
import * as LinkedIn from "../../src/platforms/linkedin/LinkedIn.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import type { TaskId } from "../../src/TaskId.js"
import * as TaskStatus from "../../src/TaskStatus.js"
import { TaskStore } from "../../src/TaskStore.js"
import { tempDir } from "../hosts/helpers.js"
import { Http, mp4, sandbox } from "./helpers.js"

const KiB = 1024

const adapters = (sb: Sandbox.Sandbox) =>
  Layer.mergeAll(
    Facebook.layer({
      pageId: sb.credentials.facebook.pageId,
      accessToken: Redacted.make(sb.credentials.facebook.pageAccessToken),
      baseUrl: sb.urls.facebook
    }),
    LinkedIn.layer({
      accessToken: Redacted.make(sb.credentials.linkedin.accessToken),
      authorUrn: sb.credentials.linkedin.authorUrn,
      baseUrl: sb.urls.linkedin
    })
  ).pipe(Layer.provide(Layer.mergeAll(Http, NodeFileSystem.layer)))

/** The in-memory runner (a cancel interrupts the task's fiber). */
const live = (sb: Sandbox.Sandbox) => Medusa.layerMemory({ retention: "1 hour" }).pipe(Layer.provide(adapters(sb)))

/** The durable runner on SQLite (its steps see the cancel in the store). */
const durable = (sb: Sandbox.Sandbox, dir: string) =>
  Durable.layerDurable({ sqlite: path.join(dir, "medusa.db") }).pipe(Layer.provideMerge(adapters(sb)))

/** Polls `check` until it holds, for at most 20 s (what the test waits for is named in the failure). */
const eventually = <E, R>(what: string, check: Effect.Effect<boolean, E, R>): Effect.Effect<void, E | Error, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + 20_000
    while (!(yield* check)) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("20 millis")
    }
  })

/** The task's history as the status JSON shows it (`medusa status`, `GET /v1/tasks/{id}`). */
const shownHistory = (id: TaskId) =>
  Effect.gen(function*() {
    const store = yield* TaskStore
    const task = yield* Medusa.status(id)
    return TaskStatus.toJSONWithHistory(task, yield* store.history(id)).history ?? []
  })

/** The publisher's upload session the task saved: its bytes acknowledged. */
const acknowledged = (id: TaskId, platform: PlatformId) =>
  Effect.flatMap(
    TaskStore,
    (store) =>
      Effect.map(
        store.loadUploadSession(id, platform),
        Option.match({ onNone: () => -1, onSome: (s) => s.acknowledged })
      )
  )

describe("a cancelled task abandons a publisher's unfinished native upload", () => {
  it.scopedLive(
    "Facebook: the started video is deleted, and the sandbox counts no orphan",
    () =>
      Effect.gen(function*() {
        const sb = yield* sandbox({ facebook: { videoChunkBytes: 64 * KiB } })
        const dir = yield* tempDir
        const file = mp4(dir, 1024 * KiB)
        // Every upload request takes a while, so that the cancel lands mid-upload.
        sb.inject({ platform: "facebook", route: "videos", times: Infinity, action: { kind: "latency", millis: 150 } })
        yield* Effect.gen(function*() {
          const id = yield* Medusa.submit({
            mediaFile: file.media.path,
            platforms: ["facebook"],
            metadata: { facebook: { message: "The video itself", video: true } }
          })
          yield* eventually("some bytes acknowledged", Effect.map(acknowledged(id, "facebook"), (n) => n > 0))
          const orphaned = sb.state().orphans.facebook
          expect(orphaned).toHaveLength(1)
          expect((yield* Medusa.cancel(id)).state).toBe("cancelled")
          yield* eventually("the started video deleted", Effect.sync(() => sb.state().orphans.facebook.length === 0))
          expect(sb.raw.postsOf("facebook")).toHaveLength(0)
          // What was done is in the task's history, as `medusa status` and the API show it.
          expect((yield* shownHistory(id)).filter((h) => h.event !== undefined)).toEqual([{
            state: "in_progress",
            at: expect.any(String),
            message: `Facebook: deleted the unfinished Facebook video ${orphaned[0]}`,
            event: "abandoned",
            platform: "facebook"
          }])
          expect((yield* shownHistory(id)).map((h) => h.event ?? h.state)).toEqual([
            "pending",
            "in_progress",
            "abandoned",
            "cancelled"
          ])
        }).pipe(Effect.provide(live(sb)))
      }),
    60_000
  )

  it.scopedLive(
    "Facebook, durable runner (SQLite): the cancel seen in the store abandons the upload the same way",
    () =>
      Effect.gen(function*() {
        const sb = yield* sandbox({ facebook: { videoChunkBytes: 64 * KiB } })
        const dir = yield* tempDir
        const file = mp4(dir, 1024 * KiB)
        sb.inject({ platform: "facebook", route: "videos", times: Infinity, action: { kind: "latency", millis: 150 } })
        yield* Effect.gen(function*() {
          const id = yield* Medusa.submit({
            mediaFile: file.media.path,
            platforms: ["facebook"],
            metadata: { facebook: { message: "The video itself", video: true } }
          })
          yield* eventually("some bytes acknowledged", Effect.map(acknowledged(id, "facebook"), (n) => n > 0))
          const orphaned = sb.state().orphans.facebook
          expect(orphaned).toHaveLength(1)
          expect((yield* Medusa.cancel(id)).state).toBe("cancelled")
          yield* eventually("the started video deleted", Effect.sync(() => sb.state().orphans.facebook.length === 0))
          yield* eventually(
            "the note in the history",
            Effect.map(
              shownHistory(id),
              (history) =>
                history.some((h) =>
                  h.event === "abandoned" &&
                  h.message === `Facebook: deleted the unfinished Facebook video ${orphaned[0]}`
                )
            )
          )
          expect(sb.raw.postsOf("facebook")).toHaveLength(0)
        }).pipe(Effect.provide(durable(sb, dir)))
      }),
    60_000
  )

  it.scopedLive("Facebook: a task that fails mid-upload deletes the started video too", () =>
    Effect.gen(function*() {
      const sb = yield* sandbox({ facebook: { videoChunkBytes: 64 * KiB } })
      const dir = yield* tempDir
      const file = mp4(dir, 1024 * KiB)
      sb.inject({ platform: "facebook", route: "videos", times: Infinity, action: { kind: "latency", millis: 100 } })
      yield* Effect.gen(function*() {
        const id = yield* Medusa.submit({
          mediaFile: file.media.path,
          platforms: ["facebook"],
          metadata: { facebook: { message: "The video itself", video: true } }
        })
        yield* eventually("some bytes acknowledged", Effect.map(acknowledged(id, "facebook"), (n) => n > 0))
        expect(sb.state().orphans.facebook).toHaveLength(1)
        // The next transfer is refused for good (Graph's invalid parameter): the task fails.
        sb.clearFaults()
        sb.inject({
          platform: "facebook",
          route: "videos",
          action: { kind: "status", status: 400, code: "100", message: "Invalid parameter" }
        })
        const error = yield* Effect.flip(Medusa.await(id))
        expect([error._tag, "platform" in error ? error.platform : undefined]).toEqual(["PlatformRejected", "facebook"])
        yield* eventually("the started video deleted", Effect.sync(() => sb.state().orphans.facebook.length === 0))
        expect(sb.raw.postsOf("facebook")).toHaveLength(0)
      }).pipe(Effect.provide(live(sb)))
    }), 60_000)

  it.scopedLive(
    "LinkedIn: no documented delete for an unfinalized video; it is left and the history says so",
    () =>
      Effect.gen(function*() {
        const sb = yield* sandbox()
        const dir = yield* tempDir
        const file = mp4(dir, 200 * KiB)
        // The part never gets an answer: the upload is under way until the cancel.
        sb.inject({ platform: "linkedin", route: "videos.part", times: Infinity, action: { kind: "stall" } })
        yield* Effect.gen(function*() {
          const id = yield* Medusa.submit({
            mediaFile: file.media.path,
            platforms: ["linkedin"],
            metadata: { linkedin: { text: "The video itself", video: true } }
          })
          yield* eventually("the upload session saved", Effect.map(acknowledged(id, "linkedin"), (n) => n >= 0))
          expect((yield* Medusa.cancel(id)).state).toBe("cancelled")
          const [urn] = sb.state().orphans.linkedin
          expect(urn).toMatch(/^urn:li:video:/)
          const notes = Effect.map(
            shownHistory(id),
            (all) => all.flatMap((h) => h.event === "abandoned" ? [h.message!] : [])
          )
          yield* eventually(
            "the note in the history",
            Effect.map(notes, (all) => all.some((m) => m.startsWith("LinkedIn: left the unfinished video upload")))
          )
          expect((yield* notes).find((m) => m.startsWith("LinkedIn:"))).toBe(
            `LinkedIn: left the unfinished video upload ${urn}: LinkedIn documents no way to delete a video whose ` +
              "upload was never finalized; it is in no post"
          )
          expect(sb.raw.postsOf("linkedin")).toHaveLength(0)
        }).pipe(Effect.provide(live(sb)))
      }),
    60_000
  )
})
