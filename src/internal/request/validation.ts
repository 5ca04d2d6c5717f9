import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { Host, MediaFile, Publisher } from "../../Platform.js"
import { Accounts } from "../../Platform.js"
import type { HostId, HostTarget, PlatformId, PublisherId, PublisherTarget, Target } from "../../PlatformId.js"
import {
  accountOf,
  all as allPlatforms,
  isHost,
  moduleOf,
  modulesList,
  parseTarget,
  platformOf,
  sortTargets,
  targetName
} from "../../PlatformId.js"
import { InvalidRequest, Issue } from "../../PublishError.js"
import { metadataFor, PublishRequest } from "../../PublishRequest.js"
import * as Template from "../../Template.js"
import { decodeRequest } from "./decode.js"
import { formatBytes, inspect, MediaCache } from "./media.js"

const adapter = (platforms: ResolvedPlatforms, target: Target): unknown =>
  isHost(platformOf(target)) ? platforms.hosts[target as HostTarget] : platforms.publishers[target as PublisherTarget]

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
  /** Under the platform id (the default account) and under `<id>:<account>` (a named one). */
  readonly hosts: Readonly<Partial<Record<HostTarget, Host<any>>>>
  readonly publishers: Readonly<Partial<Record<PublisherTarget, Publisher<any>>>>
}

/**
 * Looks up every platform tag and the named accounts; absent ones are simply
 * not configured.
 *
 * @internal
 */
export const resolvePlatforms: Effect.Effect<ResolvedPlatforms> = Effect.gen(function*() {
  const accounts = yield* Effect.serviceOption(Accounts)
  const hosts: Partial<Record<HostTarget, Host<any>>> = { ...Option.getOrUndefined(accounts)?.hosts }
  const publishers: Partial<Record<PublisherTarget, Publisher<any>>> = {
    ...Option.getOrUndefined(accounts)?.publishers
  }
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
export const isConfigured = (platforms: ResolvedPlatforms, target: Target): boolean =>
  isHost(platformOf(target)) ?
    platforms.hosts[target as HostTarget] !== undefined :
    platforms.publishers[target as PublisherTarget] !== undefined

/** The named accounts configured for a platform, in config order. @internal */
export const accountsOf = (platforms: ResolvedPlatforms, id: PlatformId): ReadonlyArray<string> =>
  Object.keys(isHost(id) ? platforms.hosts : platforms.publishers).flatMap((t) =>
    platformOf(t as Target) === id && accountOf(t as Target) !== undefined ? [accountOf(t as Target)!] : []
  )

/** Why a selected target cannot be used: not configured, with how to fix it. */
const notConfigured = (platforms: ResolvedPlatforms, target: Target): string => {
  const id = platformOf(target)
  const account = accountOf(target)
  const section = moduleOf(id).config.section ?? id
  const accounts = accountsOf(platforms, id)
  if (account !== undefined) {
    return accounts.length > 0 ?
      `no account ${JSON.stringify(account)} in ${id} — configured: ${accounts.join(", ")}` :
      `no account ${JSON.stringify(account)} in ${id} — ${id} has no named accounts; add ` +
      `"accounts": { "${account}": { … } } to its "${section}" section of medusa.config.json`
  }
  return accounts.length > 0 ?
    `${id} has no default account — name one: ${accounts.map((a) => `${id}:${a}`).join(", ")} ` +
    `(or set "default_account" in its "${section}" section of medusa.config.json)` :
    `${id} is not configured: add a "${section}" section to medusa.config.json (or provide the ${targetName(id)} layer)`
}

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
    const seen = new Set<Target>()
    rawPlatforms.forEach((name, i) => {
      const target = typeof name === "string" ? parseTarget(name) : undefined
      if (target === undefined) return
      const id = platformOf(target)
      if (seen.has(target)) {
        const aliases = moduleOf(id).aliases ?? []
        issues.push(
          issue(
            ["platforms", i],
            `${target} is selected twice${
              aliases.length > 0 ? ` (${[...aliases, id].join(" and ")} are the same platform)` : ""
            }`
          )
        )
      } else if (isConfigured(platforms, target)) {
        // A default account that is also named (`default_account`) is one account under two targets.
        const same = [...seen].find((t) =>
          platformOf(t) === id && isConfigured(platforms, t) && adapter(platforms, t) === adapter(platforms, target)
        )
        if (same !== undefined) {
          issues.push(issue(["platforms", i], `${target} and ${same} are the same account; keep only one`))
        }
      }
      seen.add(target)
      if (!isConfigured(platforms, target)) issues.push(issue(["platforms", i], notConfigured(platforms, target)))
    })
    // A host that cannot work (a missing or broken credentials file) is refused now, not once the task runs.
    for (const [i, name] of rawPlatforms.entries()) {
      const target = typeof name === "string" ? parseTarget(name) : undefined
      if (target === undefined || !isHost(platformOf(target))) continue
      const check = platforms.hosts[target as HostTarget]?.checkSetup
      if (check === undefined) continue
      for (const problem of yield* check) {
        issues.push(issue(["platforms", i], `${targetName(target)} cannot be used: ${problem}`))
      }
    }
    const selectedHosts = sortTargets([...seen].filter((t): t is HostTarget => isHost(platformOf(t))))
    const selectedPublishers = sortTargets([...seen].filter((t): t is PublisherTarget => !isHost(platformOf(t))))
    // The metadata key a target reads: its own (`facebook:brand`), else its platform's.
    const metadataKey = (target: Target): string => rawMetadata[target] !== undefined ? target : platformOf(target)

    if (Array.isArray(raw.platforms)) {
      for (const target of sortTargets([...seen])) {
        if (rawMetadata[metadataKey(target)] !== undefined) continue
        issues.push(
          issue(
            ["metadata", target],
            `is required because ${target} is selected in platforms${
              accountOf(target) === undefined ? "" : ` (or give metadata.${platformOf(target)}, which it then takes)`
            }`
          )
        )
      }
      for (const key of Object.keys(rawMetadata)) {
        const target = parseTarget(key)
        if (target === undefined || rawMetadata[key] === undefined) continue
        const used = target === platformOf(target) ?
          [...seen].some((t) => platformOf(t) === target) :
          seen.has(target)
        if (!used) {
          issues.push(
            issue(["metadata", key], `is given but ${key} is not selected in platforms; add it there or remove this`)
          )
        }
      }
    }

    // A template shared by several accounts (metadata.facebook) is checked once.
    const checkedTemplates = new Set<string>()
    for (const target of selectedPublishers) {
      const key = metadataKey(target)
      const section = rawMetadata[key]
      if (!Predicate.isRecord(section) || checkedTemplates.has(key)) continue
      checkedTemplates.add(key)
      for (const field of Template.templateFields[platformOf(target)]) {
        const template = section[field]
        if (typeof template !== "string") continue
        issues.push(
          ...Template.validate(template, {
            platform: key === target ? target : platformOf(target),
            path: ["metadata", key, field],
            hosts: selectedHosts
          })
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
              `${file.name} is ${formatBytes(file.size)}, larger than ${targetName(id)}'s limit of ${
                formatBytes(host.maxFileBytes)
              }`
            )
          )
        }
      }
      // Platform rules need a media file; they are skipped when it is unusable. A metadata
      // section several accounts share is checked once per account (their rules may differ).
      const placeholders = Template.placeholdersFor(selectedHosts)
      const reported = new Set<string>()
      const report = (key: string, found: ReadonlyArray<Issue>) => {
        for (const i of found) {
          const located = issue(["metadata", key, ...i.path], i.message)
          const seenKey = `${located.location}\u0000${located.message}`
          if (reported.has(seenKey)) continue
          reported.add(seenKey)
          issues.push(located)
        }
      }
      for (const id of selectedHosts) {
        const host = platforms.hosts[id]
        const metadata = metadataFor(request.metadata, id)
        if (host === undefined || metadata === undefined) continue
        report(metadataKey(id), yield* host.validate(metadata, file))
      }
      for (const id of selectedPublishers) {
        const publisher = platforms.publishers[id]
        const metadata = metadataFor(request.metadata, id)
        if (publisher === undefined || metadata === undefined) continue
        // Publishers check lengths on the text as it will roughly be once filled.
        const filled = Template.fillMetadata(platformOf(id), metadata as object, placeholders)
        report(metadataKey(id), yield* publisher.validate(filled, file))
      }
    }

    if (issues.length > 0 || media === undefined || Either.isLeft(media) || Either.isLeft(decoded)) {
      return yield* new InvalidRequest({ issues })
    }
    return { request: decoded.right, media: media.right } as const
  })
