/**
 * The Bluesky post record and its key, without the AT Protocol client: what
 * the publisher writes, checked the way the PDS checks it.
 *
 * Kept free of `@atproto/api` so that submit-time validation and the CLI's
 * start-up do not load it (it takes over a second to import).
 *
 * @internal
 */

/** The collection of Bluesky posts. @internal */
export const POST_COLLECTION = "app.bsky.feed.post"

/** Graphemes a post's text may have (`app.bsky.feed.post#text`, maxGraphemes). @internal */
export const MAX_GRAPHEMES = 300

/** UTF-8 bytes a post's text may have (`app.bsky.feed.post#text`, maxLength). @internal */
export const MAX_TEXT_BYTES = 3000

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })

/**
 * Graphemes as the PDS counts them (its lexicon validator uses the same
 * `Intl.Segmenter`): an emoji with modifiers is one.
 *
 * @internal
 */
export const graphemeLength = (text: string): number => {
  let count = 0
  for (const _ of segmenter.segment(text)) count++
  return count
}

/** @internal */
export const utf8Length = (text: string): number => Buffer.byteLength(text, "utf8")

// =============================================================================
// Record keys
// =============================================================================

const S32 = "234567abcdefghijklmnopqrstuvwxyz"

/** FNV-1a, 64 bits: a stable spread of the task id over the key's low bits. */
const fnv1a64 = (text: string): bigint => {
  let hash = 0xcbf29ce484222325n
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= BigInt(byte)
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return hash
}

/**
 * The record key of a task's post: a TID (13 base32-sortable characters:
 * 53 bits of microseconds since the epoch, then a 10-bit clock id) derived
 * from the task alone, so that every attempt of the task, in any process and
 * after any crash, writes the same key and the PDS refuses a second record.
 *
 * The timestamp is the task's creation time (its milliseconds) and the
 * microseconds and clock id come from the task id; without a creation time
 * the whole timestamp comes from the task id (within 2024).
 *
 * @internal
 */
export const recordKey = (taskId: string, createdAtMillis?: number | undefined): string => {
  const hash = fnv1a64(taskId)
  const clockId = hash & 0x3ffn
  const spare = (hash >> 10n) % 1000n
  const base = createdAtMillis !== undefined && Number.isFinite(createdAtMillis) && createdAtMillis > 0
    ? BigInt(Math.floor(createdAtMillis)) * 1000n + spare
    : 1_704_067_200_000_000n + (hash >> 10n) % 31_536_000_000_000n
  const value = ((base & ((1n << 53n) - 1n)) << 10n) | clockId
  let out = ""
  for (let i = 12; i >= 0; i--) out += S32[Number((value >> BigInt(i * 5)) & 31n)]
  return out
}

/** A TID as the AT Protocol syntax defines it. @internal */
export const isTid = (key: string): boolean => /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/.test(key)

// =============================================================================
// URIs
// =============================================================================

/** `at://did/app.bsky.feed.post/rkey`. @internal */
export const postUri = (did: string, rkey: string): string => `at://${did}/${POST_COLLECTION}/${rkey}`

/** The rkey of a post's `at://` URI (the publisher's post id), undefined when it is not one. @internal */
export const parsePostUri = (uri: string): { readonly did: string; readonly rkey: string } | undefined => {
  const match = /^at:\/\/([^/]+)\/app\.bsky\.feed\.post\/([^/?#]+)$/.exec(uri)
  return match === null ? undefined : { did: match[1]!, rkey: match[2]! }
}

/** The post's page on bsky.app. @internal */
export const webUrl = (handleOrDid: string, rkey: string): string =>
  `https://bsky.app/profile/${handleOrDid}/post/${rkey}`

// =============================================================================
// The record
// =============================================================================

/**
 * Bluesky's video limits from the lexicon of `app.bsky.embed.video`: the blob's
 * `maxSize` (100,000,000 bytes) and `accept` (`video/mp4` only), and the alt
 * text's `maxGraphemes`; and Bluesky's stated length of at most 3 minutes. A
 * PDS may take less (the reference PDS's default blob limit is 5 MiB).
 *
 * @internal
 */
export const videoLimits = {
  maxBytes: 100_000_000,
  maxSeconds: 180,
  mimeType: "video/mp4",
  maxAltGraphemes: 1000
} as const

/** The video embed (`app.bsky.embed.video`): the uploaded blob as the PDS answered it. @internal */
export interface VideoEmbed {
  /** The `BlobRef` `uploadBlob` answered (serialised as `{ $type: "blob", ref, mimeType, size }`). */
  readonly blob: unknown
  readonly alt: string | undefined
  /** The display size from the MP4 header, when it could be read. */
  readonly aspectRatio?: { readonly width: number; readonly height: number } | undefined
}

/** What the publisher puts in the post's link card (`app.bsky.embed.external`). @internal */
export interface LinkCard {
  readonly uri: string
  readonly title: string
  readonly description: string
}

/** A facet as the lexicon has it (`app.bsky.richtext.facet`): byte offsets into the UTF-8 text. @internal */
export interface Facet {
  readonly index: { readonly byteStart: number; readonly byteEnd: number }
  readonly features: ReadonlyArray<Record<string, unknown>>
}

/**
 * Keeps only the link and hashtag facets: a mention needs the handle resolved
 * to a DID, which the publisher does not do (a mention stays plain text).
 *
 * @internal
 */
export const linkAndTagFacets = (facets: ReadonlyArray<Facet> | undefined): Array<Facet> =>
  (facets ?? []).flatMap((facet) => {
    const features = facet.features.filter((f) =>
      f.$type === "app.bsky.richtext.facet#link" || f.$type === "app.bsky.richtext.facet#tag"
    )
    return features.length === 0 ? [] : [{ index: facet.index, features }]
  })

/** The `app.bsky.feed.post` record. @internal */
export const postRecord = (options: {
  readonly text: string
  readonly facets: ReadonlyArray<Facet>
  readonly card: LinkCard | undefined
  /** The video embed, which takes the card's place (a post has one embed). */
  readonly video?: VideoEmbed | undefined
  readonly langs: ReadonlyArray<string> | undefined
  readonly createdAt: string
}): Record<string, unknown> => ({
  $type: POST_COLLECTION,
  text: options.text,
  ...(options.facets.length === 0 ? {} : { facets: options.facets }),
  ...(options.video !== undefined ?
    {
      embed: {
        $type: "app.bsky.embed.video",
        video: options.video.blob,
        ...(options.video.alt === undefined || options.video.alt === "" ? {} : { alt: options.video.alt }),
        ...(options.video.aspectRatio === undefined ||
            options.video.aspectRatio.width < 1 ||
            options.video.aspectRatio.height < 1 ?
          {} :
          { aspectRatio: options.video.aspectRatio })
      }
    } :
    options.card === undefined ?
    {} :
    {
      embed: {
        $type: "app.bsky.embed.external",
        external: { uri: options.card.uri, title: options.card.title, description: options.card.description }
      }
    }),
  ...(options.langs === undefined || options.langs.length === 0 ? {} : { langs: options.langs }),
  createdAt: options.createdAt
})

// =============================================================================
// Errors of the client
// =============================================================================

/** What an `XRPCError` (or anything thrown by the client) tells about a failed call. @internal */
export interface CallFailure {
  /** The HTTP status; 0 when no answer arrived (the connection failed). */
  readonly status: number
  /** The XRPC error name (`RecordNotFound`, `ExpiredToken`, `RateLimitExceeded`, …). */
  readonly error: string | undefined
  readonly message: string | undefined
  readonly headers: Readonly<Record<string, string>>
  /** Error codes in the cause chain (`ECONNREFUSED`, `UND_ERR_SOCKET`, …). */
  readonly codes: ReadonlyArray<string>
}

const causeCodes = (error: unknown): Array<string> => {
  const codes: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") codes.push(code)
    current = (current as { readonly cause?: unknown }).cause
  }
  return codes
}

/**
 * Reads a failure of the AT Protocol client. The client reports a failed
 * connection as status 1 ("Unknown"); any status below 100 is read as no
 * answer. Only the status, the XRPC error name, its message and the codes
 * are kept: the request (and its session token) never is.
 *
 * @internal
 */
export const readFailure = (error: unknown): CallFailure => {
  const e = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>
  const status = typeof e.status === "number" && e.status >= 100 ? e.status : 0
  const headers = typeof e.headers === "object" && e.headers !== null ?
    e.headers as Record<string, string> :
    {}
  return {
    status,
    error: typeof e.error === "string" && status !== 0 ? e.error : undefined,
    message: typeof e.message === "string" ? e.message : undefined,
    headers,
    codes: causeCodes(e.cause)
  }
}

/** Connection errors that prove no byte of the request left. @internal */
export const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH"
])
