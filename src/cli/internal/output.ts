/**
 * Where a command prints, and the summary of a task (its links and post ids,
 * then a status line) that `publish`, `status` and `resume` end with.
 *
 * @internal
 */
import type { Task } from "../../Task.js"
import * as Progress from "../Progress.js"

/** Where and how to print. @internal */
export interface Output {
  readonly write: (text: string) => void
  readonly isTTY: boolean
  readonly columns: () => number
  readonly json: boolean
}

/** @internal */
export const stdout: (json: boolean) => Output = (json) => ({
  write: (text) => void process.stdout.write(text),
  isTTY: process.stdout.isTTY === true && !json,
  columns: () => process.stdout.columns ?? 100,
  json
})

/** The summary table and the status line after a task ends. @internal */
export const printSummary = (task: Task, out: Output): void => {
  if (out.json) return
  out.write("\n")
  for (const line of Progress.renderSummary(task, out.isTTY ? out.columns() - 1 : Infinity)) out.write(line + "\n")
  out.write("\n")
  switch (task.state) {
    case "completed":
      out.write(`Task ${task.id} completed.\n`)
      break
    case "failed": {
      const first = task.failures[0]
      out.write(`Task ${task.id} failed${first ? `: ${first.message}` : ""}\n`)
      break
    }
    case "cancelled":
      out.write(`Task ${task.id} was cancelled.\n`)
      break
    default:
      out.write(`Task ${task.id} is ${task.state}${task.message ? `: ${task.message}` : ""}\n`)
  }
}
