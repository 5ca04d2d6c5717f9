/**
 * Progress drawing on a real pseudo-terminal: the CLI runs inside a tmux
 * session and the test reads the screen with `tmux capture-pane`.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import {
  binTs,
  capture,
  type Env,
  eventually,
  hasTmux,
  holdYouTubeUpload,
  makeEnv,
  makeVideo,
  shellQuote,
  tmux,
  tsxLoader
} from "./helpers.js"

let env: Env
const session = `medusa-test-${process.pid}`

beforeAll(async () => {
  env = await makeEnv()
})

afterAll(async () => {
  try {
    tmux("kill-session", "-t", session)
  } catch {
    // already gone
  }
  await env.close()
})

describe.skipIf(!hasTmux())("progress on a terminal (tmux)", () => {
  it("draws a bar per platform in place, then the summary", async () => {
    const MiB = 1024 * 1024
    const video = makeVideo(env.dir, 16 * MiB)
    const command = [
      process.execPath,
      "--import",
      tsxLoader,
      binTs,
      "publish",
      video,
      "--to",
      "youtube,vimeo,x",
      "--title",
      "On a terminal",
      "--x-text",
      "tty {youtube_url}",
      "--config",
      env.config,
      // The in-memory engine sends data at once (the durable one probes its saved session first).
      "--store",
      "memory"
    ].map(shellQuote).join(" ")
    // The hold is in place before the task exists: its upload may start before the next line returns.
    const held = holdYouTubeUpload(env.sandbox, 8 * MiB)
    tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "120",
      "-y",
      "30",
      `cd ${shellQuote(env.dir)} && ${command}; echo EXIT=$?; sleep 60`
    )

    // The YouTube upload stops after 8 MiB and stays there (the client backing off) until released.
    const hold = await held
    // Mid-upload: the YouTube line is a partial bar with percent, bytes, rate and time left.
    const midway = await eventually(() => {
      const screen = capture(session)
      return /^(YouTube)\s+[█▏▎▍▌▋▊▉]+ *\s([1-9]\d?)%  [\d.]+ (KiB|MiB) \/ 16\.0 MiB  [\d.]+ (B|KiB|MiB)\/s  \d+:\d\d left$/m
        .test(screen) &&
        screen
    }, () => `a half-way YouTube progress bar; the screen was:\n${capture(session)}`)
    assert.match(midway, /^X\s+waiting for uploads$/m)
    assert.notMatch(midway, /EXIT=/)
    hold.release()
    assert.match(midway, /^Task medusa_task_\S+$/m)

    const final = await eventually(
      () => {
        const screen = capture(session)
        return /EXIT=\d+/.test(screen) && screen
      },
      () => `the command to end; the screen was:\n${capture(session)}`,
      60_000
    )
    assert.match(final, /EXIT=0/)
    const lines = final.split("\n")
    // Redrawn in place: one frame line per platform above the summary, not one per update.
    assert.strictEqual(lines.filter((l) => /^YouTube\s+✔ https:\/\/youtube\.com\/watch\?v=/.test(l)).length, 1)
    assert.strictEqual(lines.filter((l) => /^YouTube\s+█/.test(l)).length, 0, "no stale progress line left")
    assert.match(final, /^YouTube\s+uploaded\s+\S+\s+https:\/\/youtube\.com\/watch\?v=/m)
    assert.match(final, /^Vimeo\s+uploaded\s+\d+\s+https:\/\/vimeo\.com\/\d+/m)
    assert.match(final, /^X\s+posted\s+\d+\s+https:\/\/x\.com\//m)
    for (const line of lines) assert.isAtMost([...line].length, 120)
  }, 120_000)
})
