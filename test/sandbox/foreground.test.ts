/**
 * `Runner.runForeground`, the part `npm run sandbox` and `medusa sandbox`
 * share, run in-process.
 */
import { assert, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Runner from "../../src/sandbox/Runner.js"
import { request } from "./sandbox-http.js"

const scratch = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(path.join(tmpdir(), "medusa-foreground-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

it.live("writes the config under the given name, prints the banner, and closes the servers when done", () =>
  Effect.scoped(Effect.gen(function*() {
    const dir = yield* scratch
    const target = path.join(dir, "nested", "sb.config.json")
    const stop = yield* Deferred.make<string>()
    const banner = yield* Deferred.make<string>()
    const fiber = yield* Effect.fork(Effect.scoped(Runner.runForeground({
      configOut: target,
      label: (id) => id.toUpperCase(),
      hints: (file) => [`hint for ${path.basename(file)}`],
      write: (text) => Deferred.unsafeDone(banner, Effect.succeed(text)),
      until: Deferred.await(stop)
    })))
    const text = yield* Deferred.await(banner)
    const lines = text.trimEnd().split("\n")
    assert.strictEqual(lines[0], "Medusa sandbox running:")
    assert.match(lines[1]!, /^ {2}YOUTUBE {3}http:\/\/127\.0\.0\.1:\d+$/)
    assert.strictEqual(lines.at(-3), `config: ${target}`)
    assert.strictEqual(lines.at(-2), "hint for sb.config.json")
    assert.strictEqual(lines.at(-1), "Press Ctrl+C to stop.")
    const config = JSON.parse(readFileSync(target, "utf8"))
    const youtube = /YOUTUBE\s+(\S+)/.exec(text)![1]!
    assert.strictEqual(config.youtube.base_url, youtube)
    assert.strictEqual(statSync(target).mode & 0o777, 0o600)
    const stateUrl = /^ {2}state\s+(\S+)$/m.exec(text)![1]!
    assert.strictEqual((yield* Effect.promise(() => request(stateUrl))).status, 200)

    yield* Deferred.succeed(stop, "done")
    assert.strictEqual(yield* Fiber.join(fiber), "done")
    // The scope closed the servers.
    const after = yield* Effect.promise(() => request(stateUrl).then(() => "answered", () => "refused"))
    assert.strictEqual(after, "refused")
  })))

it.live("a port in use is a RunnerError naming the cause", () =>
  Effect.scoped(Effect.gen(function*() {
    const dir = yield* scratch
    const server = createServer()
    const port = yield* Effect.acquireRelease(
      Effect.promise(() =>
        new Promise<number>((resolve) =>
          server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port))
        )
      ),
      () => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
    )
    // The taken port is the YouTube one (the first of the six).
    const error = yield* Effect.flip(
      Effect.scoped(Runner.runForeground({ configOut: path.join(dir, "c.json"), port, write: () => undefined }))
    )
    assert.strictEqual(error._tag, "RunnerError")
    assert.strictEqual((error as Runner.RunnerError).reason, "start_failed")
    assert.include(error.message, "Cannot start the sandbox")
    assert.include(error.message, "EADDRINUSE")
  })))

it.live("an unwritable config path is a RunnerError naming the path", () =>
  Effect.scoped(Effect.gen(function*() {
    const dir = yield* scratch
    const blocker = path.join(dir, "file")
    yield* Effect.sync(() => writeFileSync(blocker, "x"))
    const target = path.join(blocker, "medusa.config.json")
    const error = yield* Effect.flip(
      Effect.scoped(Runner.runForeground({ configOut: target, write: () => undefined }))
    )
    assert.strictEqual((error as Runner.RunnerError).reason, "config_not_written")
    assert.include(error.message, target)
  })))
