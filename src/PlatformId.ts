/**
 * Platform identifiers, derived from the registered platform modules
 * (`src/platforms/registry.ts`): the video hosts and the social publishers.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { HostModule, PlatformModule, PublisherModule } from "./PlatformModule.js"
import { type Modules, modules } from "./platforms/registry.js"

/**
 * @since 0.1.0
 * @category models
 */
export type PlatformId = Modules["id"]

/**
 * @since 0.1.0
 * @category models
 */
export type HostId = Extract<Modules, { readonly kind: "host" }>["id"]

/**
 * @since 0.1.0
 * @category models
 */
export type PublisherId = Extract<Modules, { readonly kind: "publisher" }>["id"]

/**
 * Every host, in the order uploads are reported.
 *
 * @since 0.1.0
 * @category constants
 */
export const hosts: ReadonlyArray<HostId> = modules.filter((m) => m.kind === "host").map((m) => m.id as HostId)

/**
 * Every publisher, in the order posts are reported.
 *
 * @since 0.1.0
 * @category constants
 */
export const publishers: ReadonlyArray<PublisherId> = modules.filter((m) => m.kind === "publisher").map((m) =>
  m.id as PublisherId
)

/**
 * @since 0.1.0
 * @category constants
 */
export const all: ReadonlyArray<PlatformId> = [...hosts, ...publishers]

const literals = <A extends string>(ids: ReadonlyArray<A>): Schema.Literal<[A, ...Array<A>]> =>
  Schema.Literal(...(ids as [A, ...Array<A>]))

/**
 * @since 0.1.0
 * @category models
 */
export const HostId: Schema.Literal<[HostId, ...Array<HostId>]> = literals(hosts)

/**
 * @since 0.1.0
 * @category models
 */
export const PublisherId: Schema.Literal<[PublisherId, ...Array<PublisherId>]> = literals(publishers)

/**
 * @since 0.1.0
 * @category models
 */
export const PlatformId: Schema.Literal<[PlatformId, ...Array<PlatformId>]> = literals(all)

/**
 * @since 0.1.0
 * @category guards
 */
export const isHost = (id: PlatformId): id is HostId => (hosts as ReadonlyArray<string>).includes(id)

/**
 * @since 0.1.0
 * @category guards
 */
export const isPublisher = (id: PlatformId): id is PublisherId => !isHost(id)

/**
 * The name people know the platform by, used in messages (`"YouTube API error: …"`).
 *
 * @since 0.1.0
 * @category constants
 */
export const displayName: Readonly<Record<PlatformId, string>> = Object.fromEntries(
  modules.map((m) => [m.id, m.displayName])
) as Record<PlatformId, string>

/**
 * The module of a platform.
 *
 * @since 0.1.0
 * @category getters
 */
export const moduleOf: {
  (id: HostId): HostModule<HostId, any, any>
  (id: PublisherId): PublisherModule<PublisherId, any, any>
  (id: PlatformId): PlatformModule
} = ((id: PlatformId) => modules.find((m) => m.id === id)!) as any

/**
 * Every registered platform module, hosts first.
 *
 * @since 0.1.0
 * @category constants
 */
export const modulesList: ReadonlyArray<PlatformModule> = modules

/**
 * Every name a platform is known by in requests and on the command line
 * (ids and aliases such as `twitter`), with the id it means.
 *
 * @since 0.1.0
 * @category constants
 */
export const names: Readonly<Record<string, PlatformId>> = Object.fromEntries(
  modules.flatMap((m) => [[m.id, m.id], ...(m.aliases ?? []).map((a) => [a, m.id])])
)

/**
 * The id a name or alias stands for (`twitter` → `x`), or `undefined`.
 *
 * @since 0.1.0
 * @category getters
 */
export const fromName = (name: string): PlatformId | undefined =>
  Object.prototype.hasOwnProperty.call(names, name) ? names[name] : undefined

// =============================================================================
// Accounts and targets
// =============================================================================

/**
 * Where a step goes: a platform's default account (`"facebook"`) or one of
 * its named accounts (`"facebook:brand"`). The default account keeps the
 * bare id, so that tasks, results and templates written before accounts
 * existed read the same.
 *
 * @since 0.1.0
 * @category models
 */
export type Target<P extends PlatformId = PlatformId> = P | `${P}:${string}`

/**
 * @since 0.1.0
 * @category models
 */
export type HostTarget = Target<HostId>

/**
 * @since 0.1.0
 * @category models
 */
export type PublisherTarget = Target<PublisherId>

const accountPattern = /^[a-z0-9][a-z0-9_-]{0,39}$/

/**
 * Whether `name` may name an account: lowercase letters, digits, `_` and
 * `-`, starting with a letter or digit, at most 40 characters.
 *
 * @since 0.1.0
 * @category guards
 */
export const isAccountName = (name: string): boolean => accountPattern.test(name)

/**
 * The rule of an account name, for messages.
 *
 * @since 0.1.0
 * @category constants
 */
export const accountNameRule: string =
  "an account name is lowercase letters, digits, \"_\" and \"-\" (starting with a letter or digit), at most 40 characters"

/**
 * @since 0.1.0
 * @category models
 */
export const AccountName: Schema.Schema<string> = Schema.String.pipe(
  Schema.filter((s) => isAccountName(s), {
    message: (issue) => `${JSON.stringify(issue.actual)} is not an account name: ${accountNameRule}`
  })
)

const targetSchema = <P extends PlatformId>(ids: ReadonlyArray<P>): Schema.Schema<Target<P>> =>
  Schema.String.pipe(
    Schema.filter((s) => {
      const i = s.indexOf(":")
      const id = i === -1 ? s : s.slice(0, i)
      return (ids as ReadonlyArray<string>).includes(id) && (i === -1 || isAccountName(s.slice(i + 1)))
    }, { message: (issue) => `expected a platform id or "<platform>:<account>", got ${JSON.stringify(issue.actual)}` })
  ) as unknown as Schema.Schema<Target<P>>

/**
 * @since 0.1.0
 * @category models
 */
export const Target: Schema.Schema<Target> = targetSchema(all)

/**
 * @since 0.1.0
 * @category models
 */
export const HostTarget: Schema.Schema<HostTarget> = targetSchema(hosts)

/**
 * @since 0.1.0
 * @category models
 */
export const PublisherTarget: Schema.Schema<PublisherTarget> = targetSchema(publishers)

/**
 * The platform of a target (`"facebook:brand"` → `"facebook"`).
 *
 * @since 0.1.0
 * @category getters
 */
export const platformOf = <P extends PlatformId>(target: Target<P>): P => {
  const i = target.indexOf(":")
  return (i === -1 ? target : target.slice(0, i)) as P
}

/**
 * The account a target names, or `undefined` for the default account.
 *
 * @since 0.1.0
 * @category getters
 */
export const accountOf = (target: Target): string | undefined => {
  const i = target.indexOf(":")
  return i === -1 ? undefined : target.slice(i + 1)
}

/**
 * The target of a platform's account (`undefined`: the default account).
 *
 * @since 0.1.0
 * @category constructors
 */
export const targetOf = <P extends PlatformId>(platform: P, account?: string | undefined): Target<P> =>
  account === undefined ? platform : `${platform}:${account}`

/**
 * The name of a target in messages: `"Facebook"`, `"Facebook (brand)"`.
 *
 * @since 0.1.0
 * @category getters
 */
export const targetName = (target: Target): string => {
  const account = accountOf(target)
  const name = displayName[platformOf(target)]
  return account === undefined ? name : `${name} (${account})`
}

/**
 * Reads a target as written in a request or on the command line: a name or
 * alias, optionally with `:<account>` (`"twitter:brand"` → `"x:brand"`).
 * `undefined` when the platform is unknown or the account name malformed.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTarget = (name: string): Target | undefined => {
  const i = name.indexOf(":")
  const platform = fromName(i === -1 ? name : name.slice(0, i))
  if (platform === undefined) return undefined
  if (i === -1) return platform
  const account = name.slice(i + 1)
  return isAccountName(account) ? `${platform}:${account}` : undefined
}

/**
 * Targets in the canonical order: platforms as registered, each platform's
 * default account first, then its named accounts in the order given.
 *
 * @since 0.1.0
 * @category combinators
 */
export const sortTargets = <T extends Target>(targets: ReadonlyArray<T>): ReadonlyArray<T> =>
  all.flatMap((id) => {
    const mine = targets.filter((t) => platformOf(t) === id)
    return [...mine.filter((t) => t === id), ...mine.filter((t) => t !== id)]
  })
