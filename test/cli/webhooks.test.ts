import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Durable from "../../src/Durable.js"
import * as Medusa from "../../src/Medusa.js"
import { TaskStore } from "../../src/TaskStore.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import * as Webhooks from "../../src/Webhooks.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"
import { startReceiver } from "../serve/receiver.js"
import { eventually, run, start } from "./helpers.js"

const secretText = "whsec_" + Buffer.from("cli-canary-secret-0123456789abcdef").toString("base64")

describe("medusa webhooks", () => {
  it.live(
    "shows the delivery log: state, attempts, last status, next try; never the secret",
    () =>
      Effect.gen(function*() {
        const receiver = yield* Effect.acquireRelease(
          Effect.promise(() => startReceiver((n) => ({ status: n === 0 ? 200 : 500 }))),
          (r) => Effect.promise(r.close)
        )
        const dir = tempDir("medusa-cli-webhooks-")
        const sqlite = path.join(dir, "medusa.db")
        yield* Effect.gen(function*() {
          yield* Medusa.publish({
            mediaFile: writeVideo(dir, 2048),
            platforms: ["youtube"],
            metadata: { youtube: { title: "Hooked" } }
          })
          yield* Effect.promise(() => receiver.waitFor(2))
          for (let i = 0; i < 200; i++) {
            const ds = yield* Webhooks.deliveries()
            if (ds.length === 2 && ds.every((d) => d.attempts === 1)) break
            yield* Effect.sleep("20 millis")
          }
        }).pipe(
          Effect.provide(
            Webhooks.layer({
              endpoints: [{
                url: receiver.url,
                secret: Redacted.make(secretText),
                events: ["task.created", "task.completed"]
              }],
              schedule: Schedule.fromDelays("1 hour"),
              pollInterval: "50 millis",
              concurrency: 1
            }).pipe(
              Layer.provide(NodeHttpClient.layerUndici),
              Layer.provideMerge(Durable.layerDurable({ sqlite })),
              Layer.provide(TestPlatforms.layerFor(["youtube"]))
            )
          )
        )
        const table = yield* Effect.promise(() => run(["webhooks", "--store", sqlite], { cwd: dir }))
        assert.strictEqual(table.code, 0, table.stderr)
        const lines = table.stdout.trim().split("\n")
        assert.match(lines[0]!, /^TYPE\s+STATE\s+ATTEMPTS\s+LAST\s+NEXT TRY\s+TASK\s+URL$/)
        assert.strictEqual(lines.length, 3, table.stdout)
        const delivered = lines.find((l) => l.includes("delivered"))!
        const pending = lines.find((l) => l.includes("pending"))!
        assert.match(delivered, /^task\.created\s+delivered\s+1\s+HTTP 200\s+-\s+/)
        assert.match(pending, /^task\.completed\s+pending\s+1\s+HTTP 500\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+/)
        const json = yield* Effect.promise(() =>
          run(["webhooks", "--store", sqlite, "--json", "--state", "pending"], { cwd: dir })
        )
        assert.strictEqual(json.code, 0, json.stderr)
        const rows = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
        assert.strictEqual(rows.length, 1)
        assert.strictEqual(rows[0]!["type"], "task.completed")
        assert.strictEqual(rows[0]!["attempts"], 1)
        assert.strictEqual(rows[0]!["last_status"], 500)
        assert.isString(rows[0]!["next_attempt_at"])
        for (const out of [table.stdout, table.stderr, json.stdout, json.stderr]) {
          assert.notInclude(out, secretText.slice("whsec_".length))
        }
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "webhooks enable <url> enables an endpoint a 410 disabled; a url that is not disabled is refused, naming the disabled",
    () =>
      Effect.gen(function*() {
        const dir = tempDir("medusa-cli-webhooks-enable-")
        const sqlite = path.join(dir, "medusa.db")
        const gone = "https://gone.example/hooks"
        // A write opens the store as the other writing commands do: with the config (`medusa serve`'s).
        fs.writeFileSync(path.join(dir, "medusa.config.json"), "{}")
        const store = Durable.layerDurable({ sqlite }).pipe(Layer.provide(TestPlatforms.layerFor(["youtube"])))
        const disabledNow = Effect.scoped(
          Effect.flatMap(Layer.build(store), () => Webhooks.disabledEndpoints).pipe(Effect.provide(store))
        )
        yield* Effect.gen(function*() {
          const outbox = (yield* TaskStore).outbox!
          yield* outbox.disable(gone, Date.now(), "answered 410 Gone")
        }).pipe(Effect.provide(store), Effect.scoped)

        const listed = yield* Effect.promise(() => run(["webhooks", "--store", sqlite], { cwd: dir }))
        assert.include(listed.stdout, `Endpoint ${gone} is disabled since`)
        const other = yield* Effect.promise(() =>
          run(["webhooks", "enable", "https://other.example/hooks", "--store", sqlite], { cwd: dir })
        )
        assert.strictEqual(other.code, 2, other.stdout)
        assert.include(other.stderr, "https://other.example/hooks is not a disabled webhook endpoint")
        assert.include(other.stderr, `disabled: ${gone}`)
        assert.lengthOf(yield* disabledNow, 1)

        const enabled = yield* Effect.promise(() => run(["webhooks", "enable", gone, "--store", sqlite], { cwd: dir }))
        assert.strictEqual(enabled.code, 0, enabled.stderr)
        assert.include(enabled.stdout, `Endpoint ${gone} is enabled again`)
        assert.lengthOf(yield* disabledNow, 0)
        const again = yield* Effect.promise(() => run(["webhooks", "enable", gone, "--store", sqlite], { cwd: dir }))
        assert.strictEqual(again.code, 2)
        assert.include(again.stderr, "disabled: none")
      }),
    60_000
  )

  it.live(
    "webhooks enable <url> while medusa serve owns the SQLite store: the owner carries it out through the requests folder",
    () =>
      Effect.gen(function*() {
        const dir = tempDir("medusa-cli-webhooks-served-")
        const sqlite = path.join(dir, "medusa.db")
        const gone = "https://gone.example/hooks"
        fs.writeFileSync(path.join(dir, "medusa.config.json"), "{}")
        const store = Durable.layerDurable({ sqlite }).pipe(Layer.provide(TestPlatforms.layerFor(["youtube"])))
        yield* Effect.gen(function*() {
          yield* (yield* TaskStore).outbox!.disable(gone, Date.now(), "answered 410 Gone")
        }).pipe(Effect.provide(store), Effect.scoped)

        const server = yield* Effect.acquireRelease(
          Effect.sync(() =>
            start(["serve", "--port", "0", "--store", sqlite], {
              cwd: dir,
              env: { MEDUSA_SERVER_API_KEY: "k-served-0123" }
            })
          ),
          (s) => Effect.promise(() => (s.child.kill("SIGINT"), s.done))
        )
        yield* Effect.promise(() =>
          eventually(
            () => /Listening on /.test(server.stdout()),
            () => `the server to start; printed:\n${server.stdout()}${server.stderr()}`
          )
        )
        const listed = yield* Effect.promise(() => run(["webhooks", "--store", sqlite], { cwd: dir }))
        assert.include(listed.stdout, `Endpoint ${gone} is disabled since`)

        const other = yield* Effect.promise(() =>
          run(["webhooks", "enable", "https://other.example/hooks", "--store", sqlite], { cwd: dir })
        )
        assert.strictEqual(other.code, 2, other.stdout + other.stderr)
        assert.include(other.stderr, "https://other.example/hooks is not a disabled webhook endpoint")
        assert.include(other.stderr, `disabled: ${gone}`)

        const enabled = yield* Effect.promise(() => run(["webhooks", "enable", gone, "--store", sqlite], { cwd: dir }))
        assert.strictEqual(enabled.code, 0, enabled.stderr)
        assert.include(enabled.stdout, `Endpoint ${gone} is enabled again`)
        const after = yield* Effect.promise(() => run(["webhooks", "--store", sqlite], { cwd: dir }))
        assert.notInclude(after.stdout, `Endpoint ${gone} is disabled`)
        // Nothing is left in the requests folder; the owner still runs.
        const folder = `${sqlite}.requests`
        assert.deepStrictEqual(fs.existsSync(folder) ? fs.readdirSync(folder) : [], [])
        assert.isNull(server.child.exitCode)
      }).pipe(Effect.scoped),
    120_000
  )
})
