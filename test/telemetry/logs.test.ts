/**
 * `--log-format json`: one JSON object per line with level, message, task
 * id, platform and the current span's ids; messages scrubbed of URL queries.
 * Through the library's logger, and through the real CLI (a spawned
 * `medusa` whose config file warning is logged).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Spans from "../../src/internal/telemetry/spans.js"
import type { TaskId } from "../../src/TaskId.js"
import * as Telemetry from "../../src/Telemetry.js"
import { run, scratch } from "../cli/helpers.js"

describe("JSON logs", () => {
  it.effect("carry the task, the platform and the span ids", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Telemetry.jsonLogger({ write: (line) => lines.push(line) })
      const id = "medusa_task_0b6f3f2e-0000-4000-8000-000000000001" as TaskId
      let spanIds: { readonly traceId: string; readonly spanId: string } | undefined
      const span = yield* Effect.gen(function*() {
        yield* Effect.logWarning("retrying https://upload.example/upload?upload_id=SESSION-SECRET")
        yield* Effect.logDebug("below the minimum: not written")
        const current = yield* Effect.currentSpan
        spanIds = { traceId: current.traceId, spanId: current.spanId }
        return "ok" as const
      }).pipe(
        Spans.step("youtube", undefined),
        Spans.task(id),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All),
        Effect.map(() => spanIds!)
      )
      assert.strictEqual(lines.length, 1)
      assert.ok(lines[0]!.endsWith("\n"))
      const record = JSON.parse(lines[0]!)
      assert.strictEqual(record.level, "WARN")
      assert.strictEqual(record.message, "retrying https://upload.example/upload?…")
      assert.notInclude(lines[0]!, "SESSION-SECRET")
      assert.strictEqual(record.task_id, id)
      assert.strictEqual(record.platform, "youtube")
      assert.strictEqual(record.trace_id, span.traceId)
      assert.strictEqual(record.span_id, span.spanId)
      assert.isString(record.time)
    }))

  it(
    "the CLI writes JSON lines with --log-format json and refuses an unknown format",
    { timeout: 60_000 },
    async () => {
      const dir = scratch()
      const config = path.join(dir, "medusa.config.json")
      fs.writeFileSync(config, JSON.stringify({ medusa: { store: "memory" } }))
      // Readable by others: Medusa warns (through the logger).
      fs.chmodSync(config, 0o644)
      const json = await run(["config", "validate", "--log-format", "json", "--config", config], { cwd: dir })
      assert.strictEqual(json.code, 0, json.stderr)
      const lines = json.stderr.trim().split("\n").filter((l) => l !== "")
      assert.isAtLeast(lines.length, 1)
      const record = JSON.parse(lines[0]!)
      assert.strictEqual(record.level, "WARN")
      assert.include(record.message, "chmod 600")

      const text = await run(["config", "validate", "--config", config], { cwd: dir })
      assert.include(text.stderr, "medusa: warning:")

      const bad = await run(["config", "validate", "--log-format=xml", "--config", config], { cwd: dir })
      assert.strictEqual(bad.code, 2)
      assert.include(bad.stderr, "--log-format must be one of text, json; got \"xml\"")
    }
  )
})
