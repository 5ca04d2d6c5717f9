/**
 * Batch manifests: one row per video, shared defaults at the top, in JSON,
 * YAML or CSV. Every format becomes the same `BatchManifest` (the request
 * shape per row), then each row is merged over the defaults and checked by
 * the one request decoder, like any request.
 *
 * JSON and YAML: `{ "defaults": { …request fields… }, "videos": [ { … }, … ] }`.
 * CSV: a header of field names (`mediaFile`, `platforms`, `policy`,
 * `runAt`, and `<platform>.<field>` such as `youtube.title` or `x.text`); a
 * first row whose `mediaFile` is `*` holds the defaults; `platforms` and
 * `youtube.tags` separate their items with `;`; lines starting with `#` are
 * comments; an empty cell says nothing.
 *
 * @internal
 */
import { parse as parseCsv } from "csv-parse/sync"
import * as path from "node:path"
import { parse as parseYaml, YAMLParseError } from "yaml"
import type { BatchManifest, BatchRow } from "../../Planning.js"
import { parseTarget, platformOf } from "../../PlatformId.js"
import { mapMetadataFilePaths } from "../../platforms/youtube/index.js"
import type { PublishRequestInput } from "../../PublishRequest.js"

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The formats, by file extension. @internal */
export const formatOf = (file: string): "json" | "yaml" | "csv" | undefined => {
  const ext = path.extname(file).toLowerCase()
  return ext === ".json" ? "json" : ext === ".yaml" || ext === ".yml" ? "yaml" : ext === ".csv" ? "csv" : undefined
}

/** Fields of a CSV cell that are lists, split on `;`. */
const listFields = new Set(["platforms", "youtube.tags"])
/** Fields of a CSV cell that are `true` / `false`. */
const booleanFields = new Set([
  "youtube.madeForKids",
  "youtube.notifySubscribers",
  "x.attachVideo",
  "facebook.video",
  "linkedin.video",
  "mastodon.attachVideo",
  "bluesky.attachVideo"
])

const cell = (column: string, value: string): unknown => {
  if (listFields.has(column)) return value.split(";").map((s) => s.trim()).filter((s) => s.length > 0)
  if (booleanFields.has(column) && (value === "true" || value === "false")) return value === "true"
  return value
}

/** One CSV record (column → cell) as a request-shaped object. */
const fromCsvRecord = (record: Readonly<Record<string, string>>): Json => {
  const out: Json = {}
  const metadata: Record<string, Json> = {}
  for (const [column, raw] of Object.entries(record)) {
    const value = raw.trim()
    if (value.length === 0) continue
    const dot = column.indexOf(".")
    if (dot === -1) {
      out[column] = cell(column, value)
    } else {
      const section = column.slice(0, dot)
      metadata[section] = { ...metadata[section], [column.slice(dot + 1)]: cell(column, value) }
    }
  }
  if (Object.keys(metadata).length > 0) out["metadata"] = metadata
  return out
}

const parseStructured = (value: unknown, file: string): BatchManifest | { readonly error: string } => {
  if (!isObject(value)) return { error: `${file}: expected an object with "videos" (and optionally "defaults")` }
  const unknown = Object.keys(value).filter((k) => k !== "defaults" && k !== "videos")
  if (unknown.length > 0) {
    return {
      error: `${file}: unknown top-level key ${JSON.stringify(unknown[0])}; a manifest has "defaults" and "videos"`
    }
  }
  if (!Array.isArray(value["videos"])) return { error: `${file}: "videos" must be a list of videos, one per row` }
  if (value["defaults"] !== undefined && !isObject(value["defaults"])) {
    return { error: `${file}: "defaults" must be an object of request fields` }
  }
  return {
    ...(value["defaults"] !== undefined ? { defaults: value["defaults"] as Partial<PublishRequestInput> } : {}),
    videos: (value["videos"] as ReadonlyArray<unknown>).map((v) => v as BatchRow)
  }
}

/**
 * Reads a manifest's text. Relative media, thumbnail and caption paths are resolved
 * against `dir` (the manifest's directory). A syntax error names the line.
 *
 * @internal
 */
export const parseManifest = (
  text: string,
  file: string,
  dir: string
): { readonly manifest: BatchManifest; readonly lines?: ReadonlyArray<number> } | { readonly error: string } => {
  const format = formatOf(file)
  let result: { readonly manifest: BatchManifest; readonly lines?: ReadonlyArray<number> } | { readonly error: string }
  switch (format) {
    case undefined:
      return { error: `${file}: a manifest is a .json, .yaml (.yml) or .csv file` }
    case "json": {
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        return { error: `${file}: invalid JSON: ${error instanceof Error ? error.message : String(error)}` }
      }
      const manifest = parseStructured(value, file)
      result = "error" in manifest ? manifest : { manifest }
      break
    }
    case "yaml": {
      let value: unknown
      try {
        value = parseYaml(text)
      } catch (error) {
        const where = error instanceof YAMLParseError && error.linePos !== undefined ?
          ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` :
          ""
        return {
          error: `${file}: invalid YAML${where}: ${
            error instanceof Error ? error.message.split("\n")[0] : String(error)
          }`
        }
      }
      const manifest = parseStructured(value, file)
      result = "error" in manifest ? manifest : { manifest }
      break
    }
    case "csv": {
      let records: Array<{ readonly record: Record<string, string>; readonly info: { readonly lines: number } }>
      try {
        records = parseCsv(text, { columns: true, comment: "#", skip_empty_lines: true, info: true, bom: true })
      } catch (error) {
        return { error: `${file}: invalid CSV: ${error instanceof Error ? error.message : String(error)}` }
      }
      const first = records[0]
      const hasDefaults = first !== undefined && first.record["mediaFile"]?.trim() === "*"
      const rows = hasDefaults ? records.slice(1) : records
      const defaults = hasDefaults ? fromCsvRecord({ ...first.record, mediaFile: "" }) : undefined
      result = {
        manifest: {
          ...(defaults !== undefined ? { defaults: defaults as Partial<PublishRequestInput> } : {}),
          videos: rows.map((r) => fromCsvRecord(r.record) as BatchRow)
        },
        lines: rows.map((r) => r.info.lines)
      }
      break
    }
  }
  if ("error" in result) return result
  const resolve = <A>(p: A): A | string =>
    typeof p === "string" && p.length > 0 && !path.isAbsolute(p) ? path.join(dir, p) : p
  const fix = (row: Json): Json => {
    const out: Json = { ...row }
    if (typeof out["mediaFile"] === "string") out["mediaFile"] = resolve(out["mediaFile"])
    if (isObject(out["metadata"])) out["metadata"] = mapMetadataFilePaths(out["metadata"], resolve)
    return out
  }
  const manifest = result.manifest
  return {
    ...result,
    manifest: {
      ...(manifest.defaults !== undefined ? { defaults: fix(manifest.defaults as Json) } : {}),
      videos: manifest.videos.map((v) => (isObject(v) ? fix(v) : v) as BatchRow)
    }
  }
}

/**
 * A row over the defaults: top-level fields of the row win; `metadata`
 * merges per platform section, field by field.
 *
 * @internal
 */
export const mergeRow = (defaults: unknown, row: unknown): unknown => {
  if (!isObject(row)) return row
  if (!isObject(defaults)) return row
  const merged: Json = { ...defaults, ...row }
  const dm = defaults["metadata"]
  const rm = row["metadata"]
  if (isObject(dm) && isObject(rm)) {
    const metadata: Json = { ...dm }
    for (const [section, fields] of Object.entries(rm)) {
      metadata[section] = isObject(fields) && isObject(dm[section]) ? { ...dm[section], ...fields } : fields
    }
    merged["metadata"] = metadata
  }
  // Metadata for platforms the row does not select is the defaults' business, not an error of the row.
  const platforms = merged["platforms"]
  if (Array.isArray(platforms) && isObject(merged["metadata"]) && isObject(dm)) {
    // `facebook:brand` selects its own section and its platform's (which it falls back to).
    const selected = new Set(platforms.flatMap((p) => {
      const target = typeof p === "string" ? parseTarget(p) : undefined
      return target === undefined ? [p] : [target, platformOf(target)]
    }))
    const metadata: Json = {}
    for (const [section, fields] of Object.entries(merged["metadata"])) {
      const fromRow = isObject(rm) && section in rm
      if (selected.has(parseTarget(section) ?? section) || fromRow) metadata[section] = fields
    }
    merged["metadata"] = metadata
  }
  return merged
}
