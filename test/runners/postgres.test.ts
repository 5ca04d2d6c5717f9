import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createServer } from "node:net"
import { afterAll, describe } from "vitest"
import * as Durable from "../../src/Durable.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { medusaContract } from "../contract/medusa.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"
import { dropDatabase, freshDatabase, pgUrl, warnIfNoPg } from "../durable/fixtures/pg.js"

warnIfNoPg("the Medusa contract on PostgreSQL")

const video = writeVideo(tempDir(), 4096)

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

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
