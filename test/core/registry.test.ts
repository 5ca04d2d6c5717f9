import { assert, describe, it } from "@effect/vitest"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import { platformFlags } from "../../src/cli/internal/platformFlags.js"
import * as Config from "../../src/MedusaConfig.js"
import * as PlatformId from "../../src/PlatformId.js"
import * as Template from "../../src/Template.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"

const help = JSON.parse(fs.readFileSync(new URL("../../src/cli/help.json", import.meta.url), "utf8")) as Record<
  string,
  string
>

describe("platform registry", () => {
  it("ids and flag names are unique across the registered modules", () => {
    const ids = PlatformId.modulesList.map((m) => m.id)
    assert.strictEqual(new Set(ids).size, ids.length)
    const names = platformFlags.map((f) => f.name)
    assert.strictEqual(new Set(names).size, names.length, `duplicate flag in ${names.join(", ")}`)
  })

  it("every module's config section, flags and template entries are derived from it", () => {
    const publishHelp = Object.entries(help).find(([key]) => key.includes("publish"))?.[1] ?? ""
    for (const module of PlatformId.modulesList) {
      assert.isDefined(Config.sectionKeys[module.config.section ?? module.id], `config section of ${module.id}`)
      for (const flag of module.cli.flags) assert.include(publishHelp, `--${flag.name}`, `${module.id} flag in help`)
      if (module.kind === "host") {
        assert.include(Template.variables, `${module.id}_url`)
        assert.include(Template.variables, `${module.id}_video_id`)
      } else {
        assert.deepStrictEqual(Template.templateFields[module.id as PlatformId.PublisherId], module.templateFields)
      }
    }
  })

  it.effect("TestPlatforms provides every registered module's tag", () =>
    Effect.gen(function*() {
      for (const module of PlatformId.modulesList) {
        const service = yield* Effect.serviceOption(module.tag as Context.Tag<unknown, unknown>)
        assert.isTrue(Option.isSome(service), `${module.id} double`)
      }
    }).pipe(Effect.provide(TestPlatforms.layer())))
})
