/**
 * Reading `--at` times: ISO 8601 with and without an offset, local times in
 * a time zone (DST included), relative times, and the refusals.
 */
import { assert, describe, it } from "@effect/vitest"
import { describeTime, parseTime } from "../../src/internal/planning/time.js"

/** Wednesday 2026-01-14 15:30 UTC (16:30 in Paris, winter time). */
const now = Date.UTC(2026, 0, 14, 15, 30)

const at = (text: string, zone = "Europe/Paris", from = now): number => {
  const result = parseTime(text, zone, from)
  if ("error" in result) throw new Error(result.error)
  return result.at
}

describe("parseTime", () => {
  it("ISO 8601 with an offset or Z is absolute, whatever the zone", () => {
    assert.strictEqual(at("2030-01-31T09:00:00Z"), Date.UTC(2030, 0, 31, 9))
    assert.strictEqual(at("2030-01-31T09:00+02:00", "America/New_York"), Date.UTC(2030, 0, 31, 7))
  })
  it("ISO 8601 without an offset is read in the zone (winter and summer time)", () => {
    assert.strictEqual(at("2030-01-31T09:00"), Date.UTC(2030, 0, 31, 8))
    assert.strictEqual(at("2030-07-01 09:00"), Date.UTC(2030, 6, 1, 7))
    assert.strictEqual(at("2030-07-01 09:00", "America/Los_Angeles"), Date.UTC(2030, 6, 1, 16))
  })
  it("tomorrow, today, a weekday, a bare clock time, in N hours", () => {
    assert.strictEqual(at("tomorrow 09:00"), Date.UTC(2026, 0, 15, 8))
    assert.strictEqual(at("today 18:30"), Date.UTC(2026, 0, 14, 17, 30))
    assert.strictEqual(at("tomorrow 9am"), Date.UTC(2026, 0, 15, 8))
    // Wednesday → Friday; and "wednesday 09:00" (passed today) is next week's.
    assert.strictEqual(at("friday 09:00"), Date.UTC(2026, 0, 16, 8))
    assert.strictEqual(at("wed 09:00"), Date.UTC(2026, 0, 21, 8))
    assert.strictEqual(at("18:00"), Date.UTC(2026, 0, 14, 17))
    assert.strictEqual(at("in 2 hours"), now + 2 * 3_600_000)
    assert.strictEqual(at("in 30 min"), now + 30 * 60_000)
  })
  it("tomorrow across a DST change keeps the wall-clock time", () => {
    // Paris goes to summer time on 2026-03-29.
    assert.strictEqual(at("tomorrow 09:00", "Europe/Paris", Date.UTC(2026, 2, 28, 12)), Date.UTC(2026, 2, 29, 7))
  })
  it("an unknown time zone and an unreadable time are errors that say what to use", () => {
    const zone = parseTime("tomorrow 09:00", "Mars/Olympus", now)
    assert.isTrue("error" in zone && zone.error.includes("\"Mars/Olympus\"") && zone.error.includes("IANA"))
    const bad = parseTime("next blue moon", "UTC", now)
    assert.isTrue("error" in bad && bad.error.includes("\"next blue moon\"") && bad.error.includes("ISO 8601"))
    const hour = parseTime("25:00", "UTC", now)
    assert.isTrue("error" in hour)
  })
  it("describeTime gives UTC and the local wall-clock time", () => {
    assert.strictEqual(
      describeTime(Date.UTC(2030, 0, 31, 8), "Europe/Paris"),
      "2030-01-31T08:00:00.000Z (Thu 31 Jan 2030 09:00 Europe/Paris)"
    )
  })
})
