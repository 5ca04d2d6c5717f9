/**
 * INTERIM: a minimal reader of `medusa.config.json` for the CLI, used only
 * until the core's `src/Config.ts` loader lands (it then replaces this file).
 * It reads the documented shape (`youtube`, `vimeo`, `facebook`, `twitter`/`x`,
 * `linkedin`, each with an optional `base_url`), makes secrets `Redacted`,
 * and names the file and JSON path of every problem.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as path from "node:path"
import type { PlatformId } from "../../PlatformId.js"
import { ConfigError, Issue } from "../../PublishError.js"

const Secret = Schema.Redacted(Schema.NonEmptyString)
const baseUrl = { base_url: Schema.optional(Schema.String) }

const File = Schema.Struct({
  youtube: Schema.optional(Schema.Struct({
    client_secrets_file: Schema.NonEmptyString,
    credentials_file: Schema.NonEmptyString,
    ...baseUrl
  })),
  vimeo: Schema.optional(Schema.Struct({ access_token: Secret, ...baseUrl })),
  facebook: Schema.optional(Schema.Struct({
    page_id: Schema.NonEmptyString,
    access_token: Secret,
    graph_version: Schema.optional(Schema.String),
    ...baseUrl
  })),
  twitter: Schema.optional(Schema.Struct({
    api_key: Secret,
    api_secret: Secret,
    access_token: Secret,
    access_token_secret: Secret,
    ...baseUrl
  })),
  linkedin: Schema.optional(Schema.Struct({
    access_token: Secret,
    author_urn: Schema.NonEmptyString,
    api_version: Schema.optional(Schema.String),
    ...baseUrl
  })),
  medusa: Schema.optional(Schema.Unknown)
})

/** @internal */
export type InterimConfig = typeof File.Type

const fail = (file: string, issues: ReadonlyArray<Issue>) => new ConfigError({ file, issues })

/** @internal */
export const load = (file: string): Effect.Effect<InterimConfig, ConfigError> =>
  Effect.suspend(() => {
    let text: string
    try {
      text = fs.readFileSync(file, "utf8")
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      return Effect.fail(fail(file, [
        new Issue({
          path: [],
          message: code === "ENOENT" ?
            "the file does not exist: create it (see the README's config section), pass --config <path>, or try --sandbox" :
            `cannot read the file (${code ?? String(error)})`
        })
      ]))
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return Effect.fail(fail(file, [new Issue({ path: [], message: `invalid JSON: ${(error as Error).message}` })]))
    }
    if (typeof json === "object" && json !== null && !Array.isArray(json) && "x" in json && !("twitter" in json)) {
      const { x, ...rest } = json as Record<string, unknown>
      json = { ...rest, twitter: x }
    }
    const decoded = Schema.decodeUnknownEither(File, { errors: "all" })(json)
    if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
    const issues = ParseResult.ArrayFormatter.formatErrorSync(decoded.left).map((i) =>
      new Issue({
        path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
        message: i.message.includes("Expected") && i.message.includes("actual") ?
          i.message.replace(/, actual .*/s, "") :
          i.message
      })
    )
    return Effect.fail(fail(file, issues))
  })

/** Configured platforms, in the usual order. @internal */
export const configured = (config: InterimConfig): ReadonlyArray<PlatformId> =>
  ([
    ["youtube", config.youtube],
    ["vimeo", config.vimeo],
    ["facebook", config.facebook],
    ["x", config.twitter],
    ["linkedin", config.linkedin]
  ] as const).filter(([, section]) => section !== undefined).map(([id]) => id)

/** Relative file names in the config are relative to the config file's directory. @internal */
export const resolveFrom = (configFile: string, file: string): string =>
  path.isAbsolute(file) ? file : path.join(path.dirname(configFile), file)
