#!/usr/bin/env node
/**
 * `npm run medusa -- <args>` and `npm run demo`: the checkout's `medusa`
 * command (bin/medusa.js), built first when dist/ is missing or older than a
 * source file. The command runs in this process: one Node start-up, not one
 * for the staleness check and another for the command.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { isStale } from "./stale.mjs"

if (isStale()) {
  const build = spawnSync(process.execPath, [fileURLToPath(new URL("build.mjs", import.meta.url))], {
    stdio: "inherit"
  })
  if (build.status !== 0) process.exit(build.status ?? 1)
}
// The command sees itself as bin/medusa.js (`publish --detach` re-runs process.argv[1]).
process.argv[1] = fileURLToPath(new URL("../bin/medusa.js", import.meta.url))
await import("../bin/medusa.js")
