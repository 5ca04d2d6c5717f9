/**
 * Schema's parse errors as a flat, readable list.
 *
 * @internal
 */
import * as ParseResult from "effect/ParseResult"

/**
 * Schema's flat issue list, made readable: an optional field of the wrong
 * shape is also reported as "Expected undefined" (dropped when a precise
 * issue exists), and a literal union reports each member (merged into one
 * "expected one of" message).
 *
 * @internal
 */
export const formatParseIssues = (error: ParseResult.ParseError): Array<ParseResult.ArrayFormatterIssue> => {
  const all = ParseResult.ArrayFormatter.formatErrorSync(error)
  const key = (path: ReadonlyArray<PropertyKey>) => path.map(String).join("\u0000")
  const kept = all.filter((i) =>
    !(i.message.startsWith("Expected undefined") &&
      all.some((o) => o !== i && o.path.length >= i.path.length && key(o.path.slice(0, i.path.length)) === key(i.path)))
  )
  const out: Array<ParseResult.ArrayFormatterIssue> = []
  const literal = /^Expected (".*"), actual (.*)$/s
  for (const i of kept) {
    const match = literal.exec(i.message)
    const previous = out[out.length - 1]
    const previousMatch = previous && key(previous.path) === key(i.path)
      ? /^expected one of (.*), got (.*)$/s.exec(previous.message)
      : null
    if (match && previous && previousMatch && previousMatch[2] === match[2]) {
      out[out.length - 1] = {
        ...previous,
        message: `expected one of ${previousMatch[1]}, ${match[1]}, got ${match[2]}`
      }
    } else if (match) {
      out.push({ ...i, message: `expected one of ${match[1]}, got ${match[2]}` })
    } else {
      out.push(i)
    }
  }
  return out.map((i) =>
    /^expected one of "[^"]*", got/.test(i.message)
      ? { ...i, message: i.message.replace(/^expected one of/, "expected") }
      : i
  )
}
