/**
 * Every relative link in README.md and docs/*.md resolves: the file exists,
 * and a `#fragment` names a heading of the target as GitHub renders its
 * anchor. Links inside fenced code blocks and inline code are not links.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..", "..")

/** The Markdown outside fenced code blocks and inline code spans. */
const prose = (markdown: string): string =>
  markdown
    .split("\n")
    .reduce<{ inFence: boolean; lines: Array<string> }>((acc, line) => {
      if (/^\s*(```|~~~)/.test(line)) return { inFence: !acc.inFence, lines: acc.lines }
      if (!acc.inFence) acc.lines.push(line.replace(/`[^`]*`/g, ""))
      return acc
    }, { inFence: false, lines: [] })
    .lines.join("\n")

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
export const slug = (heading: string): string =>
  heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")

/** The anchors of a Markdown file's headings, with GitHub's `-1`, `-2` suffixes for repeats. */
const anchorsOf = (markdown: string): Set<string> => {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  let inFence = false
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence
    const heading = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading === null) continue
    const base = slug(heading[1]!)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    anchors.add(count === 0 ? base : `${base}-${count}`)
  }
  return anchors
}

/** The broken relative links of `markdown`, read as the file `file` (relative to `base`). */
export const brokenLinks = (file: string, markdown: string, base: string = root): Array<string> => {
  const broken: Array<string> = []
  const dir = path.dirname(path.join(base, file))
  for (const match of prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // http:, https:, mailto:
    const [pathPart, fragment] = target.split("#", 2) as [string, string | undefined]
    const resolved = pathPart === "" ? path.join(base, file) : path.resolve(dir, decodeURIComponent(pathPart))
    if (!fs.existsSync(resolved)) {
      broken.push(`${file}: ${target} (no such file)`)
      continue
    }
    if (fragment !== undefined && fragment !== "" && resolved.endsWith(".md")) {
      const targetText = pathPart === "" ? markdown : fs.readFileSync(resolved, "utf8")
      if (!anchorsOf(targetText).has(fragment)) {
        broken.push(`${file}: ${target} (no heading with that anchor in ${path.relative(base, resolved)})`)
      }
    }
  }
  return broken
}

const documents = [
  "README.md",
  ...fs.readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)
]

describe("README and docs links", () => {
  it("headings become GitHub's anchors", () => {
    assert.strictEqual(slug("`medusa.runner` (PostgreSQL stores)"), "medusarunner-postgresql-stores")
    assert.strictEqual(slug("Durable engines (`npm run bench:durable`)"), "durable-engines-npm-run-benchdurable")
    assert.strictEqual(slug("`find` gets the intent's time"), "find-gets-the-intents-time")
  })

  it("finds a missing file, a missing anchor, and ignores code", () => {
    const text = [
      "[ok](docs/cli.md#exit-codes) [web](https://example.com/x) [self](#top)",
      "[gone](docs/nothing.md) [anchor](docs/cli.md#no-such-heading)",
      "`[code](nowhere.md)`",
      "```",
      "[fenced](nowhere.md)",
      "```",
      "# Top"
    ].join("\n")
    assert.deepStrictEqual(brokenLinks("README.md", text), [
      "README.md: docs/nothing.md (no such file)",
      "README.md: docs/cli.md#no-such-heading (no heading with that anchor in docs/cli.md)"
    ])
  })

  it("every relative link of README.md and docs/*.md resolves", () => {
    assert.isAbove(documents.length, 5)
    const broken = documents.flatMap((file) => brokenLinks(file, fs.readFileSync(path.join(root, file), "utf8")))
    assert.deepStrictEqual(broken, [])
  })
})
