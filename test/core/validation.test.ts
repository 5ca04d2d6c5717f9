import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { inspect, sniff } from "../../src/internal/request/media.js"
import * as Medusa from "../../src/Medusa.js"
import { Issue } from "../../src/PublishError.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import { TestPlatforms } from "../../src/TestPlatforms.js"
import { fullRequest, media, testLayer } from "./helpers.js"

const invalid = (request: unknown) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(Medusa.submit(request as PublishRequestInput))
    if (error._tag !== "InvalidRequest") return assert.fail(`expected InvalidRequest, got ${error._tag}`)
    return error.issues.map((i) => [i.location, i.message] as const)
  })

const at = (issues: ReadonlyArray<readonly [string, string]>, location: string) =>
  issues.filter(([l]) => l === location).map(([, m]) => m)

describe("request validation", () => {
  it.effect("lists every problem with its field path", () =>
    Effect.gen(function*() {
      const issues = yield* invalid({
        mediaFile: media.textAsMp4,
        platforms: ["youtube", "facebook", "tiktok"],
        metadata: {
          youtube: { title: 42, privacy: "secret" },
          facebook: { message: "See {vimeo_url}" },
          linkedin: { text: "not selected" }
        },
        policy: "yolo"
      })
      assert.include(at(issues, "mediaFile")[0], "is not a video")
      assert.include(at(issues, "metadata.youtube.title")[0], "expected a string, got 42")
      assert.strictEqual(at(issues, "metadata.youtube.privacy").length, 1)
      assert.strictEqual(at(issues, "platforms[2]").length, 1)
      assert.strictEqual(at(issues, "policy").length, 1)
      assert.include(at(issues, "metadata.linkedin")[0], "not selected in platforms")
      const template = at(issues, "metadata.facebook.message")[0]!
      assert.include(template, "facebook")
      assert.include(template, "{vimeo_url}")
      assert.include(template, "{youtube_url}, {youtube_video_id}")
      assert.isAtLeast(issues.length, 7)
    }).pipe(Effect.provide(testLayer())))

  it.effect("metadata missing for a selected platform, and empty platforms", () =>
    Effect.gen(function*() {
      const missing = yield* invalid({
        mediaFile: media.mp4,
        platforms: ["youtube", "x"],
        metadata: { youtube: { title: "t" } }
      })
      assert.deepStrictEqual(at(missing, "metadata.x"), ["is required because x is selected in platforms"])
      const empty = yield* invalid({ mediaFile: media.mp4, platforms: [], metadata: {} })
      assert.include(at(empty, "platforms")[0], "at least one")
    }).pipe(Effect.provide(testLayer())))

  it.effect("twitter is an alias of x, in platforms and metadata", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms
      const id = yield* Medusa.submit(
        {
          mediaFile: media.mp4,
          platforms: ["twitter"],
          metadata: { twitter: { text: "hi" } }
        } as unknown as PublishRequestInput
      )
      const task = yield* Medusa.await(id)
      assert.deepStrictEqual(task.request.platforms, ["x"])
      assert.strictEqual((yield* control.callsTo("x")).filter((c) => c.operation === "post").length, 1)
      const both = yield* invalid({
        mediaFile: media.mp4,
        platforms: ["x", "twitter"],
        metadata: { x: { text: "a" }, twitter: { text: "b" } }
      })
      assert.strictEqual(at(both, "metadata.twitter").length, 1)
      assert.include(at(both, "platforms[1]")[0], "twice")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a platform without a configured service is named", () =>
    Effect.gen(function*() {
      const issues = yield* invalid(fullRequest())
      assert.include(at(issues, "platforms[1]")[0], "vimeo is not configured")
      assert.include(at(issues, "platforms[3]")[0], "\"twitter\" section")
    }).pipe(Effect.provide(testLayer({ only: ["youtube", "facebook", "linkedin"] }))))

  it.effect("platform rules run at submit, prefixed with metadata.<platform>", () =>
    Effect.gen(function*() {
      const control = yield* TestPlatforms
      const issues = yield* invalid(fullRequest())
      assert.deepStrictEqual(at(issues, "metadata.x.text"), ["too long"])
      assert.deepStrictEqual(at(issues, "metadata.youtube.tags[0]"), ["bad tag"])
      // The publisher saw its templates filled with placeholders of realistic length.
      const validated = (yield* control.callsTo("x")).find((c) => c.operation === "validate")!
      assert.strictEqual(
        (validated.metadata as { text: string }).text,
        "Vimeo cut: https://vimeo.com/1234567890 (1234567890)"
      )
    }).pipe(Effect.provide(testLayer({
      platforms: {
        x: { issues: [new Issue({ path: ["text"], message: "too long" })] },
        youtube: { issues: [new Issue({ path: ["tags", 0], message: "bad tag" })] }
      }
    }))))

  it.effect("the file must fit every selected host", () =>
    Effect.gen(function*() {
      const issues = yield* invalid(fullRequest())
      assert.deepStrictEqual(at(issues, "mediaFile"), ["video.mp4 is 4 KB, larger than Vimeo's limit of 1 KB"])
    }).pipe(Effect.provide(testLayer({ platforms: { vimeo: { maxFileBytes: 1024 } } }))))

  it.effect("runAt must be a date", () =>
    Effect.gen(function*() {
      const issues = yield* invalid(fullRequest({ runAt: "tomorrow-ish" }))
      assert.include(at(issues, "runAt")[0], "ISO 8601")
    }).pipe(Effect.provide(testLayer())))
})

describe("media sniffing", () => {
  it.effect("recognises MP4, MOV, WebM, Matroska and AVI by their first bytes", () =>
    Effect.gen(function*() {
      const types = yield* Effect.forEach(
        [media.mp4, media.mov, media.webm, media.mkv, media.avi],
        (file) => Effect.map(inspect(file), (m) => m.mimeType)
      )
      assert.deepStrictEqual(types, [
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-matroska",
        "video/x-msvideo"
      ])
    }))

  it.effect("rejects a text file renamed .mp4, an empty file, a directory and a missing file", () =>
    Effect.gen(function*() {
      const text = yield* Effect.flip(inspect(media.textAsMp4))
      assert.include(text, "notes.mp4 is not a video")
      assert.include(yield* Effect.flip(inspect(media.empty)), "is empty")
      assert.include(yield* Effect.flip(inspect(media.dir)), "is a directory")
      assert.include(yield* Effect.flip(inspect(path.join(media.dir, "nope.mp4"))), "nope.mp4: file not found")
      // A video extension does not help; a video signature does, whatever the name.
      const disguised = path.join(media.dir, "sub")
      mkdirSync(disguised, { recursive: true })
      const file = path.join(disguised, "clip.txt")
      writeFileSync(file, new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x6d, 0x70, 0x34, 0x32, 0, 0, 0, 0]))
      assert.strictEqual((yield* inspect(file)).mimeType, "video/mp4")
    }))

  it("random bytes without a container signature are never taken for a video", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (bytes) => {
        const ascii = String.fromCharCode(...bytes.subarray(4, 8))
        const signed = ["ftyp", "moov", "mdat", "wide", "free", "pnot", "skip"].includes(ascii) ||
          (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) ||
          String.fromCharCode(...bytes.subarray(0, 4)) === "RIFF"
        fc.pre(!signed)
        return sniff(bytes) === undefined
      })
    )
  })

  it("any ftyp box is MP4 or MOV", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 56 }),
        fc.string({ minLength: 4, maxLength: 4 }),
        (tail, brand) => {
          const head = new Uint8Array([
            0,
            0,
            0,
            0x20,
            0x66,
            0x74,
            0x79,
            0x70,
            ...[...brand].map((c) => c.charCodeAt(0) & 0xff),
            ...tail
          ])
          const type = sniff(head)
          return type === "video/mp4" || type === "video/quicktime"
        }
      )
    )
  })
})
