#!/usr/bin/env node
// The installed `medusa` command: checks the Node version, answers
// `medusa [command...] --help` from the pre-rendered help.json without loading
// anything else, and otherwise runs the compiled CLI (dist/cli/bin.js, built by
// `npm run build`; its chunks load only what each command uses).
import { readFileSync } from "node:fs"
import module from "node:module"

const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(
    `medusa: Node ${process.versions.node} is too old; Medusa needs Node 20.19 or later (22 and 24 are tested too). ` +
      "Install a current Node (https://nodejs.org) and run medusa again.\n"
  )
  process.exit(2)
}

const args = process.argv.slice(2)

// Same rule as src/cli/internal/fastHelp.ts (kept in step by test/cli/help.test.ts).
const fastHelp = () => {
  if (process.env.MEDUSA_NO_FAST_HELP || args.length === 0) return undefined
  const last = args[args.length - 1]
  if (last !== "--help" && last !== "-h") return undefined
  let texts
  for (const file of ["../dist/cli/help.json", "../src/cli/help.json"]) {
    try {
      texts = JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8"))
      break
    } catch {
      // a checkout that is not built yet has only the source's copy
    }
  }
  if (texts === undefined) return undefined
  const key = args.slice(0, -1).join(" ")
  return Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : undefined
}

const help = fastHelp()
if (help !== undefined) {
  process.stdout.write(help)
} else {
  // Node 22.1 and later keep V8's compiled code between runs (in the OS temp folder): much of a command's start-up is
  // compiling the CLI's JavaScript. Node 20 has no such cache.
  module.enableCompileCache?.()
  try {
    await import("../dist/cli/bin.js")
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/cli/bin.js")) {
      process.stderr.write(
        "medusa: the compiled CLI (dist/cli/bin.js) is missing. In a checkout of Medusa, run `npm run build` first " +
          "(or `npm run medusa -- <args>`, which builds when needed).\n"
      )
      process.exit(2)
    }
    throw error
  }
}
