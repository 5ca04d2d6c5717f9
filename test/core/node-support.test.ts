/**
 * Which Node versions Medusa runs on: the entry points' check
 * (src/internal/nodeSupport.ts; the `require()` entry points of the built
 * package run it before they load anything) and the `medusa` launcher's agree,
 * and each says what to install. The consumer check runs the built package on
 * a real Node 20.18.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { unsupported } from "../../src/internal/nodeSupport.js"
import { root, tsxLoader } from "../cli/helpers.js"

/** A preload that makes `process.versions.node` (and `process.features.require_module`) what the test says. */
const pretend = (version: string, requireModule?: boolean) =>
  `data:text/javascript,${
    encodeURIComponent(
      `Object.defineProperty(process.versions,"node",{value:${JSON.stringify(version)}});` +
        (requireModule === undefined ?
          "" :
          `Object.defineProperty(process.features,"require_module",{value:${requireModule}});`)
    )
  }`

describe("Node support", () => {
  it("refuses Node older than 20.19 for import and require, saying what to install", () => {
    for (const version of ["18.20.4", "20.0.0", "20.18.3"]) {
      for (const how of ["import", "require"] as const) {
        const message = unsupported(version, how)
        assert.include(message, `Medusa needs Node 20.19 or later (22 and 24 are tested too); this is Node ${version}.`)
        assert.include(message, "Install a current Node (https://nodejs.org)")
      }
    }
  })

  it("refuses require() only where Node cannot load ES modules through it", () => {
    for (const version of ["20.19.0", "20.20.2", "22.12.0", "22.23.5", "23.0.0", "24.22.3"]) {
      assert.isUndefined(unsupported(version, "import"), version)
      assert.isUndefined(unsupported(version, "require"), version)
    }
    for (const version of ["21.7.3", "22.0.0", "22.11.0"]) {
      assert.isUndefined(unsupported(version, "import"), version)
      assert.include(unsupported(version, "require"), `Node ${version} cannot load them through require()`)
      assert.include(unsupported(version, "require"), "await import(\"medusa/promise\")")
    }
    // Node's own answer wins where it gives one (22.0-22.11 with --experimental-require-module).
    assert.isUndefined(unsupported("22.11.0", "require", true))
    assert.include(unsupported("22.12.0", "require", false), "cannot load them through require()")
  })

  it("importing an entry point on Node 20.18 fails with the message before any dependency loads", () => {
    const entry = pathToFileURL(path.join(root, "src/promise.ts")).href
    const result = spawnSync(
      process.execPath,
      [
        "--import",
        tsxLoader,
        "--import",
        pretend("20.18.1"),
        "--input-type=module",
        "-e",
        `await import(${JSON.stringify(entry)}); console.log("loaded")`
      ],
      { encoding: "utf8" }
    )
    assert.notStrictEqual(result.status, 0)
    assert.strictEqual(result.stdout, "")
    assert.include(result.stderr, "Error: Medusa needs Node 20.19 or later")
    assert.include(result.stderr, "nodeSupport")
    const fine = spawnSync(
      process.execPath,
      [
        "--import",
        tsxLoader,
        "--input-type=module",
        "-e",
        `await import(${JSON.stringify(entry)}); console.log("loaded")`
      ],
      { encoding: "utf8" }
    )
    assert.strictEqual(fine.stdout, "loaded\n", fine.stderr)
  })

  it("the medusa launcher refuses exactly the versions the entry points refuse", () => {
    for (const version of ["18.20.4", "20.18.1", "20.19.0", "22.11.0"]) {
      const result = spawnSync(
        process.execPath,
        ["--import", pretend(version), path.join(root, "bin/medusa.js"), "--help"],
        { encoding: "utf8" }
      )
      const refused = unsupported(version, "import") !== undefined
      assert.strictEqual(result.status, refused ? 2 : 0, `${version}: ${result.stderr}`)
      if (refused) assert.include(result.stderr, `Node ${version} is too old; Medusa needs Node 20.19 or later`)
    }
  })
})
