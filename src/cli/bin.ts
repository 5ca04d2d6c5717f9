/**
 * The `medusa` entry point (`npm run medusa -- <args>`, and through
 * `bin/medusa.js` the installed command).
 *
 * `--help` is answered from the pre-rendered `help.json` without importing
 * Effect; the read commands (`tasks`, `status`, `config validate`) run
 * without building the `@effect/cli` app (`internal/fastRead.ts`); everything
 * else loads the full command line.
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { helpKey, type HelpTexts } from "./internal/fastHelp.js"

const args = process.argv.slice(2)

const readHelp = (): HelpTexts => {
  try {
    return JSON.parse(readFileSync(new URL("./help.json", import.meta.url), "utf8")) as HelpTexts
  } catch {
    return {}
  }
}

const texts = process.env["MEDUSA_NO_FAST_HELP"] ? {} : readHelp()
const key = helpKey(args, texts)
if (key !== undefined) {
  process.stdout.write(texts[key]!)
} else {
  const fast = process.env["MEDUSA_NO_FAST_READ"] ? undefined : await import("./internal/fastRead.js")
  const read = fast?.readCommand(args)
  if (fast !== undefined && read !== undefined) {
    fast.run(read)
  } else {
    const { main } = await import("./internal/main.js")
    main(process.argv)
  }
}
