import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import * as fc from "fast-check"
import * as Progress from "../../src/cli/Progress.js"
import { MediaFile, PublishedPost, UploadedVideo, UploadProgress } from "../../src/Platform.js"
import { PublishRequest } from "../../src/PublishRequest.js"
import type { TaskState } from "../../src/Task.js"
import { HistoryEntry, PlatformWait, Task, TaskFailure } from "../../src/Task.js"
import { TaskId } from "../../src/TaskId.js"

const id = TaskId.make("medusa_task_0b5c2a4e-1f2d-4c3b-8a9e-1234567890ab")

const request = Schema.decodeUnknownSync(PublishRequest)({
  mediaFile: "/videos/talk.mp4",
  platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
  metadata: {
    youtube: { title: "T" },
    vimeo: { title: "T" },
    facebook: { message: "{youtube_url}" },
    x: { text: "{youtube_url}" },
    linkedin: { text: "{vimeo_url}" }
  }
})

const media = new MediaFile({ path: "/videos/talk.mp4", name: "talk.mp4", size: 1_048_576, mimeType: "video/mp4" })

const makeTask = (overrides: Partial<ConstructorParameters<typeof Task>[0]> & { state?: TaskState } = {}): Task =>
  new Task({
    id,
    request,
    media,
    state: "in_progress",
    createdAt: 0,
    updatedAt: 0,
    history: [new HistoryEntry({ state: "pending", at: 0 })],
    progress: [],
    videos: [],
    posts: [],
    failures: [],
    skipped: [],
    ...overrides
  })

const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "")

describe("units", () => {
  it("formatBytes", () => {
    assert.strictEqual(Progress.formatBytes(0), "0 B")
    assert.strictEqual(Progress.formatBytes(1023), "1023 B")
    assert.strictEqual(Progress.formatBytes(1536), "1.5 KiB")
    assert.strictEqual(Progress.formatBytes(84_411), "82.4 KiB")
    assert.strictEqual(Progress.formatBytes(1024 ** 3), "1.0 GiB")
    assert.strictEqual(Progress.formatBytes(-1), "?")
  })

  it("formatDuration", () => {
    assert.strictEqual(Progress.formatDuration(undefined), "--:--")
    assert.strictEqual(Progress.formatDuration(0), "0:00")
    assert.strictEqual(Progress.formatDuration(0.2), "0:01")
    assert.strictEqual(Progress.formatDuration(62), "1:02")
    assert.strictEqual(Progress.formatDuration(3723), "1:02:03")
    assert.strictEqual(Progress.formatDuration(Infinity), "--:--")
  })

  it("renderBar is always exactly `width` cells and grows with the fraction", () => {
    const filled = (bar: string) => [...bar].filter((c) => c !== " ").length
    fc.assert(
      fc.property(
        fc.double({ min: -1, max: 2, noNaN: true }),
        fc.double({ min: -1, max: 2, noNaN: true }),
        fc.integer({ min: 1, max: 80 }),
        (a, b, width) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a]
          const barLo = Progress.renderBar(lo, width)
          const barHi = Progress.renderBar(hi, width)
          assert.strictEqual([...barLo].length, width)
          assert.strictEqual([...barHi].length, width)
          assert.isAtMost(filled(barLo), filled(barHi))
          if (hi >= 1) assert.strictEqual(barHi, "█".repeat(width))
          if (lo <= 0) assert.strictEqual(barLo, " ".repeat(width))
        }
      )
    )
    assert.strictEqual(Progress.renderBar(0, 4), "    ")
    assert.strictEqual(Progress.renderBar(1, 4), "████")
    assert.strictEqual(Progress.renderBar(0.5, 4), "██  ")
    assert.strictEqual(Progress.renderBar(0.5 + 1 / 32, 4), "██▏ ")
  })

  it("rate and ETA over a sliding window; a restart from 0 resets the samples", () => {
    let samples = Progress.addSample([], { at: 0, bytes: 0 })
    assert.strictEqual(Progress.rateOf(samples), undefined)
    samples = Progress.addSample(samples, { at: 1000, bytes: 1000 })
    assert.strictEqual(Progress.rateOf(samples), 1000)
    samples = Progress.addSample(samples, { at: 2000, bytes: 3000 })
    assert.strictEqual(Progress.rateOf(samples), 1500)
    // Far later: samples older than the 3 s window go, but for one anchor just before it.
    samples = Progress.addSample(samples, { at: 10_000, bytes: 3000 })
    samples = Progress.addSample(samples, { at: 11_000, bytes: 13_000 })
    assert.deepStrictEqual(samples.map((s) => s.at), [2000, 10_000, 11_000])
    assert.closeTo(Progress.rateOf(samples)!, 10_000 / 9, 1e-6)
    samples = Progress.addSample(samples, { at: 14_000, bytes: 43_000 })
    assert.deepStrictEqual(samples.map((s) => s.at), [11_000, 14_000])
    assert.strictEqual(Progress.rateOf(samples), 10_000)
    assert.strictEqual(Progress.etaSeconds(20_000, 10_000), 2)
    assert.strictEqual(Progress.etaSeconds(20_000, undefined), undefined)
    assert.strictEqual(Progress.etaSeconds(0, undefined), 0)
    samples = Progress.addSample(samples, { at: 15_000, bytes: 0 })
    assert.strictEqual(samples.length, 1)
  })
})

describe("publisher rows", () => {
  it("a publisher holding its post for a rate limit shows the wait; the others say posting", () => {
    const task = makeTask({
      videos: [
        new UploadedVideo({ host: "youtube", videoId: "abcdefghijk", url: "https://youtube.com/watch?v=abcdefghijk" }),
        new UploadedVideo({ host: "vimeo", videoId: "1", url: "https://vimeo.com/1" })
      ],
      message: "Posting to Facebook, X, LinkedIn...",
      waits: [
        new PlatformWait({
          platform: "facebook",
          reason: "Graph API usage at 93%",
          until: Date.UTC(2026, 10, 21, 14, 5)
        })
      ]
    })
    const notes = Progress.platformViews(task).filter((v) => v._tag === "Working").map((v) => [v.platform, v.note])
    assert.deepStrictEqual(notes, [
      ["facebook", "Graph API usage at 93%, waiting until 14:05:00 UTC"],
      ["x", "posting"],
      ["linkedin", "posting"]
    ])
  })
})
describe("platform views and frames", () => {
  it("shows bars for uploading hosts and waiting publishers", () => {
    const task = makeTask({
      progress: [
        new UploadProgress({ host: "youtube", bytesSent: 524_288, bytesAcknowledged: 0, totalBytes: 1_048_576 })
      ]
    })
    const meter = Progress.observe(
      Progress.observe(
        Progress.emptyMeter,
        makeTask({
          progress: [new UploadProgress({ host: "youtube", bytesSent: 0, bytesAcknowledged: 0, totalBytes: 1_048_576 })]
        }),
        0
      ),
      task,
      1000
    )
    const lines = Progress.renderFrame(task, meter, 100)
    assert.strictEqual(lines.length, 5)
    assert.match(lines[0]!, /^YouTube\s+█+▌?\s+50%\s+512\.0 KiB \/ 1\.0 MiB\s+512\.0 KiB\/s\s+0:01 left$/)
    assert.match(lines[1]!, /^Vimeo\s+\s+0%\s+0 B \/ 1\.0 MiB\s+--\/s\s+--:-- left$/)
    assert.match(lines[2]!, /^Facebook\s+waiting for uploads$/)
    for (const line of lines) assert.isAtMost([...line].length, 100)
  })

  it("shows links, post ids, failures and skips", () => {
    const task = makeTask({
      state: "failed",
      videos: [
        new UploadedVideo({ host: "youtube", videoId: "yt1", url: "https://youtube.com/watch?v=yt1" }),
        new UploadedVideo({ host: "vimeo", videoId: "42", url: "https://vimeo.com/42" })
      ],
      posts: [new PublishedPost({ publisher: "facebook", postId: "1_2", url: "https://facebook.com/1_2" })],
      failures: [
        new TaskFailure({
          platform: "x",
          code: "duplicate_post",
          message: "X API error: You are not allowed to create a Tweet with duplicate content."
        })
      ],
      skipped: ["linkedin"]
    })
    const lines = Progress.renderFrame(task, Progress.emptyMeter, 200)
    assert.deepStrictEqual(lines.map((l) => l.replace(/\s+/g, " ")), [
      "YouTube ✔ https://youtube.com/watch?v=yt1",
      "Vimeo ✔ https://vimeo.com/42",
      "Facebook ✔ https://facebook.com/1_2",
      "X ✘ X API error: You are not allowed to create a Tweet with duplicate content.",
      "LinkedIn – skipped"
    ])
    const summary = Progress.renderSummary(task)
    assert.match(summary[0]!, /^Platform\s+Result\s+Id\s+Link$/)
    assert.match(summary[2]!, /^YouTube\s+uploaded\s+yt1\s+https:\/\/youtube\.com\/watch\?v=yt1$/)
    assert.match(summary[4]!, /^Facebook\s+posted\s+1_2\s+https:\/\/facebook\.com\/1_2$/)
    assert.match(summary[5]!, /^X\s+failed\s+X API error: You are not allowed/)
    assert.match(summary[6]!, /^LinkedIn\s+skipped$/)
  })

  it("after a retry the bar follows the server's acknowledgement, not the cumulative bytes sent", () => {
    const MiB = 1024 * 1024
    const at = (sent: number, ack: number) =>
      makeTask({
        progress: [
          new UploadProgress({ host: "youtube", bytesSent: sent, bytesAcknowledged: ack, totalBytes: 4 * MiB })
        ]
      })
    let meter = Progress.emptyMeter
    const positions: Array<number> = []
    // 3 MiB written, the connection drops, the server says it holds 1 MiB, then 1 MiB more goes out.
    for (const task of [at(0, 0), at(3 * MiB, 0), at(3 * MiB, 1 * MiB), at(4 * MiB, 1 * MiB)]) {
      meter = Progress.observe(meter, task, 0)
      const view = Progress.platformViews(task, meter.anchors)[0]!
      assert.strictEqual(view._tag, "Uploading")
      positions.push(view._tag === "Uploading" ? view.sent : -1)
    }
    assert.deepStrictEqual(positions, [0, 3 * MiB, 1 * MiB, 2 * MiB])
    // Everything acknowledged, no video yet: the host is processing.
    const done = Progress.platformViews(at(5 * MiB, 4 * MiB), meter.anchors)[0]!
    assert.strictEqual(done._tag, "Working")
  })

  it("frames never exceed the terminal width", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 200 }),
        fc.nat({ max: 1_048_576 }),
        fc.string({ maxLength: 300 }),
        (columns, sent, message) => {
          const task = makeTask({
            progress: [
              new UploadProgress({
                host: "vimeo",
                bytesSent: sent,
                bytesAcknowledged: 0,
                totalBytes: 1_048_576,
                note: message
              })
            ],
            failures: [new TaskFailure({ platform: "youtube", code: "x", message })]
          })
          for (const line of Progress.renderFrame(task, Progress.emptyMeter, columns)) {
            assert.isAtMost([...line].length, columns)
            assert.notInclude(line, "\n")
          }
        }
      )
    )
  })

  it("redraw moves up over the previous frame and clears what is left", () => {
    assert.strictEqual(Progress.redraw(0, ["a", "b"]), "\u001b[2Ka\n\u001b[2Kb\n")
    assert.strictEqual(Progress.redraw(2, ["c"]), "\u001b[2A\r\u001b[2Kc\n\u001b[0J")
    assert.strictEqual(strip(Progress.redraw(3, ["x", "y", "z"])), "\rx\ny\nz\n")
  })
})

describe("plain lines", () => {
  it("prints state changes, each 10% step once, and each outcome once", () => {
    const p = (sent: number) =>
      makeTask({
        progress: [new UploadProgress({ host: "youtube", bytesSent: sent, bytesAcknowledged: 0, totalBytes: 1000 })]
      })
    let state = Progress.emptyPlain
    const all: Array<string> = []
    for (const task of [p(0), p(50), p(120), p(130), p(990), p(1000)]) {
      const next = Progress.plainLines(state, task)
      state = next.state
      all.push(...next.lines)
    }
    const yt = all.filter((l) => l.startsWith("YouTube"))
    assert.deepStrictEqual(yt.map((l) => l.replace(/ \(.*$/, "")), [
      "YouTube: uploading 0%",
      "YouTube: uploading 10%",
      "YouTube: uploading 90%",
      "YouTube: uploading 100%"
    ])
    assert.strictEqual(all.filter((l) => l.startsWith("task ")).length, 1)
    const done = Progress.plainLines(
      state,
      makeTask({
        state: "completed",
        videos: [new UploadedVideo({ host: "youtube", videoId: "yt1", url: "https://youtube.com/watch?v=yt1" })]
      })
    )
    assert.include(done.lines, `task ${id} completed`)
    assert.include(done.lines, "YouTube: uploaded yt1 https://youtube.com/watch?v=yt1")
    const again = Progress.plainLines(
      done.state,
      makeTask({
        state: "completed",
        videos: [new UploadedVideo({ host: "youtube", videoId: "yt1", url: "https://youtube.com/watch?v=yt1" })]
      })
    )
    assert.notInclude(again.lines.join("\n"), "YouTube: uploaded")
  })
})

describe("named accounts", () => {
  it("each account has its own row in the frame and the summary, named after its platform and account", () => {
    const accounts = Schema.decodeUnknownSync(PublishRequest)({
      mediaFile: "/videos/talk.mp4",
      platforms: ["youtube", "youtube:studio", "facebook:brand", "facebook:studio"],
      metadata: { youtube: { title: "T" }, facebook: { message: "{youtube_url}" } }
    })
    const task = makeTask({
      request: accounts,
      state: "failed",
      progress: [new UploadProgress({ host: "youtube:studio", bytesSent: 10, bytesAcknowledged: 10, totalBytes: 100 })],
      videos: [new UploadedVideo({ host: "youtube", videoId: "yt1", url: "https://youtube.com/watch?v=yt1" })],
      posts: [new PublishedPost({ publisher: "facebook:brand", postId: "1_2", url: "https://facebook.com/1_2" })],
      failures: [
        new TaskFailure({
          platform: "facebook:studio",
          code: "auth_expired",
          message: "Facebook (studio) API error: Session has expired"
        })
      ]
    })
    const lines = Progress.renderFrame(task, Progress.emptyMeter, 200).map((l) => l.replace(/\s+/g, " "))
    assert.strictEqual(lines[0], "YouTube ✔ https://youtube.com/watch?v=yt1")
    assert.match(lines[1]!, /^YouTube \(studio\) /)
    assert.strictEqual(lines[2], "Facebook (brand) ✔ https://facebook.com/1_2")
    assert.strictEqual(lines[3], "Facebook (studio) ✘ Facebook (studio) API error: Session has expired")
    const summary = Progress.renderSummary(task)
    assert.isTrue(summary.some((l) => /^Facebook \(brand\)\s+posted\s+1_2\s+https:\/\/facebook\.com\/1_2$/.test(l)))
    assert.isTrue(summary.some((l) => /^Facebook \(studio\)\s+failed\s+Facebook \(studio\) API error/.test(l)))
  })
})
