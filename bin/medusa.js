#!/usr/bin/env node
// The installed `medusa` command. The package ships TypeScript sources, so this
// launcher registers tsx's loader in this same process (no second process: signals,
// stdin and the exit code stay the CLI's own) and runs src/cli/bin.ts.
//
// `medusa [command...] --help` is answered from the pre-rendered src/cli/help.json
// without loading tsx or Effect at all: that is what keeps help under ~100 ms.
import { readFileSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = new URL("../", import.meta.url)
const args = process.argv.slice(2)

// Same rule as src/cli/internal/fastHelp.ts (kept in step by test/cli/help.test.ts).
const fastHelp = () => {
  if (process.env.MEDUSA_NO_FAST_HELP || args.length === 0) return undefined
  const last = args[args.length - 1]
  if (last !== "--help" && last !== "-h") return undefined
  let texts
  try {
    texts = JSON.parse(readFileSync(new URL("src/cli/help.json", root), "utf8"))
  } catch {
    return undefined
  }
  const key = args.slice(0, -1).join(" ")
  return Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : undefined
}

const help = fastHelp()
if (help !== undefined) {
  process.stdout.write(help)
} else {
  let register
  try {
    ;({ register } = await import("tsx/esm/api"))
  } catch {
    process.stderr.write(
      "medusa: cannot load tsx, which runs Medusa's TypeScript sources. Install it beside medusa: npm install tsx\n"
    )
    process.exit(2)
  }
  register()
  await import(pathToFileURL(fileURLToPath(new URL("src/cli/bin.ts", root))).href)
}
