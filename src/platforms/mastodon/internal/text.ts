/**
 * Mastodon's text rules: how a status is counted against the instance's
 * limit, and how a status's HTML `content` reads back as text.
 *
 * @internal
 */

const URL_PATTERN = /https?:\/\/[^\s<>"]+/g

/** A remote mention, `@user@example.social`: Mastodon counts `@user` only. */
const REMOTE_MENTION = /@(\w+)@[\w.-]+\w/g

/**
 * Characters of a status as Mastodon counts them: every URL counts
 * `perUrl` (23) whatever its length, a remote mention counts its local part,
 * everything else counts one per code point.
 *
 * @internal
 */
export const countCharacters = (text: string, perUrl = 23): number =>
  [...text.replace(URL_PATTERN, "x".repeat(perUrl)).replace(REMOTE_MENTION, "@$1")].length

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'", nbsp: " " }

/**
 * The text a reader sees in a status's HTML `content`: paragraphs become
 * blank lines, `<br>` a line break, tags are dropped (a link's hidden
 * `https://` and the rest of an ellipsised URL are kept), entities decoded.
 *
 * @internal
 */
export const htmlToText = (html: string): string =>
  html
    .replace(/<\/p>\s*<p[^>]*>/gi, "\n\n")
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === "#") {
        const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
        return Number.isFinite(code) ? String.fromCodePoint(code) : whole
      }
      return ENTITIES[name.toLowerCase()] ?? whole
    })
