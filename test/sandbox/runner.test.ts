import { expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { request } from "./sandbox-http.js"

const tsx = path.resolve("node_modules/.bin/tsx")

it.live(
  "the runner writes the config, serves the state URL and exits cleanly on SIGTERM",
  () =>
    Effect.promise(async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "medusa-runner-"))
      const target = path.join(dir, "nested", "sandbox.config.json")
      const child = spawn(tsx, ["src/sandbox/bin.ts", "--config-out", target], { stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      // Wait for the ready banner (its last line) rather than for a fixed time.
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (c: Buffer) => {
          stdout += c.toString()
          if (stdout.includes("Press Ctrl+C to stop.")) resolve()
        })
        void exited.then((code) => reject(new Error(`runner exited early (${code}): ${stderr}`)))
      })
      try {
        const stateUrl = /state\s+(http:\/\/127\.0\.0\.1:\d+\/_sandbox\/state)/.exec(stdout)?.[1]
        expect(stateUrl).toBeDefined()
        const youtube = /youtube\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1]
        expect(youtube).toBeDefined()
        expect(stdout).toContain(`config: ${target}`)
        expect(existsSync(target)).toBe(true)
        const config = JSON.parse(readFileSync(target, "utf8"))
        expect(config.youtube.base_url).toBe(youtube)
        for (const section of ["vimeo", "facebook", "twitter", "linkedin"]) {
          expect(config[section].base_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        }
        expect(config.bluesky.service).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect(path.dirname(config.youtube.credentials_file)).toBe(path.dirname(target))
        expect(statSync(config.youtube.credentials_file).mode & 0o077).toBe(0)
        const state = await request(stateUrl!)
        expect(state.status).toBe(200)
        expect(state.json.counters.youtube.requests).toBe(0)
        // The emulator really answers on the printed URL.
        const token = await request(`${youtube}/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "grant_type=refresh_token"
        })
        expect(token.status).toBe(401)
        expect(token.json.error).toBe("invalid_client")
      } finally {
        child.kill("SIGTERM")
      }
      expect(await exited).toBe(0)
      expect(stdout).toContain("Received SIGTERM")
    }),
  60_000
)

it.live("the runner rejects a bad option with a message naming it", () =>
  Effect.promise(async () => {
    const child = spawn(tsx, ["src/sandbox/bin.ts", "--port", "nope"], { stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)))
    expect(code).toBe(2)
    expect(stderr).toContain("--port needs an integer")
  }), 60_000)
