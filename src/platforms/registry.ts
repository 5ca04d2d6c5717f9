/**
 * Every platform Medusa knows, in the order they are reported (hosts first).
 * Adding a platform: its folder `src/platforms/<id>/` whose `index.ts`
 * exports a `PlatformModule` (see `PlatformModule.ts`), and one line here.
 *
 * @internal
 */
import { bluesky } from "./bluesky/index.js"
import { facebook } from "./facebook/index.js"
import { linkedin } from "./linkedin/index.js"
import { mastodon } from "./mastodon/index.js"
import { threads } from "./threads/index.js"
import { vimeo } from "./vimeo/index.js"
import { x } from "./x/index.js"
import { youtube } from "./youtube/index.js"

/** @internal */
export const modules = [
  youtube,
  vimeo,
  facebook,
  x,
  linkedin,
  threads,
  mastodon,
  bluesky
] as const

/** @internal */
export type Modules = typeof modules[number]
