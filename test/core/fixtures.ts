import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"

/** A directory of small media files with real container signatures. */
export const makeMediaDir = (): {
  readonly dir: string
  readonly mp4: string
  readonly mov: string
  readonly webm: string
  readonly mkv: string
  readonly avi: string
  readonly textAsMp4: string
  readonly empty: string
} => {
  const dir = mkdtempSync(path.join(tmpdir(), "medusa-core-"))
  const write = (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, name)
    writeFileSync(file, bytes)
    return file
  }
  const pad = (head: Array<number>, size = 4096) => {
    const out = new Uint8Array(size)
    out.set(head)
    return out
  }
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0))
  const ebml = (
    docType: string
  ) => [0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, ...ascii(docType)]
  return {
    dir,
    mp4: write("video.mp4", pad([0, 0, 0, 0x20, ...ascii("ftypisom"), 0, 0, 2, 0, ...ascii("isomiso2avc1mp41")])),
    mov: write("video.mov", pad([0, 0, 0, 0x14, ...ascii("ftypqt  "), 0, 0, 2, 0, ...ascii("qt  ")])),
    webm: write("video.webm", pad(ebml("webm"))),
    mkv: write("video.mkv", pad(ebml("matroska"))),
    avi: write("video.avi", pad([...ascii("RIFF"), 0, 0x10, 0, 0, ...ascii("AVI LIST")])),
    textAsMp4: write("notes.mp4", new TextEncoder().encode("just some text, not a video\n".repeat(20))),
    empty: write("empty.mp4", new Uint8Array(0))
  }
}
