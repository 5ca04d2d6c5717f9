import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Lock from "../../src/internal/store/lock.js"

const scratch = () => mkdtempSync(path.join(tmpdir(), "medusa-lock-"))

describe("SQLite owner lock", () => {
  it.scoped("creates the store's folder, and a second owner gets reason locked", () =>
    Effect.gen(function*() {
      const file = path.join(scratch(), "nested", "deeper", "medusa.db")
      yield* Lock.acquire(file)
      const second = yield* Effect.flip(Effect.scoped(Lock.acquire(file)))
      expect(second.reason).toBe("locked")
      expect(second.message).toContain(file)
    }))

  it.scoped("released with its scope: the next owner gets it", () =>
    Effect.gen(function*() {
      const file = path.join(scratch(), "medusa.db")
      yield* Effect.scoped(Lock.acquire(file))
      yield* Lock.acquire(file)
    }))

  it.effect("a folder that cannot be created is unavailable, not locked, and names the lock file", () =>
    Effect.gen(function*() {
      const dir = scratch()
      const blocker = path.join(dir, "not-a-folder")
      writeFileSync(blocker, "a file where a folder should be")
      const file = path.join(blocker, "medusa.db")
      const error = yield* Effect.flip(Effect.scoped(Lock.acquire(file)))
      expect(error.reason).toBe("unavailable")
      expect(error.message).toContain(Lock.lockFileOf(file))
    }))
})
