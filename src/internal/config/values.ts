/**
 * The value schemas of `medusa.config.json` that platform sections share
 * (file keys are snake_case; decoded fields camelCase). Each platform module
 * declares its own section with these.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** @internal */
export const Text = Schema.String.pipe(
  Schema.filter((s) => s.trim().length > 0, { message: () => "must not be empty" })
)

/** Marks a key whose value is a secret: never echoed in an error. @internal */
export const SecretId: unique symbol = Symbol.for("@medusa/MedusaConfig/Secret")

/** @internal */
export const Secret = Schema.Redacted(Text).annotations({ [SecretId]: true })

/** @internal */
export const Url = Schema.String.pipe(
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

/** @internal */
export const Positive = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1, { message: () => "must be a whole number of at least 1" })
)

/** @internal */
export const NonNegative = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 0, { message: () => "must be a whole number of at least 0" })
)

/** @internal */
export const Percentage = Schema.Number.pipe(
  Schema.filter((n) => n > 0 && n <= 100, { message: () => "must be a percentage above 0 and at most 100" })
)

/** @internal */
export const ChunkSize = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n > 0 && n % (256 * 1024) === 0, {
    message: (issue) =>
      `must be a positive multiple of 262144 (256 KiB), such as 8388608 (8 MiB), got ${JSON.stringify(issue.actual)}`
  })
)

/** @internal */
export const DurationString = Schema.transformOrFail(Schema.String, Schema.DurationFromSelf, {
  strict: true,
  decode: (s, _, ast) =>
    Option.match(Duration.decodeUnknown(s.trim()), {
      onNone: () =>
        ParseResult.fail(
          new ParseResult.Type(
            ast,
            s,
            `must be a duration such as "30 seconds", "5 minutes" or "7 days", got ${JSON.stringify(s)}`
          )
        ),
      onSome: (d) => ParseResult.succeed(d)
    }),
  encode: (d) => ParseResult.succeed(Duration.format(d))
})

/** A required key, spelt `key` in the file. @internal */
export const required = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))

// `exact`: decoded optional fields are `?: T`, matching the adapters' options under exactOptionalPropertyTypes.
/** An optional key, spelt `key` in the file. @internal */
export const optional = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.optionalWith(schema, { exact: true }).pipe(Schema.fromKey(key))

/** @internal */
export const RetrySection = Schema.Struct({
  baseDelay: optional(DurationString, "base_delay"),
  maxDelay: optional(DurationString, "max_delay"),
  maxRetries: optional(NonNegative, "max_retries")
})

/** @internal */
export const ProcessingSection = Schema.Struct({
  interval: optional(DurationString, "interval"),
  timeout: optional(DurationString, "timeout")
})

/**
 * What every host takes about its requests and waits (the `medusa` section's
 * `max_wait` and `stall_timeout` apply where a host does not set its own).
 *
 * @internal
 */
export const uploadKeys = {
  requestTimeout: optional(DurationString, "request_timeout"),
  idleTimeout: optional(DurationString, "idle_timeout"),
  maxWait: optional(DurationString, "max_wait"),
  stallTimeout: optional(DurationString, "stall_timeout")
}

/** What every publisher takes about posting. @internal */
export const postingKeys = {
  maxAttempts: optional(Positive, "max_attempts"),
  maxRateLimitWait: optional(DurationString, "max_rate_limit_wait"),
  requestTimeout: optional(DurationString, "request_timeout"),
  settleTime: optional(DurationString, "settle_time")
}
