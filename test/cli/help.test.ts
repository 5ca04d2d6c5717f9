import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { commandPaths } from "../../src/cli/Cli.js"
import { helpKey } from "../../src/cli/internal/fastHelp.js"
import { renderAll } from "../../src/cli/internal/help.js"
import { root } from "./helpers.js"

const helpJson = path.join(root, "src/cli/help.json")
const texts = JSON.parse(fs.readFileSync(helpJson, "utf8")) as Record<string, string>

describe("help", () => {
  it.effect("help.json is what @effect/cli prints for every command (regenerate: npx tsx src/cli/gen-help.ts)", () =>
    Effect.gen(function*() {
      const rendered = yield* renderAll
      assert.deepStrictEqual(Object.keys(rendered).sort(), Object.keys(texts).sort())
      for (const key of Object.keys(rendered)) assert.strictEqual(texts[key], rendered[key], `help of "${key}"`)
    }))

  it("every command's help has a description with examples", () => {
    for (const p of commandPaths) {
      const text = texts[p.join(" ")]!.replace(/\u001b\[[0-9;]*m/g, "")
      assert.include(text, "USAGE", p.join(" "))
      if (p.length > 0 && !(p.length === 1 && (p[0] === "auth" || p[0] === "config"))) {
        assert.include(text, "Examples:", `examples in "${p.join(" ")}"`)
      }
    }
    assert.include(texts[""], "Exit codes: 0 success, 1 the task failed, 2 bad input or config, 130 interrupted.")
    assert.include(texts["publish"], "--config")
  })

  it("the fast path only answers a known command path followed by --help", () => {
    assert.strictEqual(helpKey(["--help"], texts), "")
    assert.strictEqual(helpKey(["-h"], texts), "")
    assert.strictEqual(helpKey(["auth", "check", "--help"], texts), "auth check")
    assert.strictEqual(helpKey(["publish", "video.mp4", "--help"], texts), undefined)
    assert.strictEqual(helpKey(["publish"], texts), undefined)
    assert.strictEqual(helpKey([], texts), undefined)
    assert.strictEqual(helpKey(["nope", "--help"], texts), undefined)
  })

  it("the bin/medusa.js launcher prints the same help without loading the CLI", () => {
    for (const args of [["--help"], ["publish", "--help"], ["auth", "youtube", "-h"]]) {
      const result = spawnSync(process.execPath, [path.join(root, "bin/medusa.js"), ...args], { encoding: "utf8" })
      assert.strictEqual(result.status, 0, result.stderr)
      assert.strictEqual(result.stdout, texts[args.slice(0, -1).join(" ")])
    }
  })

  it("the launcher refuses a Node older than 20.19, saying what to install", () => {
    for (const version of ["20.18.1", "18.20.4"]) {
      const pretend = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`
      const result = spawnSync(process.execPath, ["--import", pretend, path.join(root, "bin/medusa.js"), "tasks"], {
        encoding: "utf8"
      })
      assert.strictEqual(result.status, 2)
      assert.strictEqual(result.stdout, "")
      assert.include(result.stderr, `Node ${version} is too old; Medusa needs Node 20.19 or later`)
    }
  })
})
