import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as fc from "fast-check"
import * as Template from "../../src/Template.js"

const escape = (s: string) => s.replace(/\{/g, "{{").replace(/\}/g, "}}")

describe("Template", () => {
  it("fills variables and keeps escaped braces", () => {
    assert.strictEqual(
      Template.fill("New: {youtube_url} and {{literal}} {vimeo_video_id}", {
        youtube_url: "https://youtube.com/watch?v=abc",
        vimeo_video_id: "42"
      }),
      "New: https://youtube.com/watch?v=abc and {literal} 42"
    )
  })

  it("escaped text round-trips through fill", () => {
    fc.assert(fc.property(fc.string(), (s) => Template.fill(escape(s), {}) === s))
  })

  it("filling replaces exactly the variables used", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string().map((s) => ({ text: s })), fc.constantFrom(...Template.variables).map((v) => ({ v })))
        ),
        fc.record({
          youtube_url: fc.string(),
          youtube_video_id: fc.string(),
          vimeo_url: fc.string(),
          vimeo_video_id: fc.string()
        }),
        (parts, values) => {
          const template = parts.map((p) => ("text" in p ? escape(p.text) : `{${p.v}}`)).join("")
          const expected = parts.map((p) => ("text" in p ? p.text : values[p.v])).join("")
          return Template.fill(template, values) === expected
        }
      )
    )
  })

  it("reports syntax errors with their position", () => {
    const parsed = Template.parse("Watch {youtube_url")
    assert.ok(Either.isLeft(parsed))
    assert.include(parsed.left.message, "unclosed \"{\" at character 7")
    assert.ok(Either.isLeft(Template.parse("a {} b")))
  })

  it("validation names the platform, the variable and the variables available", () => {
    const [issue] = Template.validate("Also on {vimeo_url}", {
      platform: "x",
      path: ["metadata", "x", "text"],
      hosts: ["youtube"]
    })
    assert.strictEqual(issue!.location, "metadata.x.text")
    assert.strictEqual(
      issue!.message,
      "x template uses {vimeo_url}, but vimeo is not among the selected platforms; available: {youtube_url}, {youtube_video_id}"
    )
    const [unknown] = Template.validate("{tiktok_url}", {
      platform: "facebook",
      path: ["m"],
      hosts: ["youtube", "vimeo"]
    })
    assert.include(unknown!.message, "unknown variable {tiktok_url}")
    assert.include(unknown!.message, "{vimeo_video_id}")
    assert.deepStrictEqual(Template.validate("{{vimeo_url}}", { platform: "x", path: [], hosts: [] }), [])
  })

  it("placeholders have realistic lengths", () => {
    assert.strictEqual(Template.placeholders.youtube_url, "https://youtube.com/watch?v=XXXXXXXXXXX")
    assert.strictEqual(Template.placeholders.youtube_video_id.length, 11)
    assert.strictEqual(Template.fillPlaceholders("{youtube_url}"), Template.placeholders.youtube_url)
  })

  it("knows which hosts a publisher's templates need", () => {
    const metadata = { facebook: { message: "{youtube_url}", link: "{vimeo_url}" }, x: { text: "none" } } as never
    assert.deepStrictEqual([...Template.hostsNeeded("facebook", metadata)].sort(), ["vimeo", "youtube"])
    assert.deepStrictEqual(Template.hostsNeeded("x", metadata), [])
  })
})
