/**
 * What the CLI draws: progress bars per platform (bytes, rate, time left),
 * the summary table, and plain lines for when stdout is not a terminal.
 *
 * Everything here is a pure function of a `Task` snapshot and a clock reading,
 * so it is unit-tested without a terminal; `Cli.ts` only decides when to draw.
 *
 * @since 0.1.0
 */
import type { UploadProgress } from "../Platform.js"
import type { Target } from "../PlatformId.js"
import { displayName, isHost as isHostId, platformOf, targetName } from "../PlatformId.js"

const isHost = (target: Target): boolean => isHostId(platformOf(target))
import type { Task } from "../Task.js"

// =============================================================================
// Units
// =============================================================================

const units = ["B", "KiB", "MiB", "GiB", "TiB"] as const

/**
 * `1536` → `"1.5 KiB"`. Binary units, one decimal from KiB up.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatBytes = (bytes: number): string => {
  if (!Number.isFinite(bytes) || bytes < 0) return "?"
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`
}

/**
 * @since 0.1.0
 * @category formatting
 */
export const formatRate = (bytesPerSecond: number | undefined): string =>
  bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) ? "--/s" : `${formatBytes(bytesPerSecond)}/s`

/**
 * Seconds as `m:ss` or `h:mm:ss`; `--:--` when unknown.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatDuration = (seconds: number | undefined): string => {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "--:--"
  const total = Math.ceil(seconds)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const ss = String(s).padStart(2, "0")
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`
}

/**
 * A bar of exactly `width` cells for a fraction in `[0, 1]` (clamped), using
 * eighth blocks so that small uploads still visibly move.
 *
 * @since 0.1.0
 * @category formatting
 */
export const renderBar = (fraction: number, width: number): string => {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0
  const eighths = Math.floor(f * width * 8)
  const full = Math.floor(eighths / 8)
  const partial = eighths % 8
  const partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
  const head = "█".repeat(full) + (full < width ? partials[partial] : "")
  return head + " ".repeat(Math.max(0, width - [...head].length))
}

// =============================================================================
// Rate
// =============================================================================

/**
 * Byte samples per host, used to estimate a rate over a sliding window.
 *
 * @since 0.1.0
 * @category models
 */
export interface RateSample {
  readonly at: number
  readonly bytes: number
}

/** How far back the rate looks: long enough to smooth bursts, short enough to follow a stall. */
const rateWindowMillis = 3_000

/**
 * Adds a sample, dropping those older than the window (keeping one anchor
 * before it so that a rate is available as soon as two samples exist).
 *
 * @since 0.1.0
 * @category rate
 */
export const addSample = (samples: ReadonlyArray<RateSample>, sample: RateSample): ReadonlyArray<RateSample> => {
  // A restart from byte 0 (expired session) invalidates earlier samples.
  const last = samples[samples.length - 1]
  const kept = last !== undefined && sample.bytes < last.bytes ? [] : samples.slice()
  if (last !== undefined && last.at === sample.at && last.bytes === sample.bytes) return samples
  kept.push(sample)
  while (kept.length > 2 && kept[1]!.at <= sample.at - rateWindowMillis) kept.shift()
  return kept
}

/**
 * Bytes per second over the samples, or `undefined` with fewer than two.
 *
 * @since 0.1.0
 * @category rate
 */
export const rateOf = (samples: ReadonlyArray<RateSample>): number | undefined => {
  if (samples.length < 2) return undefined
  const first = samples[0]!
  const last = samples[samples.length - 1]!
  const elapsed = (last.at - first.at) / 1000
  return elapsed > 0 ? (last.bytes - first.bytes) / elapsed : undefined
}

/**
 * Seconds left at `rate`, `undefined` when the rate is unknown or zero.
 *
 * @since 0.1.0
 * @category rate
 */
export const etaSeconds = (remainingBytes: number, rate: number | undefined): number | undefined =>
  remainingBytes <= 0 ? 0 : rate === undefined || rate <= 0 ? undefined : remainingBytes / rate

// =============================================================================
// Per-platform view
// =============================================================================

/**
 * What one platform is doing, derived from a task snapshot.
 *
 * @since 0.1.0
 * @category models
 */
export type PlatformView =
  | { readonly _tag: "Waiting"; readonly platform: Target; readonly note: string }
  | {
    readonly _tag: "Uploading"
    readonly platform: Target
    readonly sent: number
    readonly total: number
    readonly note?: string | undefined
  }
  | { readonly _tag: "Working"; readonly platform: Target; readonly note: string }
  | { readonly _tag: "Done"; readonly platform: Target; readonly id: string; readonly url?: string | undefined }
  | { readonly _tag: "Failed"; readonly platform: Target; readonly message: string }
  | { readonly _tag: "Skipped"; readonly platform: Target }
  | { readonly _tag: "Cancelled"; readonly platform: Target }

/**
 * Where the wire position of each host's upload was last pinned by the server:
 * its acknowledged offset, and the (cumulative) bytes sent at that moment.
 *
 * @since 0.1.0
 * @category models
 */
export type Anchors = Readonly<Partial<Record<Target, { readonly ack: number; readonly sent: number }>>>

/**
 * Re-pins a host whenever the server's acknowledgement changes (a probe after
 * a dropped connection, a chunk) or the upload restarts.
 *
 * @since 0.1.0
 * @category rate
 */
export const updateAnchors = (anchors: Anchors, task: Task): Anchors => {
  const next: Partial<Record<Target, { readonly ack: number; readonly sent: number }>> = { ...anchors }
  for (const p of task.progress) {
    const anchor = anchors[p.host]
    if (anchor === undefined) {
      next[p.host] = { ack: p.bytesAcknowledged, sent: p.bytesAcknowledged === 0 ? 0 : p.bytesSent }
    } else if (anchor.ack !== p.bytesAcknowledged || p.bytesSent < anchor.sent) {
      next[p.host] = { ack: p.bytesAcknowledged, sent: p.bytesSent }
    }
  }
  return next
}

/**
 * Bytes of the file through, for the bar. `bytesSent` counts every attempt,
 * so after a retry it overstates; the position is the server's acknowledged
 * offset plus what was sent since the server said so.
 *
 * @since 0.1.0
 * @category rate
 */
export const positionOf = (
  p: UploadProgress,
  anchor: { readonly ack: number; readonly sent: number } | undefined
): number =>
  Math.min(
    p.totalBytes,
    anchor === undefined ?
      Math.max(p.bytesSent, p.bytesAcknowledged) :
      p.bytesAcknowledged + Math.max(0, p.bytesSent - anchor.sent)
  )

/**
 * @since 0.1.0
 * @category views
 */
export const platformViews = (task: Task, anchors: Anchors = {}): ReadonlyArray<PlatformView> => {
  const hosts = task.request.platforms.filter(isHost)
  const uploadsDone = hosts.every((h) => task.videos.some((v) => v.host === h))
  return task.request.platforms.map((platform): PlatformView => {
    const failure = task.failures.find((f) => f.platform === platform)
    if (failure) return { _tag: "Failed", platform, message: failure.message }
    if (task.skipped.includes(platform)) return { _tag: "Skipped", platform }
    if (isHost(platform)) {
      const video = task.videos.find((v) => v.host === platform)
      if (video) return { _tag: "Done", platform, id: video.videoId, url: video.url }
      if (task.state === "cancelled") return { _tag: "Cancelled", platform }
      const progress = task.progress.find((p) => p.host === platform)
      if (progress) {
        if (progress.totalBytes > 0 && progress.bytesAcknowledged >= progress.totalBytes) {
          return { _tag: "Working", platform, note: progress.note ?? "processing" }
        }
        return {
          _tag: "Uploading",
          platform,
          sent: positionOf(progress, anchors[platform]),
          total: progress.totalBytes,
          note: progress.note
        }
      }
      return task.state === "in_progress" ?
        { _tag: "Uploading", platform, sent: 0, total: task.media.size } :
        { _tag: "Waiting", platform, note: task.state === "pending" ? "queued" : "waiting" }
    }
    const post = task.posts.find((p) => p.publisher === platform)
    if (post) return { _tag: "Done", platform, id: post.postId, url: post.url }
    if (task.state === "cancelled") return { _tag: "Cancelled", platform }
    if (task.state === "failed") return { _tag: "Skipped", platform }
    return task.state === "in_progress" && uploadsDone ?
      { _tag: "Working", platform, note: waitNoteOf(task, platform) ?? "posting" } :
      { _tag: "Waiting", platform, note: hosts.length > 0 ? "waiting for uploads" : "queued" }
  })
}

/** `"rate limited, waiting until 14:05:00 UTC"` when `platform` announced a wait. */
const waitNoteOf = (task: Task, platform: Target): string | undefined => {
  const wait = task.waits?.find((w) => w.platform === platform)
  return wait === undefined ?
    undefined :
    `${wait.reason}, waiting until ${new Date(wait.until).toISOString().slice(11, 19)} UTC`
}

// =============================================================================
// Terminal frame
// =============================================================================

/**
 * Progress drawing state carried between frames: rate samples per host.
 *
 * @since 0.1.0
 * @category models
 */
export interface Meter {
  readonly samples: Readonly<Partial<Record<Target, ReadonlyArray<RateSample>>>>
  readonly anchors: Anchors
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const emptyMeter: Meter = { samples: {}, anchors: {} }

/**
 * Feeds a snapshot's byte counts into the meter.
 *
 * @since 0.1.0
 * @category rate
 */
export const observe = (meter: Meter, task: Task, now: number): Meter => {
  const anchors = updateAnchors(meter.anchors, task)
  const samples: Partial<Record<Target, ReadonlyArray<RateSample>>> = { ...meter.samples }
  for (const p of task.progress) {
    samples[p.host] = addSample(samples[p.host] ?? [], { at: now, bytes: positionOf(p, anchors[p.host]) })
  }
  return { samples, anchors }
}

const nameWidth = Math.max(...Object.values(displayName).map((n: string) => n.length))

const truncate = (text: string, width: number): string =>
  width <= 0 ? "" : [...text].length <= width ? text : [...text].slice(0, Math.max(0, width - 1)).join("") + "…"

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ")

/**
 * One line per platform, each at most `columns` wide:
 *
 * ```
 * YouTube   ████████████▌           52%  44.0 KiB / 84.4 KiB  1.2 MiB/s  0:01 left
 * Facebook  waiting for uploads
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderFrame = (task: Task, meter: Meter, columns: number): ReadonlyArray<string> => {
  // Named accounts (`Facebook (brand)`) widen the name column.
  const width = Math.max(nameWidth, ...task.request.platforms.map((p) => targetName(p).length))
  return platformViews(task, meter.anchors).map((view) => {
    const name = targetName(view.platform).padEnd(width)
    const rest = (() => {
      switch (view._tag) {
        case "Uploading": {
          const fraction = view.total > 0 ? view.sent / view.total : 0
          const rate = rateOf(meter.samples[view.platform] ?? [])
          const pct = `${Math.floor(fraction * 100)}%`.padStart(4)
          const bytes = `${formatBytes(view.sent)} / ${formatBytes(view.total)}`
          const tail = `${pct}  ${bytes}  ${formatRate(rate)}  ${
            formatDuration(etaSeconds(view.total - view.sent, rate))
          } left${view.note ? `  (${oneLine(view.note)})` : ""}`
          const barWidth = Math.max(10, Math.min(30, columns - width - 2 - tail.length - 2))
          return `${renderBar(fraction, barWidth)}  ${tail}`
        }
        case "Waiting":
        case "Working":
          return view.note
        case "Done":
          return `✔ ${view.url ?? view.id}`
        case "Failed":
          return `✘ ${oneLine(view.message)}`
        case "Skipped":
          return "– skipped"
        case "Cancelled":
          return "– cancelled"
      }
    })()
    return truncate(`${name}  ${rest}`, columns)
  })
}

const ESC = "\u001b["

/**
 * The bytes that replace the previous frame (of `previousLines` lines) with
 * `lines`, in place: cursor up, then each line cleared and rewritten.
 *
 * @since 0.1.0
 * @category rendering
 */
export const redraw = (previousLines: number, lines: ReadonlyArray<string>): string => {
  const up = previousLines > 0 ? `${ESC}${previousLines}A\r` : ""
  const body = lines.map((line) => `${ESC}2K${line}\n`).join("")
  // A frame with fewer lines leaves stale ones below: clear to the end of the screen.
  return up + body + (lines.length < previousLines ? `${ESC}0J` : "")
}

/**
 * @since 0.1.0
 * @category rendering
 */
export const hideCursor: string = `${ESC}?25l`

/**
 * @since 0.1.0
 * @category rendering
 */
export const showCursor: string = `${ESC}?25h`

// =============================================================================
// Plain lines (not a terminal)
// =============================================================================

/**
 * What the plain-line printer remembers between snapshots.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlainState {
  readonly lastState: string | undefined
  /** Last printed decile per host (a line every 10%). */
  readonly deciles: Readonly<Partial<Record<Target, number>>>
  /** Platforms whose outcome was already printed. */
  readonly reported: ReadonlyArray<Target>
  readonly anchors: Anchors
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const emptyPlain: PlainState = { lastState: undefined, deciles: {}, reported: [], anchors: {} }

/**
 * The new lines a snapshot warrants off a terminal: state changes, upload
 * progress every 10%, and each platform's outcome once.
 *
 * @since 0.1.0
 * @category rendering
 */
export const plainLines = (
  state: PlainState,
  task: Task
): { readonly state: PlainState; readonly lines: ReadonlyArray<string> } => {
  const lines: Array<string> = []
  if (state.lastState !== task.state) lines.push(`task ${task.id} ${task.state}`)
  const deciles: Partial<Record<Target, number>> = { ...state.deciles }
  const reported = state.reported.slice()
  const anchors = updateAnchors(state.anchors, task)
  for (const view of platformViews(task, anchors)) {
    const name = targetName(view.platform)
    if (reported.includes(view.platform)) continue
    switch (view._tag) {
      case "Uploading": {
        const decile = view.total > 0 ? Math.floor((view.sent / view.total) * 10) : 0
        if (decile > (deciles[view.platform] ?? -1)) {
          deciles[view.platform] = decile
          lines.push(
            `${name}: uploading ${decile * 10}% (${formatBytes(view.sent)} of ${formatBytes(view.total)})${
              view.note ? ` - ${oneLine(view.note)}` : ""
            }`
          )
        }
        break
      }
      case "Done":
        reported.push(view.platform)
        lines.push(
          `${name}: ${isHost(view.platform) ? "uploaded" : "posted"} ${view.id}${view.url ? ` ${view.url}` : ""}`
        )
        break
      case "Failed":
        reported.push(view.platform)
        lines.push(`${name}: failed: ${oneLine(view.message)}`)
        break
      case "Skipped":
        if (task.state === "failed" || task.state === "completed") {
          reported.push(view.platform)
          lines.push(`${name}: skipped`)
        }
        break
      default:
        break
    }
  }
  return { state: { lastState: task.state, deciles, reported, anchors }, lines }
}

// =============================================================================
// Summary
// =============================================================================

/**
 * The final table: one row per platform with its outcome, id and link.
 *
 * ```
 * Platform  Result    Id           Link
 * YouTube   uploaded  yt_abc123    https://youtube.com/watch?v=yt_abc123
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderSummary = (task: Task, columns = Infinity): ReadonlyArray<string> => {
  const rows: Array<ReadonlyArray<string>> = [["Platform", "Result", "Id", "Link"]]
  for (const view of platformViews(task)) {
    const name = targetName(view.platform)
    switch (view._tag) {
      case "Done":
        rows.push([name, isHost(view.platform) ? "uploaded" : "posted", view.id, view.url ?? ""])
        break
      case "Failed":
        rows.push([name, "failed", "", oneLine(view.message)])
        break
      case "Skipped":
        rows.push([name, "skipped", "", ""])
        break
      case "Cancelled":
        rows.push([name, "cancelled", "", ""])
        break
      default:
        rows.push([name, task.state === "pending" ? "pending" : "unfinished", "", ""])
    }
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => [...r[col]!].length)))
  const fmt = (row: ReadonlyArray<string>) =>
    row.map((cell, col) => col === row.length - 1 ? cell : cell.padEnd(widths[col]!)).join("  ").trimEnd()
  // Links are never cut (they are copied from here); only the rule is kept within the screen.
  // The last column may hold a long error message: its rule stops at a link's usual width.
  const rule = truncate(
    widths.map((w, col) => "─".repeat(col === widths.length - 1 ? Math.min(w, 72) : w)).join("  "),
    columns
  ).replace(/…$/, "─")
  return [fmt(rows[0]!), rule, ...rows.slice(1).map(fmt)]
}
