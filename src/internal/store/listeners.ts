/**
 * Listeners called in the step that makes a change, before any fiber is
 * scheduled: what `TaskStore.listen` hands out. A listener that throws is
 * removed, so one faulty follower never fails the store's update.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** @internal */
export interface Listeners<A> {
  readonly emit: (value: A) => void
  readonly listen: (listener: (value: A) => void) => Effect.Effect<void, never, Scope.Scope>
}

/** @internal */
export const make = <A>(): Listeners<A> => {
  const listeners = new Set<(value: A) => void>()
  return {
    emit: (value) => {
      for (const listener of listeners) {
        try {
          listener(value)
        } catch {
          listeners.delete(listener)
        }
      }
    },
    listen: (listener) =>
      Effect.acquireRelease(
        Effect.sync(() => listeners.add(listener)),
        () => Effect.sync(() => listeners.delete(listener))
      )
  }
}
