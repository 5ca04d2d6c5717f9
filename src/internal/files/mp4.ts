/**
 * Reads a video's duration and display size from its MP4/MOV header
 * (`moov/mvhd` and the video track's `tkhd`), without reading the media:
 * the top-level boxes are walked by their headers and only `moov` is read.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** @internal */
export interface VideoHeader {
  /** Seconds, from `mvhd` (or `mehd` in a fragmented file). */
  readonly durationSeconds: number
  /** The display size: the track's size with its matrix (rotation) applied. */
  readonly width: number
  readonly height: number
  /** Degrees the track matrix rotates by (0, 90, 180 or 270; 0 for other matrices). */
  readonly rotation: number
}

/** @internal */
export type HeaderResult =
  | { readonly _tag: "Ok"; readonly header: VideoHeader }
  | { readonly _tag: "Unreadable"; readonly reason: string }

/** The largest `moov` read into memory (a header, not media). */
const maxMoovBytes = 64 * 1024 * 1024
/** Top-level boxes walked before giving up (a real file has a handful). */
const maxTopLevelBoxes = 10_000

interface Box {
  readonly type: string
  /** Start of the payload, relative to the buffer. */
  readonly start: number
  readonly end: number
}

const fourcc = (bytes: Uint8Array, at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4))

const isFourcc = (type: string): boolean => /^[\x20-\x7e]{4}$/.test(type)

/** The boxes inside `[from, to)` of `view`, or a reason. */
const children = (view: DataView, from: number, to: number): Array<Box> | string => {
  const out: Array<Box> = []
  let at = from
  while (at + 8 <= to) {
    let size = view.getUint32(at)
    const type = fourcc(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), at + 4)
    let header = 8
    if (size === 1) {
      if (at + 16 > to) return `box ${type} is cut short`
      size = Number(view.getBigUint64(at + 8))
      header = 16
    } else if (size === 0) {
      size = to - at
    }
    if (!isFourcc(type) || size < header || at + size > to) return `box ${JSON.stringify(type)} at ${at} is malformed`
    out.push({ type, start: at + header, end: at + size })
    at += size
  }
  return out
}

const find = (boxes: ReadonlyArray<Box>, type: string): Box | undefined => boxes.find((b) => b.type === type)

/** 16.16 fixed point, signed. */
const fixed = (view: DataView, at: number): number => view.getInt32(at) / 65536

interface Track {
  readonly handler: string | undefined
  readonly width: number
  readonly height: number
  readonly matrix: readonly [number, number, number, number]
}

const readTrack = (view: DataView, trak: Box): Track | string => {
  const boxes = children(view, trak.start, trak.end)
  if (typeof boxes === "string") return boxes
  const tkhd = find(boxes, "tkhd")
  if (tkhd === undefined) return "a track has no tkhd box"
  const version = view.getUint8(tkhd.start)
  // version+flags, creation, modification, track id, reserved, duration, reserved[2], layer, group, volume, reserved
  const matrixAt = tkhd.start + 4 + (version === 1 ? 8 + 8 + 4 + 4 + 8 : 4 + 4 + 4 + 4 + 4) + 8 + 2 + 2 + 2 + 2
  if (matrixAt + 36 + 8 > tkhd.end) return "a tkhd box is cut short"
  const matrix = [
    fixed(view, matrixAt),
    fixed(view, matrixAt + 4),
    fixed(view, matrixAt + 12),
    fixed(view, matrixAt + 16)
  ] as const
  const width = fixed(view, matrixAt + 36)
  const height = fixed(view, matrixAt + 40)
  let handler: string | undefined
  const mdia = find(boxes, "mdia")
  if (mdia !== undefined) {
    const inner = children(view, mdia.start, mdia.end)
    const hdlr = typeof inner === "string" ? undefined : find(inner, "hdlr")
    if (hdlr !== undefined && hdlr.start + 12 <= hdlr.end) {
      handler = fourcc(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), hdlr.start + 8)
    }
  }
  return { handler, width, height, matrix }
}

/** The rotation of a matrix `[a b; c d]` when it is a pure quarter turn, else 0. */
const rotationOf = ([a, b, c, d]: readonly [number, number, number, number]): number => {
  const near = (x: number, y: number) => Math.abs(x - y) < 1e-3
  if (near(a, 0) && near(d, 0) && near(b, 1) && near(c, -1)) return 90
  if (near(a, -1) && near(d, -1) && near(b, 0) && near(c, 0)) return 180
  if (near(a, 0) && near(d, 0) && near(b, -1) && near(c, 1)) return 270
  return 0
}

/**
 * The header read from the bytes of a `moov` box's payload.
 *
 * @internal
 */
export const parseMoov = (moov: Uint8Array): HeaderResult => {
  const view = new DataView(moov.buffer, moov.byteOffset, moov.byteLength)
  const boxes = children(view, 0, moov.byteLength)
  if (typeof boxes === "string") return { _tag: "Unreadable", reason: `the moov box: ${boxes}` }
  const mvhd = find(boxes, "mvhd")
  if (mvhd === undefined || mvhd.start + 32 > mvhd.end) return { _tag: "Unreadable", reason: "it has no mvhd box" }
  const v1 = view.getUint8(mvhd.start) === 1
  const timescale = view.getUint32(mvhd.start + (v1 ? 20 : 12))
  let duration = v1 ? Number(view.getBigUint64(mvhd.start + 24)) : view.getUint32(mvhd.start + 16)
  if ((duration === 0 || duration === 0xFFFFFFFF) && find(boxes, "mvex") !== undefined) {
    // A fragmented file: the whole duration is in mvex/mehd.
    const mvex = find(boxes, "mvex")!
    const inner = children(view, mvex.start, mvex.end)
    const mehd = typeof inner === "string" ? undefined : find(inner, "mehd")
    if (mehd !== undefined && mehd.start + 8 <= mehd.end) {
      duration = view.getUint8(mehd.start) === 1 && mehd.start + 12 <= mehd.end
        ? Number(view.getBigUint64(mehd.start + 4))
        : view.getUint32(mehd.start + 4)
    }
  }
  if (timescale === 0) return { _tag: "Unreadable", reason: "its mvhd timescale is 0" }
  if (duration === 0 || duration === 0xFFFFFFFF) return { _tag: "Unreadable", reason: "its header gives no duration" }
  const tracks: Array<Track> = []
  for (const trak of boxes.filter((b) => b.type === "trak")) {
    const track = readTrack(view, trak)
    if (typeof track === "string") return { _tag: "Unreadable", reason: track }
    tracks.push(track)
  }
  const video = tracks.find((t) => t.handler === "vide") ??
    tracks.find((t) => t.handler === undefined && t.width > 0 && t.height > 0)
  if (video === undefined) return { _tag: "Unreadable", reason: "it has no video track" }
  if (video.width <= 0 || video.height <= 0) return { _tag: "Unreadable", reason: "its video track has no size" }
  const [a, b, c, d] = video.matrix
  // The display size is the track's rectangle through the matrix.
  const width = Math.round(Math.abs(a * video.width + c * video.height))
  const height = Math.round(Math.abs(b * video.width + d * video.height))
  return {
    _tag: "Ok",
    header: { durationSeconds: duration / timescale, width, height, rotation: rotationOf(video.matrix) }
  }
}

/**
 * Walks the file's top-level boxes to `moov` and reads it.
 *
 * @internal
 */
export const read = (file: string): Effect.Effect<HeaderResult, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const handle = yield* fs.open(file)
    const size = Number((yield* handle.stat).size)
    const at = (offset: number, length: number) =>
      Effect.zipRight(
        handle.seek(offset, "start"),
        Effect.map(handle.readAlloc(length), Option.getOrElse(() => new Uint8Array(0)))
      )
    let offset = 0
    for (let n = 0; n < maxTopLevelBoxes && offset + 8 <= size; n++) {
      const head = yield* at(offset, 16)
      if (head.length < 8) break
      const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
      const type = fourcc(head, 4)
      let boxSize = view.getUint32(0)
      let header = 8
      if (boxSize === 1 && head.length >= 16) {
        boxSize = Number(view.getBigUint64(8))
        header = 16
      } else if (boxSize === 0) {
        boxSize = size - offset
      }
      if (!isFourcc(type) || boxSize < header || offset + boxSize > size) {
        return {
          _tag: "Unreadable",
          reason: n === 0
            ? "it is not an MP4 or MOV file"
            : `box ${JSON.stringify(type)} at byte ${offset} is malformed`
        } as const
      }
      if (type === "moov") {
        if (boxSize - header > maxMoovBytes) return { _tag: "Unreadable", reason: "its moov box is too large" } as const
        const moov = yield* at(offset + header, boxSize - header)
        if (moov.length < boxSize - header) return { _tag: "Unreadable", reason: "its moov box is cut short" } as const
        return parseMoov(moov)
      }
      offset += boxSize
    }
    return { _tag: "Unreadable", reason: "it has no moov box (not an MP4 or MOV file, or cut short)" } as const
  }).pipe(
    Effect.scoped,
    Effect.catchAll((error) => Effect.succeed({ _tag: "Unreadable", reason: error.message } as const))
  )
