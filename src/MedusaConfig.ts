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
 *   "medusa": { "max_concurrent_tasks": 4, "retention": "7 days", "max_wait": "5 minutes", "store": { "sqlite": ".medusa/tasks.db" } }
 * }
 * ```
 *
 * - Every section is optional: a platform without one is simply not
 *   available. `x` is accepted as the name of the `twitter` section.
 * - Every option of a platform's `layer` can be set in its section, spelt in
 *   snake_case (`base_url`, `chunk_size`, `max_rate_limit_wait`, `retry`,
 *   …): one schema per platform below, checked against the adapters'
 *   `Options` by test/core/config-options.test.ts.
 * - `medusa` also takes `max_wait` (default 5 minutes), `stall_timeout`
 *   (default 10 minutes) and `runner` (`role`, `host`, `port`, for the
 *   PostgreSQL store).
 * - An unknown key anywhere is an error naming its JSON path and the nearest
 *   known key (`unknown key "youtub" at $ — did you mean "youtube"?`).
 * - Environment variables `MEDUSA_<PLATFORM>_<KEY>` override the file's
 *   string-valued keys, e.g.
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
import type * as AST from "effect/SchemaAST"
import { readFile, stat } from "node:fs/promises"
import * as path from "node:path"
import { DurationString, optional, Positive, required, Secret, SecretId, Text, Url } from "./internal/config/values.js"
import { formatParseIssues } from "./internal/request/formatIssues.js"
import { locateSyntaxError } from "./internal/request/jsonSyntax.js"
import { nearestKey } from "./internal/request/nearestKey.js"
import * as WebhookEvents from "./internal/webhooks/events.js"
import {
  AccountName,
  accountNameRule,
  all,
  isAccountName,
  modulesList,
  type PlatformId,
  type Target,
  targetOf
} from "./PlatformId.js"
import type { ConfigOf, PlatformModule } from "./PlatformModule.js"
import type { Modules } from "./platforms/registry.js"
import { ConfigError, Issue } from "./PublishError.js"

// `exact`: decoded optional fields are `?: T`, matching the adapters' options under exactOptionalPropertyTypes.
/** An IANA time zone name that this Node's Intl knows. */
const TimeZone = Schema.String.pipe(
  Schema.filter((zone) => isTimeZone(zone), {
    message: (issue) =>
      `must be an IANA time zone such as "Europe/Paris" or "America/New_York", got ${JSON.stringify(issue.actual)}`
  })
)

/**
 * Whether `zone` names a time zone (IANA, or `UTC`).
 *
 * @since 0.1.0
 * @category guards
 */
export const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone })
    return zone.trim().length > 0
  } catch {
    return false
  }
}

const Port = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= 65_535, {
    message: () => "must be a port number from 1 to 65535"
  })
)

const StoreSection = Schema.Union(
  Schema.Literal("memory"),
  Schema.Struct({ sqlite: Text }),
  Schema.Struct({ postgres: Secret })
).annotations({ message: () => `must be "memory", { "sqlite": "<path>" } or { "postgres": "<url>" }` })

const RunnerSection = Schema.Struct({
  role: optional(
    Schema.Literal("runner", "client").annotations({
      message: (issue) => `must be "runner" or "client", got ${JSON.stringify(issue.actual)}`
    }),
    "role"
  ),
  host: optional(Text, "host"),
  port: optional(Port, "port")
})

const EngineSection = Schema.Struct({
  maxConcurrentTasks: optional(Positive, "max_concurrent_tasks"),
  perPlatformConcurrency: optional(
    Schema.Union(
      Positive,
      Schema.Struct(
        Object.fromEntries(all.map((id) => [id, Schema.optionalWith(Positive, { exact: true })])) as {
          readonly [K in PlatformId]: Schema.optionalWith<typeof Positive, { exact: true }>
        }
      )
    ),
    "per_platform_concurrency"
  ),
  retention: optional(DurationString, "retention"),
  maxWait: optional(DurationString, "max_wait"),
  stallTimeout: optional(DurationString, "stall_timeout"),
  runner: optional(RunnerSection, "runner"),
  store: optional(StoreSection, "store"),
  timeZone: optional(TimeZone, "time_zone")
})

/** @internal */
export const TelemetrySection = Schema.Struct({
  enabled: optional(Schema.Boolean, "enabled"),
  endpoint: optional(Url, "endpoint"),
  serviceName: optional(Text, "service_name"),
  headers: optional(Schema.Record({ key: Schema.String, value: Secret }), "headers"),
  exportInterval: optional(DurationString, "export_interval"),
  logFormat: optional(
    Schema.Literal("text", "json").annotations({
      message: (issue) => `must be "text" or "json", got ${JSON.stringify(issue.actual)}`
    }),
    "log_format"
  )
})

const ApiKeySection = Schema.Struct({
  key: required(Secret, "key"),
  scopes: required(
    Schema.Union(
      Schema.Tuple(Schema.Literal("read")),
      Schema.Tuple(Schema.Literal("read"), Schema.Literal("write"))
    ).annotations({ message: () => `must be ["read"] or ["read", "write"]` }),
    "scopes"
  )
})

/** @internal */
export const webhookEvents = WebhookEvents.eventTypes

const WebhookSection = Schema.Struct({
  url: required(Url, "url"),
  secret: required(Secret, "secret"),
  events: required(
    Schema.Array(
      Schema.Literal(...webhookEvents).annotations({
        message: (issue) => `must be one of ${webhookEvents.join(", ")}, got ${JSON.stringify(issue.actual)}`
      })
    ),
    "events"
  )
})

const Origin = Schema.String.pipe(
  Schema.filter((s) => {
    try {
      const url = new URL(s)
      return (url.protocol === "http:" || url.protocol === "https:") && url.origin === s
    } catch {
      return false
    }
  }, {
    message: (issue) =>
      `must be an origin such as https://app.example.com (no path), got ${JSON.stringify(issue.actual)}`
  })
)

// The tus ingest (`/v1/uploads`): where uploads are kept and how much.
const UploadsSection = Schema.Struct({
  directory: optional(Text, "directory"),
  maxUploadBytes: optional(Positive, "max_upload_bytes"),
  maxTotalBytes: optional(Positive, "max_total_bytes"),
  expireAfter: optional(DurationString, "expire_after")
})

/** @internal */
export const ServerSection = Schema.Struct({
  apiKeys: optional(Schema.Array(ApiKeySection), "api_keys"),
  mediaRoots: optional(Schema.Array(Text), "media_roots"),
  corsOrigins: optional(Schema.Array(Origin), "cors_origins"),
  webhooks: optional(Schema.Array(WebhookSection), "webhooks"),
  uploads: optional(UploadsSection, "uploads"),
  maxBodyBytes: optional(Positive, "max_body_bytes")
})

/**
 * The names a platform's section may have in the file: its section name
 * (`twitter`), its id and its aliases (`x`). The first is the documented one.
 */
const sectionNames = (module: PlatformModule): ReadonlyArray<string> => [
  ...new Set([module.config.section ?? module.id, module.id, ...(module.aliases ?? [])])
]

/**
 * A platform section naming several accounts: `{ "accounts": { "brand": {…},
 * "studio": {…} }, "default_account": "brand" }`, each account a section of
 * the platform's own shape.
 */
const accountsSection = (module: PlatformModule) =>
  Schema.Struct({
    accounts: Schema.Record({ key: AccountName, value: module.config.schema as Schema.Schema<unknown, any> }),
    defaultAccount: optional(AccountName, "default_account")
  })

/** Whether a section of the file is in the accounts form (it has `accounts`). */
const isAccountsForm = (value: unknown): value is Record<string, unknown> =>
  Predicate.isRecord(value) && !Array.isArray(value) && "accounts" in value

/** The file's schema, each platform section in the form the file gives it (one account, or `accounts`). */
const fileSchema = (raw: Record<string, unknown>) =>
  Schema.Struct({
    ...Object.fromEntries(
      modulesList.flatMap((m) =>
        sectionNames(m).map((name) => [
          name,
          Schema.optional(isAccountsForm(raw[name]) ? accountsSection(m) : m.config.schema)
        ])
      )
    ) as Record<string, Schema.optional<Schema.Schema<unknown, any>>>,
    medusa: Schema.optional(EngineSection),
    telemetry: Schema.optional(TelemetrySection),
    server: Schema.optional(ServerSection)
  })

// =============================================================================
// Decoded configuration
// =============================================================================

export type {
  /**
   * @since 0.1.0
   * @category models
   */
  BlueskyConfig
} from "./platforms/bluesky/index.js"
export type {
  /**
   * @since 0.1.0
   * @category models
   */
  FacebookConfig
} from "./platforms/facebook/index.js"
export type {
  /**
   * @since 0.1.0
   * @category models
   */
  LinkedInConfig
} from "./platforms/linkedin/index.js"
export type {
  /**
   * @since 0.1.0
   * @category models
   */
  MastodonConfig
} from "./platforms/mastodon/index.js"
export type {
  /**
   * @since 0.1.0
   * @category models
   */
  ThreadsConfig
} from "./platforms/threads/index.js"
export type {
  /**
   * @since 0.1.0
   * @category models
   */
  VimeoConfig
} from "./platforms/vimeo/index.js"
export type {
  /**
   * @since 0.1.0
   * @category models
   */
  XConfig
} from "./platforms/x/index.js"
export type {
  /**
   * @since 0.1.0
   * @category models
   */
  YouTubeConfig
} from "./platforms/youtube/index.js"

/**
 * Each configured platform's section, under its id (`x` for the file's
 * `twitter`): the options of the platform's adapter.
 *
 * @since 0.1.0
 * @category models
 */
export type PlatformSections = {
  readonly [M in Modules as M["id"]]?: ConfigOf<M>
}

/**
 * The named accounts of each platform whose section has `accounts`, by
 * account name, in file order. A platform's default account (its section
 * in the single-account form, or its `default_account`) is also its entry in
 * `PlatformSections`.
 *
 * @since 0.1.0
 * @category models
 */
export type PlatformAccounts = {
  readonly [M in Modules as M["id"]]?: Readonly<Record<string, ConfigOf<M>>>
}

/**
 * `telemetry`: OTLP export (`Telemetry.optionsFromConfig`) and the log format.
 *
 * @since 0.1.0
 * @category models
 */
export type TelemetryConfig = typeof TelemetrySection.Type

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
 * `medusa.runner`, for the PostgreSQL store: whether this process runs tasks
 * (`"runner"`) or only submits and watches them (`"client"`), and the address
 * other runners reach this one at.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunnerConfig {
  readonly role?: "runner" | "client"
  readonly host?: string
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
  /** The longest platform-given wait (`Retry-After`, a rate limit's reset) a task waits out. Default 5 minutes. */
  readonly maxWait: Duration.Duration
  /** Time without progress after which a task fails. Default 10 minutes. */
  readonly stallTimeout: Duration.Duration
  /** For the PostgreSQL store. */
  readonly runner?: RunnerConfig
  /** Default `"memory"`. */
  readonly store: StoreConfig
  /** IANA time zone local times (`medusa publish --at "tomorrow 09:00"`) are read in; default: the system's. */
  readonly timeZone?: string
}

/**
 * The `server` section (`medusa serve`): API keys, where media may come
 * from, CORS, webhooks, limits. Relative `media_roots` are resolved against
 * the config file's directory.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerConfig {
  readonly apiKeys?: ReadonlyArray<{
    readonly key: Redacted.Redacted<string>
    readonly scopes: readonly ["read"] | readonly ["read", "write"]
  }>
  readonly mediaRoots?: ReadonlyArray<string>
  readonly corsOrigins?: ReadonlyArray<string>
  readonly webhooks?: ReadonlyArray<{
    readonly url: string
    readonly secret: Redacted.Redacted<string>
    readonly events: ReadonlyArray<typeof webhookEvents[number]>
  }>
  /**
   * The tus ingest at `/v1/uploads` (on when present): `directory` (default
   * `.medusa/uploads` beside the config file), per-upload and total bounds in
   * bytes, and how long unfinished or unused uploads are kept.
   */
  readonly uploads?: {
    readonly directory?: string
    readonly maxUploadBytes?: number
    readonly maxTotalBytes?: number
    readonly expireAfter?: Duration.Duration
  }
  /** Largest request body in bytes. */
  readonly maxBodyBytes?: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface MedusaConfig extends PlatformSections {
  /** The absolute path of the file it was read from (or `"inline"`). */
  readonly file: string
  /** Named accounts (`facebook.accounts`), absent when no section names any. */
  readonly accounts?: PlatformAccounts
  readonly medusa: EngineConfig
  readonly telemetry?: TelemetryConfig
  readonly server?: ServerConfig
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultFile: string = "medusa.config.json"

/**
 * `medusa.max_wait` when the file does not set it.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxWait: Duration.Duration = Duration.minutes(5)

/**
 * `medusa.stall_timeout` when the file does not set it.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStallTimeout: Duration.Duration = Duration.minutes(10)

// =============================================================================
// Known keys (unknown keys are errors, with the nearest known key)
// =============================================================================

/** The object shapes an AST accepts (through refinements, transformations' encoded side and unions). */
const objectShapes = (ast: AST.AST): ReadonlyArray<AST.TypeLiteral> => {
  switch (ast._tag) {
    case "TypeLiteral":
      return [ast]
    case "Refinement":
      return objectShapes(ast.from)
    case "Transformation":
      return objectShapes(ast.from)
    case "Suspend":
      return objectShapes(ast.f())
    case "Union":
      return ast.types.flatMap(objectShapes)
    default:
      return []
  }
}

/** `$`, `$.medusa`, `$.youtube.retry`, `$.list[0]`. */
const jsonPath = (path: ReadonlyArray<string | number>): string =>
  "$" + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")

/** The element type of the arrays an AST accepts (through refinements, transformations and unions). */
const arrayElements = (ast: AST.AST): ReadonlyArray<AST.AST> => {
  switch (ast._tag) {
    case "TupleType":
      return [...ast.elements.map((e) => e.type), ...ast.rest.map((r) => r.type)].slice(0, 1)
    case "Refinement":
    case "Transformation":
      return arrayElements(ast.from)
    case "Suspend":
      return arrayElements(ast.f())
    case "Union":
      return ast.types.flatMap(arrayElements).slice(0, 1)
    default:
      return []
  }
}

/** Every key of `value` the schema does not know, with its path and a suggestion. */
const unknownKeys = (ast: AST.AST, value: unknown, path: ReadonlyArray<string | number>): Array<Issue> => {
  if (Array.isArray(value)) {
    const element = arrayElements(ast)[0]
    return element === undefined ? [] : value.flatMap((item, i) => unknownKeys(element, item, [...path, i]))
  }
  if (!Predicate.isRecord(value)) return []
  const shapes = objectShapes(ast)
  if (shapes.length === 0) return []
  // A record (`telemetry.headers`, `facebook.accounts`) takes any key; its values are checked.
  const record = shapes.flatMap((s) => s.indexSignatures)[0]
  if (record !== undefined) {
    return Object.entries(value).flatMap(([key, child]) => unknownKeys(record.type, child, [...path, key]))
  }
  const known = new Map<string, Array<AST.AST>>()
  for (const shape of shapes) {
    for (const property of shape.propertySignatures) {
      if (typeof property.name !== "string") continue
      const types = known.get(property.name) ?? []
      types.push(property.type)
      known.set(property.name, types)
    }
  }
  const issues: Array<Issue> = []
  for (const [key, child] of Object.entries(value)) {
    const types = known.get(key)
    if (types !== undefined) {
      for (const type of types.slice(0, 1)) issues.push(...unknownKeys(type, child, [...path, key]))
      continue
    }
    const names = [...known.keys()]
    if (key.length > 40) {
      // No key is this long: likely a token pasted in place of a key, so it is not echoed.
      issues.push(
        new Issue({
          path,
          message: `an unknown key of ${key.length} characters at ${jsonPath(path)} (not shown, it may be a secret); ` +
            `known keys there: ${names.join(", ")}`
        })
      )
      continue
    }
    const near = nearestKey(key, names)
    issues.push(
      new Issue({
        path: [...path, key],
        message: `unknown key ${JSON.stringify(key)} at ${jsonPath(path)} — ${
          near !== undefined ?
            `did you mean ${JSON.stringify(near)}?` :
            `known keys there: ${names.join(", ")}`
        }`
      })
    )
  }
  return issues
}

/**
 * The keys each section takes, in file spelling (for the documentation and
 * the environment overrides).
 *
 * @since 0.1.0
 * @category constants
 */
export const sectionKeys: Readonly<Record<string, ReadonlyArray<string>>> & {
  readonly medusa: ReadonlyArray<string>
  readonly telemetry: ReadonlyArray<string>
  readonly server: ReadonlyArray<string>
} = {
  ...Object.fromEntries(
    modulesList.map((
      m
    ) => [sectionNames(m)[0]!, objectShapes(m.config.schema.ast)[0]!.propertySignatures.map((p) => String(p.name))])
  ),
  medusa: objectShapes(EngineSection.ast)[0]!.propertySignatures.map((p) => String(p.name)),
  telemetry: objectShapes(TelemetrySection.ast)[0]!.propertySignatures.map((p) => String(p.name)),
  server: objectShapes(ServerSection.ast)[0]!.propertySignatures.map((p) => String(p.name))
}

// =============================================================================
// Environment overrides
// =============================================================================

const isStringValued = (ast: AST.AST): boolean =>
  ast._tag === "StringKeyword" ||
  (ast._tag === "Refinement" && isStringValued(ast.from)) ||
  (ast._tag === "Transformation" && isStringValued(ast.from))

const isSecret = (ast: AST.AST): boolean =>
  ast.annotations[SecretId] === true ||
  (ast._tag === "Transformation" && (isSecret(ast.from) || isSecret(ast.to))) ||
  (ast._tag === "Refinement" && isSecret(ast.from))

/**
 * The string-valued keys of each platform section, which the environment can
 * set (`MEDUSA_<PLATFORM>_<KEY>`). Required keys first.
 */
const envKeys = (
  section: Schema.Schema.Any
): { readonly required: Array<string>; readonly optional: Array<string> } => {
  const properties = objectShapes(section.ast)[0]!.propertySignatures.filter((p) => isStringValued(p.type))
  return {
    required: properties.filter((p) => !p.isOptional).map((p) => String(p.name)),
    optional: properties.filter((p) => p.isOptional).map((p) => String(p.name))
  }
}

const environmentKeys: ReadonlyArray<{
  readonly names: ReadonlyArray<string>
  readonly required: ReadonlyArray<string>
  readonly optional: ReadonlyArray<string>
}> = modulesList.map((m) => ({ names: sectionNames(m), ...envKeys(m.config.schema) }))

/** Keys whose values are secrets, in any section (never echoed). */
const secretKeys = new Set(
  modulesList.map((m) => m.config.schema).flatMap((section) =>
    objectShapes(section.ast)[0]!.propertySignatures.filter((p) => isSecret(p.type)).map((p) => String(p.name))
  ).concat(["postgres", "key", "secret"])
)

/**
 * The environment variable holding the server's API key (read and write),
 * which replaces the file's `server.api_keys`.
 *
 * @since 0.1.0
 * @category constants
 */
export const serverApiKeyVariable: string = "MEDUSA_SERVER_API_KEY"

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
    for (const keys of environmentKeys) {
      // A section may be spelt by any of its names in the file (twitter or x); the environment
      // accepts a prefix for each (MEDUSA_TWITTER_…, MEDUSA_X_…; the later name wins).
      const fileSection = keys.names.find((name) => name in raw) ?? keys.names[0]!
      const prefixes = keys.names.map((name) => name.toUpperCase())
      const existingSection = raw[fileSection]
      if (isAccountsForm(existingSection)) {
        // Named accounts: MEDUSA_<SECTION>_<ACCOUNT>_<KEY>, for the accounts the file names.
        const accounts = Predicate.isRecord(existingSection.accounts) ? existingSection.accounts : {}
        const updated: Record<string, unknown> = { ...accounts }
        for (const [account, section] of Object.entries(accounts)) {
          const overrides: Record<string, string> = {}
          for (const key of [...keys.required, ...keys.optional]) {
            for (const prefix of prefixes) {
              const name = `MEDUSA_${prefix}_${account.toUpperCase().replace(/-/g, "_")}_${key.toUpperCase()}`
              const value = yield* envValue(name)
              if (Option.isSome(value)) {
                overrides[key] = value.value
                sources.set(`${fileSection}.accounts.${account}.${key}`, name)
              }
            }
          }
          if (Object.keys(overrides).length > 0) {
            updated[account] = { ...(Predicate.isRecord(section) ? section : {}), ...overrides }
          }
        }
        out[fileSection] = { ...existingSection, accounts: updated }
        continue
      }
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
    // One API key for the server, read and write, in place of the file's keys.
    const serverKey = yield* envValue(serverApiKeyVariable)
    if (Option.isSome(serverKey)) {
      const existing = raw.server
      out.server = {
        ...(Predicate.isRecord(existing) ? existing : {}),
        api_keys: [{ key: serverKey.value, scopes: ["read", "write"] }]
      }
      sources.set("server.api_keys.0.key", serverApiKeyVariable)
    }
    return { raw: out, sources }
  })

// =============================================================================
// Decoding
// =============================================================================

const problem = (file: string, issues: ReadonlyArray<Issue>, cause?: unknown): ConfigError =>
  new ConfigError({ file, issues, ...(cause !== undefined ? { cause } : {}) })

/** Decoded field names are the file's keys in camelCase. */
const camelToSnake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

const issuesOf = (error: ParseResult.ParseError, sources: Map<string, string>): ReadonlyArray<Issue> => {
  return formatParseIssues(error)
    .map((i) => {
      const filePath = i.path.map((p) => (typeof p === "number" ? p : camelToSnake(String(p))))
      const last = String(filePath[filePath.length - 1] ?? "")
      const secret = secretKeys.has(last) || (filePath[0] === "telemetry" && filePath[1] === "headers")
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
    const FileSchema = fileSchema(raw)
    const issues: Array<Issue> = unknownKeys(FileSchema.ast, raw, [])
    const decoded = Schema.decodeUnknownEither(FileSchema)(raw, { errors: "all", onExcessProperty: "ignore" })
    if (Either.isLeft(decoded)) {
      // The store is a union: its members' complaints become one message (and never echo a PostgreSQL URL).
      const isStore = (i: Issue) => i.path[0] === "medusa" && i.path[1] === "store"
      const found = issuesOf(decoded.left, sources)
      issues.push(...found.filter((i) => !isStore(i)))
      if (found.some(isStore)) {
        issues.push(
          new Issue({
            path: ["medusa", "store"],
            message: `must be "memory", { "sqlite": "<path>" } or { "postgres": "<url>" }`
          })
        )
      }
    }
    for (const module of modulesList) {
      const given = sectionNames(module).filter((name) => raw[name] !== undefined)
      if (given.length > 1) {
        issues.push(
          new Issue({
            path: [given[given.length - 1]!],
            message: `both ${given.map((n) => JSON.stringify(n)).join(" and ")} sections are given; keep only one`
          })
        )
      }
    }
    for (const module of modulesList) {
      const name = sectionNames(module).find((n) => raw[n] !== undefined)
      const section = name === undefined ? undefined : raw[name]
      if (name === undefined || !isAccountsForm(section)) continue
      const accounts = Predicate.isRecord(section.accounts) ? Object.keys(section.accounts) : []
      if (Predicate.isRecord(section.accounts) && accounts.length === 0) {
        issues.push(
          new Issue({
            path: [name, "accounts"],
            message:
              `names no account; add one, as in "accounts": { "brand": { … } }, or give the ${module.displayName} section's keys directly for a single account`
          })
        )
      }
      for (const account of accounts) {
        if (!isAccountName(account)) {
          issues.push(
            new Issue({
              path: [name, "accounts", account],
              message: `${JSON.stringify(account)} is not an account name: ${accountNameRule}`
            })
          )
        }
      }
      const chosen = section.default_account
      if (typeof chosen === "string" && accounts.length > 0 && !accounts.includes(chosen)) {
        issues.push(
          new Issue({
            path: [name, "default_account"],
            message: `no account ${JSON.stringify(chosen)} in ${name}.accounts — configured: ${accounts.join(", ")}`
          })
        )
      }
    }
    if (issues.length > 0 || Either.isLeft(decoded)) return yield* problem(file, issues)
    const c = decoded.right
    const sections: Record<string, unknown> = {}
    const accounts: Record<string, Record<string, unknown>> = {}
    for (const module of modulesList) {
      const section = sectionNames(module).map((name) => (c as Record<string, unknown>)[name]).find((v) =>
        v !== undefined
      )
      if (section === undefined) continue
      const resolved = (s: unknown) =>
        module.config.resolvePaths?.(s, (p) => resolvePath(file, p), file !== "inline") ?? s
      if (Predicate.isRecord(section) && "accounts" in section && Predicate.isRecord(section.accounts)) {
        const named = Object.fromEntries(Object.entries(section.accounts).map(([a, s]) => [a, resolved(s)]))
        accounts[module.id] = named
        const chosen = section.defaultAccount
        if (typeof chosen === "string") sections[module.id] = named[chosen]
        continue
      }
      sections[module.id] = resolved(section)
    }
    const engine = c.medusa
    const store: StoreConfig = engine?.store === undefined || engine.store === "memory" ?
      "memory" :
      "sqlite" in engine.store ?
      { sqlite: resolvePath(file, engine.store.sqlite) } :
      { postgres: engine.store.postgres }
    const config: MedusaConfig = {
      file,
      ...(sections as PlatformSections),
      ...(Object.keys(accounts).length > 0 ? { accounts: accounts as PlatformAccounts } : {}),
      ...(c.server !== undefined ?
        {
          server: {
            ...c.server,
            ...(c.server.mediaRoots !== undefined ?
              { mediaRoots: c.server.mediaRoots.map((root) => resolvePath(file, root)) } :
              {}),
            ...(c.server.uploads !== undefined ?
              {
                uploads: {
                  ...c.server.uploads,
                  directory: resolvePath(file, c.server.uploads.directory ?? path.join(".medusa", "uploads"))
                }
              } :
              {})
          }
        } :
        {}),
      medusa: {
        ...(engine?.maxConcurrentTasks !== undefined ? { maxConcurrentTasks: engine.maxConcurrentTasks } : {}),
        ...(engine?.perPlatformConcurrency !== undefined ?
          { perPlatformConcurrency: engine.perPlatformConcurrency } :
          {}),
        ...(engine?.retention !== undefined ? { retention: engine.retention } : {}),
        maxWait: engine?.maxWait ?? defaultMaxWait,
        stallTimeout: engine?.stallTimeout ?? defaultStallTimeout,
        ...(engine?.runner !== undefined ? { runner: engine.runner } : {}),
        ...(engine?.timeZone !== undefined ? { timeZone: engine.timeZone } : {}),
        store
      },
      ...(c.telemetry !== undefined ? { telemetry: c.telemetry } : {})
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
  readonly maxWait?: Duration.Duration
  readonly stallTimeout?: Duration.Duration
} => {
  const { runner: _runner, store: _store, ...options } = config.medusa
  return options
}

/**
 * `medusa.runner`: the role of this process on the PostgreSQL store and the
 * address other runners reach it at (each field absent when not set).
 *
 * @since 0.1.0
 * @category getters
 */
export const runnerOptions = (config: MedusaConfig): RunnerConfig => config.medusa.runner ?? {}

/**
 * The platforms that have a section.
 *
 * @since 0.1.0
 * @category getters
 */
export const configuredPlatforms = (config: MedusaConfig): ReadonlyArray<PlatformId> =>
  all.filter((id) => config[id] !== undefined || config.accounts?.[id] !== undefined)

/**
 * Every configured account, as its target and its section: a platform's
 * default account as the platform's id (`facebook`), each named one as
 * `facebook:brand`. A default account that is also named (`default_account`)
 * is listed under both.
 *
 * @since 0.1.0
 * @category getters
 */
export const configuredTargets = (
  config: MedusaConfig
): ReadonlyArray<{ readonly target: Target; readonly platform: PlatformId; readonly section: unknown }> =>
  all.flatMap((platform) => [
    ...(config[platform] !== undefined ? [{ target: platform as Target, platform, section: config[platform] }] : []),
    ...Object.entries(config.accounts?.[platform] ?? {}).map(([account, section]) => ({
      target: targetOf(platform, account),
      platform,
      section
    }))
  ])
