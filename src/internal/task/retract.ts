/**
 * Taking a publish back: the posts a task made (and, when asked, its
 * uploaded videos) deleted through each platform's delete API, each recorded
 * on the task (`retracted`) as soon as the platform confirmed it, so that a
 * second call finds it done (idempotent) and a failure part-way keeps what
 * was undone. Used by `Medusa.retract` and by the `all-or-nothing` policy.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { Target } from "../../PlatformId.js"
import { platformOf, targetName } from "../../PlatformId.js"
import type { PlatformError, StoreError, TaskNotFound } from "../../PublishError.js"
import { PlatformRejected, TaskNotReady } from "../../PublishError.js"
import type { Task } from "../../Task.js"
import { isFinal, Retraction } from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import type { Engine } from "./engine.js"
import { keyed, modify, rebuild, retarget, unsafeMake, withNow } from "./engine.js"

const isSelected = (options: RetractOptions) => (target: Target): boolean =>
  options.platforms === undefined || options.platforms.includes(target) ||
  options.platforms.includes(platformOf(target))

/** @internal */
export interface RetractOptions {
  /**
   * Only these targets (default: every one the task posted or uploaded to);
   * a platform's id selects all its accounts.
   */
  readonly platforms?: ReadonlyArray<Target> | undefined
  /** Also delete the uploaded videos (default: posts only). */
  readonly videos?: boolean | undefined
}

const record = (engine: Engine, id: TaskId, entry: Omit<Retraction, "at">) =>
  withNow((now) =>
    modify(engine, id, (t) =>
      rebuild(t, {
        retracted: [...(t.retracted ?? []), unsafeMake(Retraction, { ...entry, at: now })],
        updatedAt: now
      }))
  )

/**
 * Deletes what the task made and has not been taken back yet. Every item is
 * tried; the first platform error is returned after the others were tried.
 *
 * @internal
 */
export const undo = (
  engine: Engine,
  task: Task,
  options: RetractOptions
): Effect.Effect<Task, PlatformError | StoreError> =>
  Effect.gen(function*() {
    const selected = isSelected(options)
    const done = new Set((task.retracted ?? []).map((r) => `${r.kind}:${r.platform}:${r.id}`))
    const errors: Array<PlatformError> = []
    for (const post of task.posts) {
      if (!selected(post.publisher) || done.has(`post:${post.publisher}:${post.postId}`)) continue
      const retract = engine.platforms.publishers[post.publisher]?.retract
      if (retract === undefined) {
        errors.push(
          new PlatformRejected({
            platform: post.publisher,
            reason: "rejected",
            description: `${targetName(post.publisher)} is not configured here (or has no delete API): ` +
              `delete post ${post.postId} by hand`
          })
        )
        continue
      }
      const outcome = yield* Effect.either(retract(keyed(post, platformOf(post.publisher))))
      if (outcome._tag === "Left") errors.push(retarget(outcome.left, post.publisher))
      else yield* record(engine, task.id, { platform: post.publisher, id: post.postId, kind: "post" })
    }
    if (options.videos === true) {
      for (const video of task.videos) {
        if (!selected(video.host) || done.has(`video:${video.host}:${video.videoId}`)) continue
        const remove = engine.platforms.hosts[video.host]?.remove
        if (remove === undefined) {
          errors.push(
            new PlatformRejected({
              platform: video.host,
              reason: "rejected",
              description: `${targetName(video.host)} is not configured here: delete video ${video.videoId} by hand`
            })
          )
          continue
        }
        const outcome = yield* Effect.either(remove(keyed(video, platformOf(video.host))))
        if (outcome._tag === "Left") errors.push(retarget(outcome.left, video.host))
        else yield* record(engine, task.id, { platform: video.host, id: video.videoId, kind: "video" })
      }
    }
    if (errors.length > 0) return yield* Effect.fail(errors[0]!)
    return yield* Effect.catchTag(engine.store.get(task.id), "TaskNotFound", (e) => Effect.die(e))
  })

/**
 * `Medusa.retract`: only a task that ended, and made something among the
 * selected platforms.
 *
 * @internal
 */
export const retract = (
  engine: Engine,
  id: TaskId,
  options: RetractOptions
): Effect.Effect<Task, TaskNotFound | TaskNotReady | PlatformError | StoreError> =>
  Effect.gen(function*() {
    const task = yield* engine.store.get(id)
    if (!isFinal(task.state)) {
      return yield* new TaskNotReady({
        taskId: id,
        operation: "retract",
        description: `it is still ${task.state}; wait for it to end, or cancel it first`
      })
    }
    const selected = isSelected(options)
    const made = task.posts.filter((p) => selected(p.publisher)).length +
      (options.videos === true ? task.videos.filter((v) => selected(v.host)).length : 0)
    if (made === 0) {
      return yield* new TaskNotReady({
        taskId: id,
        operation: "retract",
        description: `it made nothing to take back${
          options.platforms !== undefined ? ` on ${options.platforms.map(targetName).join(", ")}` : ""
        }${options.videos === true ? "" : " (its posts; add --videos for the uploaded videos)"}`
      })
    }
    return yield* undo(engine, task, options)
  })
