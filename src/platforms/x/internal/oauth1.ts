/**
 * OAuth 1.0a request signing (HMAC-SHA1) and verification, RFC 5849.
 *
 * Shared by the X publisher (which signs) and the sandbox's X emulator (which
 * verifies), so both sides compute the base string the same way; the unit
 * tests pin it to X's published worked example.
 *
 * Only `application/x-www-form-urlencoded` bodies are signed: JSON bodies are
 * not part of the signature (RFC 5849 §3.4.1.3.1, and what X's own clients do).
 *
 * @internal
 */
import * as Redacted from "effect/Redacted"
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"

/** A credential as it comes from config (`Redacted`) or as a plain string (tests, the emulator). @internal */
export type Secret = string | Redacted.Redacted<string>

const reveal = (secret: Secret): string => Redacted.isRedacted(secret) ? Redacted.value(secret) : secret

/** Name/value pairs, repeats allowed. @internal */
export type Params =
  | URLSearchParams
  | ReadonlyArray<readonly [string, string]>
  | Readonly<Record<string, string | number | boolean>>

const toPairs = (params: Params | undefined): Array<readonly [string, string]> => {
  if (params === undefined) return []
  if (params instanceof URLSearchParams) return [...params.entries()]
  if (Array.isArray(params)) return params.map(([k, v]) => [k, v] as const)
  return Object.entries(params as Readonly<Record<string, string | number | boolean>>).map(([k, v]) =>
    [k, String(v)] as const
  )
}

/**
 * RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~` is escaped,
 * including the `! * ' ( )` that `encodeURIComponent` leaves alone.
 * @internal
 */
export const percentEncode = (value: string): string =>
  encodeURIComponent(value).replace(/[!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/**
 * The base string URI: scheme and host lower-cased, default port dropped, no
 * query or fragment (RFC 5849 §3.4.1.2). `URL` already normalises scheme,
 * host and default ports.
 * @internal
 */
export const baseUri = (url: string | URL): string => {
  const u = typeof url === "string" ? new URL(url) : url
  return `${u.protocol}//${u.host}${u.pathname}`
}

/**
 * The normalised parameter string: oauth_* (without `oauth_signature` and
 * `realm`) + query + form params, each name and value percent-encoded, sorted
 * by name then value, joined with `&`.
 * @internal
 */
export const parameterString = (
  oauthParams: Params,
  url: string | URL,
  formParams?: Params
): string => {
  const u = typeof url === "string" ? new URL(url) : url
  const pairs = [
    ...toPairs(oauthParams).filter(([k]) => k !== "oauth_signature" && k !== "realm"),
    ...u.searchParams.entries(),
    ...toPairs(formParams)
  ].map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
  pairs.sort(([ak, av], [bk, bv]) => ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0)
  return pairs.map(([k, v]) => `${k}=${v}`).join("&")
}

/** `METHOD&pct(base URI)&pct(parameter string)`. @internal */
export const signatureBaseString = (method: string, url: string | URL, paramString: string): string =>
  `${method.toUpperCase()}&${percentEncode(baseUri(url))}&${percentEncode(paramString)}`

/** `pct(consumer secret)&pct(token secret)`. @internal */
export const signingKey = (consumerSecret: Secret, tokenSecret?: Secret): string =>
  `${percentEncode(reveal(consumerSecret))}&${tokenSecret === undefined ? "" : percentEncode(reveal(tokenSecret))}`

/** base64(HMAC-SHA1(key, base string)). @internal */
export const hmacSha1 = (key: string, baseString: string): string =>
  createHmac("sha1", key).update(baseString).digest("base64")

/** A fresh nonce: 32 random bytes as hex (alphanumeric, as X's examples use). @internal */
export const makeNonce = (): string => randomBytes(32).toString("hex")

/** @internal */
export interface SignInput {
  readonly method: string
  /** The full URL the request goes to, query included (its query params are signed). */
  readonly url: string | URL
  readonly consumerKey: Secret
  readonly consumerSecret: Secret
  readonly token?: Secret | undefined
  readonly tokenSecret?: Secret | undefined
  /** Defaults to a random nonce. */
  readonly nonce?: string | undefined
  /** Unix seconds; defaults to the wall clock. */
  readonly timestamp?: number | string | undefined
  /** Body params of an `application/x-www-form-urlencoded` request. Never pass a JSON body. */
  readonly formParams?: Params | undefined
}

/** @internal */
export interface Signed {
  /** The `oauth_*` params including `oauth_signature` (unencoded). */
  readonly params: ReadonlyArray<readonly [string, string]>
  readonly parameterString: string
  readonly baseString: string
  readonly signature: string
  /** The `Authorization` header value (`OAuth k="v", …`). */
  readonly header: string
}

const oauthParamsOf = (input: SignInput): Array<readonly [string, string]> => {
  const params: Array<readonly [string, string]> = [
    ["oauth_consumer_key", reveal(input.consumerKey)],
    ["oauth_nonce", input.nonce ?? makeNonce()],
    ["oauth_signature_method", "HMAC-SHA1"],
    ["oauth_timestamp", String(input.timestamp ?? Math.floor(Date.now() / 1000))]
  ]
  if (input.token !== undefined) params.push(["oauth_token", reveal(input.token)])
  params.push(["oauth_version", "1.0"])
  return params
}

/** Builds `OAuth k="v", …` from params (names and values percent-encoded, sorted by name). @internal */
export const buildHeader = (params: ReadonlyArray<readonly [string, string]>): string =>
  "OAuth " +
  [...params]
    .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`)
    .join(", ")

/** Signs a request; returns every intermediate value (useful in tests and error messages). @internal */
export const signDetailed = (input: SignInput): Signed => {
  const oauth = oauthParamsOf(input)
  const paramString = parameterString(oauth, input.url, input.formParams)
  const baseString = signatureBaseString(input.method, input.url, paramString)
  const signature = hmacSha1(signingKey(input.consumerSecret, input.tokenSecret), baseString)
  const params = [...oauth, ["oauth_signature", signature] as const]
  return { params, parameterString: paramString, baseString, signature, header: buildHeader(params) }
}

/**
 * Signs a request and returns the `Authorization` header value.
 *
 * ```ts
 * const authorization = sign({
 *   method: "POST", url: `${baseUrl}/2/tweets`,
 *   consumerKey, consumerSecret, token, tokenSecret // Redacted from config
 * })
 * ```
 * @internal
 */
export const sign = (input: SignInput): string => signDetailed(input).header

// =============================================================================
// Parsing and verification
// =============================================================================

/**
 * Parses `Authorization: OAuth k="v", …` into decoded params; `undefined` when
 * the header is not an OAuth header or is malformed.
 * @internal
 */
export const parseHeader = (header: string | undefined): ReadonlyMap<string, string> | undefined => {
  if (header === undefined) return undefined
  const m = /^\s*OAuth\s+(.*)$/is.exec(header)
  if (!m) return undefined
  const out = new Map<string, string>()
  const re = /\s*([^\s=,]+)\s*=\s*"([^"]*)"\s*(?:,|$)/gy
  const rest = m[1]!.trim()
  let match: RegExpExecArray | null
  let consumed = 0
  while (consumed < rest.length && (match = re.exec(rest)) !== null) {
    consumed = re.lastIndex
    try {
      out.set(decodeURIComponent(match[1]!), decodeURIComponent(match[2]!))
    } catch {
      return undefined
    }
  }
  if (consumed < rest.trim().length) return undefined
  return out
}

/** @internal */
export interface VerifyInput {
  readonly method: string
  /** The URL as the client addressed it (scheme, host and port included). */
  readonly url: string | URL
  readonly authorization: string | undefined
  readonly formParams?: Params | undefined
  /** The secrets for a consumer key and token, or `undefined` when either is unknown. */
  readonly secretsFor: (
    consumerKey: string,
    token: string | undefined
  ) => { readonly consumerSecret: Secret; readonly tokenSecret?: Secret | undefined } | undefined
}

/** @internal */
export type VerifyResult =
  | {
    readonly ok: true
    readonly consumerKey: string
    readonly token: string | undefined
    readonly nonce: string
    readonly timestamp: number
  }
  | {
    readonly ok: false
    readonly reason: "missing" | "malformed" | "unsupported" | "unknown_key" | "bad_signature"
    readonly message: string
  }

const REQUIRED = ["oauth_consumer_key", "oauth_nonce", "oauth_signature", "oauth_signature_method", "oauth_timestamp"]

/**
 * Verifies an OAuth 1.0a HMAC-SHA1 signature. Timestamp windows and nonce
 * replay are policy, left to the caller.
 * @internal
 */
export const verify = (input: VerifyInput): VerifyResult => {
  if (input.authorization === undefined || input.authorization.trim() === "") {
    return { ok: false, reason: "missing", message: "No Authorization header" }
  }
  const params = parseHeader(input.authorization)
  if (params === undefined) {
    return { ok: false, reason: "malformed", message: "The Authorization header is not a valid OAuth header" }
  }
  const missing = REQUIRED.filter((k) => !params.has(k))
  if (missing.length > 0) {
    return { ok: false, reason: "malformed", message: `The OAuth header lacks ${missing.join(", ")}` }
  }
  if (params.get("oauth_signature_method") !== "HMAC-SHA1") {
    return { ok: false, reason: "unsupported", message: "Only oauth_signature_method HMAC-SHA1 is supported" }
  }
  const version = params.get("oauth_version")
  if (version !== undefined && version !== "1.0") {
    return { ok: false, reason: "unsupported", message: `Unsupported oauth_version ${version}` }
  }
  const timestamp = Number(params.get("oauth_timestamp"))
  if (!Number.isInteger(timestamp) || timestamp < 0) {
    return { ok: false, reason: "malformed", message: "oauth_timestamp is not a Unix time in seconds" }
  }
  const consumerKey = params.get("oauth_consumer_key")!
  const token = params.get("oauth_token")
  const secrets = input.secretsFor(consumerKey, token)
  if (secrets === undefined) {
    return { ok: false, reason: "unknown_key", message: "Unknown consumer key or access token" }
  }
  const paramString = parameterString([...params.entries()], input.url, input.formParams)
  const expected = hmacSha1(
    signingKey(secrets.consumerSecret, secrets.tokenSecret),
    signatureBaseString(input.method, input.url, paramString)
  )
  const given = Buffer.from(params.get("oauth_signature")!)
  const want = Buffer.from(expected)
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return { ok: false, reason: "bad_signature", message: "The OAuth signature does not match" }
  }
  return { ok: true, consumerKey, token, nonce: params.get("oauth_nonce")!, timestamp }
}
