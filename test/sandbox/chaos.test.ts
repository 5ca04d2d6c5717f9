/**
 * A seeded slice of `npm run bench:chaos` in the test suite: a few runs of
 * random faults (every kind the sandbox has) against both hosts and the six
 * publishers (some tasks posting to Facebook and LinkedIn as native videos,
 * some attaching the video on Mastodon), several publishes at once, held to
 * the campaign's targets.
 */
import { assert, describe, it } from "@effect/vitest"
import { campaign, faultKinds, summaryLine } from "../../bench/chaos.js"

describe("chaos campaign (seeded slice)", () => {
  it("nothing hangs, no defect, every stored video is sha256-exact, nothing twice, no orphan, bounded re-sending", {
    timeout: 90_000
  }, async () => {
    const summary = await campaign({ seed: 21, runs: 6, tasks: 2, hangSeconds: 60 })
    const line = summaryLine(summary)
    assert.strictEqual(summary.runs, 6, line)
    assert.strictEqual(summary.hung, 0, line)
    assert.strictEqual(summary.defects, 0, line)
    assert.strictEqual(summary.sha256Mismatch, 0, line)
    assert.isAbove(summary.sha256Equal, 0, line)
    assert.strictEqual(summary.duplicates, 0, line)
    assert.strictEqual(summary.orphans, 0, line)
    assert.isAtMost(summary.maxResentRatio, 0.05, line)
    // The slice arms faults of most kinds; the full campaign covers all of them.
    assert.isAtLeast(faultKinds.filter((k) => summary.faultKinds[k]! > 0).length, 4, line)
    // It reaches the newer publishers and the native video uploads.
    assert.isAbove(summary.nativeTasks, 0, line)
    const armed = Object.keys(summary.faultRoutes)
    for (const route of ["threads/", "mastodon/", "facebook/videos"]) {
      assert.isTrue(armed.some((r) => r.startsWith(route)), `${route}: ${armed.join(" ")}`)
    }
  })
})
