import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Medusa from "../../src/Medusa.js"
import type { PlatformId } from "../../src/PlatformId.js"
import type { PublishRequestInput } from "../../src/PublishRequest.js"
import type { TaskStore } from "../../src/TaskStore.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { makeMediaDir } from "./fixtures.js"

export const media = makeMediaDir()

/** Medusa over the in-memory store and the given test platforms (all five by default). */
export const testLayer = (
  options: {
    readonly medusa?: Medusa.Options
    readonly platforms?: TestPlatforms.Options
    readonly only?: ReadonlyArray<PlatformId>
  } = {}
): Layer.Layer<Medusa.Medusa | TaskStore | TestPlatforms.TestPlatforms> =>
  Medusa.layerMemory(options.medusa).pipe(
    Layer.provideMerge(
      options.only ?
        TestPlatforms.layerFor(options.only, options.platforms) :
        TestPlatforms.layer(options.platforms)
    )
  )

/** A request for every platform, with templates using both hosts. */
export const fullRequest = (overrides: Partial<PublishRequestInput> = {}): PublishRequestInput => ({
  mediaFile: media.mp4,
  platforms: ["youtube", "vimeo", "facebook", "x", "linkedin"],
  metadata: {
    youtube: { title: "Launch" },
    vimeo: { title: "Launch" },
    facebook: { message: "Watch on YouTube: {youtube_url}", link: "{youtube_url}" },
    x: { text: "Vimeo cut: {vimeo_url} ({vimeo_video_id})" },
    linkedin: { text: "We launched {{braces}} today" }
  },
  ...overrides
})

/** Collects every log line (message and annotations) into `lines`. */
export const captureLogs = (lines: Array<string>): Layer.Layer<never> =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ cause, logLevel, message }) => {
      lines.push(`${logLevel.label} ${JSON.stringify(message)} ${String(cause)}`)
    })
  )

/**
 * Drives the TestClock in small steps until `fiber` is done, then joins it.
 * Between steps it yields one macrotask so that real file-system work
 * (media validation at submit) can finish; bounded, so a hang fails the test.
 */
export const settle = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.DurationInput = "100 millis") =>
  Effect.gen(function*() {
    for (let i = 0; i < 20_000; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) return yield* Fiber.join(fiber)
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      yield* TestClock.adjust(step)
    }
    return yield* Effect.dieMessage("fiber did not finish within 20,000 clock steps")
  })
