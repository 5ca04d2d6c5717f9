/**
 * `npm run bench:cli`: start-up time of `medusa --help`, the median of several
 * runs, for the installed launcher (`bin/medusa.js`, plain Node: help comes
 * from the pre-rendered help.json) and for `node --import tsx src/cli/bin.ts`
 * (what `npm run medusa` runs: tsx's loader starts before anything else), plus
 * the full `@effect/cli` path (`MEDUSA_NO_FAST_HELP=1`) that a command pays
 * before it does any work. Target: ≤ 400 ms for `medusa --help`.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
const runs = Number(process.env["RUNS"] ?? 7)

const time = (args: ReadonlyArray<string>, env: Record<string, string> = {}): number => {
  const start = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (result.status !== 0 || !result.stdout.includes("USAGE")) {
    throw new Error(`${args.join(" ")} failed (${result.status}): ${result.stderr}`)
  }
  return ms
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const measure = (label: string, args: ReadonlyArray<string>, env?: Record<string, string>) => {
  time(args, env) // warm the file cache and tsx's transform cache
  const samples = Array.from({ length: runs }, () => time(args, env))
  return { label, median: median(samples), min: Math.min(...samples), max: Math.max(...samples) }
}

const rows = [
  measure("node (no-op baseline)", ["-e", "process.stdout.write('USAGE')"]),
  measure("bin/medusa.js --help", ["bin/medusa.js", "--help"]),
  measure("bin/medusa.js publish --help", ["bin/medusa.js", "publish", "--help"]),
  measure("node --import tsx src/cli/bin.ts --help", ["--import", "tsx", "src/cli/bin.ts", "--help"]),
  measure("  same, full @effect/cli (no fast path)", ["--import", "tsx", "src/cli/bin.ts", "--help"], {
    MEDUSA_NO_FAST_HELP: "1"
  })
]

const target = 400
process.stdout.write(`medusa --help start-up, median of ${runs} runs (ms)\n\n`)
process.stdout.write(`${"command".padEnd(44)}  ${"median".padStart(7)}  ${"min".padStart(7)}  ${"max".padStart(7)}\n`)
for (const r of rows) {
  process.stdout.write(
    `${r.label.padEnd(44)}  ${r.median.toFixed(0).padStart(7)}  ${r.min.toFixed(0).padStart(7)}  ${
      r.max.toFixed(0).padStart(7)
    }\n`
  )
}
const launcher = rows[1]!.median
process.stdout.write(
  `\nbin/medusa.js --help: ${launcher.toFixed(0)} ms (target ≤ ${target} ms: ${
    launcher <= target ? "met" : "NOT met"
  })\n`
)
