import { assert, describe, it } from "@effect/vitest"
import { checkFlags as checkWith } from "../../src/cli/internal/flagCheck.js"
import { platformFlagKinds } from "../../src/cli/internal/platformFlags.js"
import { nearestKey } from "../../src/internal/request/nearestKey.js"
import { sampleMp4 } from "./helpers.js"

const checkFlags = (args: ReadonlyArray<string>) => checkWith(args, platformFlagKinds)

describe("flag values are checked naming the flag", () => {
  it("enumerated flags, in both spellings", () => {
    assert.strictEqual(
      checkFlags(["publish", sampleMp4, "--privacy", "secret"]),
      "--privacy must be one of public, unlisted, private; got \"secret\""
    )
    assert.include(checkFlags(["publish", sampleMp4, "--policy=fast"])!, "--policy must be one of fail-fast")
    assert.include(checkFlags(["tasks", "--status", "done"])!, "--status must be one of pending")
    assert.isUndefined(checkFlags(["publish", sampleMp4, "--privacy", "unlisted", "--vimeo-privacy=nobody"]))
  })

  it("numbers, files and the video argument", () => {
    assert.include(checkFlags(["tasks", "--limit", "ten"])!, "--limit must be a whole number of at least 1")
    assert.include(checkFlags(["sandbox", "--port", "-3"])!, "--port")
    assert.isUndefined(checkFlags(["sandbox", "--latency", "0"]))
    assert.include(checkFlags(["publish", "--request", "/nope/request.json"])!, "--request: no such file")
    assert.include(checkFlags(["publish", "-c", "x.json", "/nope/v.mp4"])!, "<file> (the video to publish)")
    // A flag's value is not the video argument; text flags take any value.
    assert.isUndefined(checkFlags(["publish", "--title", "/not/a/file", sampleMp4, "--detach", "--to", "youtube"]))
    assert.isUndefined(checkFlags(["status", "medusa_task_x", "--watch"]))
  })
})

describe("the --<platform>-video flags", () => {
  it("are booleans: the word after one is the video argument, not its value", () => {
    for (const flag of ["--facebook-video", "--linkedin-video", "--bluesky-video", "--mastodon-video", "--x-video"]) {
      assert.include(platformFlagKinds.booleans, flag.slice(2))
      assert.include(checkFlags(["publish", flag, "/nope/v.mp4"])!, "<file> (the video to publish)", flag)
      assert.isUndefined(checkFlags(["publish", flag, sampleMp4, "--to", "youtube"]), flag)
    }
  })
})

describe("nearestKey", () => {
  it("suggests only close keys, ignoring case, _ and -", () => {
    const known = ["max_concurrent_tasks", "max_wait", "max_retries", "max_delay", "retention"]
    assert.strictEqual(nearestKey("max_concurent_tasks", known), "max_concurrent_tasks")
    assert.strictEqual(nearestKey("maxWait", known), "max_wait")
    assert.strictEqual(nearestKey("max_retry", known), "max_retries")
    assert.strictEqual(nearestKey("retension", known), "retention")
    assert.strictEqual(nearestKey("titel", ["title", "tags"]), "title")
    assert.isUndefined(nearestKey("tiktok", ["youtube", "vimeo", "facebook", "x", "linkedin"]))
    assert.isUndefined(nearestKey("anything", []))
  })
})
