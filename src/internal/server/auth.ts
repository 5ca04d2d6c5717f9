/**
 * API keys: a presented key is compared with every configured key in
 * constant time (SHA-256 digests of both, compared with `timingSafeEqual`,
 * so neither the length nor the matching prefix of a key shows in the
 * timing). A key's value is never logged, echoed or put in an error.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash, timingSafeEqual } from "node:crypto"
import type { Caller, Scope } from "./api.js"
import { Authorization } from "./api.js"
import { unauthorized } from "./errors.js"

/** @internal */
export interface ApiKey {
  readonly key: Redacted.Redacted<string>
  readonly scopes: ReadonlyArray<Scope>
}

/** @internal */
export interface Keys {
  /** The caller a presented key belongs to; `None` for no or an unknown key. */
  readonly check: (presented: string) => Option.Option<Caller>
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/** @internal */
export const makeKeys = (keys: ReadonlyArray<ApiKey>): Keys => {
  const known = keys.map((k, index) => ({
    digest: digest(Redacted.value(k.key)),
    caller: { index, scopes: new Set(k.scopes) } satisfies Caller
  }))
  return {
    check: (presented) => {
      if (presented.length === 0) return Option.none()
      const candidate = digest(presented)
      let found: Caller | undefined
      // Every key is compared, whichever matches.
      for (const k of known) {
        if (timingSafeEqual(k.digest, candidate) && found === undefined) found = k.caller
      }
      return Option.fromNullable(found)
    }
  }
}

const bearerPrefix = /^Bearer\s+/i

/** The key in an `Authorization: Bearer <key>` header ("" when there is none). @internal */
export const bearerOf = (header: string | undefined): string =>
  header !== undefined && bearerPrefix.test(header) ? header.replace(bearerPrefix, "").trim() : ""

/**
 * Callers the outer guard already checked, by request (the guard runs
 * first on every request, so the API's middleware does not hash the key
 * again).
 *
 * @internal
 */
export const checkedCallers: WeakMap<object, Caller> = new WeakMap()

/** The `Authorization` middleware of the API's endpoints. @internal */
export const layerAuthorization = (keys: Keys): Layer.Layer<Authorization> =>
  Layer.succeed(
    Authorization,
    Authorization.of({
      bearer: (token) =>
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          const checked = checkedCallers.get(request.source as object)
          if (checked !== undefined) return Effect.succeed(checked)
          return Option.match(keys.check(Redacted.value(token).trim()), {
            onNone: () => Effect.fail(unauthorized()),
            onSome: Effect.succeed
          })
        })
    })
  )
