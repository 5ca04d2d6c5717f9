/**
 * LinkedIn's "little text" format for post commentary: the characters
 * `\ | { } @ [ ] ( ) < > # * _ ~` have a meaning there (mentions, hashtags,
 * markup) and must be escaped with a backslash to appear as typed.
 *
 * Whether URLs inside the text must be escaped too is not documented; every
 * reserved character is escaped, which LinkedIn renders as typed either way
 * (the conservative reading).
 *
 * @internal
 */

const RESERVED = /[\\|{}@[\]()<>#*_~]/g

/** @internal */
export const escape = (text: string): string => text.replace(RESERVED, (c) => `\\${c}`)

/** Undoes `escape` (used to compare with commentary read back from LinkedIn). @internal */
export const unescape = (text: string): string => text.replace(/\\([\\|{}@[\]()<>#*_~])/g, "$1")
