/**
 * Imported first by each entry point: on a Node that Medusa does not run on,
 * importing it fails with what to do, before any dependency loads.
 *
 * @internal
 */
import { check } from "./nodeSupport.js"

check("import")
