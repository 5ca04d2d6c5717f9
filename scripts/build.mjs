#!/usr/bin/env node
/**
 * `npm run build`: the library compiled by tsc into dist/ (ESM JavaScript,
 * .d.ts with declaration maps, source maps), and the `medusa` command bundled
 * by esbuild into dist/cli/ (minified ES modules split at every dynamic
 * `import()`, so that a command loads only the chunks it uses).
 *
 * `--if-stale` builds only when dist/ is missing or older than a source file
 * (scripts/stale.mjs; `npm run demo` and `npm run medusa` check the same way).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { isStale } from "./stale.mjs"

const root = fileURLToPath(new URL("../", import.meta.url))
const dist = path.join(root, "dist")

if (process.argv.includes("--if-stale") && !isStale()) process.exit(0)

const started = Date.now()
fs.rmSync(dist, { recursive: true, force: true })

const tsc = spawnSync(process.execPath, [
  path.join(root, "node_modules/typescript/bin/tsc"),
  "-p",
  "tsconfig.build.json"
], {
  cwd: root,
  stdio: "inherit"
})
if (tsc.status !== 0) {
  process.stderr.write("build: tsc failed\n")
  process.exit(tsc.status ?? 1)
}

// The require() entry points: on a Node that loads ES modules through require() (20.19+, 22.12+) each hands over
// the ES module itself (one copy of every class for import and require alike); on another it says what to do
// instead of Node's ERR_REQUIRE_ESM. The version rule is src/internal/nodeSupport.ts, compiled to CommonJS for
// Nodes that are too old for the rest.
const esbuild = await import("esbuild")
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["src/internal/nodeSupport.ts"],
  outfile: "dist/require/nodeSupport.cjs",
  format: "cjs",
  platform: "node",
  target: "node12",
  logLevel: "warning"
})
const requireEntries = {
  index: "../index.js",
  promise: "../promise.js",
  sandbox: "../sandbox/index.js",
  server: "../Server.js"
}
for (const [name, target] of Object.entries(requireEntries)) {
  fs.writeFileSync(
    path.join(dist, "require", `${name}.cjs`),
    `"use strict"\nrequire("./nodeSupport.cjs").check("require")\nmodule.exports = require(${JSON.stringify(target)})\n`
  )
  fs.writeFileSync(path.join(dist, "require", `${name}.d.cts`), `export * from ${JSON.stringify(target)}\n`)
}

await esbuild.build({
  absWorkingDir: root,
  entryPoints: { bin: "src/cli/bin.ts" },
  outdir: "dist/cli",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  minify: process.env.MEDUSA_NO_MINIFY !== "1",
  legalComments: "none",
  logLevel: "warning",
  // Native modules and their optional native helpers stay packages; so do the
  // Google clients, which only `publish` to YouTube and `auth` load. The AT
  // Protocol client is bundled into its own chunk, loaded only to post to
  // Bluesky: as a package it is some 300 small CommonJS files whose
  // resolution and reads cost about twice the bundled chunk's load.
  external: [
    "better-sqlite3",
    "msgpackr-extract",
    "pg-native",
    "bufferutil",
    "utf-8-validate",
    "@googleapis/youtube",
    "google-auth-library"
  ],
  // Bundled CommonJS dependencies call require() for Node's built-in modules.
  banner: {
    js: "import{createRequire as __medusaRequire}from\"node:module\";const require=__medusaRequire(import.meta.url);"
  }
})
fs.copyFileSync(path.join(root, "src/cli/help.json"), path.join(dist, "cli/help.json"))
process.stderr.write(`build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
