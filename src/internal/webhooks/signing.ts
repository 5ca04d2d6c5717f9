/**
 * Standard Webhooks signing: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * keyed with the bytes of a `whsec_<base64>` secret.
 *
 * @internal
 */
import * as Redacted from "effect/Redacted"
import { createHmac, randomBytes } from "node:crypto"

const prefix = "whsec_"

/**
 * The HMAC key of a secret, or a message saying what is wrong with it (the
 * message never holds the secret).
 *
 * @internal
 */
export const keyOf = (secret: Redacted.Redacted<string>): Buffer | string => {
  const text = Redacted.value(secret)
  if (!text.startsWith(prefix)) return "must start with `whsec_` followed by base64 (24 to 64 random bytes)"
  const encoded = text.slice(prefix.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return "the part after `whsec_` is not base64"
  const key = Buffer.from(encoded, "base64")
  if (key.length < 24 || key.length > 64) {
    return `the key after \`whsec_\` decodes to ${key.length} bytes; use 24 to 64 random bytes`
  }
  return key
}

/** @internal */
export const sign = (key: Buffer, id: string, timestampSeconds: number, body: string): string =>
  `v1,${createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64")}`

/** A new random secret (32 bytes). @internal */
export const generateSecret = (): Redacted.Redacted<string> =>
  Redacted.make(`${prefix}${randomBytes(32).toString("base64")}`)
