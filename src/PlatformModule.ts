/**
 * The shape of a platform module: everything Medusa knows about one platform,
 * declared in one place (`src/platforms/<id>/index.ts`) and registered in one
 * list (`src/platforms/registry.ts`).
 *
 * The engine, the config file, the request schema, the templates, the CLI's
 * flags and `medusa auth check` are all derived from the registered modules,
 * so adding a platform is adding its folder and one line in the registry.
 *
 * A module is light: it declares schemas and data, and loads its adapter
 * (the HTTP client code) with a dynamic `import()` only when a layer or a
 * credential check is built, so that the CLI's start-up does not pay for
 * every platform's SDK.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { Host, Publisher } from "./Platform.js"

/**
 * What a platform adapter may require: an HTTP client and a file system.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements = HttpClient.HttpClient | FileSystem.FileSystem

/**
 * Engine-wide defaults a module applies where its own config section does
 * not set a value (`medusa.max_wait`, `medusa.stall_timeout`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Defaults {
  readonly maxWait: Duration.Duration
  readonly stallTimeout: Duration.Duration
}

/**
 * One credential, as `medusa auth check` reports it, for every platform:
 * whether it can be used, one line saying what it is (account, page, expiry),
 * and details (scopes, quota, problems). Never contains a secret.
 *
 * @since 0.1.0
 * @category models
 */
export interface CredentialReport {
  readonly ok: boolean
  readonly summary: string
  readonly details: ReadonlyArray<string>
}

/**
 * A `medusa publish` flag a platform contributes.
 *
 * - `text`: takes a value (`--x-text "…"`).
 * - `boolean`: takes none (`--x-video`).
 * - `{ choices }`: takes one of the values, checked before anything runs.
 *
 * Several modules may read a flag; it is declared by one (`--title` by
 * YouTube, read by Vimeo too). Names are unique across the registry.
 *
 * @since 0.1.0
 * @category models
 */
export interface CliFlag {
  /** Without the dashes: `"x-text"`. */
  readonly name: string
  readonly type: "text" | "boolean" | { readonly choices: ReadonlyArray<string> }
  readonly description: string
}

/**
 * What a module's `cli.metadata` receives: the value of every publish flag
 * given (a string for text and choice flags, `true` for boolean ones; absent
 * when not given), and how to make a path absolute.
 *
 * @since 0.1.0
 * @category models
 */
export interface CliInput {
  readonly flags: Readonly<Record<string, string | true | undefined>>
  readonly resolvePath: (path: string) => string
}

/**
 * What both kinds of module declare.
 *
 * @since 0.1.0
 * @category models
 */
export interface ModuleBase<Id extends string, Config, Metadata> {
  /** The id used in requests, results, templates and the config (`"youtube"`). */
  readonly id: Id
  /** The name people know the platform by, used in messages. */
  readonly displayName: string
  /** Other names accepted for the id in `platforms`, `--to` and metadata keys (`twitter` for `x`). */
  readonly aliases?: ReadonlyArray<string> | undefined
  readonly config: {
    /**
     * The name of its section in `medusa.config.json` when it is not the id
     * (`"twitter"`); the id and the aliases are accepted too. Environment
     * overrides are `MEDUSA_<SECTION>_<KEY>`.
     */
    readonly section?: string | undefined
    /** The section's schema: file keys (snake_case) → the adapter's options. */
    readonly schema: Schema.Schema<Config, any>
    /**
     * Makes the decoded section's relative paths absolute (against the config
     * file's directory). `fromFile` is false for a config given inline, which
     * has no directory of its own for default files.
     */
    readonly resolvePaths?:
      | ((config: Config, resolve: (path: string) => string, fromFile: boolean) => Config)
      | undefined
  }
  /** The schema of `metadata.<id>` in a publish request. */
  readonly metadata: Schema.Schema<Metadata, any>
  /** The flags `medusa publish` takes for this platform, and how they become `metadata.<id>`. */
  readonly cli: {
    readonly flags: ReadonlyArray<CliFlag>
    /** This platform's metadata from the flags given, or `undefined` when they say nothing about it. */
    readonly metadata: (input: CliInput) => Record<string, unknown> | undefined
  }
  /**
   * Asks the platform whether the configured credential works (`medusa auth
   * check`). A platform that cannot be reached fails with its message; the
   * caller reports that as a credential that is not usable.
   */
  readonly checkCredentials: (
    config: Config
  ) => Effect.Effect<CredentialReport, { readonly message: string }, Requirements>
}

/**
 * A video host: uploads the file and produces the template variables
 * `{<id>_url}` and `{<id>_video_id}`.
 *
 * @since 0.1.0
 * @category models
 */
export interface HostModule<Id extends string, Config, Metadata> extends ModuleBase<Id, Config, Metadata> {
  readonly kind: "host"
  /** The tag its adapter provides (the engine resolves whichever are provided). */
  readonly tag: Context.Tag<any, Host<Metadata>>
  /** Builds the adapter for one account. */
  readonly make: (config: Config, defaults: Defaults) => Effect.Effect<Host<Metadata>, never, Requirements>
  /** Values of realistic length for `{<id>_url}` and `{<id>_video_id}`, for submit-time length checks. */
  readonly placeholders: { readonly url: string; readonly videoId: string }
}

/**
 * A social publisher: posts a text filled with the hosts' variables.
 *
 * @since 0.1.0
 * @category models
 */
export interface PublisherModule<Id extends string, Config, Metadata> extends ModuleBase<Id, Config, Metadata> {
  readonly kind: "publisher"
  readonly tag: Context.Tag<any, Publisher<Metadata>>
  readonly make: (config: Config, defaults: Defaults) => Effect.Effect<Publisher<Metadata>, never, Requirements>
  /** The fields of its metadata that are templates (`["message", "link"]`). */
  readonly templateFields: ReadonlyArray<string>
}

/**
 * Any platform module.
 *
 * @since 0.1.0
 * @category models
 */
export type PlatformModule = HostModule<string, any, any> | PublisherModule<string, any, any>

/**
 * The decoded config section of a module.
 *
 * @since 0.1.0
 * @category models
 */
export type ConfigOf<M> = M extends ModuleBase<any, infer C, any> ? C : never

/**
 * The decoded request metadata of a module.
 *
 * @since 0.1.0
 * @category models
 */
export type MetadataOf<M> = M extends ModuleBase<any, any, infer T> ? T : never
