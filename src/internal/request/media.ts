import * as Effect from "effect/Effect"
import { statSync } from "node:fs"
import { open } from "node:fs/promises"
import * as path from "node:path"
import { MediaFile } from "../../Platform.js"

const HEAD_BYTES = 64

/**
 * Recognises a video container by its first bytes. `undefined` when none
 * matches (a text file renamed `.mp4` ends here).
 *
 * @internal
 */
export const sniff = (head: Uint8Array): string | undefined => {
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to))
  if (head.length >= 12) {
    const box = ascii(4, 8)
    if (box === "ftyp") {
      const brand = ascii(8, 12)
      return brand === "qt  " ? "video/quicktime" : "video/mp4"
    }
    // Old QuickTime files may start with another atom than `ftyp`.
    if (box === "moov" || box === "mdat" || box === "wide" || box === "free" || box === "pnot" || box === "skip") {
      return "video/quicktime"
    }
    if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "AVI ") return "video/x-msvideo"
  }
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) {
    // EBML header: the DocType tells WebM from Matroska.
    return ascii(4, head.length).includes("webm") ? "video/webm" : "video/x-matroska"
  }
  return undefined
}

const describeErrno = (error: unknown): string => {
  const code = (error as { code?: string } | undefined)?.code
  switch (code) {
    case "ENOENT":
      return "file not found"
    case "EACCES":
    case "EPERM":
      return "permission denied: the file is not readable (check its permissions)"
    case "ENOTDIR":
      return "a parent of this path is not a directory"
    default:
      return `cannot be read (${code ?? String(error)})`
  }
}

/**
 * Sniff results of files already seen, keyed by device, inode, size, mtime
 * and path: a changed file is sniffed again. Bounded.
 *
 * @internal
 */
export class MediaCache {
  private readonly entries = new Map<string, MediaFile>()
  constructor(private readonly capacity = 64) {}
  get(key: string): MediaFile | undefined {
    return this.entries.get(key)
  }
  set(key: string, media: MediaFile): void {
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, media)
  }
}

/**
 * Checks that `file` is a regular, non-empty, readable video file and
 * describes it. Fails with a message naming the file and what is wrong.
 *
 * @internal
 */
export const inspect = (file: string, cache?: MediaCache): Effect.Effect<MediaFile, string> =>
  Effect.suspend(() => {
    const absolute = path.resolve(file)
    let size: number
    let key: string
    try {
      // A local stat takes microseconds; the thread-pool round trip of the
      // async one costs more than the call itself on the submit hot path.
      const info = statSync(absolute)
      if (info.isDirectory()) return Effect.fail(`${absolute} is a directory; give the path of a video file`)
      if (!info.isFile()) return Effect.fail(`${absolute} is not a regular file; give the path of a video file`)
      if (info.size === 0) return Effect.fail(`${absolute} is empty (0 bytes); give a video file`)
      size = info.size
      key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${absolute}`
    } catch (error) {
      return Effect.fail(`${absolute}: ${describeErrno(error)}`)
    }
    const known = cache?.get(key)
    if (known !== undefined) return Effect.succeed(known)
    return Effect.async<MediaFile, string>((resume) => {
      readHead(absolute).then(
        (head) => {
          const mimeType = sniff(head)
          if (mimeType === undefined) {
            return resume(Effect.fail(
              `${absolute} is not a video: its first bytes match no supported container (MP4/MOV, Matroska/WebM, AVI); ` +
                "renaming a file does not make it a video"
            ))
          }
          const media = new MediaFile({ path: absolute, name: path.basename(absolute), size, mimeType }, true)
          cache?.set(key, media)
          resume(Effect.succeed(media))
        },
        (error) => resume(Effect.fail(`${absolute}: ${describeErrno(error)}`))
      )
    })
  })

const readHead = async (file: string): Promise<Uint8Array> => {
  const handle = await open(file, "r")
  try {
    const buffer = new Uint8Array(HEAD_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

/**
 * `1.5 GB`, `256 GB`, `12 KB`.
 *
 * @internal
 */
export const formatBytes = (bytes: number): string => {
  const units = ["bytes", "KB", "MB", "GB", "TB"]
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return unit === 0 ? `${bytes} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`
}
