/**
 * YouTube credentials: Google's client secrets file, the credentials file
 * (refresh token, access token, expiry), and an `OAuth2Client` that refreshes
 * the access token ahead of expiry (and on demand after a `401`), writing the
 * new token back atomically with mode 0600.
 *
 * Nothing here ever puts a token or a `GaxiosError` (whose config holds the
 * request body) into an error or a log.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type { Credentials, OAuth2Client } from "google-auth-library"
import { writeFileAtomic } from "../../../internal/files/atomicFile.js"
import { AuthExpired, ConfigError, Issue, PlatformUnavailable } from "../../../PublishError.js"
import type { PlatformError } from "../../../PublishError.js"

/** @internal */
export const DEFAULT_SCOPES: ReadonlyArray<string> = [
  "https://www.googleapis.com/auth/youtube.upload",
  "https://www.googleapis.com/auth/youtube"
]

/** @internal */
export const loginHint = "run `medusa auth youtube` to log in again"

// =============================================================================
// Files
// =============================================================================

/** @internal */
export interface ClientSecrets {
  readonly clientId: string
  readonly clientSecret: string
  readonly projectId: string | undefined
}

/** @internal */
export interface StoredCredentials {
  readonly refresh_token?: string | undefined
  readonly access_token?: string | undefined
  readonly expiry_date?: number | undefined
  readonly token_type?: string | undefined
  readonly scope?: string | undefined
  readonly channel_id?: string | undefined
  readonly [key: string]: unknown
}

const readJson = (fs: FileSystem.FileSystem, file: string, what: string, fix: string) =>
  fs.readFileString(file).pipe(
    Effect.mapError((e) =>
      new ConfigError({
        file,
        issues: [
          new Issue({
            path: [],
            message: e._tag === "SystemError" && e.reason === "NotFound" ?
              `the ${what} file does not exist; ${fix}` :
              `the ${what} file cannot be read (${e.message}); ${fix}`
          })
        ]
      })
    ),
    Effect.flatMap((text) =>
      Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: () =>
          new ConfigError({
            file,
            issues: [new Issue({ path: [], message: `the ${what} file is not valid JSON; ${fix}` })]
          })
      })
    )
  )

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Reads Google's client secrets (`installed` or `web` section).
 *
 * @internal
 */
export const readClientSecrets = (
  fs: FileSystem.FileSystem,
  file: string
): Effect.Effect<ClientSecrets, ConfigError> =>
  Effect.gen(function*() {
    const fix =
      "download the OAuth client (type Desktop app) JSON from Google Cloud Console > APIs & Services > Credentials"
    const json = yield* readJson(fs, file, "YouTube client secrets", fix)
    const section = isRecord(json) ? (isRecord(json.installed) ? json.installed : json.web) : undefined
    const key = isRecord(json) && isRecord(json.installed) ? "installed" : "web"
    if (!isRecord(section)) {
      return yield* new ConfigError({
        file,
        issues: [new Issue({ path: ["installed"], message: `missing the "installed" section; ${fix}` })]
      })
    }
    const issues: Array<Issue> = []
    const str = (name: string) => {
      const v = section[name]
      if (typeof v !== "string" || v.length === 0) {
        issues.push(new Issue({ path: [key, name], message: `missing or empty; ${fix}` }))
        return ""
      }
      return v
    }
    const clientId = str("client_id")
    const clientSecret = str("client_secret")
    if (issues.length > 0) return yield* new ConfigError({ file, issues })
    return {
      clientId,
      clientSecret,
      projectId: typeof section.project_id === "string" ? section.project_id : undefined
    }
  })

/**
 * Reads the credentials file written by the login.
 *
 * @internal
 */
export const readCredentials = (
  fs: FileSystem.FileSystem,
  file: string
): Effect.Effect<StoredCredentials, ConfigError> =>
  Effect.gen(function*() {
    const json = yield* readJson(fs, file, "YouTube credentials", loginHint)
    if (!isRecord(json) || typeof json.refresh_token !== "string" || json.refresh_token.length === 0) {
      return yield* new ConfigError({
        file,
        issues: [new Issue({ path: ["refresh_token"], message: `missing or empty; ${loginHint}` })]
      })
    }
    return json as StoredCredentials
  })

/**
 * Reads and checks both files as a task would (exists, parses, has the
 * fields), and whether other users can read them. Problems are keyed by the
 * config key that names the file; nothing read from a file is quoted.
 *
 * @internal
 */
export const checkFiles = (
  fs: FileSystem.FileSystem,
  files: { readonly clientSecretsFile: string; readonly credentialsFile: string }
): Effect.Effect<{
  readonly problems: ReadonlyArray<{ readonly key: string; readonly file: string; readonly message: string }>
  readonly warnings: ReadonlyArray<string>
}> =>
  Effect.gen(function*() {
    const problems: Array<{ readonly key: string; readonly file: string; readonly message: string }> = []
    const warnings: Array<string> = []
    const entries: ReadonlyArray<
      { readonly key: string; readonly file: string; readonly read: Effect.Effect<unknown, ConfigError> }
    > = [
      {
        key: "client_secrets_file",
        file: files.clientSecretsFile,
        read: readClientSecrets(fs, files.clientSecretsFile)
      },
      { key: "credentials_file", file: files.credentialsFile, read: readCredentials(fs, files.credentialsFile) }
    ]
    for (const { file, key, read } of entries) {
      const failed = yield* Effect.flip(read).pipe(Effect.option)
      if (failed._tag === "Some") {
        for (const issue of failed.value.issues) {
          problems.push({
            key,
            file,
            message: `${file}${issue.path.length > 0 ? ` (${issue.location})` : ""}: ${issue.message}`
          })
        }
        continue
      }
      const info = yield* Effect.option(fs.stat(file))
      const mode = info._tag === "Some" ? info.value.mode & 0o777 : 0
      if ((mode & 0o077) !== 0) {
        warnings.push(
          `${file} is readable by other users (mode ${
            mode.toString(8).padStart(4, "0")
          }) and holds a YouTube secret; restrict it with: chmod 600 ${file}`
        )
      }
    }
    return { problems, warnings }
  })

/**
 * Writes the credentials file atomically, mode 0600.
 *
 * @internal
 */
export const writeCredentials = (
  fs: FileSystem.FileSystem,
  file: string,
  credentials: StoredCredentials
): Effect.Effect<void, PlatformError> =>
  writeFileAtomic(fs, file, JSON.stringify(credentials, null, 2) + "\n").pipe(
    Effect.mapError((e) =>
      new AuthExpired({
        platform: "youtube",
        reason: "auth_invalid",
        description:
          `could not write the YouTube credentials file ${file} (${e.message}); check the directory's permissions`
      })
    )
  )

/** A config problem as the platform error the upload path returns. @internal */
export const configToAuthError = (error: ConfigError): AuthExpired =>
  new AuthExpired({
    platform: "youtube",
    reason: "auth_invalid",
    description: error.issues.map((i) => `${error.file}${i.path.length > 0 ? ` (${i.location})` : ""}: ${i.message}`)
      .join("; ")
  })

// =============================================================================
// Token endpoint errors
// =============================================================================

interface GaxiosLike {
  readonly response?: { readonly status?: number; readonly data?: unknown } | undefined
  readonly code?: string | undefined
}

/**
 * Maps a failure of Google's token endpoint. Only the status and the
 * server's `error` / `error_description` are kept; the `GaxiosError` itself
 * carries the request body (refresh token, client secret) and is dropped.
 *
 * @internal
 */
export const fromTokenError = (
  cause: unknown,
  files: { readonly credentialsFile: string; readonly clientSecretsFile: string }
): PlatformError => {
  const e = (typeof cause === "object" && cause !== null ? cause : {}) as GaxiosLike
  const status = e.response?.status
  const data = isRecord(e.response?.data) ? e.response.data : {}
  const code = typeof data.error === "string" ? data.error : undefined
  const platformMessage = typeof data.error_description === "string" ? data.error_description : code
  if (status === undefined) {
    return new PlatformUnavailable({
      platform: "youtube",
      reason: "transport",
      code: e.code,
      description: "could not reach Google's token endpoint to refresh the access token"
    })
  }
  if (status >= 500) {
    return new PlatformUnavailable({
      platform: "youtube",
      reason: "server_error",
      status,
      code,
      platformMessage,
      description: "Google's token endpoint failed while refreshing the access token; try again later"
    })
  }
  if (code === "invalid_client" || code === "unauthorized_client") {
    return new AuthExpired({
      platform: "youtube",
      reason: "auth_invalid",
      status,
      code,
      platformMessage,
      description: `the OAuth client in ${files.clientSecretsFile} was refused; check the file, then ${loginHint}`
    })
  }
  return new AuthExpired({
    platform: "youtube",
    reason: "auth_expired",
    status,
    code,
    platformMessage,
    description: `the refresh token in ${files.credentialsFile} is expired or revoked; ${loginHint}`
  })
}

// =============================================================================
// Auth
// =============================================================================

/** @internal */
export interface AuthOptions {
  readonly clientSecretsFile: string
  readonly credentialsFile: string
  readonly baseUrl?: string | undefined
  /** Deadline of one access-token refresh (default 30 seconds). */
  readonly tokenTimeout?: import("effect/Duration").DurationInput | undefined
}

/** @internal */
export interface Auth {
  readonly client: OAuth2Client
  readonly secrets: ClientSecrets
  readonly stored: StoredCredentials
  /** A valid access token, refreshed when within 5 minutes of expiry. */
  readonly accessToken: Effect.Effect<Redacted.Redacted<string>, PlatformError>
  /** Refreshes now (after a `401`). */
  readonly forceRefresh: Effect.Effect<void, PlatformError>
  /** Writes the credentials back when the library refreshed them. */
  readonly persist: Effect.Effect<void, PlatformError>
}

/** Loads `google-auth-library` on first use, so the CLI starts fast. @internal */
export const loadOAuth2Client = (): Effect.Effect<typeof OAuth2Client> =>
  Effect.promise(() => import("google-auth-library")).pipe(Effect.map((m) => m.OAuth2Client))

/** @internal */
export const tokenUrl = (baseUrl: string | undefined): string | undefined =>
  baseUrl === undefined ? undefined : `${baseUrl.replace(/\/+$/, "")}/token`

/** @internal */
export const authUrl = (baseUrl: string | undefined): string | undefined =>
  baseUrl === undefined ? undefined : `${baseUrl.replace(/\/+$/, "")}/o/oauth2/v2/auth`

const makeAuth = (options: AuthOptions): Effect.Effect<Auth, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const secrets = yield* readClientSecrets(fs, options.clientSecretsFile).pipe(Effect.mapError(configToAuthError))
    const stored = yield* readCredentials(fs, options.credentialsFile).pipe(Effect.mapError(configToAuthError))
    const OAuth2 = yield* loadOAuth2Client()
    const token = tokenUrl(options.baseUrl)
    const auth = authUrl(options.baseUrl)
    const client = new OAuth2({
      clientId: secrets.clientId,
      clientSecret: secrets.clientSecret,
      // Reactive refresh on 401/403 for the metadata calls made through googleapis.
      forceRefreshOnFailure: true,
      ...(token !== undefined && auth !== undefined
        ? { endpoints: { oauth2TokenUrl: token, oauth2AuthBaseUrl: auth } }
        : {})
    })
    const initial: Credentials = { refresh_token: stored.refresh_token ?? null }
    if (stored.access_token !== undefined) initial.access_token = stored.access_token
    if (stored.expiry_date !== undefined) initial.expiry_date = stored.expiry_date
    if (stored.token_type !== undefined) initial.token_type = stored.token_type
    if (stored.scope !== undefined) initial.scope = stored.scope
    client.setCredentials(initial)

    const written = yield* SynchronizedRef.make<StoredCredentials>(stored)
    const files = { credentialsFile: options.credentialsFile, clientSecretsFile: options.clientSecretsFile }

    const persist = SynchronizedRef.updateEffect(written, (last) => {
      const c = client.credentials
      if (!c.access_token || (c.access_token === last.access_token && c.expiry_date === last.expiry_date)) {
        return Effect.succeed(last)
      }
      const next: StoredCredentials = {
        ...last,
        access_token: c.access_token,
        expiry_date: c.expiry_date ?? undefined,
        token_type: c.token_type ?? last.token_type,
        scope: c.scope ?? last.scope,
        // Google may rotate the refresh token; keep the newest.
        refresh_token: c.refresh_token ?? last.refresh_token
      }
      return Effect.as(writeCredentials(fs, options.credentialsFile, next), next)
    })

    const accessToken = Effect.tryPromise({
      try: () => client.getAccessToken(),
      catch: (cause) => fromTokenError(cause, files)
    }).pipe(
      // The library sets no deadline on the token request: a server that never answers must not hold the task.
      Effect.timeoutFail({
        duration: options.tokenTimeout ?? "30 seconds",
        onTimeout: () =>
          new PlatformUnavailable({
            platform: "youtube",
            reason: "timeout",
            description: "Google's token endpoint did not answer the access-token refresh in time; try again later"
          })
      }),
      Effect.flatMap((r) =>
        r.token ?
          Effect.succeed(Redacted.make(r.token)) :
          Effect.fail(
            new AuthExpired({
              platform: "youtube",
              reason: "auth_expired",
              description: `Google returned no access token; ${loginHint}`
            })
          )
      ),
      Effect.tap(() => persist)
    )

    const forceRefresh = Effect.suspend(() => {
      // Mark the current token as expired so the library refreshes it.
      client.setCredentials({ ...client.credentials, expiry_date: 1 })
      return accessToken
    }).pipe(Effect.asVoid)

    return { client, secrets, stored, accessToken, forceRefresh, persist }
  })

/**
 * Builds the auth on first use and keeps it; a failure is not kept, so fixing
 * a file and trying again works without restarting.
 *
 * @internal
 */
export const makeLazy = (
  options: AuthOptions
): Effect.Effect<Effect.Effect<Auth, PlatformError>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const ref = yield* SynchronizedRef.make<Option.Option<Auth>>(Option.none())
    // Once built, it is handed out without the lock: many tasks ask at once.
    let built: Auth | undefined
    const build = SynchronizedRef.modifyEffect(ref, (current) =>
      Option.isSome(current) ?
        Effect.succeed([current.value, current] as const) :
        makeAuth(options).pipe(
          Effect.provideService(FileSystem.FileSystem, fs),
          Effect.map((auth) => {
            built = auth
            return [auth, Option.some(auth)] as const
          })
        ))
    return Effect.suspend(() => built !== undefined ? Effect.succeed(built) : build)
  })
