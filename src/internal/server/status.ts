/**
 * `GET /v1/tasks/{id}`'s answer, one implementation for both ways it is
 * served (the API's handler and the direct read in `./fastRead.ts`): the
 * task's status JSON with its history, encoded once per version of the task
 * and served as the same bytes until the task changes.
 *
 * @internal
 */
import type { Task } from "../../Task.js"
import type { HistoryEntry } from "../../TaskStatus.js"
import * as TaskStatus from "../../TaskStatus.js"

/** The answer's headers besides the length. @internal */
export const contentType = "application/json"

const encoder = new TextEncoder()

// A store hands out a new `Task` on every change (the memory store the same
// object until then); its history grows with its state changes.
const encoded = new WeakMap<
  Task,
  { readonly length: number; readonly last: HistoryEntry | undefined; readonly bytes: Uint8Array }
>()

/** The status JSON with `history`, as bytes. @internal */
export const statusBytes = (task: Task, history: ReadonlyArray<HistoryEntry>): Uint8Array => {
  const last = history[history.length - 1]
  const cached = encoded.get(task)
  if (cached !== undefined && cached.length === history.length && cached.last === last) return cached.bytes
  const bytes = encoder.encode(JSON.stringify(TaskStatus.toJSONWithHistory(task, history)))
  encoded.set(task, { length: history.length, last, bytes })
  return bytes
}
