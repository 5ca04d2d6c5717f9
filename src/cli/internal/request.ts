/**
 * Builds the publish request from the command line: a `--request` file (the
 * library's JSON shape) and/or flags, flags winning. Problems name the flag
 * or the file and field, and say how to fix them.
 *
 * @internal
 */
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import { locateSyntaxError } from "../../internal/request/jsonSyntax.js"
import type { PlatformId } from "../../PlatformId.js"
import type { PublishRequestInput } from "../../PublishRequest.js"

/** The flags `publish` takes, already parsed. @internal */
export interface PublishFlags {
  readonly file: Option.Option<string>
  readonly to: Option.Option<string>
  readonly request: Option.Option<string>
  readonly title: Option.Option<string>
  readonly description: Option.Option<string>
  readonly privacy: Option.Option<"public" | "unlisted" | "private">
  readonly tags: Option.Option<string>
  readonly category: Option.Option<string>
  readonly thumbnail: Option.Option<string>
  readonly playlist: Option.Option<string>
  readonly publishAt: Option.Option<string>
  readonly vimeoTitle: Option.Option<string>
  readonly vimeoDescription: Option.Option<string>
  readonly vimeoPrivacy: Option.Option<"anybody" | "nobody" | "unlisted" | "password" | "disable">
  readonly message: Option.Option<string>
  readonly link: Option.Option<string>
  readonly xText: Option.Option<string>
  readonly xVideo: boolean
  readonly linkedinText: Option.Option<string>
  readonly policy: Option.Option<"fail-fast" | "best-effort">
}

const platformNames: Readonly<Record<string, PlatformId>> = {
  youtube: "youtube",
  vimeo: "vimeo",
  facebook: "facebook",
  x: "x",
  twitter: "x",
  linkedin: "linkedin"
}

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** `--to youtube,x` → platforms, or a message naming the bad value. @internal */
export const parsePlatforms = (to: string): { readonly platforms: ReadonlyArray<PlatformId> } | {
  readonly error: string
} => {
  const names = to.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0)
  if (names.length === 0) {
    return { error: "--to is empty: name at least one of youtube, vimeo, facebook, x, linkedin (comma separated)" }
  }
  const platforms: Array<PlatformId> = []
  for (const name of names) {
    const id = platformNames[name]
    if (id === undefined) {
      return {
        error: `--to: unknown platform ${JSON.stringify(name)}; use youtube, vimeo, facebook, x (or twitter), linkedin`
      }
    }
    if (!platforms.includes(id)) platforms.push(id)
  }
  return { platforms }
}

/** Reads a request file; relative paths inside it are resolved against its directory. @internal */
export const readRequestFile = (file: string): { readonly request: Json } | { readonly error: string } => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch (error) {
    return { error: `--request ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})` }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    const at = locateSyntaxError(text)
    const where = at === undefined ? "" : ` at line ${at.line}, column ${at.column}`
    return {
      error: `--request ${file}: invalid JSON${where}: ${
        at?.message ?? (error instanceof Error ? error.message : error)
      }`
    }
  }
  if (!isObject(parsed)) {
    return { error: `--request ${file}: expected a JSON object with mediaFile, platforms and metadata` }
  }
  const dir = path.dirname(path.resolve(file))
  const resolve = (p: unknown) => typeof p === "string" && p.length > 0 && !path.isAbsolute(p) ? path.join(dir, p) : p
  const request: Json = { ...parsed }
  if ("mediaFile" in request) request["mediaFile"] = resolve(request["mediaFile"])
  const metadata = request["metadata"]
  if (isObject(metadata) && isObject(metadata["youtube"]) && "thumbnail" in metadata["youtube"]) {
    request["metadata"] = {
      ...metadata,
      youtube: { ...metadata["youtube"], thumbnail: resolve(metadata["youtube"]["thumbnail"]) }
    }
  }
  return { request }
}

const set = (target: Json, key: string, value: Option.Option<unknown>) => {
  if (Option.isSome(value)) target[key] = value.value
}

const vimeoPrivacyFor = { public: "anybody", unlisted: "unlisted", private: "nobody" } as const

/**
 * Merges a request file (if any) with the flags. Returns the request input for
 * the engine to decode and validate (the engine names every field problem),
 * or the first command-line problem.
 *
 * @internal
 */
export const buildRequest = (
  flags: PublishFlags
): { readonly request: PublishRequestInput } | { readonly error: string } => {
  let base: Json = {}
  if (Option.isSome(flags.request)) {
    const read = readRequestFile(flags.request.value)
    if ("error" in read) return read
    base = read.request
  }
  const request: Json = { ...base }
  if (Option.isSome(flags.file)) request["mediaFile"] = path.resolve(flags.file.value)
  else if (typeof request["mediaFile"] === "string") request["mediaFile"] = path.resolve(request["mediaFile"])
  if (request["mediaFile"] === undefined) {
    return {
      error:
        "No video given: pass the file as the first argument (medusa publish video.mp4 …) or set mediaFile in --request"
    }
  }

  const metadata: Record<string, Json> = {}
  const baseMetadata = isObject(base["metadata"]) ? base["metadata"] : {}
  for (const [k, v] of Object.entries(baseMetadata)) {
    metadata[k === "twitter" ? "x" : k] = isObject(v)
      ? { ...v }
      : v as Json
  }

  const section = (key: string): Json => (metadata[key] ??= {})
  const yt = (k: string, v: Option.Option<unknown>) => Option.isSome(v) && set(section("youtube"), k, v)
  const vm = (k: string, v: Option.Option<unknown>) => Option.isSome(v) && set(section("vimeo"), k, v)

  yt("title", flags.title)
  yt("description", flags.description)
  yt("privacy", flags.privacy)
  yt("tags", Option.map(flags.tags, (t) => t.split(",").map((s) => s.trim()).filter((s) => s.length > 0)))
  yt("categoryId", flags.category)
  yt("thumbnail", Option.map(flags.thumbnail, (t) => path.resolve(t)))
  yt("playlistId", flags.playlist)
  yt("publishAt", flags.publishAt)
  vm("title", Option.orElse(flags.vimeoTitle, () => flags.title))
  vm("description", Option.orElse(flags.vimeoDescription, () => flags.description))
  vm("privacy", Option.orElse(flags.vimeoPrivacy, () => Option.map(flags.privacy, (p) => vimeoPrivacyFor[p])))
  if (Option.isSome(flags.message)) section("facebook")["message"] = flags.message.value
  if (Option.isSome(flags.link)) section("facebook")["link"] = flags.link.value
  if (Option.isSome(flags.xText)) section("x")["text"] = flags.xText.value
  if (flags.xVideo) section("x")["attachVideo"] = true
  if (Option.isSome(flags.linkedinText)) section("linkedin")["text"] = flags.linkedinText.value

  // Platforms: --to wins; else the request file's; else every platform the flags describe.
  let platforms: ReadonlyArray<unknown>
  if (Option.isSome(flags.to)) {
    const parsed = parsePlatforms(flags.to.value)
    if ("error" in parsed) return parsed
    platforms = parsed.platforms
  } else if (Array.isArray(base["platforms"])) {
    platforms = base["platforms"]
  } else {
    platforms = (["youtube", "vimeo", "facebook", "x", "linkedin"] as const).filter((p) => metadata[p] !== undefined)
    if (platforms.length === 0) {
      return {
        error:
          "No platform chosen: pass --to youtube,vimeo,facebook,x,linkedin (with --title, --message, --x-text, --linkedin-text …) or --request request.json"
      }
    }
  }
  // Flags such as --title fill both hosts; keep only the sections of chosen platforms
  // that came from flags, so that `--to youtube --title T` does not add a Vimeo section.
  const chosen = new Set(platforms.map((p) => (p === "twitter" ? "x" : p)))
  for (const key of Object.keys(metadata)) {
    if (!chosen.has(key) && !(key in baseMetadata) && !(key === "x" && "twitter" in baseMetadata)) {
      delete metadata[key]
    }
  }
  request["platforms"] = platforms
  request["metadata"] = metadata
  set(request, "policy", flags.policy)
  return { request: request as unknown as PublishRequestInput }
}
