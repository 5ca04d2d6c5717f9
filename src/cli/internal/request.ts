/**
 * Builds the publish request from the command line: a `--request` file (the
 * library's JSON shape) and/or flags, flags winning. Problems name the flag
 * or the file and field, and say how to fix them.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import { decodeRequest } from "../../internal/request/decode.js"
import { locateSyntaxError } from "../../internal/request/jsonSyntax.js"
import {
  accountNameRule,
  all,
  fromName,
  moduleOf,
  modulesList,
  names,
  parseTarget,
  type PlatformId,
  platformOf,
  type Target
} from "../../PlatformId.js"
import { mapMetadataFilePaths } from "../../platforms/youtube/index.js"
import type { PublishRequestInput } from "../../PublishRequest.js"

/** The flags `publish` takes, already parsed. @internal */
export interface PublishFlags {
  readonly file: Option.Option<string>
  readonly to: Option.Option<string>
  readonly request: Option.Option<string>
  /** Each platform module's flags, by flag name (`Option` for flags taking a value, `boolean` otherwise). */
  readonly platform: Readonly<Record<string, Option.Option<string> | boolean>>
  readonly policy: Option.Option<"fail-fast" | "best-effort" | "all-or-nothing">
}

/** `youtube,vimeo,…` with each alias: `x (or twitter)`. */
const platformList = (): string =>
  all.map((id) => {
    const aliases = moduleOf(id).aliases ?? []
    return aliases.length > 0 ? `${id} (or ${aliases.join(", ")})` : id
  }).join(", ")

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** `--to youtube,x,facebook:brand` → targets, or a message naming the bad value. @internal */
export const parsePlatforms = (to: string): { readonly platforms: ReadonlyArray<Target> } | {
  readonly error: string
} => {
  const names = to.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0)
  if (names.length === 0) {
    return { error: `--to is empty: name at least one of ${all.join(", ")} (comma separated)` }
  }
  const platforms: Array<Target> = []
  for (const name of names) {
    const id = parseTarget(name)
    if (id === undefined) {
      const account = name.includes(":") && fromName(name.slice(0, name.indexOf(":"))) !== undefined
      return {
        error: account ?
          `--to: ${JSON.stringify(name)} names no valid account: ${accountNameRule}` :
          `--to: unknown platform ${JSON.stringify(name)}; use ${platformList()}, optionally with :<account>`
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
  const resolve = <A>(p: A): A | string =>
    typeof p === "string" && p.length > 0 && !path.isAbsolute(p) ? path.join(dir, p) : p
  const request: Json = { ...parsed }
  if ("mediaFile" in request) request["mediaFile"] = resolve(request["mediaFile"])
  if (isObject(request["metadata"])) request["metadata"] = mapMetadataFilePaths(request["metadata"], resolve)
  return { request }
}

/**
 * Merges a request file (if any) with the flags, then decodes the result with
 * the library's one request decoder (`decodeRequest`, the facade's and the
 * server's too). Flags replace the file's values; nothing the file says is
 * reinterpreted or guessed: a field of the wrong type is refused with its path
 * and the file's name. Returns the request input for the engine (which checks
 * the media file, the templates and each platform's rules), or the first
 * command-line problem.
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

  // A metadata value that is not an object is left as it is, for the decoder to name.
  const baseMetadata = base["metadata"]
  const metadata: Json = isObject(baseMetadata) ? { ...baseMetadata } : {}
  // A section under an alias (twitter) moves to the id (x), unless the id's is there too (the decoder names that).
  for (const [name, id] of Object.entries(names)) {
    if (name !== id && name in metadata && !(id in metadata)) {
      metadata[id] = metadata[name]
      delete metadata[name]
    }
  }
  const fromFlags = new Set<string>()
  const section = (key: string): Json | undefined => {
    const existing = metadata[key]
    if (existing === undefined) {
      fromFlags.add(key)
      return (metadata[key] = {}) as Json
    }
    if (!isObject(existing)) return undefined
    return (metadata[key] = { ...existing }) as Json
  }
  // Each module turns the flags given into its metadata; flags win over the file's fields.
  const given: Record<string, string | true | undefined> = {}
  for (const [name, value] of Object.entries(flags.platform)) {
    if (value === true) given[name] = true
    else if (typeof value !== "boolean" && Option.isSome(value)) given[name] = value.value
  }
  for (const module of modulesList) {
    const fields = module.cli.metadata({ flags: given, resolvePath: (p) => path.resolve(p) })
    if (fields === undefined) continue
    const target = section(module.id)
    if (target !== undefined) Object.assign(target, fields)
  }

  // Platforms: --to wins; else the request file's, whatever it holds (the decoder checks it);
  // else, without a request file, every platform the flags describe.
  let platforms: unknown
  if (Option.isSome(flags.to)) {
    const parsed = parsePlatforms(flags.to.value)
    if ("error" in parsed) return parsed
    platforms = parsed.platforms
  } else if ("platforms" in base || Option.isSome(flags.request)) {
    platforms = base["platforms"]
  } else {
    platforms = all.filter((p) => metadata[p] !== undefined)
    if ((platforms as ReadonlyArray<PlatformId>).length === 0) {
      return {
        error: `No platform chosen: pass --to ${
          all.join(",")
        } (with --title, --message, --x-text, --linkedin-text …) or --request request.json`
      }
    }
  }
  // Flags such as --title fill both hosts; keep only the sections made by flags for
  // chosen platforms, so that `--to youtube --title T` does not add a Vimeo section.
  if (Array.isArray(platforms)) {
    // `facebook:brand` keeps the flags' `facebook` section, which its account then takes.
    const chosen = new Set(platforms.map((p) => {
      const target = typeof p === "string" ? parseTarget(p) : undefined
      return target !== undefined ? platformOf(target) : p
    }))
    for (const key of fromFlags) if (!chosen.has(key)) delete metadata[key]
  }
  if (platforms !== undefined) request["platforms"] = platforms
  if (baseMetadata === undefined || isObject(baseMetadata)) request["metadata"] = metadata
  if (Option.isSome(flags.policy)) request["policy"] = flags.policy.value

  const decoded = decodeRequest(request).decoded
  if (Either.isLeft(decoded)) {
    const from = Option.isSome(flags.request) ? ` in --request ${flags.request.value}` : ""
    const hint = Option.isSome(flags.request) && base["platforms"] === undefined && Option.isNone(flags.to) ?
      `\n  (set "platforms" in the file or pass --to ${all.join(",")})` :
      ""
    return {
      error: `Invalid publish request${from} (${decoded.left.length} problem${
        decoded.left.length === 1 ? "" : "s"
      }):\n${decoded.left.map((i) => `  - ${i.location}: ${i.message}`).join("\n")}${hint}`
    }
  }
  return { request: request as unknown as PublishRequestInput }
}
