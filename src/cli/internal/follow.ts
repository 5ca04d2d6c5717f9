/**
 * Follows a task's stream of snapshots on the output: progress bars redrawn in
 * place on a terminal, plain lines otherwise, or status JSON lines (the
 * summary after it is `output.ts`'s).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { Task } from "../../Task.js"
import { isFinal } from "../../Task.js"
import * as TaskStatus from "../../TaskStatus.js"
import * as Progress from "../Progress.js"
import type { Output } from "./output.js"

/** A terminal is redrawn at most this often; JSON and plain lines are not throttled. */
const frameMillis = 80

/**
 * Renders `snapshots` until the stream ends; returns the last snapshot. On a
 * terminal the drawing is left in a consistent state when interrupted.
 *
 * @internal
 */
export const follow = <E>(
  snapshots: Stream.Stream<Task, E>,
  out: Output
): Effect.Effect<Task | undefined, E> =>
  Effect.gen(function*() {
    const last = yield* Ref.make<Task | undefined>(undefined)
    if (out.json) {
      let previous = ""
      yield* Stream.runForEach(snapshots, (task) =>
        Effect.sync(() => {
          const line = JSON.stringify(TaskStatus.toJSON(task))
          // Progress updates with the same JSON (same percent) are not repeated.
          if (line !== previous) out.write(line + "\n")
          previous = line
        }).pipe(Effect.zipRight(Ref.set(last, task))))
      return yield* Ref.get(last)
    }
    if (!out.isTTY) {
      let plain = Progress.emptyPlain
      yield* Stream.runForEach(snapshots, (task) =>
        Effect.sync(() => {
          const next = Progress.plainLines(plain, task)
          plain = next.state
          for (const line of next.lines) out.write(line + "\n")
        }).pipe(Effect.zipRight(Ref.set(last, task))))
      return yield* Ref.get(last)
    }
    let meter = Progress.emptyMeter
    let drawn = 0
    let lastDraw = 0
    let latest: Task | undefined
    let stale = false
    const draw = (task: Task) => {
      lastDraw = Date.now()
      stale = false
      const lines = Progress.renderFrame(task, meter, Math.max(40, out.columns() - 1))
      out.write(Progress.redraw(drawn, lines))
      drawn = lines.length
    }
    // A snapshot skipped by the frame limit must still reach the screen, even when no
    // other follows (a stalled upload): a ticker draws the latest one on the trailing edge.
    const ticker = Effect.sync(() => {
      if (stale && latest !== undefined) draw(latest)
    }).pipe(Effect.repeat(Schedule.spaced(`${frameMillis} millis`)))
    out.write(Progress.hideCursor)
    const render = Stream.runForEach(snapshots, (task) =>
      Effect.sync(() => {
        const now = Date.now()
        meter = Progress.observe(meter, task, now)
        latest = task
        if (isFinal(task.state) || now - lastDraw >= frameMillis || drawn === 0) draw(task)
        else stale = true
      }).pipe(Effect.zipRight(Ref.set(last, task))))
    return yield* Effect.scoped(Effect.zipRight(Effect.forkScoped(ticker), render)).pipe(
      Effect.zipRight(Ref.get(last)),
      Effect.tap((task) => Effect.sync(() => task && draw(task))),
      Effect.ensuring(Effect.sync(() => out.write(Progress.showCursor)))
    )
  })

/**
 * Snapshots of a task run by another process: the store polled until the task
 * ends. SQLite has no cross-process notification, so polling is what the
 * process boundary leaves; it is cheap (one indexed read).
 *
 * @internal
 */
export const poll = <E>(
  get: Effect.Effect<Task, E>,
  intervalMillis: number
): Stream.Stream<Task, E> =>
  Stream.repeatEffectWithSchedule(get, pollSchedule(intervalMillis)).pipe(
    Stream.changesWith((a, b) => a.updatedAt === b.updatedAt && a.state === b.state),
    Stream.takeUntil((task) => isFinal(task.state))
  )

const pollSchedule = (millis: number) => Schedule.spaced(`${millis} millis`)
