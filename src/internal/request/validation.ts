import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { Host, MediaFile, Publisher } from "../../Platform.js"
import type { HostId, PlatformId, PublisherId } from "../../PlatformId.js"
import {
  all as allPlatforms,
  displayName,
  fromName,
  hosts as allHosts,
  isHost,
  moduleOf,
  modulesList,
  publishers as allPublishers
} from "../../PlatformId.js"
import { InvalidRequest, Issue } from "../../PublishError.js"
import { PublishRequest } from "../../PublishRequest.js"
import * as Template from "../../Template.js"
import { decodeRequest } from "./decode.js"
import { formatBytes, inspect, MediaCache } from "./media.js"

export {
  /** @internal */
  decodeRequest,
  /** @internal */
  MediaCache
}

/**
 * The platform services provided to the engine (whichever layers were given).
 *
 * @internal
 */
export interface ResolvedPlatforms {
  readonly hosts: Readonly<Partial<Record<HostId, Host<any>>>>
  readonly publishers: Readonly<Partial<Record<PublisherId, Publisher<any>>>>
}

/**
 * Looks up every platform tag; absent ones are simply not configured.
 *
 * @internal
 */
export const resolvePlatforms: Effect.Effect<ResolvedPlatforms> = Effect.gen(function*() {
  const hosts: Partial<Record<HostId, Host<any>>> = {}
  const publishers: Partial<Record<PublisherId, Publisher<any>>> = {}
  for (const module of modulesList) {
    if (module.kind === "host") {
      const service = yield* Effect.serviceOption(module.tag)
      if (Option.isSome(service)) hosts[module.id as HostId] = service.value
    } else {
      const service = yield* Effect.serviceOption(module.tag)
      if (Option.isSome(service)) publishers[module.id as PublisherId] = service.value
    }
  }
  return { hosts, publishers }
})

/** @internal */
export const isConfigured = (platforms: ResolvedPlatforms, id: PlatformId): boolean =>
  isHost(id) ? platforms.hosts[id] !== undefined : platforms.publishers[id] !== undefined

/** How far in the past a `runAt` may be and still mean "now". @internal */
export const pastGraceMillis = 60_000

const issue = (path: ReadonlyArray<string | number>, message: string): Issue => new Issue({ path, message })

/**
 * Decodes and checks a request: its shape, the platforms against the
 * configured services and the metadata, the templates, the media file, and
 * each platform's own rules. Fails with one `InvalidRequest` listing every
 * problem found, each with its field path.
 *
 * @internal
 */
export const validateRequest = (
  input: unknown,
  platforms: ResolvedPlatforms,
  cache?: MediaCache
): Effect.Effect<{ readonly request: PublishRequest; readonly media: MediaFile }, InvalidRequest> =>
  Effect.gen(function*() {
    const normalised = decodeRequest(input)
    const issues: Array<Issue> = []
    const decoded = normalised.decoded
    const rawMediaFile = Predicate.isRecord(normalised.input) ? normalised.input.mediaFile : undefined

    // The media file is checked even when the rest of the request is malformed,
    // so that one answer lists every problem.
    const media = typeof rawMediaFile === "string" && rawMediaFile.length > 0 ?
      yield* Effect.either(inspect(rawMediaFile, cache)) :
      undefined
    if (media !== undefined && Either.isLeft(media)) issues.push(issue(["mediaFile"], media.left))
    if (typeof rawMediaFile === "string" && rawMediaFile.length === 0) {
      issues.push(issue(["mediaFile"], "is empty; give the path of a video file"))
    }

    if (Either.isLeft(decoded)) issues.push(...decoded.left)

    // The cross-field checks read the raw input, so that they run (and report)
    // even when some field is malformed.
    const raw = Predicate.isRecord(normalised.input) ? normalised.input : {}
    const rawPlatforms: ReadonlyArray<unknown> = Array.isArray(raw.platforms) ? raw.platforms : []
    const rawMetadata: Record<string, unknown> = Predicate.isRecord(raw.metadata) ? raw.metadata : {}
    if (Array.isArray(raw.platforms) && rawPlatforms.length === 0) {
      issues.push(issue(["platforms"], `is empty; select at least one of ${allPlatforms.join(", ")}`))
    }
    const seen = new Set<PlatformId>()
    rawPlatforms.forEach((name, i) => {
      const platform = typeof name === "string" ? fromName(name) : undefined
      if (platform === undefined) return
      if (seen.has(platform)) {
        const aliases = moduleOf(platform).aliases ?? []
        issues.push(
          issue(
            ["platforms", i],
            `${platform} is selected twice${
              aliases.length > 0 ? ` (${[...aliases, platform].join(" and ")} are the same platform)` : ""
            }`
          )
        )
      }
      seen.add(platform)
      if (!isConfigured(platforms, platform)) {
        issues.push(
          issue(
            ["platforms", i],
            `${platform} is not configured: add a "${moduleOf(platform).config.section ?? platform}" section to ` +
              `medusa.config.json (or provide the ${displayName[platform]} layer)`
          )
        )
      }
    })
    // A host that cannot work (a missing or broken credentials file) is refused now, not once the task runs.
    for (const [i, name] of rawPlatforms.entries()) {
      const id = typeof name === "string" ? fromName(name) : undefined
      if (id === undefined || !isHost(id)) continue
      const check = platforms.hosts[id as HostId]?.checkSetup
      if (check === undefined) continue
      for (const problem of yield* check) {
        issues.push(issue(["platforms", i], `${displayName[id as HostId]} cannot be used: ${problem}`))
      }
    }
    const selectedHosts = allHosts.filter((h) => seen.has(h))
    const selectedPublishers = allPublishers.filter((p) => seen.has(p))

    if (Array.isArray(raw.platforms)) {
      for (const id of allPlatforms) {
        const given = rawMetadata[id] !== undefined
        if (seen.has(id) && !given) {
          issues.push(issue(["metadata", id], `is required because ${id} is selected in platforms`))
        } else if (!seen.has(id) && given) {
          issues.push(
            issue(["metadata", id], `is given but ${id} is not selected in platforms; add it there or remove this`)
          )
        }
      }
    }

    for (const id of selectedPublishers) {
      const section = rawMetadata[id]
      if (!Predicate.isRecord(section)) continue
      for (const field of Template.templateFields[id]) {
        const template = section[field]
        if (typeof template !== "string") continue
        issues.push(
          ...Template.validate(template, { platform: id, path: ["metadata", id, field], hosts: selectedHosts })
        )
      }
    }

    if (typeof raw.runAt === "string" && Number.isNaN(Date.parse(raw.runAt))) {
      issues.push(
        issue(["runAt"], `${JSON.stringify(raw.runAt)} is not a date; use ISO 8601, e.g. 2030-01-31T09:00:00Z`)
      )
    } else if (typeof raw.runAt === "string") {
      // A minute of grace: a time given as "now" reaches here a little late.
      const now = yield* Clock.currentTimeMillis
      if (Date.parse(raw.runAt) < now - pastGraceMillis) {
        issues.push(
          issue(
            ["runAt"],
            `${raw.runAt} is in the past (it is now ${
              new Date(now).toISOString()
            }); give a future time, or leave runAt out to start at once`
          )
        )
      }
    }

    if (media !== undefined && Either.isRight(media) && Either.isRight(decoded)) {
      const request = decoded.right
      const file = media.right
      for (const id of selectedHosts) {
        const host = platforms.hosts[id]
        if (host !== undefined && file.size > host.maxFileBytes) {
          issues.push(
            issue(
              ["mediaFile"],
              `${file.name} is ${formatBytes(file.size)}, larger than ${displayName[id]}'s limit of ${
                formatBytes(host.maxFileBytes)
              }`
            )
          )
        }
      }
      // Platform rules need a media file; they are skipped when it is unusable.
      for (const id of selectedHosts) {
        const host = platforms.hosts[id]
        const metadata = request.metadata[id]
        if (host === undefined || metadata === undefined) continue
        const found = yield* host.validate(metadata, file)
        issues.push(...found.map((i) => issue(["metadata", id, ...i.path], i.message)))
      }
      for (const id of selectedPublishers) {
        const publisher = platforms.publishers[id]
        const metadata = request.metadata[id]
        if (publisher === undefined || metadata === undefined) continue
        // Publishers check lengths on the text as it will roughly be once filled.
        const found = yield* publisher.validate(Template.fillMetadata(id, metadata, Template.placeholders), file)
        issues.push(...found.map((i) => issue(["metadata", id, ...i.path], i.message)))
      }
    }

    if (issues.length > 0 || media === undefined || Either.isLeft(media) || Either.isLeft(decoded)) {
      return yield* new InvalidRequest({ issues })
    }
    return { request: decoded.right, media: media.right } as const
  })
