/**
 * The installed-app login for YouTube (`medusa auth youtube`): Google's
 * authorization-code flow with PKCE and a loopback redirect on 127.0.0.1.
 *
 * It starts a one-shot HTTP server on an ephemeral loopback port, hands the
 * consent URL to `onUrl` (print it, or open a browser), waits for Google to
 * redirect back with `code` and `state`, exchanges the code (with the PKCE
 * verifier) and writes the credentials file atomically, mode 0600.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import * as Auth from "./internal/auth.js"

/**
 * @since 0.1.0
 * @category errors
 */
export class LoginError extends Schema.TaggedError<LoginError>("@medusa/YouTubeLoginError")("YouTubeLoginError", {
  reason: Schema.Literal(
    "invalid_client_secrets",
    "denied",
    "state_mismatch",
    "timeout",
    "exchange_failed",
    "no_refresh_token",
    "server_failed",
    "write_failed"
  ),
  description: Schema.String,
  /** Google's own error code (`access_denied`, `invalid_grant`, …). */
  code: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `YouTube login failed (${this.reason}): ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly clientSecretsFile: string
  /** Where the credentials are written (mode 0600). */
  readonly credentialsFile: string
  /** Replaces Google's origin: authorization at `${baseUrl}/o/oauth2/v2/auth`, tokens at `${baseUrl}/token`. */
  readonly baseUrl?: string | undefined
  /** Default: `youtube.upload` and `youtube`. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Shows the consent URL to the user: print it, or open a browser. */
  readonly onUrl: (url: string) => Effect.Effect<void>
  /** How long to wait for the redirect (default 5 minutes). */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Result {
  readonly credentialsFile: string
  readonly scope: string | undefined
  /** Epoch milliseconds when the access token expires. */
  readonly expiryDate: number | undefined
}

const page = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body></html>`

interface Redirect {
  readonly code?: string | undefined
  readonly state?: string | undefined
  readonly error?: string | undefined
  readonly errorDescription?: string | undefined
}

/** A one-shot loopback server that resolves with the first redirect it receives. */
const loopback = Effect.gen(function*() {
  const received = yield* Deferred.make<Redirect>()
  const runtime = yield* Effect.runtime<never>()
  const server = yield* Effect.acquireRelease(
    Effect.async<Server, LoginError>((resume) => {
      const s = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1")
        const q = url.searchParams
        if (req.method !== "GET" || url.pathname !== "/" || (!q.has("code") && !q.has("error"))) {
          res.writeHead(404, { "content-type": "text/plain" }).end("Not found\n")
          return
        }
        const ok = q.has("code")
        res.writeHead(ok ? 200 : 400, { "content-type": "text/html; charset=utf-8" }).end(
          ok ?
            page("Medusa is signed in to YouTube", "You can close this window and return to the terminal.") :
            page("YouTube sign-in was not completed", "Return to the terminal for details.")
        )
        Runtime.runFork(runtime)(Deferred.succeed(received, {
          code: q.get("code") ?? undefined,
          state: q.get("state") ?? undefined,
          error: q.get("error") ?? undefined,
          errorDescription: q.get("error_description") ?? undefined
        }))
      })
      s.once("error", (error) =>
        resume(Effect.fail(
          new LoginError({
            reason: "server_failed",
            description: `could not listen on 127.0.0.1 for the redirect (${error.message})`
          })
        )))
      s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
    }),
    (s) =>
      Effect.async<void>((resume) => {
        s.close(() => resume(Effect.void))
        s.closeAllConnections()
      })
  )
  const port = (server.address() as AddressInfo).port
  return { redirectUri: `http://127.0.0.1:${port}`, received: Deferred.await(received) }
})

/**
 * Runs the login and writes the credentials file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const login = (options: Options): Effect.Effect<Result, LoginError, FileSystem.FileSystem> =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const secrets = yield* Auth.readClientSecrets(fs, options.clientSecretsFile).pipe(
      Effect.mapError((e) => new LoginError({ reason: "invalid_client_secrets", description: e.message }))
    )
    const OAuth2 = yield* Auth.loadOAuth2Client()
    const { received, redirectUri } = yield* loopback
    const token = Auth.tokenUrl(options.baseUrl)
    const auth = Auth.authUrl(options.baseUrl)
    const client = new OAuth2({
      clientId: secrets.clientId,
      clientSecret: secrets.clientSecret,
      redirectUri,
      ...(token !== undefined && auth !== undefined
        ? { endpoints: { oauth2TokenUrl: token, oauth2AuthBaseUrl: auth } }
        : {})
    })
    const { codeChallenge, codeVerifier } = yield* Effect.promise(() => client.generateCodeVerifierAsync())
    const state = randomBytes(24).toString("base64url")
    const { CodeChallengeMethod } = yield* Effect.promise(() => import("google-auth-library"))
    const url = client.generateAuthUrl({
      access_type: "offline",
      // Forces Google to return a refresh token even if the user consented before.
      prompt: "consent",
      scope: [...(options.scopes ?? Auth.DEFAULT_SCOPES)],
      state,
      code_challenge: codeChallenge!,
      code_challenge_method: CodeChallengeMethod.S256,
      redirect_uri: redirectUri
    })
    yield* options.onUrl(url)

    const timeout = options.timeout ?? "5 minutes"
    const redirect = yield* received.pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new LoginError({
            reason: "timeout",
            description: `no answer from the browser within ${
              Duration.format(Duration.decode(timeout))
            }; run \`medusa auth youtube\` again and open the printed URL`
          })
      })
    )
    if (redirect.state !== state) {
      return yield* new LoginError({
        reason: "state_mismatch",
        description: "the redirect carried a different state than the one sent (a stale or forged redirect); try again"
      })
    }
    if (redirect.error !== undefined || redirect.code === undefined) {
      return yield* new LoginError({
        reason: "denied",
        code: redirect.error,
        description: `Google did not grant access (${redirect.errorDescription ?? redirect.error ?? "no code"})`
      })
    }
    const code = redirect.code
    const tokens = yield* Effect.tryPromise({
      try: () => client.getToken({ code, codeVerifier, redirect_uri: redirectUri }),
      catch: (cause) => {
        // Keep Google's error code only: the GaxiosError holds the code, the verifier and the secret.
        const data = (cause as { response?: { data?: { error?: unknown; error_description?: unknown } } }).response
          ?.data
        const errorCode = typeof data?.error === "string" ? data.error : undefined
        const detail = typeof data?.error_description === "string" ? data.error_description : errorCode
        return new LoginError({
          reason: "exchange_failed",
          code: errorCode,
          description: `Google refused to exchange the authorization code${detail ? ` (${detail})` : ""}; try again`
        })
      }
    }).pipe(Effect.map((r) => r.tokens))
    if (!tokens.refresh_token) {
      return yield* new LoginError({
        reason: "no_refresh_token",
        description:
          "Google returned no refresh token; remove Medusa's access at https://myaccount.google.com/permissions and log in again"
      })
    }
    yield* Auth.writeCredentials(fs, options.credentialsFile, {
      refresh_token: tokens.refresh_token,
      access_token: tokens.access_token ?? undefined,
      expiry_date: tokens.expiry_date ?? undefined,
      token_type: tokens.token_type ?? "Bearer",
      scope: tokens.scope ?? undefined
    }).pipe(
      Effect.mapError(() =>
        new LoginError({
          reason: "write_failed",
          description: `could not write ${options.credentialsFile}; check that its directory exists and is writable`
        })
      )
    )
    return {
      credentialsFile: options.credentialsFile,
      scope: tokens.scope ?? undefined,
      expiryDate: tokens.expiry_date ?? undefined
    }
  }))
