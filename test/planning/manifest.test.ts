/**
 * Batch manifests in JSON, YAML and CSV read to the same rows, with the
 * defaults merged under each row and relative paths resolved.
 */
import { assert, describe, it } from "@effect/vitest"
import { mergeRow, parseManifest } from "../../src/internal/planning/manifest.js"

const dir = "/videos"
const parsed = (text: string, file: string) => {
  const result = parseManifest(text, file, dir)
  if ("error" in result) throw new Error(result.error)
  return result
}

const expected: any = {
  defaults: {
    platforms: ["youtube", "x"],
    metadata: { youtube: { privacy: "unlisted" }, x: { text: "New: {youtube_url}" } }
  },
  videos: [
    { mediaFile: "/videos/ep1.mp4", metadata: { youtube: { title: "Episode 1", tags: ["a", "b"] } } },
    { mediaFile: "/abs/ep2.mp4", metadata: { youtube: { title: "Episode 2" }, x: { attachVideo: true } } }
  ]
}

describe("parseManifest", () => {
  it("a row's thumbnail and caption files are resolved against the manifest's directory", () => {
    const json = parsed(
      JSON.stringify({
        videos: [{
          mediaFile: "ep1.mp4",
          metadata: {
            youtube: {
              title: "Episode 1",
              thumbnail: "ep1.jpg",
              captions: [{ file: "ep1.en.srt", language: "en" }, { file: "/abs/ep1.fr.vtt", language: "fr" }]
            }
          }
        }]
      }),
      "s.json"
    )
    assert.deepStrictEqual(json.manifest.videos[0], {
      mediaFile: "/videos/ep1.mp4",
      metadata: {
        youtube: {
          title: "Episode 1",
          thumbnail: "/videos/ep1.jpg",
          captions: [{ file: "/videos/ep1.en.srt", language: "en" }, { file: "/abs/ep1.fr.vtt", language: "fr" }]
        }
      }
    } as any)
  })

  it("JSON, YAML and CSV give the same manifest", () => {
    const json = parsed(
      JSON.stringify({ ...expected, videos: [{ ...expected.videos[0], mediaFile: "ep1.mp4" }, expected.videos[1]] }),
      "s.json"
    )
    assert.deepStrictEqual(json.manifest, expected)
    const yaml = parsed(
      [
        "defaults:",
        "  platforms: [youtube, x]",
        "  metadata:",
        "    youtube: { privacy: unlisted }",
        "    x: { text: \"New: {youtube_url}\" }",
        "videos:",
        "  - mediaFile: ep1.mp4",
        "    metadata: { youtube: { title: Episode 1, tags: [a, b] } }",
        "  - mediaFile: /abs/ep2.mp4",
        "    metadata: { youtube: { title: Episode 2 }, x: { attachVideo: true } }"
      ].join("\n"),
      "s.yaml"
    )
    assert.deepStrictEqual(yaml.manifest, expected)
    const csv = parsed(
      [
        "# season 2",
        "mediaFile,platforms,youtube.privacy,youtube.title,youtube.tags,x.text,x.attachVideo",
        "*,youtube;x,unlisted,,,New: {youtube_url},",
        "ep1.mp4,,,Episode 1,a;b,,",
        "/abs/ep2.mp4,,,Episode 2,,,true"
      ].join("\n"),
      "s.csv"
    )
    assert.deepStrictEqual(csv.manifest, expected)
    assert.deepStrictEqual(csv.lines, [4, 5])
    // Every "post the video itself" field is a boolean cell.
    const videoFlags = parsed(
      [
        "mediaFile,facebook.video,linkedin.video,mastodon.attachVideo,bluesky.attachVideo",
        "ep3.mp4,true,false,true,true"
      ].join("\n"),
      "v.csv"
    )
    assert.deepStrictEqual(videoFlags.manifest.videos[0]!.metadata, {
      facebook: { video: true },
      linkedin: { video: false },
      mastodon: { attachVideo: true },
      bluesky: { attachVideo: true }
    })
  })

  it("names the file and the line of a syntax error, and refuses unknown formats and keys", () => {
    const yaml = parseManifest("videos:\n  - mediaFile: [a\n", "s.yaml", dir)
    assert.isTrue("error" in yaml && yaml.error.includes("s.yaml") && yaml.error.includes("line"))
    const txt = parseManifest("", "s.txt", dir)
    assert.isTrue("error" in txt && txt.error.includes(".json, .yaml (.yml) or .csv"))
    const key = parseManifest(JSON.stringify({ video: [] }), "s.json", dir)
    assert.isTrue("error" in key && key.error.includes("\"video\""))
  })
})

describe("mergeRow", () => {
  it("the row wins; metadata merges per platform, field by field; unselected defaults are dropped", () => {
    const merged = mergeRow(expected.defaults, {
      platforms: ["youtube"],
      metadata: { youtube: { title: "T", privacy: "public" } }
    })
    assert.deepStrictEqual(merged, {
      platforms: ["youtube"],
      metadata: { youtube: { privacy: "public", title: "T" } }
    })
  })
})
