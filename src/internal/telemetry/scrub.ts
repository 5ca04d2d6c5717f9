/**
 * What keeps secrets out of exported telemetry. The platform `HttpClient`
 * puts the full URL (query included), every request and response header
 * (only `authorization`, `cookie`, `set-cookie` and `x-api-key` redacted) and
 * failures' causes on its spans. Upload session URLs are bearer credentials
 * (YouTube's `upload_id`, Vimeo's tus `upload_link`, arriving in `location`
 * headers and JSON bodies), and signed URLs carry their signature in the
 * query. So every span passes through `tracer` below before it is exported:
 *
 * - `url.full` loses its query and fragment, `url.query` is dropped, and
 *   path segments that look like tokens are masked (a tus upload link's
 *   ticket is in its path);
 * - of the headers, only an allow-list of harmless ones is kept;
 * - any other string attribute, event attribute, error message and stack
 *   has the query of every URL in it replaced by `?…`;
 * - a failure is exported as its name and scrubbed message, without the
 *   chain of causes (which may hold a request with its URL).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

/** Headers worth seeing on an HTTP span, none of which can carry a credential. */
const allowedHeaders = new Set([
  "content-type",
  "content-length",
  "content-range",
  "range",
  "retry-after",
  "upload-offset",
  "upload-length",
  "tus-resumable",
  "x-upload-content-length",
  "x-upload-content-type",
  "x-rate-limit-limit",
  "x-rate-limit-remaining",
  "x-rate-limit-reset",
  "x-app-usage",
  "x-business-use-case-usage",
  "x-page-usage",
  "x-restli-protocol-version",
  "linkedin-version",
  "user-agent"
])

const URL_IN_TEXT = /https?:\/\/[^\s"'<>)\]]+/gi

/**
 * A path with every segment that looks like a token (16 characters or more,
 * letters and digits mixed: a tus upload ticket, a session hash) replaced
 * by `…`. Numeric ids and API paths stay readable.
 *
 * @internal
 */
export const path = (value: string): string =>
  value.split("/").map((segment) =>
    segment.length >= 16 && /[0-9]/.test(segment) && /[A-Za-z]/.test(segment) ? "…" : segment
  ).join("/")

/**
 * A URL without its credentials: origin and masked path; a query or
 * fragment becomes `?…`.
 *
 * @internal
 */
export const url = (value: string): string => {
  try {
    const u = new URL(value)
    return `${u.protocol}//${u.host}${path(u.pathname)}${u.search !== "" || u.hash !== "" ? "?…" : ""}`
  } catch {
    return "…"
  }
}

/**
 * `text` with every URL in it passed through `url`.
 *
 * @internal
 */
export const text = (value: string): string => value.indexOf("://") === -1 ? value : value.replace(URL_IN_TEXT, url)

/**
 * The value to export for a span attribute, or `undefined` to drop it.
 *
 * @internal
 */
export const attribute = (key: string, value: unknown): unknown => {
  if (key.startsWith("http.")) {
    if (key.startsWith("http.request.header.")) {
      return allowedHeaders.has(key.slice("http.request.header.".length)) ? value : undefined
    }
    if (key.startsWith("http.response.header.")) {
      return allowedHeaders.has(key.slice("http.response.header.".length)) ? value : undefined
    }
  } else if (key.startsWith("url.")) {
    if (key === "url.query") return undefined
    if (key === "url.full" && typeof value === "string") return url(value)
    if (key === "url.path" && typeof value === "string") return path(value)
  }
  return typeof value === "string" ? text(value) : value
}

const record = (attributes: Record<string, unknown> | undefined): Record<string, unknown> | undefined => {
  if (attributes === undefined) return undefined
  const out: Record<string, unknown> = {}
  for (const key in attributes) {
    const value = attribute(key, attributes[key])
    if (value !== undefined) out[key] = value
  }
  return out
}

/** An error reduced to its name and scrubbed message (and stack), without causes. */
class ScrubbedError extends Error {
  constructor(name: string, message: string, stack: string | undefined) {
    super(message)
    this.name = name
    if (stack !== undefined) this.stack = stack
  }
}

/**
 * The error as it may be exported.
 *
 * @internal
 */
export const error = (e: unknown): Error => {
  if (e instanceof ScrubbedError) return e
  if (typeof e === "object" && e !== null) {
    const tagged = e as { readonly _tag?: unknown; readonly name?: unknown; readonly message?: unknown }
    const name = typeof tagged._tag === "string" ?
      tagged._tag :
      typeof tagged.name === "string" ?
      tagged.name :
      "Error"
    const message = typeof tagged.message === "string" ? text(tagged.message) : ""
    const stack = e instanceof Error && typeof e.stack === "string" ?
      text(e.stack) :
      `${name}: ${message}`
    return new ScrubbedError(name, message, stack)
  }
  return new ScrubbedError("Error", text(String(e)), undefined)
}

/**
 * The cause with every failure and defect scrubbed (interruptions kept).
 *
 * @internal
 */
export const cause = <E>(c: Cause.Cause<E>): Cause.Cause<unknown> =>
  Cause.isEmpty(c) ? c : Cause.match(c, {
    onEmpty: Cause.empty as Cause.Cause<unknown>,
    onFail: (e) => Cause.fail(error(e)),
    onDie: (d) => Cause.die(error(d)),
    onInterrupt: (id) => Cause.interrupt(id),
    onSequential: (l, r) => Cause.sequential(l, r),
    onParallel: (l, r) => Cause.parallel(l, r)
  })

const exit = (e: Exit.Exit<unknown, unknown>): Exit.Exit<unknown, unknown> =>
  Exit.isSuccess(e) ? e : Exit.failCause(cause(e.cause))

/** A span that scrubs what is set on it before the wrapped span sees it. */
class ScrubbedSpan implements Tracer.Span {
  readonly _tag = "Span"
  constructor(readonly span: Tracer.Span) {}
  get name(): string {
    return this.span.name
  }
  get spanId(): string {
    return this.span.spanId
  }
  get traceId(): string {
    return this.span.traceId
  }
  get parent(): Option.Option<Tracer.AnySpan> {
    return this.span.parent
  }
  get context(): Context.Context<never> {
    return this.span.context
  }
  get status(): Tracer.SpanStatus {
    return this.span.status
  }
  get attributes(): ReadonlyMap<string, unknown> {
    return this.span.attributes
  }
  get links(): ReadonlyArray<Tracer.SpanLink> {
    return this.span.links
  }
  get sampled(): boolean {
    return this.span.sampled
  }
  get kind(): Tracer.SpanKind {
    return this.span.kind
  }
  end(endTime: bigint, e: Exit.Exit<unknown, unknown>): void {
    this.span.end(endTime, exit(e))
  }
  attribute(key: string, value: unknown): void {
    const scrubbed = attribute(key, value)
    if (scrubbed !== undefined) this.span.attribute(key, scrubbed)
  }
  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    this.span.event(name, startTime, record(attributes))
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.span.addLinks(links)
  }
}

/**
 * `tracer` with every span scrubbed.
 *
 * @internal
 */
export const tracer = (inner: Tracer.Tracer): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) =>
      new ScrubbedSpan(inner.span(name, parent, context, links, startTime, kind, options)),
    // The fiber runtime calls `context` around every operation of every fiber: pass the inner one on, not a wrapper.
    context: inner.context.bind(inner)
  })

/** @internal */
export const isScrubbed = (span: Tracer.AnySpan): boolean => span instanceof ScrubbedSpan

/** The option of a span's parent, for code that walks up a trace. @internal */
export const parentOf = (span: Tracer.AnySpan): Option.Option<Tracer.AnySpan> =>
  span._tag === "Span" ? span.parent : Option.none()
