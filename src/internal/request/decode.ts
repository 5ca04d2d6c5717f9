/**
 * The one decoder of a publish request's shape, used by the engine's
 * validation (the Effect API and the Promise facade), by the CLI for its
 * `--request` file merged with its flags, and by the HTTP server: a field of
 * the wrong type is an error with its path, an unknown field an error with
 * the nearest known one. Nothing is guessed or replaced: what the request does
 * not say well is refused.
 *
 * @internal
 */
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { all as allPlatforms, parseTarget } from "../../PlatformId.js"
import { Issue } from "../../PublishError.js"
import { PublishRequest } from "../../PublishRequest.js"
import { formatParseIssues } from "./formatIssues.js"
import { nearestKey } from "./nearestKey.js"

/**
 * A platform's alias (`twitter` for `x`) is accepted as a metadata key;
 * renamed to the id before decoding so that Schema sees one spelling.
 *
 * @internal
 */
export const normalise = (input: unknown): { readonly input: unknown; readonly issues: ReadonlyArray<Issue> } => {
  if (!Predicate.isRecord(input) || !Predicate.isRecord(input.metadata)) return { input, issues: [] }
  const metadata: Record<string, unknown> = { ...input.metadata }
  const issues: Array<Issue> = []
  let renamed = false
  // `twitter` and `twitter:studio` become `x` and `x:studio`.
  for (const name of Object.keys(metadata)) {
    const target = parseTarget(name)
    if (target === undefined || target === name) continue
    renamed = true
    const value = metadata[name]
    delete metadata[name]
    if (target in metadata) {
      issues.push(
        new Issue({
          path: ["metadata", name],
          message: `both metadata.${name} and metadata.${target} are given; they name the same platform, keep only one`
        })
      )
    } else {
      metadata[target] = value
    }
  }
  return renamed ? { input: { ...input, metadata }, issues } : { input, issues: [] }
}

const kinds: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Expected string, actual (.*)$/s, "a string"],
  [/^Expected number, actual (.*)$/s, "a number"],
  [/^Expected boolean, actual (.*)$/s, "true or false"],
  [/^Expected ReadonlyArray<string>, actual (.*)$/s, "an array of strings"],
  [/^Expected ReadonlyArray<.*>, actual (.*)$/s, "an array"],
  [/^Expected (?:@medusa\/\w+|Struct) \(Encoded side\), actual (.*)$/s, "an object"]
]

/** What a field of the request is, for "expected …" messages where Schema names a type. */
const expectedAt = (path: ReadonlyArray<string | number>, fallback: string): string => {
  const last = path[path.length - 1]
  if (path.length === 1 && last === "platforms") {
    return `an array of platform ids (${allPlatforms.join(", ")}), such as ["youtube", "x"]`
  }
  if (path.length === 0) return "a JSON object with mediaFile, platforms and metadata"
  if (path.length === 1 && last === "metadata") {
    return "an object with a section per platform, such as { \"youtube\": { \"title\": \"…\" } }"
  }
  if (path.length === 2 && path[0] === "metadata") return `an object (the ${String(last)} section)`
  return fallback
}

/**
 * ParseError → one Issue per problem, each with its path and a message that
 * says what was expected and what was given.
 *
 * @internal
 */
export const issuesFromParseError = (
  error: ParseResult.ParseError,
  prefix: ReadonlyArray<string | number> = []
): ReadonlyArray<Issue> => {
  const out: Array<Issue> = []
  for (const i of formatParseIssues(error)) {
    const path = [...prefix, ...i.path.map((p) => (typeof p === "number" ? p : String(p)))]
    let message: string
    if (i._tag === "Missing") {
      message = "is required but missing"
    } else if (i._tag === "Unexpected") {
      const known = [...i.message.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)
      const key = String(path[path.length - 1])
      const near = nearestKey(key, known)
      message = `is not a known field; ${
        near !== undefined ? `did you mean ${JSON.stringify(near)}?` : `known fields there: ${known.join(", ")}`
      }`
    } else {
      const kind = kinds.find(([re]) => re.test(i.message))
      // A password's value is never echoed.
      const given = path[path.length - 1] === "password" ? "" : `, got ${kind?.[0].exec(i.message)![1]}`
      message = kind === undefined ?
        i.message :
        `expected ${expectedAt(path, kind[1])}${given}`
    }
    // A union of kinds (a string or a number) reports each member: one message.
    const previous = out[out.length - 1]
    const both = /^expected (.*), got (.*)$/s
    const a = previous !== undefined && previous.location === new Issue({ path, message }).location ?
      both.exec(previous.message) :
      null
    const b = both.exec(message)
    if (a && b && a[2] === b[2]) {
      out[out.length - 1] = new Issue({ path, message: `expected ${a[1]} or ${b[1]}, got ${b[2]}` })
      continue
    }
    out.push(new Issue({ path, message }))
  }
  return out
}

const decode = Schema.decodeUnknownEither(PublishRequest)

/**
 * Decodes a request's shape: every field's type, unknown fields refused.
 * Cross-field rules (platforms against metadata, templates, the media file,
 * each platform's own) are `validateRequest`'s.
 *
 * @internal
 */
export const decodeRequest = (
  input: unknown
): { readonly input: unknown; readonly decoded: Either.Either<PublishRequest, ReadonlyArray<Issue>> } => {
  const normalised = normalise(input)
  const result = decode(normalised.input, { errors: "all", onExcessProperty: "error" })
  const issues = [...normalised.issues, ...(Either.isLeft(result) ? issuesFromParseError(result.left) : [])]
  return {
    input: normalised.input,
    decoded: issues.length > 0 || Either.isLeft(result) ? Either.left(issues) : Either.right(result.right)
  }
}
