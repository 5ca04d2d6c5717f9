import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import { promise, startServer } from "./fixtures.js"

/** Effect's own tracer, recording the name of every span it starts. */
const recordingTracer = () => {
  const builtIn = Context.get(DefaultServices.liveServices, Tracer.Tracer)
  const names: Array<string> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      names.push(name)
      return builtIn.span(name, parent, context, links, startTime, kind, options)
    },
    context: (f) => f()
  })
  return { tracer, names }
}

describe("Server request spans", () => {
  it.scopedLive("a request gets a span when a tracer other than Effect's own is installed (telemetry on)", () =>
    Effect.gen(function*() {
      const { names, tracer } = recordingTracer()
      const server = yield* startServer().pipe(Effect.withTracer(tracer))
      const response = yield* promise(() => server.call("/v1/tasks/medusa_task_unknown"))
      assert.strictEqual(response.status, 404)
      assert.include(names, "http.server GET")
    }))

  it.scopedLive("traceRequests: false leaves requests without a span, whatever the tracer", () =>
    Effect.gen(function*() {
      const { names, tracer } = recordingTracer()
      const server = yield* startServer({ server: { traceRequests: false } }).pipe(Effect.withTracer(tracer))
      const response = yield* promise(() => server.call("/v1/tasks/medusa_task_unknown"))
      assert.strictEqual(response.status, 404)
      assert.notInclude(names, "http.server GET")
    }))
})
