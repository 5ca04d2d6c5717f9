/**
 * `medusa.config.json`: platform credentials and engine options.
 *
 * ```json
 * {
 *   "youtube": { "client_secrets_file": "client_secrets.json", "credentials_file": "youtube-credentials.json" },
 *   "vimeo": { "access_token": "…" },
 *   "facebook": { "page_id": "1234567890", "access_token": "…" },
 *   "twitter": { "api_key": "…", "api_secret": "…", "access_token": "…", "access_token_secret": "…" },
 *   "linkedin": { "access_token": "…", "author_urn": "urn:li:person:abc" },
 *   "medusa": { "max_concurrent_tasks": 4, "retention": "7 days", "store": { "sqlite": ".medusa/tasks.db" } }
 * }
 * ```
 *
 * - Every section is optional: a platform without one is simply not
 *   available. `x` is accepted as the name of the `twitter` section.
 * - Each platform takes an optional `base_url` that replaces the platform's
 *   origin (sandbox, proxies, tests), Facebook an optional `graph_version`
 *   and LinkedIn an optional `api_version`.
 * - Environment variables `MEDUSA_<PLATFORM>_<KEY>` override the file, e.g.
 *   `MEDUSA_FACEBOOK_ACCESS_TOKEN`, `MEDUSA_TWITTER_API_KEY` (or
 *   `MEDUSA_X_API_KEY`). They are read through Effect's `ConfigProvider`.
 * - Secrets become `Redacted` at decode time. Relative paths are resolved
 *   against the config file's directory.
 * - Every problem is reported at once as a `ConfigError` naming the file and
 *   the JSON path; invalid JSON gives the line and column. A file readable by
 *   other users gets a warning through Effect's logger.
 *
 * @since 0.1.0
 */
import * as EffectConfig from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { readFile, stat } from "node:fs/promises"
import * as path from "node:path"
import { locateSyntaxError } from "./internal/request/jsonSyntax.js"
import { formatParseIssues } from "./internal/request/validation.js"
import type { PlatformId } from "./PlatformId.js"
import { ConfigError, Issue } from "./PublishError.js"

// =============================================================================
// Decoded configuration
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export interface YouTubeConfig {
  readonly clientSecretsFile: string
  readonly credentialsFile: string
  readonly baseUrl?: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface VimeoConfig {
  readonly accessToken: Redacted.Redacted<string>
  readonly baseUrl?: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FacebookConfig {
  readonly pageId: string
  readonly accessToken: Redacted.Redacted<string>
  readonly baseUrl?: string
  readonly graphVersion?: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface XConfig {
  readonly apiKey: Redacted.Redacted<string>
  readonly apiSecret: Redacted.Redacted<string>
  readonly accessToken: Redacted.Redacted<string>
  readonly accessTokenSecret: Redacted.Redacted<string>
  readonly baseUrl?: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface LinkedInConfig {
  readonly accessToken: Redacted.Redacted<string>
  readonly authorUrn: string
  readonly baseUrl?: string
  readonly apiVersion?: string
}

/**
 * Where tasks are kept: `"memory"`, `{ "sqlite": path }` or `{ "postgres": url }`.
 *
 * @since 0.1.0
 * @category models
 */
export type StoreConfig =
  | "memory"
  | { readonly sqlite: string }
  | { readonly postgres: Redacted.Redacted<string> }

/**
 * `medusa.runner`: whether a process on a PostgreSQL store runs tasks
 * (`"runner"`, the default) or only submits and watches them (`"client"`),
 * and the address other runners reach it at.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunnerConfig {
  readonly role?: "runner" | "client"
  /** Default `127.0.0.1`: set the machine's address when runners span machines. */
  readonly host?: string
  /** Default: a free port picked at start. */
  readonly port?: number
}

/**
 * The `medusa` section.
 *
 * @since 0.1.0
 * @category models
 */
export interface EngineConfig {
  readonly maxConcurrentTasks?: number
  readonly perPlatformConcurrency?: number | Readonly<Partial<Record<PlatformId, number | undefined>>>
  /** How long finished tasks are kept. */
  readonly retention?: Duration.Duration
  /** Default `"memory"`. */
  readonly store: StoreConfig
  readonly runner?: RunnerConfig
}

/**
 * @since 0.1.0
 * @category models
 */
export interface MedusaConfig {
  /** The absolute path of the file it was read from (or `"inline"`). */
  readonly file: string
  readonly youtube?: YouTubeConfig
  readonly vimeo?: VimeoConfig
  readonly facebook?: FacebookConfig
  readonly x?: XConfig
  readonly linkedin?: LinkedInConfig
  readonly medusa: EngineConfig
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultFile: string = "medusa.config.json"

// =============================================================================
// Schemas (file keys are snake_case; decoded fields camelCase)
// =============================================================================

const Text = Schema.String.pipe(
  Schema.filter((s) => s.trim().length > 0, { message: () => "must not be empty" })
)

const Secret = Schema.Redacted(Text)

const Url = Schema.String.pipe(
  Schema.filter((s) => {
    try {
      const url = new URL(s)
      return url.protocol === "http:" || url.protocol === "https:"
    } catch {
      return false
    }
  }, {
    message: (issue) => `must be an http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(issue.actual)}`
  })
)

const required = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))

// `exact`: decoded optional fields are `?: T`, matching the adapters' options under exactOptionalPropertyTypes.
const optional = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.optionalWith(schema, { exact: true }).pipe(Schema.fromKey(key))

const YouTubeSection = Schema.Struct({
  clientSecretsFile: required(Text, "client_secrets_file"),
  credentialsFile: required(Text, "credentials_file"),
  baseUrl: optional(Url, "base_url")
})

const VimeoSection = Schema.Struct({
  accessToken: required(Secret, "access_token"),
  baseUrl: optional(Url, "base_url")
})

const FacebookSection = Schema.Struct({
  pageId: required(Text, "page_id"),
  accessToken: required(Secret, "access_token"),
  baseUrl: optional(Url, "base_url"),
  graphVersion: optional(
    Schema.String.pipe(Schema.pattern(/^v\d+\.\d+$/, { message: () => "must look like v26.0" })),
    "graph_version"
  )
})

const XSection = Schema.Struct({
  apiKey: required(Secret, "api_key"),
  apiSecret: required(Secret, "api_secret"),
  accessToken: required(Secret, "access_token"),
  accessTokenSecret: required(Secret, "access_token_secret"),
  baseUrl: optional(Url, "base_url")
})

const LinkedInSection = Schema.Struct({
  accessToken: required(Secret, "access_token"),
  authorUrn: required(
    Schema.String.pipe(
      Schema.pattern(/^urn:li:(person|organization):[A-Za-z0-9_-]+$/, {
        message: (issue) =>
          `must be a LinkedIn URN such as urn:li:person:abc123 or urn:li:organization:123, got ${
            JSON.stringify(issue.actual)
          }`
      })
    ),
    "author_urn"
  ),
  baseUrl: optional(Url, "base_url"),
  apiVersion: optional(
    Schema.String.pipe(Schema.pattern(/^\d{6}$/, { message: () => "must be a YYYYMM version such as 202511" })),
    "api_version"
  )
})

const Positive = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1, { message: () => "must be a whole number of at least 1" })
)

const DurationString = Schema.transformOrFail(Schema.String, Schema.DurationFromSelf, {
  strict: true,
  decode: (s, _, ast) =>
    Option.match(Duration.decodeUnknown(s.trim()), {
      onNone: () =>
        ParseResult.fail(
          new ParseResult.Type(ast, s, `must be a duration such as "24 hours" or "7 days", got ${JSON.stringify(s)}`)
        ),
      onSome: (d) => ParseResult.succeed(d)
    }),
  encode: (d) => ParseResult.succeed(Duration.format(d))
})

const StoreSection = Schema.Union(
  Schema.Literal("memory"),
  Schema.Struct({ sqlite: Text }),
  Schema.Struct({ postgres: Secret })
).annotations({ message: () => `must be "memory", { "sqlite": "<path>" } or { "postgres": "<url>" }` })

const EngineSection = Schema.Struct({
  maxConcurrentTasks: optional(Positive, "max_concurrent_tasks"),
  perPlatformConcurrency: optional(
    Schema.Union(
      Positive,
      Schema.Struct({
        youtube: Schema.optionalWith(Positive, { exact: true }),
        vimeo: Schema.optionalWith(Positive, { exact: true }),
        facebook: Schema.optionalWith(Positive, { exact: true }),
        x: Schema.optionalWith(Positive, { exact: true }),
        linkedin: Schema.optionalWith(Positive, { exact: true })
      })
    ),
    "per_platform_concurrency"
  ),
  retention: optional(DurationString, "retention"),
  store: optional(StoreSection, "store"),
  runner: optional(
    Schema.Struct({
      role: optional(Schema.Literal("runner", "client"), "role"),
      host: optional(Text, "host"),
      port: optional(
        Schema.Number.pipe(
          Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= 65_535, {
            message: () => "must be a port number between 1 and 65535"
          })
        ),
        "port"
      )
    }),
    "runner"
  )
})

const FileSchema = Schema.Struct({
  youtube: Schema.optional(YouTubeSection),
  vimeo: Schema.optional(VimeoSection),
  facebook: Schema.optional(FacebookSection),
  twitter: Schema.optional(XSection),
  x: Schema.optional(XSection),
  linkedin: Schema.optional(LinkedInSection),
  medusa: Schema.optional(EngineSection)
})

// =============================================================================
// Environment overrides
// =============================================================================

/** Keys each section takes, in file spelling. Required keys first. */
const sectionKeys: Record<"youtube" | "vimeo" | "facebook" | "twitter" | "linkedin", {
  readonly required: ReadonlyArray<string>
  readonly optional: ReadonlyArray<string>
}> = {
  youtube: { required: ["client_secrets_file", "credentials_file"], optional: ["base_url"] },
  vimeo: { required: ["access_token"], optional: ["base_url"] },
  facebook: { required: ["page_id", "access_token"], optional: ["base_url", "graph_version"] },
  twitter: { required: ["api_key", "api_secret", "access_token", "access_token_secret"], optional: ["base_url"] },
  linkedin: { required: ["access_token", "author_urn"], optional: ["base_url", "api_version"] }
}

const secretKeys = new Set(["access_token", "access_token_secret", "api_key", "api_secret", "postgres"])

const envValue = (name: string): Effect.Effect<Option.Option<string>> =>
  EffectConfig.option(EffectConfig.string(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))

/**
 * Applies `MEDUSA_<PLATFORM>_<KEY>` overrides. A section the file lacks is
 * created only when the environment gives all of its required keys, so that
 * a stray variable does not turn into a configuration error.
 */
const applyEnv = (
  raw: Record<string, unknown>
): Effect.Effect<{ readonly raw: Record<string, unknown>; readonly sources: Map<string, string> }> =>
  Effect.gen(function*() {
    const out: Record<string, unknown> = { ...raw }
    const sources = new Map<string, string>()
    for (const [section, keys] of Object.entries(sectionKeys)) {
      // The twitter section may be spelled x in the file; env accepts both prefixes (X wins).
      const fileSection = section === "twitter" && !("twitter" in raw) && "x" in raw ? "x" : section
      const prefixes = section === "twitter" ? ["TWITTER", "X"] : [section.toUpperCase()]
      const overrides: Record<string, string> = {}
      const names: Record<string, string> = {}
      for (const key of [...keys.required, ...keys.optional]) {
        for (const prefix of prefixes) {
          const name = `MEDUSA_${prefix}_${key.toUpperCase()}`
          const value = yield* envValue(name)
          if (Option.isSome(value)) {
            overrides[key] = value.value
            names[key] = name
          }
        }
      }
      if (Object.keys(overrides).length === 0) continue
      const existing = raw[fileSection]
      if (existing === undefined && !keys.required.every((k) => k in overrides)) continue
      out[fileSection] = { ...(Predicate.isRecord(existing) ? existing : {}), ...overrides }
      for (const [key, name] of Object.entries(names)) sources.set(`${fileSection}.${key}`, name)
    }
    return { raw: out, sources }
  })

// =============================================================================
// Decoding
// =============================================================================

const problem = (file: string, issues: ReadonlyArray<Issue>, cause?: unknown): ConfigError =>
  new ConfigError({ file, issues, ...(cause !== undefined ? { cause } : {}) })

const camelToSnake: Record<string, string> = {
  clientSecretsFile: "client_secrets_file",
  credentialsFile: "credentials_file",
  baseUrl: "base_url",
  accessToken: "access_token",
  pageId: "page_id",
  graphVersion: "graph_version",
  apiKey: "api_key",
  apiSecret: "api_secret",
  accessTokenSecret: "access_token_secret",
  authorUrn: "author_urn",
  apiVersion: "api_version",
  maxConcurrentTasks: "max_concurrent_tasks",
  perPlatformConcurrency: "per_platform_concurrency"
}

const issuesOf = (error: ParseResult.ParseError, sources: Map<string, string>): ReadonlyArray<Issue> => {
  return formatParseIssues(error)
    .map((i) => {
      const filePath = i.path.map((p) => (typeof p === "number" ? p : camelToSnake[String(p)] ?? String(p)))
      const last = String(filePath[filePath.length - 1] ?? "")
      const secret = secretKeys.has(last)
      let message = i._tag === "Missing" ?
        `required field "${last}" is missing` :
        i.message.startsWith("Expected undefined") || i.message.startsWith("Expected Struct") ?
        `has the wrong type: expected an object (a section of key/value pairs)${
          secret ? "" : i.message.replace(/^Expected [^,]*, actual (.*)$/, ", got $1")
        }` :
        i.message.startsWith("Expected string") ?
        `expected a string${secret ? "" : `, got ${i.message.replace(/^Expected string, actual /, "")}`}` :
        i.message.startsWith("Expected number") ?
        `expected a number, got ${i.message.replace(/^Expected number, actual /, "")}` :
        i.message
      // Never echo a secret's value, even a malformed one.
      if (secret && i._tag !== "Missing" && !message.startsWith("expected a string")) {
        message = "is not a valid secret (the value is not shown)"
      }
      const source = sources.get(filePath.join("."))
      if (source !== undefined) message += ` (set by the environment variable ${source})`
      return new Issue({ path: filePath, message })
    })
}

const resolvePath = (file: string, p: string): string =>
  file === "inline" ? path.resolve(p) : path.resolve(path.dirname(file), p)

/**
 * Decodes a parsed config (after environment overrides). `file` names the
 * source in errors and anchors relative paths (`"inline"`: the working
 * directory).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (input: unknown, file: string = "inline"): Effect.Effect<MedusaConfig, ConfigError> =>
  Effect.gen(function*() {
    if (!Predicate.isRecord(input) || Array.isArray(input)) {
      return yield* problem(file, [
        new Issue({ path: [], message: "the config must be a JSON object with platform sections such as \"youtube\"" })
      ])
    }
    const { raw, sources } = yield* applyEnv(input)
    const decoded = Schema.decodeUnknownEither(FileSchema)(raw, { errors: "all", onExcessProperty: "ignore" })
    const issues: Array<Issue> = []
    if (Either.isLeft(decoded)) issues.push(...issuesOf(decoded.left, sources))
    if (raw.twitter !== undefined && raw.x !== undefined) {
      issues.push(new Issue({ path: ["x"], message: "both \"twitter\" and \"x\" sections are given; keep only one" }))
    }
    if (issues.length > 0 || Either.isLeft(decoded)) return yield* problem(file, issues)
    const c = decoded.right
    const x = c.twitter ?? c.x
    const engine = c.medusa
    const store: StoreConfig = engine?.store === undefined || engine.store === "memory" ?
      "memory" :
      "sqlite" in engine.store ?
      { sqlite: resolvePath(file, engine.store.sqlite) } :
      { postgres: engine.store.postgres }
    const config: MedusaConfig = {
      file,
      ...(c.youtube !== undefined ?
        {
          youtube: {
            ...c.youtube,
            clientSecretsFile: resolvePath(file, c.youtube.clientSecretsFile),
            credentialsFile: resolvePath(file, c.youtube.credentialsFile)
          }
        } :
        {}),
      ...(c.vimeo !== undefined ? { vimeo: c.vimeo } : {}),
      ...(c.facebook !== undefined ? { facebook: c.facebook } : {}),
      ...(x !== undefined ? { x } : {}),
      ...(c.linkedin !== undefined ? { linkedin: c.linkedin } : {}),
      medusa: {
        ...(engine?.maxConcurrentTasks !== undefined ? { maxConcurrentTasks: engine.maxConcurrentTasks } : {}),
        ...(engine?.perPlatformConcurrency !== undefined ?
          { perPlatformConcurrency: engine.perPlatformConcurrency } :
          {}),
        ...(engine?.retention !== undefined ? { retention: engine.retention } : {}),
        ...(engine?.runner !== undefined ? { runner: engine.runner } : {}),
        store
      }
    }
    return config
  })

/**
 * Parses and decodes the text of a config file.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (text: string, file: string = "inline"): Effect.Effect<MedusaConfig, ConfigError> =>
  Effect.suspend(() => {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      const at = locateSyntaxError(text)
      const where = at === undefined ? "" : ` at line ${at.line}, column ${at.column}`
      const what = at?.message ?? (cause instanceof Error ? cause.message : String(cause))
      return Effect.fail(
        problem(file, [new Issue({ path: [], message: `invalid JSON${where}: ${what}` })])
      )
    }
    return decode(json, file)
  })

/**
 * Reads, parses and decodes a config file (default `medusa.config.json` in
 * the working directory). Warns through the logger when the file is readable
 * by other users.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (file: string = defaultFile): Effect.Effect<MedusaConfig, ConfigError> =>
  Effect.gen(function*() {
    const absolute = path.resolve(file)
    const text = yield* Effect.tryPromise({
      try: () => readFile(absolute, "utf8"),
      catch: (cause) => {
        const code = (cause as { code?: string }).code
        const message = code === "ENOENT" ?
          `file not found; create ${defaultFile} (see the README's config section) or pass the path of your config` :
          code === "EACCES" || code === "EPERM" ?
          "permission denied: the file is not readable by this user" :
          code === "EISDIR" ?
          "is a directory; give the path of the config file" :
          `cannot be read (${code ?? String(cause)})`
        return problem(absolute, [new Issue({ path: [], message })], cause)
      }
    })
    const info = yield* Effect.promise(() => stat(absolute).catch(() => undefined))
    if (info !== undefined && (info.mode & 0o077) !== 0) {
      yield* Effect.logWarning(
        `${absolute} is accessible by other users (mode ${(info.mode & 0o777).toString(8).padStart(4, "0")}) ` +
          `and holds secrets; restrict it with: chmod 600 ${absolute}`
      )
    }
    return yield* parse(text, absolute)
  })

/**
 * The engine options of the `medusa` section, as `Medusa.layer` takes them.
 *
 * @since 0.1.0
 * @category getters
 */
export const engineOptions = (config: MedusaConfig): {
  readonly maxConcurrentTasks?: number
  readonly perPlatformConcurrency?: number | Readonly<Partial<Record<PlatformId, number | undefined>>>
  readonly retention?: Duration.Duration
} => {
  const { runner: _runner, store: _store, ...options } = config.medusa
  return options
}

/**
 * The platforms that have a section.
 *
 * @since 0.1.0
 * @category getters
 */
export const configuredPlatforms = (config: MedusaConfig): ReadonlyArray<PlatformId> =>
  (["youtube", "vimeo", "facebook", "x", "linkedin"] as const).filter((id) => config[id] !== undefined)
