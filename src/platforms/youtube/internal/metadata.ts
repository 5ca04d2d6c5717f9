/**
 * YouTube metadata rules (fact sheet §1.4), checked before a byte is sent,
 * and the `video` resource sent when the upload session is created.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Mp4 from "../../../internal/files/mp4.js"
import type { MediaFile } from "../../../Platform.js"
import { Issue } from "../../../PublishError.js"
import type { YouTubeMetadata } from "../../../PublishRequest.js"
import * as Captions from "./captions.js"

/** @internal */
export const limits = {
  titleCharacters: 100,
  descriptionBytes: 5000,
  tagsCharacters: 500,
  /**
   * The v3 reference page says 2 MB; the revision history of 2026-09-14 says
   * 50 MB. Sources conflict, so the conservative reading is the default.
   */
  thumbnailBytes: 2 * 1024 * 1024,
  /** 256 GB (fact sheet §1.1). */
  fileBytes: 256 * 1024 ** 3,
  /** A Short is at most 3 minutes long (YouTube's rule since 2024-10-15). */
  shortSeconds: 180
} as const

/** Default privacy when none is given: never publish by accident. @internal */
export const defaultPrivacy = "private" as const

const characters = (s: string): number => [...s].length

/**
 * Length of the tags as YouTube counts it: a comma between items, and a tag
 * containing a space counted as if quoted.
 *
 * @internal
 */
export const tagsLength = (tags: ReadonlyArray<string>): number =>
  tags.reduce((sum, tag) => sum + characters(tag) + (tag.includes(" ") ? 2 : 0), 0) + Math.max(0, tags.length - 1)

const ANGLE = /[<>]/

/** `185.3` → `3:05.3` */
const formatSeconds = (seconds: number): string => {
  const ms = Math.round(seconds * 1000)
  const whole = Math.floor(ms / 1000)
  const fraction = ms % 1000
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}${
    fraction > 0 ? `.${String(fraction).padStart(3, "0").replace(/0+$/, "")}` : ""
  }`
}

/** Detects JPEG and PNG from their first bytes. @internal */
export const sniffImage = (bytes: Uint8Array): "image/jpeg" | "image/png" | undefined => {
  if (bytes.length >= 3 && bytes[0] === 0xFF && bytes[1] === 0xD8 && bytes[2] === 0xFF) return "image/jpeg"
  if (
    bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4E && bytes[3] === 0x47 &&
    bytes[4] === 0x0D && bytes[5] === 0x0A && bytes[6] === 0x1A && bytes[7] === 0x0A
  ) return "image/png"
  return undefined
}

/** @internal */
export interface ValidateOptions {
  readonly thumbnailMaxBytes: number
}

/**
 * Every violation, with paths relative to the metadata.
 *
 * @internal
 */
export const validate = (
  metadata: YouTubeMetadata,
  media: MediaFile,
  options: ValidateOptions
): Effect.Effect<ReadonlyArray<Issue>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const issues: Array<Issue> = []
    const add = (path: ReadonlyArray<string | number>, message: string) =>
      issues.push(new Issue({ path: [...path], message }))

    // Title
    if (metadata.title.trim().length === 0) add(["title"], "must not be empty")
    const titleLength = characters(metadata.title)
    if (titleLength > limits.titleCharacters) {
      add(["title"], `is ${titleLength} characters; YouTube allows at most ${limits.titleCharacters}`)
    }
    if (ANGLE.test(metadata.title)) add(["title"], "must not contain < or >")

    // Description
    if (metadata.description !== undefined) {
      const bytes = new TextEncoder().encode(metadata.description).length
      if (bytes > limits.descriptionBytes) {
        add(["description"], `is ${bytes} bytes in UTF-8; YouTube allows at most ${limits.descriptionBytes}`)
      }
      if (ANGLE.test(metadata.description)) add(["description"], "must not contain < or >")
    }

    // Tags
    if (metadata.tags !== undefined) {
      metadata.tags.forEach((tag, i) => {
        if (tag.trim().length === 0) add(["tags", i], "must not be empty")
        if (ANGLE.test(tag)) add(["tags", i], "must not contain < or >")
        if (tag.includes(",")) add(["tags", i], "must not contain a comma (give each tag as its own item)")
      })
      const total = tagsLength(metadata.tags)
      if (total > limits.tagsCharacters) {
        add(
          ["tags"],
          `add up to ${total} characters as YouTube counts them (commas between tags, quotes around tags with spaces); the limit is ${limits.tagsCharacters}`
        )
      }
    }

    // Privacy and scheduling
    const privacy = metadata.privacy ?? defaultPrivacy
    if (privacy !== "private" && privacy !== "public" && privacy !== "unlisted") {
      add(["privacy"], `must be one of "private", "public", "unlisted" (got ${JSON.stringify(privacy)})`)
    }
    if (metadata.publishAt !== undefined) {
      const at = Date.parse(metadata.publishAt)
      if (!/^\d{4}-\d{2}-\d{2}T/.test(metadata.publishAt) || Number.isNaN(at)) {
        add(
          ["publishAt"],
          `must be an ISO 8601 date-time such as 2030-01-31T18:00:00Z (got ${JSON.stringify(metadata.publishAt)})`
        )
      } else {
        const now = yield* Clock.currentTimeMillis
        if (at <= now) add(["publishAt"], `must be in the future (got ${metadata.publishAt})`)
      }
      if (privacy !== "private") {
        add(["publishAt"], `can only be used with privacy "private" (privacy is "${privacy}")`)
      }
    }

    // Category
    if (metadata.categoryId !== undefined && !/^\d{1,4}$/.test(metadata.categoryId)) {
      add(
        ["categoryId"],
        `must be a numeric category id such as "22" (People & Blogs), from videoCategories.list (got ${
          JSON.stringify(metadata.categoryId)
        })`
      )
    }

    // Playlist
    if (metadata.playlistId !== undefined && !/^[A-Za-z0-9_-]{2,64}$/.test(metadata.playlistId)) {
      add(["playlistId"], `is not a playlist id (got ${JSON.stringify(metadata.playlistId)})`)
    }

    // Thumbnail
    if (metadata.thumbnail !== undefined) {
      const fs = yield* FileSystem.FileSystem
      const file = metadata.thumbnail
      const info = yield* Effect.either(fs.stat(file))
      if (info._tag === "Left") {
        add(["thumbnail"], `cannot read ${file}: ${info.left.message}`)
      } else if (info.right.type !== "File") {
        add(["thumbnail"], `${file} is not a file`)
      } else {
        const size = Number(info.right.size)
        if (size > options.thumbnailMaxBytes) {
          add(["thumbnail"], `${file} is ${size} bytes; YouTube accepts at most ${options.thumbnailMaxBytes}`)
        }
        const head = yield* Effect.either(
          Effect.scoped(Effect.flatMap(fs.open(file), (f) => f.readAlloc(8)))
        )
        const type = head._tag === "Right" && head.right._tag === "Some" ? sniffImage(head.right.value) : undefined
        if (type === undefined) add(["thumbnail"], `${file} is not a JPEG or PNG image`)
      }
    }

    // Captions
    if (metadata.captions !== undefined) {
      const fs = yield* FileSystem.FileSystem
      const seen = new Map<string, number>()
      for (const [i, caption] of metadata.captions.entries()) {
        const at = (field: string) => ["captions", i, field]
        const file = caption.file
        const info = yield* Effect.either(fs.stat(file))
        if (info._tag === "Left") {
          add(at("file"), `cannot read ${file}: ${info.left.message}`)
        } else if (info.right.type !== "File") {
          add(at("file"), `${file} is not a file`)
        } else if (Number(info.right.size) > Captions.limits.fileBytes) {
          add(at("file"), `${file} is ${info.right.size} bytes; YouTube accepts caption files of at most 100 MB`)
        } else {
          const bytes = yield* Effect.either(fs.readFile(file))
          if (bytes._tag === "Left") {
            add(at("file"), `cannot read ${file}: ${bytes.left.message}`)
          } else {
            const parsed = Captions.parse(bytes.right)
            if (parsed._tag === "Invalid") add(at("file"), `${file} ${parsed.message}`)
          }
        }
        const language = Captions.canonicalLanguage(caption.language)
        if (language === undefined) {
          add(
            at("language"),
            `must be a BCP-47 language tag such as "en", "en-US" or "pt-BR" (got ${JSON.stringify(caption.language)})`
          )
        }
        const name = caption.name ?? ""
        const nameLength = characters(name)
        if (nameLength > Captions.limits.nameCharacters) {
          add(at("name"), `is ${nameLength} characters; YouTube allows at most ${Captions.limits.nameCharacters}`)
        }
        // YouTube keeps one track per language and name.
        const key = `${(language ?? caption.language).toLowerCase()}\u0000${name}`
        const first = seen.get(key)
        if (first !== undefined) {
          add(
            ["captions", i],
            `repeats the language ${JSON.stringify(caption.language)} and name ${
              JSON.stringify(name)
            } of captions[${first}]; give each track of a language its own name`
          )
        } else {
          seen.set(key, i)
        }
      }
    }

    // Shorts
    if (metadata.short === true) {
      const read = yield* Mp4.read(media.path)
      if (read._tag === "Unreadable") {
        add(
          ["short"],
          `cannot read the duration and size of ${media.path} from its MP4/MOV header (${read.reason}); a Short is checked to be at most 3 minutes long and vertical or square`
        )
      } else {
        const { durationSeconds, height, rotation, width } = read.header
        const size = `${width}x${height}${rotation !== 0 ? ` (rotated ${rotation}°)` : ""}`
        if (durationSeconds > limits.shortSeconds) {
          add(
            ["short"],
            `${media.path} is ${formatSeconds(durationSeconds)} long; a Short is at most ${
              formatSeconds(limits.shortSeconds)
            } (3 minutes)`
          )
        }
        if (width > height) {
          add(
            ["short"],
            `${media.path} is ${size}, landscape; a Short is vertical or square (height at least the width)`
          )
        }
      }
    }

    // Media
    if (media.size > limits.fileBytes) {
      add([], `the media file ${media.path} is ${media.size} bytes; YouTube accepts at most 256 GB`)
    }
    if (media.size === 0) add([], `the media file ${media.path} is empty`)

    return issues
  })

/**
 * The `video` resource for `videos.insert`.
 *
 * @internal
 */
export const toResource = (metadata: YouTubeMetadata): Record<string, unknown> => {
  const snippet: Record<string, unknown> = { title: metadata.title }
  if (metadata.description !== undefined) snippet.description = metadata.description
  if (metadata.tags !== undefined) snippet.tags = metadata.tags
  if (metadata.categoryId !== undefined) snippet.categoryId = metadata.categoryId
  const status: Record<string, unknown> = { privacyStatus: metadata.privacy ?? defaultPrivacy }
  if (metadata.publishAt !== undefined) status.publishAt = metadata.publishAt
  if (metadata.madeForKids !== undefined) status.selfDeclaredMadeForKids = metadata.madeForKids
  return { snippet, status }
}
