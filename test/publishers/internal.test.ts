/**
 * Unit tests of the publishers' pure helpers: Graph usage headers and error
 * codes, text matching, time parsing, rate-limit waits.
 */
import * as Headers from "@effect/platform/Headers"
import { describe, expect, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import * as PostOnce from "../../src/internal/http/postOnce.js"
import { classifyGraphFailure, parseUsage } from "../../src/platforms/facebook/internal/graph.js"
import * as Template from "../../src/Template.js"

const graph = (code: number, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  classifyGraphFailure({
    status: 400,
    headers: Headers.fromInput(headers),
    body: { error: { code, message: `(#${code}) sandbox`, ...extra } },
    permission: "pages_manage_posts",
    now: 1_000_000,
    fallbackWaitMillis: 300_000
  })

describe("Graph helpers", () => {
  it("reads the highest usage of both headers and the BUC time to regain access", () => {
    const usage = parseUsage(Headers.fromInput({
      "x-app-usage": JSON.stringify({ call_count: 12, total_cputime: 3, total_time: 4 }),
      "x-business-use-case-usage": JSON.stringify({
        "123": [{
          type: "pages",
          call_count: 95,
          total_cputime: 20,
          total_time: 30,
          estimated_time_to_regain_access: 7
        }]
      })
    }))
    expect(usage).toEqual({ percent: 95, regainMillis: 7 * 60_000 })
    expect(parseUsage(Headers.empty)).toBeUndefined()
    expect(parseUsage(Headers.fromInput({ "x-app-usage": "not json" }))).toBeUndefined()
  })

  it.prop("every code in 200–299 is a missing permission", [FastCheck.integer({ min: 200, max: 299 })], ([code]) => {
    const verdict = graph(code)
    return verdict.kind === "fail" && verdict.error.reason === "permission_missing"
  })

  it("rate-limit codes retry after the usage hint, else the fallback", () => {
    for (const code of [4, 17, 32, 341, 613, 80001]) {
      const verdict = graph(code)
      expect(verdict.kind).toBe("retry")
      expect(verdict.waitMillis).toBe(300_000)
    }
    const hinted = graph(80001, {}, {
      "x-business-use-case-usage": JSON.stringify({ "1": [{ call_count: 100, estimated_time_to_regain_access: 12 }] })
    })
    expect(hinted.waitMillis).toBe(12 * 60_000)
  })

  it("a 5xx without a Graph code is an unknown outcome; codes 1 and 2 are retried", () => {
    expect(
      classifyGraphFailure({
        status: 502,
        headers: Headers.empty,
        body: undefined,
        permission: "p",
        now: 0,
        fallbackWaitMillis: 0
      }).kind
    ).toBe("unknown")
    expect(graph(1).kind).toBe("retry")
    expect(graph(2).kind).toBe("retry")
  })
})

describe("post helpers", () => {
  it("texts match with links and spacing normalised (X returns t.co links)", () => {
    expect(PostOnce.sameText("Watch https://youtu.be/abc  now ", "Watch https://t.co/xyz now")).toBe(true)
    expect(PostOnce.sameText("Watch now", "Watch later")).toBe(false)
  })

  it("parses Graph, ISO, UNIX-second and millisecond times", () => {
    expect(PostOnce.parseTime("2026-11-21T20:38:11+0000")).toBe(Date.UTC(2026, 10, 21, 20, 38, 11))
    expect(PostOnce.parseTime("2026-11-21T20:38:11.000Z")).toBe(Date.UTC(2026, 10, 21, 20, 38, 11))
    expect(PostOnce.parseTime(1_795_000_000)).toBe(1_795_000_000_000)
    expect(PostOnce.parseTime(1_795_000_000_123)).toBe(1_795_000_000_123)
    expect(PostOnce.parseTime("soon")).toBeUndefined()
  })

  it("Retry-After in seconds or as an HTTP date", () => {
    expect(PostOnce.retryAfterMillis("120", 0)).toBe(120_000)
    expect(PostOnce.retryAfterMillis(new Date(90_000).toUTCString(), 30_000)).toBe(60_000)
    expect(PostOnce.retryAfterMillis(undefined, 0)).toBeUndefined()
  })

  it("fills only the host variables left in a template", () => {
    expect(PostOnce.fillPlaceholders("{youtube_url} {x} {vimeo_video_id}")).toBe(
      `${Template.placeholders.youtube_url} {x} ${Template.placeholders.vimeo_video_id}`
    )
    // Already-filled text passes through.
    expect(PostOnce.fillPlaceholders("https://vimeo.com/1 {not a variable}")).toBe(
      "https://vimeo.com/1 {not a variable}"
    )
  })
})
