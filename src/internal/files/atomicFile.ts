/**
 * Atomic, private file writes: a temporary file in the same directory
 * (mode 0600 from creation), then a rename over the target, so a reader never
 * sees half a file and a crash never leaves a truncated credentials file.
 *
 * @internal
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import { randomBytes } from "node:crypto"
import * as path from "node:path"

/** @internal */
export const writeFileAtomic = (
  fs: FileSystem.FileSystem,
  file: string,
  content: string
): Effect.Effect<void, PlatformError> =>
  Effect.suspend(() => {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`)
    return fs.writeFile(tmp, new TextEncoder().encode(content), { mode: 0o600, flag: "wx" }).pipe(
      // The mode given at creation is filtered by the umask; make sure.
      Effect.zipRight(fs.chmod(tmp, 0o600)),
      Effect.zipRight(fs.rename(tmp, file)),
      Effect.onError(() => Effect.ignore(fs.remove(tmp)))
    )
  })
