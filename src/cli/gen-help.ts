/**
 * Regenerates `src/cli/help.json`, the pre-rendered help that `medusa --help`
 * prints without loading Effect: `npx tsx src/cli/gen-help.ts`. Run it after
 * changing a command's options or description (test/cli/help.test.ts fails
 * until you do).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { writeFileSync } from "node:fs"
import { renderAll } from "./internal/help.js"

const texts = await Effect.runPromise(renderAll)
writeFileSync(new URL("./help.json", import.meta.url), JSON.stringify(texts, null, 2) + "\n")
process.stdout.write(`wrote src/cli/help.json (${Object.keys(texts).length} commands)\n`)
