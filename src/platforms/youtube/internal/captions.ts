/**
 * Caption files (SRT and WebVTT), checked strictly before a byte of the video
 * is sent: a file YouTube would refuse after a long upload is refused first.
 *
 * @internal
 */

/** @internal */
export type CaptionFormat = "srt" | "vtt"

/** @internal */
export type Parsed =
  | { readonly _tag: "Ok"; readonly format: CaptionFormat; readonly cues: number }
  | { readonly _tag: "Invalid"; readonly message: string }

/** YouTube's limits on a caption track. @internal */
export const limits = {
  /** `captions.insert` accepts media of at most 100 MB. */
  fileBytes: 100 * 1024 * 1024,
  /** `snippet.name`: at most 150 characters. */
  nameCharacters: 150
} as const

const SRT_TIME = /^(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})$/
const VTT_TIME = /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/

const millis = (m: RegExpExecArray | null): number | undefined =>
  m === null ? undefined : ((Number(m[1] ?? 0) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4])

/** `start --> end[ settings]` → the two times, or why not. */
const timing = (
  line: string,
  time: RegExp,
  example: string,
  settingsAllowed: boolean
): { readonly start: number; readonly end: number } | string => {
  const parts = line.trim().split(/[ \t]+/)
  if (parts.length < 3 || parts[1] !== "-->" || (!settingsAllowed && parts.length > 3 && !/^X1:/i.test(parts[3]!))) {
    return `expected a timing line such as "${example}", got ${JSON.stringify(line)}`
  }
  const start = millis(time.exec(parts[0]!))
  const end = millis(time.exec(parts[2]!))
  if (start === undefined || end === undefined) {
    return `the times of ${JSON.stringify(line)} are not in the form of "${example}"`
  }
  if (end < start) return `the cue ends before it starts (${JSON.stringify(line)})`
  return { start, end }
}

/** Blank-line separated blocks, each with the line number it starts at. */
const blocks = (lines: ReadonlyArray<string>): Array<{ readonly at: number; readonly lines: Array<string> }> => {
  const out: Array<{ at: number; lines: Array<string> }> = []
  let current: { at: number; lines: Array<string> } | undefined
  lines.forEach((line, i) => {
    if (line.trim().length === 0) {
      current = undefined
      return
    }
    if (current === undefined) {
      current = { at: i + 1, lines: [] }
      out.push(current)
    }
    current.lines.push(line)
  })
  return out
}

const parseVtt = (lines: ReadonlyArray<string>): Parsed => {
  // "WEBVTT" alone, or followed by a space or tab and free text.
  if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0]!)) {
    return { _tag: "Invalid", message: "line 1: a WebVTT file starts with a line \"WEBVTT\"" }
  }
  // The header runs to the first blank line.
  const end = lines.findIndex((l) => l.trim().length === 0)
  const body = end === -1 ? [] : lines.slice(end)
  let cues = 0
  for (const block of blocks(body)) {
    const first = block.lines[0]!
    const at = block.at + (end === -1 ? 0 : end)
    if (/^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(first)) continue
    // An optional identifier line (without "-->"), then the timing.
    const timingIndex = first.includes("-->") ? 0 : 1
    const line = block.lines[timingIndex]
    if (line === undefined || !line.includes("-->")) {
      return { _tag: "Invalid", message: `line ${at}: a cue needs a timing line such as "00:01.000 --> 00:04.000"` }
    }
    const t = timing(line, VTT_TIME, "00:00:01.000 --> 00:00:04.000", true)
    if (typeof t === "string") return { _tag: "Invalid", message: `line ${at + timingIndex}: ${t}` }
    cues += 1
  }
  if (cues === 0) return { _tag: "Invalid", message: "the WebVTT file has no cue" }
  return { _tag: "Ok", format: "vtt", cues }
}

const parseSrt = (lines: ReadonlyArray<string>): Parsed => {
  let cues = 0
  for (const block of blocks(lines)) {
    const [index, line] = block.lines
    if (!/^\d+$/.test(index!.trim())) {
      return {
        _tag: "Invalid",
        message: `line ${block.at}: an SRT cue starts with its number, got ${JSON.stringify(index)}`
      }
    }
    if (line === undefined) {
      return { _tag: "Invalid", message: `line ${block.at + 1}: cue ${index!.trim()} has no timing line` }
    }
    const t = timing(line, SRT_TIME, "00:00:01,000 --> 00:00:04,000", false)
    if (typeof t === "string") return { _tag: "Invalid", message: `line ${block.at + 1}: ${t}` }
    cues += 1
  }
  if (cues === 0) return { _tag: "Invalid", message: "the file has no cue" }
  return { _tag: "Ok", format: "srt", cues }
}

/**
 * Reads a caption file's bytes as SRT or WebVTT, decided by its content (a
 * WebVTT file starts with `WEBVTT`); anything else is refused with the line
 * that is wrong.
 *
 * @internal
 */
export const parse = (bytes: Uint8Array): Parsed => {
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    return { _tag: "Invalid", message: "is not UTF-8 text (SRT and WebVTT files are UTF-8)" }
  }
  if (text.charCodeAt(0) === 0xFEFF) text = text.slice(1)
  if (text.includes("\u0000")) return { _tag: "Invalid", message: "is a binary file, not SRT or WebVTT" }
  const lines = text.split(/\r\n|\r|\n/)
  if (lines[0]!.startsWith("WEBVTT")) return parseVtt(lines)
  const srt = parseSrt(lines)
  return srt._tag === "Ok" ? srt : {
    _tag: "Invalid",
    message: `is neither WebVTT (which starts with "WEBVTT") nor SRT: ${srt.message}`
  }
}

/**
 * The canonical form of a BCP-47 language tag (`en-us` → `en-US`), or
 * undefined when it is not one. Node's `Intl` knows the grammar.
 *
 * @internal
 */
export const canonicalLanguage = (tag: string): string | undefined => {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag)
    return canonical
  } catch {
    return undefined
  }
}
