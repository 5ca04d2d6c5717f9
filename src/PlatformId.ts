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
