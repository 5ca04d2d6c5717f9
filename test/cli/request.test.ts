import { assert, describe, it } from "@effect/vitest"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { buildRequest, parsePlatforms, type PublishFlags } from "../../src/cli/internal/request.js"

const none = Option.none()
type Common = Omit<PublishFlags, "platform">
/** Platform flags by flag name: `Option.some(value)` for flags taking one, `true` for the others. */
type PlatformFlags = Readonly<Record<string, Option.Option<string> | boolean>>
const flags = (overrides: Partial<Common> & PlatformFlags): PublishFlags => {
  const common: Common = { file: none, to: none, request: none, policy: none }
  const platform: Record<string, Option.Option<string> | boolean> = {}
  for (const [key, value] of Object.entries(overrides)) {
    if (key in common) (common as Record<string, unknown>)[key] = value
    else platform[key] = value as Option.Option<string> | boolean
  }
  return { ...common, platform }
}

const ok = (result: ReturnType<typeof buildRequest>) => {
  if ("error" in result) throw new Error(result.error)
  return result.request as any
}

describe("--to", () => {
  it("accepts names in any case, twitter as x, and drops duplicates", () => {
    assert.deepStrictEqual(parsePlatforms("YouTube, twitter,x ,linkedin"), { platforms: ["youtube", "x", "linkedin"] })
  })
  it("names an unknown platform and lists the valid ones", () => {
    const r = parsePlatforms("youtube,tiktok")
    assert.isTrue("error" in r && r.error.includes("\"tiktok\"") && r.error.includes("linkedin"))
    assert.isTrue("error" in parsePlatforms(" , "))
  })
  it("takes accounts as <platform>:<account>; the flags' platform section stays for them", () => {
    assert.deepStrictEqual(parsePlatforms("youtube,facebook:brand,twitter:studio,facebook:brand"), {
      platforms: ["youtube", "facebook:brand", "x:studio"]
    })
    const bad = parsePlatforms("facebook:Brand!")
    assert.isTrue("error" in bad && bad.error.includes("facebook:brand!") && bad.error.includes("account name"))
    const r = ok(buildRequest(flags({
      file: Option.some("video.mp4"),
      to: Option.some("youtube,facebook:brand,facebook:studio"),
      title: Option.some("Launch"),
      message: Option.some("Out: {youtube_url}")
    })))
    assert.deepStrictEqual(r.platforms, ["youtube", "facebook:brand", "facebook:studio"])
    assert.deepStrictEqual(r.metadata.facebook, { message: "Out: {youtube_url}" })
    assert.isUndefined(r.metadata.vimeo)
  })
})

describe("buildRequest", () => {
  it("builds the request from flags: --title fills both hosts, sections only for chosen platforms", () => {
    const r = ok(buildRequest(flags({
      file: Option.some("video.mp4"),
      to: Option.some("youtube,vimeo,x"),
      title: Option.some("Launch"),
      privacy: Option.some("unlisted"),
      tags: Option.some("a, b,,c"),
      "x-text": Option.some("New: {youtube_url}"),
      message: Option.some("not chosen"),
      policy: Option.some("best-effort")
    })))
    assert.strictEqual(r.mediaFile, path.resolve("video.mp4"))
    assert.deepStrictEqual(r.platforms, ["youtube", "vimeo", "x"])
    assert.deepStrictEqual(r.metadata.youtube, { title: "Launch", privacy: "unlisted", tags: ["a", "b", "c"] })
    assert.deepStrictEqual(r.metadata.vimeo, { title: "Launch", privacy: "unlisted" })
    assert.deepStrictEqual(r.metadata.x, { text: "New: {youtube_url}" })
    assert.isUndefined(r.metadata.facebook, "--message without facebook in --to is dropped")
    assert.strictEqual(r.policy, "best-effort")
  })

  it("--youtube-caption <file>:<language>[:<name>] and --youtube-short fill metadata.youtube", () => {
    const r = ok(buildRequest(flags({
      file: Option.some("video.mp4"),
      title: Option.some("T"),
      "youtube-caption": Option.some("subs/talk.vtt:pt-BR:Português: legendas"),
      "youtube-short": true
    })))
    assert.deepStrictEqual(r.platforms, ["youtube", "vimeo"])
    assert.deepStrictEqual(r.metadata.youtube.captions, [
      { file: path.resolve("subs/talk.vtt"), language: "pt-BR", name: "Português: legendas" }
    ])
    assert.strictEqual(r.metadata.youtube.short, true)
    const bare = ok(buildRequest(flags({
      file: Option.some("video.mp4"),
      title: Option.some("T"),
      "youtube-caption": Option.some("a:b.srt:en")
    })))
    assert.deepStrictEqual(bare.metadata.youtube.captions, [{ file: path.resolve("a:b.srt"), language: "en" }])
  })

  it("caption files in a request file are resolved against its directory", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-captions-"))
    const file = path.join(dir, "request.json")
    fs.writeFileSync(
      file,
      JSON.stringify({
        mediaFile: "v.mp4",
        platforms: ["youtube"],
        metadata: { youtube: { title: "T", captions: [{ file: "en.srt", language: "en" }] } }
      })
    )
    const r = ok(buildRequest(flags({ request: Option.some(file) })))
    assert.deepStrictEqual(r.metadata.youtube.captions, [{ file: path.join(dir, "en.srt"), language: "en" }])
    // An entry of the wrong shape is left for the decoder, which names it.
    fs.writeFileSync(
      file,
      JSON.stringify({
        mediaFile: "v.mp4",
        platforms: ["youtube"],
        metadata: { youtube: { title: "T", captions: ["x"] } }
      })
    )
    const bad = buildRequest(flags({ request: Option.some(file) }))
    assert.include("error" in bad ? bad.error : "", "metadata.youtube.captions[0]: expected an object")
  })

  it("without --to, the platforms are those the flags describe", () => {
    const r = ok(buildRequest(flags({
      file: Option.some("v.mp4"),
      title: Option.some("T"),
      "linkedin-text": Option.some("{youtube_url}")
    })))
    assert.deepStrictEqual(r.platforms, ["youtube", "vimeo", "linkedin"])
  })

  it("--threads-text and the --mastodon-* flags fill their sections; --to takes threads and mastodon", () => {
    const r = ok(buildRequest(flags({
      file: Option.some("v.mp4"),
      to: Option.some("youtube,threads,Mastodon"),
      title: Option.some("T"),
      "threads-text": Option.some("New: {youtube_url}"),
      "mastodon-status": Option.some("Out now {youtube_url} #video"),
      "mastodon-video": true,
      "mastodon-visibility": Option.some("unlisted")
    })))
    assert.deepStrictEqual(r.platforms, ["youtube", "threads", "mastodon"])
    assert.deepStrictEqual(r.metadata.threads, { text: "New: {youtube_url}" })
    assert.deepStrictEqual(r.metadata.mastodon, {
      status: "Out now {youtube_url} #video",
      attachVideo: true,
      visibility: "unlisted"
    })
    const inferred = ok(buildRequest(flags({ file: Option.some("v.mp4"), "threads-text": Option.some("hi") })))
    assert.deepStrictEqual(inferred.platforms, ["threads"])
  })

  it("the --<platform>-video flags: video: true for Facebook and LinkedIn, attachVideo: true for Bluesky", () => {
    const r = ok(buildRequest(flags({
      file: Option.some("v.mp4"),
      to: Option.some("youtube,facebook,linkedin,bluesky"),
      title: Option.some("T"),
      message: Option.some("Watch {youtube_url}"),
      "facebook-video": true,
      "linkedin-text": Option.some("Out now"),
      "linkedin-video": true,
      "bluesky-text": Option.some("New #video"),
      "bluesky-video": true
    })))
    assert.deepStrictEqual(r.metadata.facebook, { message: "Watch {youtube_url}", video: true })
    assert.deepStrictEqual(r.metadata.linkedin, { text: "Out now", video: true })
    assert.deepStrictEqual(r.metadata.bluesky, { text: "New #video", attachVideo: true })
    // Absent (false) flags add nothing; a flag alone beside a request file's section only adds its field.
    const plain = ok(buildRequest(flags({
      file: Option.some("v.mp4"),
      to: Option.some("facebook,linkedin,bluesky"),
      message: Option.some("m"),
      "facebook-video": false,
      "linkedin-text": Option.some("l"),
      "bluesky-text": Option.some("b")
    })))
    assert.deepStrictEqual(plain.metadata.facebook, { message: "m" })
    assert.deepStrictEqual(plain.metadata.linkedin, { text: "l" })
    assert.deepStrictEqual(plain.metadata.bluesky, { text: "b" })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-request-"))
    const file = path.join(dir, "request.json")
    fs.writeFileSync(
      file,
      JSON.stringify({
        mediaFile: "clip.mp4",
        platforms: ["linkedin", "bluesky"],
        metadata: { linkedin: { text: "from file" }, bluesky: { text: "from file", alt: "a rocket" } }
      })
    )
    const merged = ok(buildRequest(flags({
      request: Option.some(file),
      "linkedin-video": true,
      "bluesky-video": true
    })))
    assert.deepStrictEqual(merged.metadata.linkedin, { text: "from file", video: true })
    assert.deepStrictEqual(merged.metadata.bluesky, { text: "from file", alt: "a rocket", attachVideo: true })
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("merges a --request file: its relative paths resolve against its directory, flags win", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-request-"))
    const file = path.join(dir, "request.json")
    fs.writeFileSync(
      file,
      JSON.stringify({
        mediaFile: "media/clip.mp4",
        platforms: ["youtube", "twitter"],
        metadata: { youtube: { title: "From file", thumbnail: "media/thumb.jpg" }, twitter: { text: "file text" } }
      })
    )
    const r = ok(buildRequest(flags({ request: Option.some(file), title: Option.some("From flag") })))
    assert.strictEqual(r.mediaFile, path.join(dir, "media/clip.mp4"))
    assert.deepStrictEqual(r.platforms, ["youtube", "twitter"])
    assert.deepStrictEqual(r.metadata.youtube, { title: "From flag", thumbnail: path.join(dir, "media/thumb.jpg") })
    assert.deepStrictEqual(r.metadata.x, { text: "file text" })
    const withFile = ok(buildRequest(flags({ request: Option.some(file), file: Option.some("other.mp4") })))
    assert.strictEqual(withFile.mediaFile, path.resolve("other.mp4"))
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("reports a bad request file with its name and the JSON position", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-request-"))
    const file = path.join(dir, "broken.json")
    fs.writeFileSync(file, "{\n  \"mediaFile\": \"a.mp4\",\n  \"platforms\": [\"youtube\",]\n}")
    const r = buildRequest(flags({ request: Option.some(file) }))
    assert.isTrue("error" in r)
    if ("error" in r) {
      assert.include(r.error, file)
      assert.match(r.error, /line 3, column \d+/)
    }
    const missing = buildRequest(flags({ request: Option.some(path.join(dir, "nope.json")) }))
    assert.isTrue("error" in missing && missing.error.includes("ENOENT"))
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("decodes the merged request like a facade request: nothing in the file is replaced or guessed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-request-"))
    const file = (name: string, value: unknown) => {
      const f = path.join(dir, name)
      fs.writeFileSync(f, JSON.stringify(value))
      return f
    }
    const error = (
      result: ReturnType<typeof buildRequest>
    ) => ("error" in result ? result.error : assert.fail("accepted"))
    const metadata = { youtube: { title: "T" }, facebook: { message: "m" } }
    // A string is not a list of platforms: refused, not replaced by the metadata's platforms.
    const asString = error(buildRequest(flags({
      request: Option.some(file("string.json", { mediaFile: "v.mp4", platforms: "youtube", metadata }))
    })))
    assert.include(asString, "string.json")
    assert.include(asString, "platforms: expected an array of platform ids")
    assert.include(asString, "got \"youtube\"")
    // Without platforms in the file (and no --to), they are required, as for the facade.
    const without = error(buildRequest(flags({
      request: Option.some(file("none.json", { mediaFile: "v.mp4", metadata }))
    })))
    assert.include(without, "platforms: is required")
    assert.include(without, "--to")
    // …and --to still chooses them.
    const chosen = ok(buildRequest(flags({
      request: Option.some(file("none.json", { mediaFile: "v.mp4", metadata: { youtube: { title: "T" } } })),
      to: Option.some("youtube")
    })))
    assert.deepStrictEqual(chosen.platforms, ["youtube"])
    // A section that is not an object stays as it is for the decoder, even when a flag targets it.
    const section = error(buildRequest(flags({
      request: Option.some(
        file("section.json", { mediaFile: "v.mp4", platforms: ["youtube"], metadata: { youtube: "T" } })
      ),
      title: Option.some("X")
    })))
    assert.include(section, "metadata.youtube: expected an object")
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("says how to fix a missing video or platform", () => {
    const noFile = buildRequest(flags({ to: Option.some("youtube"), title: Option.some("T") }))
    assert.isTrue("error" in noFile && noFile.error.includes("first argument"))
    const noPlatform = buildRequest(flags({ file: Option.some("v.mp4") }))
    assert.isTrue("error" in noPlatform && noPlatform.error.includes("--to"))
  })
})
