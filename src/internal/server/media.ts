/**
 * Where a request's `mediaFile` may come from: inside one of the configured
 * `media_roots`, after following every symlink. The path is checked as
 * written first (no `..` segment, inside a root), then resolved with
 * `realpath` (which reads no file content) and checked again, so a symlink
 * leading out is refused before anything opens the file.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { realpath } from "node:fs/promises"
import * as path from "node:path"
import type { BadRequest } from "./errors.js"
import { badRequest } from "./errors.js"

const inside = (root: string, candidate: string): boolean =>
  candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep)

/** @internal */
export interface MediaRoots {
  /** The absolute path to open, or a 400 naming `field`. */
  readonly resolve: (file: string, field: string) => Effect.Effect<string, BadRequest>
}

/** @internal */
export const makeMediaRoots = (roots: ReadonlyArray<string>): Effect.Effect<MediaRoots> =>
  Effect.gen(function*() {
    const lexical = roots.map((r) => path.resolve(r))
    // The roots themselves may be symlinks (/tmp on some systems): compare real paths.
    const real = yield* Effect.forEach(lexical, (r) => Effect.promise(() => realpath(r).catch(() => r)))
    const resolve = (mediaFile: string, field: string): Effect.Effect<string, BadRequest> =>
      Effect.gen(function*() {
        const escape = (message: string): BadRequest => badRequest("media_path_refused", message, field)
        if (lexical.length === 0) {
          return yield* Effect.fail(
            escape(
              "this server accepts no media files: list the folders they may come from in the server section's " +
                "media_roots"
            )
          )
        }
        if (mediaFile.split(/[\\/]/).includes("..")) {
          return yield* Effect.fail(escape("must not contain \"..\"; give a path inside one of the media_roots"))
        }
        if (mediaFile.includes("\0")) return yield* Effect.fail(escape("must not contain a NUL character"))
        const candidate = path.isAbsolute(mediaFile) ? path.resolve(mediaFile) : path.resolve(lexical[0]!, mediaFile)
        if (!lexical.some((root) => inside(root, candidate)) && !real.some((root) => inside(root, candidate))) {
          return yield* Effect.fail(escape(`is outside the media_roots (${lexical.join(", ")})`))
        }
        const resolved = yield* Effect.tryPromise({
          try: () => realpath(candidate),
          catch: (error) => {
            const code = (error as { code?: string }).code
            return code === "ENOENT" || code === "ENOTDIR" ?
              badRequest("media_not_found", `${JSON.stringify(mediaFile)} does not exist in the media_roots`, field) :
              escape(`cannot be resolved (${code ?? "error"})`)
          }
        })
        if (!real.some((root) => inside(root, resolved))) {
          return yield* Effect.fail(escape("leads outside the media_roots through a symbolic link"))
        }
        return resolved
      })
    return { resolve }
  })
