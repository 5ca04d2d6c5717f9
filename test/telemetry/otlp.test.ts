/**
 * Telemetry end to end: a real publish to the five sandbox platforms through
 * the real wiring (`Live.layer` with a `telemetry` section), exported over
 * OTLP/HTTP JSON to an in-process receiver on loopback. Asserts the span tree
 * (names, parents, attributes, events), the metrics, a log record, and that no canary
 * secret, session URL or upload ticket reaches the receiver.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Live from "../../src/Live.js"
import * as Medusa from "../../src/Medusa.js"
import * as MedusaConfig from "../../src/MedusaConfig.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import * as Telemetry from "../../src/Telemetry.js"
import * as Receiver from "./receiver.js"

// The test decides what is exported: a collector configured in the developer's environment does not count.
for (const name of Object.keys(process.env)) if (name.startsWith("OTEL_")) delete process.env[name]

const CANARY = "canary-7d4e21aa"
const sample = path.resolve(import.meta.dirname, "../../examples/media/sample.mp4")

const sumOf = (metric: any, tags: Record<string, string>): number => {
  const points: Array<any> = metric.sum?.dataPoints ?? metric.gauge?.dataPoints ?? []
  return points
    .filter((p) => Object.entries(tags).every(([k, v]) => Receiver.attr(p.attributes, k) === v))
    .reduce((total, p) => total + Number(p.asInt ?? p.asDouble ?? 0), 0)
}

describe("Telemetry over OTLP", () => {
  it("exports the span tree and the metrics of a sandbox publish, without secrets", { timeout: 120_000 }, async () => {
    const receiver = await Receiver.start()
    const sandbox = await Sandbox.start({
      credentials: {
        youtube: {
          clientSecret: `${CANARY}-ytsecret`,
          refreshToken: `${CANARY}-ytrefresh`,
          accessToken: `${CANARY}-ytaccess`
        },
        vimeo: { accessToken: `${CANARY}-vimeo` },
        facebook: { pageAccessToken: `${CANARY}-facebook` },
        x: {
          accessToken: `1-${CANARY}-x`,
          accessTokenSecret: `${CANARY}-xs`,
          apiKey: `${CANARY}-xk`,
          apiSecret: `${CANARY}-xa`
        },
        linkedin: { accessToken: `${CANARY}-linkedin` }
      }
    })
    try {
      const dir = mkdtempSync(path.join(tmpdir(), "medusa-telemetry-"))
      const file = await sandbox.writeConfig(dir)
      const raw = JSON.parse(readFileSync(file, "utf8"))
      raw.youtube.channel_id = "UC-sandbox-channel"
      raw.youtube.retry = { base_delay: "10 millis" }
      raw.telemetry = {
        endpoint: receiver.url,
        service_name: "medusa-telemetry-test",
        // One export, when the layer closes: a periodic export still in flight at close is abandoned by the exporter.
        export_interval: "10 minutes",
        headers: { "x-api-key": `${CANARY}-otlp-key` }
      }
      writeFileSync(file, JSON.stringify(raw))
      const config = await Effect.runPromise(MedusaConfig.load(file))

      // One dropped connection (a retry) on the YouTube upload, and a 429 with Retry-After on the first Facebook post.
      sandbox.inject({ platform: "youtube", route: "upload", action: { kind: "status", status: 503 } })
      sandbox.inject({ platform: "facebook", route: "feed", action: { kind: "rateLimit", retryAfterSeconds: 1 } })

      const task = await Effect.runPromise(
        Medusa.publish({
          mediaFile: sample,
          platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
          metadata: {
            youtube: { title: "Telemetry" },
            vimeo: { title: "Telemetry" },
            facebook: { message: "Watch {youtube_url}" },
            x: { text: "Watch {youtube_url} or {vimeo_url}" },
            linkedin: { text: "New: {vimeo_url}" }
          }
        }).pipe(Effect.provide(Live.layer(config)))
      )
      assert.strictEqual(task.state, "completed")
      // Closing the layer flushed the exporters.

      const spans = receiver.spans()
      const byId = new Map(spans.map((s) => [s.spanId, s]))
      const taskSpan = spans.find((s) => s.name === "Medusa.task")
      assert.ok(taskSpan, `a Medusa.task span among ${spans.map((s) => s.name).join(", ")}`)
      assert.strictEqual(Receiver.attr(taskSpan.attributes, "medusa.task_id"), task.id)
      assert.strictEqual(byId.get(taskSpan.parentSpanId!)?.name, "Medusa.submit")
      assert.strictEqual(
        Receiver.attr(receiver.resourceAttributes(), "service.name"),
        "medusa-telemetry-test"
      )

      const children = (parent: Receiver.OtlpSpan, name: string) =>
        spans.filter((s) => s.parentSpanId === parent.spanId && s.name === name)
      // One span per upload and per post: the adapter's, right under the task's span.
      const adapterSpans = ["YouTube.upload", "Vimeo.upload", "Facebook.post", "X.post", "LinkedIn.post"]
      const steps = adapterSpans.flatMap((name) => children(taskSpan, name))
      assert.deepStrictEqual(
        steps.map((s) => `${s.name} ${Receiver.attr(s.attributes, "medusa.platform")}`),
        [
          "YouTube.upload youtube",
          "Vimeo.upload vimeo",
          "Facebook.post facebook",
          "X.post x",
          "LinkedIn.post linkedin"
        ]
      )
      assert.deepStrictEqual(
        spans.filter((s) => s.name === "Medusa.upload" || s.name === "Medusa.post").map((s) => s.name),
        [],
        "no engine span doubles an adapter's"
      )
      for (const s of steps) assert.strictEqual(s.traceId, taskSpan.traceId)
      for (const platform of ["youtube", "vimeo", "facebook", "x", "linkedin"]) {
        assert.strictEqual(Receiver.attr(taskSpan.attributes, `medusa.outcome.${platform}`), "ok", platform)
      }
      assert.strictEqual(Receiver.attr(taskSpan.attributes, "medusa.state"), "completed")
      assert.strictEqual(Receiver.attr(taskSpan.attributes, "medusa.bytes"), statSync(sample).size)
      const step = (name: string) => steps.find((s) => s.name === name)!
      const ytUpload = step("YouTube.upload")
      assert.strictEqual(Receiver.attr(ytUpload.attributes, "medusa.account"), "UC-sandbox-channel")
      assert.strictEqual(Receiver.attr(step("Facebook.post").attributes, "medusa.account"), "1000000000001")
      assert.strictEqual(Receiver.attr(step("LinkedIn.post").attributes, "medusa.account"), "urn:li:person:sandbox01")
      assert.strictEqual(Receiver.attr(step("Vimeo.upload").attributes, "medusa.account"), undefined)

      // The HTTP requests under the adapter's span.
      const retry = ytUpload.events.find((e) => e.name === "retry")
      assert.ok(retry, "the 503 is a retry event on YouTube.upload")
      assert.strictEqual(Receiver.attr(retry.attributes, "medusa.attempt"), 2)
      assert.strictEqual(Receiver.attr(retry.attributes, "http.response.status_code"), 503)
      const requests = spans.filter((s) => s.parentSpanId === ytUpload.spanId && s.name.startsWith("http.client"))
      assert.isAtLeast(requests.length, 3) // create, the 503 PUT, the query or PUT after it
      const statuses = requests.map((r) => Receiver.attr(r.attributes, "http.response.status_code"))
      assert.include(statuses, 503)
      assert.include(statuses, 200)
      for (const r of requests) {
        assert.strictEqual(r.kind, 3) // client
        assert.strictEqual(r.traceId, taskSpan.traceId)
        assert.isNumber(Receiver.attr(r.attributes, "medusa.attempt"))
      }
      assert.deepStrictEqual(
        [...new Set(requests.map((r) => Receiver.attr(r.attributes, "medusa.attempt")))].sort(),
        [1, 2]
      )
      const fbPost = step("Facebook.post")
      const wait = fbPost.events.find((e) => e.name === "rate_limit_wait")
      assert.ok(wait, `a rate_limit_wait event on Facebook.post (events: ${fbPost.events.map((e) => e.name)})`)
      assert.strictEqual(Receiver.attr(wait.attributes, "medusa.wait_ms"), 1000)
      const under = (parent: Receiver.OtlpSpan): Array<Receiver.OtlpSpan> =>
        spans.filter((s) => s.parentSpanId === parent.spanId).flatMap((s) => [s, ...under(s)])
      const fbRequests = under(fbPost).filter((s) => s.name === "http.client POST")
      assert.deepStrictEqual(
        fbRequests.map((r) => [
          Receiver.attr(r.attributes, "medusa.attempt"),
          Receiver.attr(r.attributes, "http.response.status_code")
        ]),
        [[1, 429], [2, 200]]
      )

      // Logs: the Facebook retry is a log record of the task, with its span's ids.
      const logs = receiver.logs()
      const hold = logs.find((l) =>
        l.body.stringValue?.startsWith("Facebook: rate limited (HTTP 429), trying the post again")
      )
      assert.ok(hold, `a log record of the Facebook retry among ${logs.map((l) => l.body.stringValue).join(" | ")}`)
      assert.strictEqual(hold.severityText, "INFO")
      assert.strictEqual(Receiver.attr(hold.attributes, "task_id"), task.id)
      assert.strictEqual(Receiver.attr(hold.attributes, "platform"), "facebook")
      assert.strictEqual(hold.traceId, taskSpan.traceId)
      assert.strictEqual(hold.spanId, fbPost.spanId)

      // Metrics: cumulative values of this process (this file runs in its own worker).
      const metrics = receiver.metrics()
      for (const name of Telemetry.metricNames) {
        if (name === "medusa_post_reconciliations_total") continue // none happened
        assert.ok(metrics.has(name), `metric ${name} exported (got ${[...metrics.keys()].join(", ")})`)
      }
      assert.strictEqual(sumOf(metrics.get("medusa_tasks_started_total"), {}), 1)
      assert.strictEqual(sumOf(metrics.get("medusa_tasks_finished_total"), { outcome: "completed" }), 1)
      for (const platform of ["youtube", "vimeo", "facebook", "x", "linkedin"]) {
        assert.strictEqual(sumOf(metrics.get("medusa_platform_tasks_started_total"), { platform }), 1)
        assert.strictEqual(
          sumOf(metrics.get("medusa_platform_tasks_finished_total"), { platform, outcome: "completed" }),
          1
        )
      }
      assert.isAtLeast(
        sumOf(metrics.get("medusa_upload_bytes_total"), { platform: "youtube" }),
        statSync(sample).size
      )
      assert.strictEqual(sumOf(metrics.get("medusa_retries_total"), { platform: "youtube", operation: "upload" }), 1)
      assert.strictEqual(sumOf(metrics.get("medusa_retries_total"), { platform: "facebook", operation: "post" }), 1)
      assert.strictEqual(sumOf(metrics.get("medusa_rate_limit_waits_total"), { platform: "facebook" }), 1)
      assert.strictEqual(sumOf(metrics.get("medusa_rate_limit_wait_seconds_total"), { platform: "facebook" }), 1)
      assert.strictEqual(
        sumOf(metrics.get("medusa_quota_units_total"), { platform: "youtube", bucket: "uploads" }),
        1
      )
      const throughput = metrics.get("medusa_upload_throughput_bytes_per_second")
      const ytPoint = throughput.histogram.dataPoints.find((p: any) =>
        Receiver.attr(p.attributes, "platform") === "youtube"
      )
      assert.strictEqual(Number(ytPoint.count), 1)
      assert.isAbove(ytPoint.sum, 0)

      // No secret, session URL or upload ticket anywhere in what was exported.
      const exported = [...receiver.bodies.values()].flat().join("\n")
      assert.notInclude(exported, CANARY)
      assert.notInclude(exported, "upload_id")
      const state = sandbox.state()
      for (const upload of state.uploads as ReadonlyArray<{ readonly id: string }>) {
        if (upload.id.length >= 16) assert.notInclude(exported, upload.id)
      }
    } finally {
      await sandbox.close()
      await receiver.close()
    }
  })

  it("is on with OTEL_* variables or a telemetry section, off otherwise", async () => {
    const withEnv = (env: Record<string, string>) => <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.withConfigProvider(effect, ConfigProvider.fromMap(new Map(Object.entries(env))))
    const options = (config: MedusaConfig.TelemetryConfig | undefined, env: Record<string, string> = {}) =>
      Effect.runPromise(Telemetry.optionsFromConfig(config).pipe(withEnv(env)))

    const config = await Effect.runPromise(MedusaConfig.decode({}).pipe(withEnv({})))
    assert.deepStrictEqual(await options(config.telemetry), Option.none())
    assert.deepStrictEqual(await options({ enabled: false, endpoint: "http://127.0.0.1:1" }), Option.none())
    assert.deepStrictEqual(
      await options({ endpoint: "http://127.0.0.1:1" }, { OTEL_SDK_DISABLED: "true" }),
      Option.none()
    )
    const fromEnv = await options(undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=abc%3D,other=1"
    })
    assert.ok(Option.isSome(fromEnv))
    assert.strictEqual(fromEnv.value.endpoint, "http://collector:4318")
    assert.strictEqual(fromEnv.value.serviceName, "medusa")
    assert.strictEqual(Redacted.value(fromEnv.value.headers!["x-honeycomb-team"]!), "abc=")
    // The variables override the file; a service name alone turns export on at the OTLP default.
    const both = await options({ endpoint: "http://file:4318", serviceName: "file" }, { OTEL_SERVICE_NAME: "env" })
    assert.deepStrictEqual(
      Option.map(both, (o) => [o.endpoint, o.serviceName]),
      Option.some(["http://file:4318", "env"])
    )
    const nameOnly = await options(undefined, { OTEL_SERVICE_NAME: "svc" })
    assert.deepStrictEqual(Option.map(nameOnly, (o) => o.endpoint), Option.some("http://localhost:4318"))

    // Off, the layer loads nothing and sends nothing.
    await Effect.runPromise(Effect.scoped(Layer.build(Live.telemetry(config))).pipe(withEnv({})))
  })

  it("leaves the tracer and the loggers as they were once its scope ends", async () => {
    const receiver = await Receiver.start()
    try {
      const layer = Telemetry.layer({ endpoint: receiver.url, exportInterval: "10 minutes" }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
      const installed = () => Effect.all([Effect.tracer, FiberRef.get(FiberRef.currentLoggers)])
      const [[tracerBefore, loggersBefore], [tracerInside, loggersInside], [tracerAfter, loggersAfter]] = await Effect
        .runPromise(Effect.gen(function*() {
          const before = yield* installed()
          const inside = yield* Effect.provide(installed(), layer)
          // Twice: each rebuild would add one more closed exporter's logger.
          yield* Effect.provide(Effect.withSpan(Effect.void, "twice"), layer)
          return [before, inside, yield* installed()] as const
        }))
      assert.notStrictEqual(tracerInside, tracerBefore)
      assert.strictEqual(HashSet.size(loggersInside), HashSet.size(loggersBefore) + 1)
      assert.strictEqual(tracerAfter, tracerBefore)
      assert.ok(Equal.equals(loggersAfter, loggersBefore))
    } finally {
      await receiver.close()
    }
  })
})
