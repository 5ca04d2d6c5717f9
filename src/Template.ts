/**
 * Post templates: `{youtube_url}`, `{youtube_video_id}`, `{vimeo_url}`,
 * `{vimeo_video_id}` are replaced by what the selected hosts produce; `{{`
 * and `}}` stand for literal braces. A host's named account has its own:
 * `{youtube:studio_url}`, `{youtube:studio_video_id}` (the bare ones are
 * the default account's).
 *
 * ```ts
 * Template.fill("New video: {youtube_url}", { youtube_url: "https://youtube.com/watch?v=abc" })
 * ```
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import type { HostId, HostTarget, PublisherId, PublisherTarget, Target } from "./PlatformId.js"
import { hosts, isAccountName, moduleOf, platformOf, publishers } from "./PlatformId.js"
import { Issue } from "./PublishError.js"
import type { Metadata } from "./PublishRequest.js"
import { metadataFor, templateVariables } from "./PublishRequest.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Variable = (typeof templateVariables)[HostId][number]

/**
 * Every variable any host can produce.
 *
 * @since 0.1.0
 * @category constants
 */
export const variables: ReadonlyArray<Variable> = hosts.flatMap((h) => templateVariables[h])

/**
 * The host that produces each variable.
 *
 * @since 0.1.0
 * @category constants
 */
export const hostOf: Readonly<Record<Variable, HostId>> = Object.fromEntries(
  hosts.flatMap((h) => templateVariables[h].map((v) => [v, h]))
) as Record<Variable, HostId>

/**
 * @since 0.1.0
 * @category guards
 */
export const isVariable = (name: string): name is Variable => Object.prototype.hasOwnProperty.call(hostOf, name)

const namedVariable = new RegExp(`^(${hosts.join("|")}):(.+)_(url|video_id)$`)

/**
 * The host target a variable reads (`youtube_url` → `youtube`,
 * `youtube:studio_video_id` → `youtube:studio`), or `undefined` when the
 * name is no variable.
 *
 * @since 0.1.0
 * @category getters
 */
export const targetOfVariable = (name: string): HostTarget | undefined => {
  if (isVariable(name)) return hostOf[name]
  const match = namedVariable.exec(name)
  return match !== null && isAccountName(match[2]!) ? `${match[1] as HostId}:${match[2]!}` : undefined
}

/**
 * Realistic values for the variables of the given host targets, for
 * submit-time length checks.
 *
 * @since 0.1.0
 * @category constructors
 */
export const placeholdersFor = (targets: ReadonlyArray<HostTarget>): Readonly<Record<string, string>> =>
  Object.fromEntries(targets.flatMap((t) => {
    const { url, videoId } = moduleOf(platformOf(t)).placeholders
    return [[`${t}_url`, url], [`${t}_video_id`, videoId]]
  }))

/**
 * Values of realistic length used to fill templates at submit time, so that
 * length limits (X's 280, LinkedIn's 3,000) are checked before anything runs.
 *
 * @since 0.1.0
 * @category constants
 */
export const placeholders: Readonly<Record<Variable, string>> = Object.fromEntries(
  hosts.flatMap((h) => {
    const { url, videoId } = moduleOf(h).placeholders
    return [[`${h}_url`, url], [`${h}_video_id`, videoId]]
  })
) as Record<Variable, string>

/**
 * @since 0.1.0
 * @category models
 */
export type Segment =
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "Variable"; readonly name: string; readonly offset: number }

/**
 * A template that cannot be parsed (an unclosed `{`, an empty `{}`).
 *
 * @since 0.1.0
 * @category models
 */
export interface SyntaxProblem {
  readonly offset: number
  readonly message: string
}

/**
 * Splits a template into text and variables.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (template: string): Either.Either<ReadonlyArray<Segment>, SyntaxProblem> => {
  const segments: Array<Segment> = []
  let text = ""
  let i = 0
  while (i < template.length) {
    const c = template[i]
    if (c === "{") {
      if (template[i + 1] === "{") {
        text += "{"
        i += 2
        continue
      }
      const close = template.indexOf("}", i + 1)
      if (close === -1) {
        return Either.left({
          offset: i,
          message: `unclosed "{" at character ${i + 1}; close it as in {youtube_url}, or write "{{" for a literal brace`
        })
      }
      const name = template.slice(i + 1, close).trim()
      if (name.length === 0 || name.includes("{")) {
        return Either.left({
          offset: i,
          message: `malformed variable at character ${
            i + 1
          }; write a variable as {youtube_url}, or "{{" for a literal brace`
        })
      }
      if (text.length > 0) segments.push({ _tag: "Text", text })
      text = ""
      segments.push({ _tag: "Variable", name, offset: i })
      i = close + 1
      continue
    }
    if (c === "}" && template[i + 1] === "}") {
      text += "}"
      i += 2
      continue
    }
    // A lone "}" is taken literally: only "{" opens a variable.
    text += c
    i += 1
  }
  if (text.length > 0) segments.push({ _tag: "Text", text })
  return Either.right(segments)
}

/**
 * Variable names a template uses (in order of first use). Unparseable
 * templates use none.
 *
 * @since 0.1.0
 * @category getters
 */
export const variablesOf = (template: string): ReadonlyArray<string> => {
  const parsed = parse(template)
  if (Either.isLeft(parsed)) return []
  const names: Array<string> = []
  for (const s of parsed.right) {
    if (s._tag === "Variable" && !names.includes(s.name)) names.push(s.name)
  }
  return names
}

/**
 * Fills a template. Variables without a value are left as written (templates
 * are validated at submit, so this only happens for unvalidated input).
 *
 * @since 0.1.0
 * @category combinators
 */
export const fill = (template: string, values: Readonly<Partial<Record<string, string>>>): string => {
  const parsed = parse(template)
  if (Either.isLeft(parsed)) return template
  let out = ""
  for (const s of parsed.right) {
    if (s._tag === "Text") out += s.text
    else out += values[s.name] ?? `{${s.name}}`
  }
  return out
}

/**
 * Fills a template with the placeholder values (for submit-time length checks).
 *
 * @since 0.1.0
 * @category combinators
 */
export const fillPlaceholders = (template: string): string => fill(template, placeholders)

/**
 * The variables the given hosts produce.
 *
 * @since 0.1.0
 * @category getters
 */
export const availableFor = (hosts: ReadonlyArray<HostTarget>): ReadonlyArray<string> =>
  hosts.flatMap((h) => [`${h}_url`, `${h}_video_id`])

const describeAvailable = (available: ReadonlyArray<string>): string =>
  available.length === 0 ?
    `no variables are available because no video host (${hosts.join(", ")}) is selected` :
    `available: ${available.map((v) => `{${v}}`).join(", ")}`

/**
 * Checks one template field against the variables of the selected hosts.
 * Returns every problem as an `Issue` at `path`, naming the platform, the
 * variable and the variables available.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (
  template: string,
  options: {
    readonly platform: Target
    readonly path: ReadonlyArray<string | number>
    readonly hosts: ReadonlyArray<HostTarget>
  }
): ReadonlyArray<Issue> => {
  const parsed = parse(template)
  if (Either.isLeft(parsed)) {
    return [new Issue({ path: options.path, message: `${options.platform} template: ${parsed.left.message}` })]
  }
  const available = availableFor(options.hosts)
  const issues: Array<Issue> = []
  const seen = new Set<string>()
  for (const s of parsed.right) {
    if (s._tag !== "Variable" || seen.has(s.name)) continue
    seen.add(s.name)
    const host = targetOfVariable(s.name)
    if (host === undefined) {
      issues.push(
        new Issue({
          path: options.path,
          message: `${options.platform} template uses unknown variable {${s.name}}; ${
            describeAvailable(available)
          } (write "{{" for a literal brace)`
        })
      )
    } else if (!options.hosts.includes(host)) {
      issues.push(
        new Issue({
          path: options.path,
          message: `${options.platform} template uses {${s.name}}, but ${host} is not among the selected platforms; ${
            describeAvailable(available)
          }`
        })
      )
    }
  }
  return issues
}

/**
 * The template fields of each publisher's metadata.
 *
 * @since 0.1.0
 * @category constants
 */
export const templateFields: Readonly<Record<PublisherId, ReadonlyArray<string>>> = Object.fromEntries(
  publishers.map((p) => [p, moduleOf(p).templateFields])
) as Record<PublisherId, ReadonlyArray<string>>

/**
 * The templates of one publisher's metadata (a named account's own, else its
 * platform's), with their field names.
 *
 * @since 0.1.0
 * @category getters
 */
export const templatesOf = (
  publisher: PublisherTarget,
  metadata: Metadata
): ReadonlyArray<readonly [field: string, template: string]> => {
  const m = metadataFor(metadata, publisher) as Record<string, unknown> | undefined
  if (m === undefined) return []
  const out: Array<readonly [string, string]> = []
  for (const field of templateFields[platformOf(publisher)]) {
    const value = m[field]
    if (typeof value === "string") out.push([field, value])
  }
  return out
}

/**
 * The hosts a publisher's templates need.
 *
 * @since 0.1.0
 * @category getters
 */
export const hostsNeeded = (publisher: PublisherTarget, metadata: Metadata): ReadonlyArray<HostTarget> => {
  const needed = new Set<HostTarget>()
  for (const [, template] of templatesOf(publisher, metadata)) {
    for (const name of variablesOf(template)) {
      const host = targetOfVariable(name)
      if (host !== undefined) needed.add(host)
    }
  }
  return [...needed]
}

/**
 * A publisher's metadata with every template field filled.
 *
 * @since 0.1.0
 * @category combinators
 */
export const fillMetadata = <M extends object>(
  publisher: PublisherId,
  metadata: M,
  values: Readonly<Partial<Record<string, string>>>
): M => {
  const filled: Record<string, unknown> = { ...(metadata as Record<string, unknown>) }
  for (const field of templateFields[publisher]) {
    const value = filled[field]
    if (typeof value === "string") filled[field] = fill(value, values)
  }
  // Keep the metadata's class (FacebookMetadata, …); the values were already validated.
  const ctor: unknown = metadata.constructor
  return ctor === Object || typeof ctor !== "function" ?
    (filled as M) :
    new (ctor as new(props: unknown, disableValidation?: boolean) => M)(filled, true)
}
