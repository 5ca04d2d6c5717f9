import * as Layer from "effect/Layer"
import * as path from "node:path"
import * as Durable from "../../src/Durable.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { medusaContract } from "../contract/medusa.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"

const video = writeVideo(tempDir(), 4096)

medusaContract(
  "embedded SQLite",
  (platforms, medusa) =>
    Durable.layerDurable({ ...medusa, sqlite: path.join(tempDir(), "medusa.db") }).pipe(
      Layer.provideMerge(TestPlatforms.layer(platforms))
    ),
  () => video
)
