/**
 * Whether dist/ is missing or older than what it is built from (src/,
 * package.json, tsconfig.build.json, the build script): a walk of file
 * modification times, a few milliseconds.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
/** Written last by the build. */
const stamp = path.join(root, "dist", "cli", "bin.js")

/** Whether any file under `dir` changed after `time`. */
const changedSince = (dir, time) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory() ? changedSince(full, time) : fs.statSync(full).mtimeMs > time) return true
  }
  return false
}

export const isStale = () => {
  let built
  try {
    built = fs.statSync(stamp).mtimeMs
  } catch {
    return true
  }
  return ["package.json", "tsconfig.build.json", "scripts/build.mjs", "scripts/stale.mjs"].some((f) =>
    fs.statSync(path.join(root, f)).mtimeMs > built
  ) || changedSince(path.join(root, "src"), built)
}
