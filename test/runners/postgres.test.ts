import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { afterAll, describe } from "vitest"
import * as Durable from "../../src/Durable.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { medusaContract } from "../contract/medusa.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"
import { freePort } from "../durable/fixtures/net.js"
import { dropDatabase, freshDatabase, pgUrl, warnIfNoPg } from "../durable/fixtures/pg.js"

warnIfNoPg("the Medusa contract on PostgreSQL")

const video = writeVideo(tempDir(), 4096)

const databases: Array<string> = []
afterAll(() => Promise.all(databases.map(dropDatabase)))

describe.skipIf(pgUrl === undefined)("PostgreSQL", () => {
  medusaContract(
    "PostgreSQL cluster",
    (platforms, medusa) =>
      Layer.unwrapEffect(Effect.promise(async () => {
        const url = await freshDatabase()
        databases.push(url)
        const port = await freePort()
        return Durable.layerCluster({
          ...medusa,
          postgres: url,
          runner: { host: "127.0.0.1", port },
          maxConnections: 6
        })
      })).pipe(Layer.provideMerge(TestPlatforms.layer(platforms))),
    () => video,
    { timeout: 120_000 }
  )
})
