/**
 * The `medusa publish` flags the platform modules declare, as `checkFlags`
 * needs them: the choice flags with their values, and those taking no value.
 * (Kept apart from `flagCheck.ts`, which the read commands' fast path loads
 * without the platform registry.)
 *
 * @internal
 */
import { modulesList } from "../../PlatformId.js"
import type { CliFlag } from "../../PlatformModule.js"

/** Every platform module's publish flags, in registry order. @internal */
export const platformFlags: ReadonlyArray<CliFlag> = modulesList.flatMap((m) => m.cli.flags)

/** @internal */
export const platformFlagKinds: {
  readonly choices: Readonly<Record<string, ReadonlyArray<string>>>
  readonly booleans: ReadonlyArray<string>
} = {
  choices: Object.fromEntries(
    platformFlags.flatMap((f) => (typeof f.type === "object" ? [[f.name, f.type.choices] as const] : []))
  ),
  booleans: platformFlags.filter((f) => f.type === "boolean").map((f) => f.name)
}
