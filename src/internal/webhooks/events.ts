/**
 * Webhook events derived from a task change: what the store records in its
 * outbox in the same step (the same transaction on SQL) that records the
 * change, so an event exists exactly when its change committed.
 *
 * @internal
 */
import { randomUUID } from "node:crypto"
import type { Task, TaskState } from "../../Task.js"
import * as TaskStatus from "../../TaskStatus.js"

/** @internal */
export const eventTypes = [
  "task.created",
  "upload.completed",
  "post.published",
  "task.completed",
  "task.failed",
  "task.cancelled"
] as const

/** @internal */
export type EventType = typeof eventTypes[number]

/**
 * One event as the outbox keeps it: `id` is the `webhook-id` of every
 * delivery attempt of it, and `body` is the exact JSON signed and sent
 * (`{ type, timestamp, data }`), fixed when the event is recorded.
 *
 * @internal
 */
export interface OutboxEvent {
  readonly id: string
  readonly type: EventType
  readonly taskId: string
  /** Epoch milliseconds. */
  readonly at: number
  readonly body: string
}

const finalEvent: Partial<Record<TaskState, EventType>> = {
  completed: "task.completed",
  failed: "task.failed",
  cancelled: "task.cancelled"
}

const event = (type: EventType, task: Task, data: Record<string, unknown>): OutboxEvent => {
  const at = task.updatedAt
  return {
    id: `msg_${randomUUID().replace(/-/g, "")}`,
    type,
    taskId: task.id,
    at,
    body: JSON.stringify({ type, timestamp: new Date(at).toISOString(), data })
  }
}

/**
 * The events a change produces, in the order they happened: the task's
 * creation, each upload that finished and each post that went out since
 * `previous`, then its final state. Progress updates produce none.
 *
 * @internal
 */
export const derive = (previous: Task | undefined, task: Task): ReadonlyArray<OutboxEvent> => {
  if (previous === undefined) return [event("task.created", task, TaskStatus.toJSON(task))]
  const out: Array<OutboxEvent> = []
  if (task.videos !== previous.videos) {
    for (const video of task.videos) {
      if (previous.videos.some((v) => v.host === video.host && v.videoId === video.videoId)) continue
      out.push(event("upload.completed", task, {
        task_id: task.id,
        platform: video.host,
        video_id: video.videoId,
        url: video.url
      }))
    }
  }
  if (task.posts !== previous.posts) {
    for (const post of task.posts) {
      if (previous.posts.some((p) => p.publisher === post.publisher && p.postId === post.postId)) continue
      out.push(event("post.published", task, {
        task_id: task.id,
        platform: post.publisher,
        post_id: post.postId,
        ...(post.url !== undefined ? { url: post.url } : {})
      }))
    }
  }
  const final = finalEvent[task.state]
  if (final !== undefined && previous.state !== task.state) out.push(event(final, task, TaskStatus.toJSON(task)))
  return out
}
