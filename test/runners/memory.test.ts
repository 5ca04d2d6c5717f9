import * as Layer from "effect/Layer"
import * as Medusa from "../../src/Medusa.js"
import * as TestPlatforms from "../../src/TestPlatforms.js"
import { medusaContract } from "../contract/medusa.js"
import { tempDir, writeVideo } from "../durable/fixtures/media.js"

const video = writeVideo(tempDir(), 4096)

medusaContract(
  "in memory",
  (platforms, medusa) => Medusa.layerMemory(medusa).pipe(Layer.provideMerge(TestPlatforms.layer(platforms))),
  () => video,
  { testClock: true }
)
