/**
 * The rules of a task, as pure data and functions: which hosts upload, which
 * publishers need which hosts' links, and what is posted or skipped once the
 * uploads are known. Every runner executes the one orchestration in
 * `./orchestrate.ts`, which decides only through these.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import { HostTarget, PublisherTarget, sortTargets, type Target } from "../../PlatformId.js"
import type { PublishRequest } from "../../PublishRequest.js"
import * as Template from "../../Template.js"
import { hostsOf, publishersOf } from "./engine.js"

/**
 * What the orchestration needs to know of a task, decided once by its first
 * step (a durable runner records it, so that a resumed task decides from the
 * recorded plan, never from a request read again).
 *
 * @internal
 */
export const Plan = Schema.Struct({
  /** `false` when the task had already ended (or was cancelled before it started). */
  run: Schema.Boolean,
  /** Targets: a platform's default account, or `<platform>:<account>`. */
  hosts: Schema.Array(HostTarget),
  publishers: Schema.Array(PublisherTarget),
  failFast: Schema.Boolean,
  /** `all-or-nothing`: the posts made are taken back when another fails (absent in plans recorded before it existed). */
  allOrNothing: Schema.optional(Schema.Boolean),
  /** The hosts each publisher's templates need. */
  needs: Schema.Array(Schema.Tuple(PublisherTarget, Schema.Array(HostTarget)))
})

/** @internal */
export type Plan = typeof Plan.Type

/** @internal */
export const planOf = (request: PublishRequest, run: boolean): Plan => {
  const publishers = publishersOf(request)
  return {
    run,
    hosts: hostsOf(request),
    publishers,
    failFast: request.policy !== "best-effort",
    ...(request.policy === "all-or-nothing" ? { allOrNothing: true } : {}),
    needs: publishers.map((p) => [p, Template.hostsNeeded(p, request.metadata)] as const)
  }
}

/**
 * How a step ended:
 * - `ok`: done (or found done by an earlier run);
 * - `failed`: a platform error, recorded on the task;
 * - `skipped`: a post that did not start because a failure was known (fail-fast);
 * - `aborted`: an upload stopped because another platform failed (fail-fast);
 * - `stopped`: the task ended elsewhere (cancelled, or failed with a defect); the orchestration stops.
 *
 * @internal
 */
export const Outcome = Schema.Literal("ok", "failed", "skipped", "aborted", "stopped")

/** @internal */
export type Outcome = typeof Outcome.Type

/**
 * The publishers that post and those skipped, once every upload's outcome is
 * known. Fail-fast: any failed upload skips every post. Best-effort: only the
 * publishers whose templates need a failed host are skipped.
 *
 * @internal
 */
export const afterUploads = (
  plan: Plan,
  uploads: ReadonlyArray<readonly [HostTarget, Outcome]>
): { readonly toPost: ReadonlyArray<PublisherTarget>; readonly skipped: ReadonlyArray<PublisherTarget> } => {
  const failed = new Set(uploads.filter(([, outcome]) => outcome !== "ok").map(([host]) => host))
  if (plan.failFast && failed.size > 0) return { toPost: [], skipped: plan.publishers }
  const toPost: Array<PublisherTarget> = []
  const skipped: Array<PublisherTarget> = []
  for (const [publisher, needs] of plan.needs) {
    if (needs.some((host) => failed.has(host))) skipped.push(publisher)
    else toPost.push(publisher)
  }
  return { toPost, skipped }
}

/**
 * Whether a post may start, decided once it holds its platform permit (a post
 * that waited for the permit while a sibling failed must not go out).
 *
 * @internal
 */
export const mayPost = (plan: Pick<Plan, "failFast">, failuresKnown: number): boolean =>
  !plan.failFast || failuresKnown === 0

/**
 * Whether a running upload must stop: under fail-fast, once another
 * platform's failure is recorded.
 *
 * @internal
 */
export const uploadMustStop = (
  plan: Pick<Plan, "failFast">,
  host: HostTarget,
  failures: ReadonlyArray<{ readonly platform?: Target | undefined }>
): boolean => plan.failFast && failures.some((f) => f.platform !== host)

/** Skipped targets in the canonical order, once each. @internal */
export const ordered = (skipped: ReadonlyArray<Target>): ReadonlyArray<Target> => sortTargets([...new Set(skipped)])
