/**
 * Minimal MP4/MOV headers for the Shorts checks: `ftyp`, `moov` (with `mvhd`
 * and one `trak` per track: `tkhd`, `mdia/hdlr`) and an `mdat` of filler,
 * before or after `moov`.
 */

const box = (type: string, ...payload: ReadonlyArray<Buffer>): Buffer => {
  const body = Buffer.concat(payload)
  const header = Buffer.alloc(8)
  header.writeUInt32BE(8 + body.length, 0)
  header.write(type, 4, "latin1")
  return Buffer.concat([header, body])
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0, 0)
  return b
}

const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(n), 0)
  return b
}

/** 16.16 fixed point, signed. */
const fixed = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(Math.round(n * 65536), 0)
  return b
}

/** `[a b u; c d v; x y w]`, the rotation by `degrees` (clockwise, as players apply it). */
const matrix = (degrees: 0 | 90 | 180 | 270): Buffer => {
  const [a, b, c, d] = degrees === 90 ? [0, 1, -1, 0] : degrees === 180 ? [-1, 0, 0, -1] : degrees === 270
    ? [0, -1, 1, 0]
    : [1, 0, 0, 1]
  // u, v and w are 2.30 fixed point; w = 1.
  return Buffer.concat([fixed(a), fixed(b), u32(0), fixed(c), fixed(d), u32(0), u32(0), u32(0), u32(0x40000000)])
}

export interface TrackSpec {
  readonly handler: "vide" | "soun"
  readonly width: number
  readonly height: number
  readonly rotation?: 0 | 90 | 180 | 270
}

export interface Mp4Spec {
  readonly durationSeconds: number
  readonly timescale?: number
  /** Version 1 boxes (64-bit times and durations). */
  readonly version1?: boolean
  readonly tracks: ReadonlyArray<TrackSpec>
  /** `moov` after `mdat`, as a camera writes it (default before). */
  readonly moovAtEnd?: boolean
  readonly mdatBytes?: number
  /** `ftyp` brand (default `isom`; `qt  ` for MOV). */
  readonly brand?: string
}

const tkhd = (track: TrackSpec, id: number, v1: boolean, duration: number): Buffer =>
  box(
    "tkhd",
    Buffer.from([v1 ? 1 : 0, 0, 0, 3]),
    ...(v1 ? [u64(0), u64(0), u32(id), u32(0), u64(duration)] : [u32(0), u32(0), u32(id), u32(0), u32(duration)]),
    Buffer.alloc(8), // reserved
    Buffer.alloc(2), // layer
    Buffer.alloc(2), // alternate group
    Buffer.from([track.handler === "soun" ? 1 : 0, 0]), // volume
    Buffer.alloc(2),
    matrix(track.rotation ?? 0),
    fixed(track.width),
    fixed(track.height)
  )

const hdlr = (handler: string): Buffer =>
  box("hdlr", u32(0), u32(0), Buffer.from(handler, "latin1"), Buffer.alloc(12), Buffer.from("\0"))

/** The bytes of an MP4 file with the given header. */
export const mp4 = (spec: Mp4Spec): Buffer => {
  const timescale = spec.timescale ?? 1000
  const duration = Math.round(spec.durationSeconds * timescale)
  const v1 = spec.version1 ?? false
  const mvhd = box(
    "mvhd",
    Buffer.from([v1 ? 1 : 0, 0, 0, 0]),
    ...(v1 ? [u64(0), u64(0), u32(timescale), u64(duration)] : [u32(0), u32(0), u32(timescale), u32(duration)]),
    fixed(1), // rate
    Buffer.from([1, 0]), // volume
    Buffer.alloc(10),
    matrix(0),
    Buffer.alloc(24),
    u32(spec.tracks.length + 1)
  )
  const traks = spec.tracks.map((t, i) => box("trak", tkhd(t, i + 1, v1, duration), box("mdia", hdlr(t.handler))))
  const ftyp = box("ftyp", Buffer.from((spec.brand ?? "isom").padEnd(4), "latin1"), u32(0x200), Buffer.from("isommp41"))
  const moov = box("moov", mvhd, ...traks)
  const mdat = box("mdat", Buffer.alloc(spec.mdatBytes ?? 1024, 0x5a))
  return Buffer.concat(spec.moovAtEnd ? [ftyp, mdat, moov] : [ftyp, moov, mdat])
}
