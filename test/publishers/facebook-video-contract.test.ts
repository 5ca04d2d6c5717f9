/**
 * The host contract for native Page videos (`facebook.video: true`): Graph's
 * chunked phases driven through the Facebook publisher's post, as the engine
 * drives it, against the sandbox over real loopback HTTP.
 *
 * Graph differs from the hosts in ways the descriptor says: the start, every
 * transfer, the offset query (a transfer of an empty chunk) and the finish
 * share one route; the server chooses each chunk's end; and a transfer is
 * kept whole or not at all.
 */
import { describe } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Facebook from "../../src/platforms/facebook/Facebook.js"
import { FacebookMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { hostContract, type HostLimits, nativeVideoUploader } from "../contract/host.js"
import { fastRetry, platform, platformUndici, requests, sandbox, tempDir } from "../hosts/helpers.js"

const KiB = 1024
/** The server's chunk: every file of the contract ends in a chunk far larger than a transfer's framing. */
const chunkBytes = 400 * KiB
const pageId = "1000000000001"

const setup = (options: { sandbox?: Sandbox.SandboxOptions; host?: HostLimits; undici?: boolean } = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const sb = yield* sandbox(
      { ...options.sandbox, facebook: { videoChunkBytes: chunkBytes } } as Sandbox.SandboxOptions
    )
    const publisher = yield* Facebook.make({
      pageId: sb.credentials.facebook.pageId,
      accessToken: Redacted.make(sb.credentials.facebook.pageAccessToken),
      baseUrl: sb.urls.facebook,
      videoUpload: { ...options.host, retry: { ...fastRetry, ...options.host?.retry } }
      // The client's layer lives as long as the test: undici's dispatcher closes with its scope.
    }).pipe(Effect.provide(yield* Layer.build(options.undici ? platformUndici : platform)))
    return { dir, sb, host: nativeVideoUploader(publisher) }
  })

/** The log keeps no body: transfers are the multipart POSTs (start and finish are url-encoded forms). */
const transfers = (sb: Sandbox.Sandbox) =>
  requests(sb, "facebook", "POST").filter((e) => e.headers["content-type"]?.startsWith("multipart/form-data"))

/** A transfer of an empty chunk (the offset query) is only its framing, about 500 bytes. */
const isQuery = (e: { readonly headers: Record<string, string> }) => Number(e.headers["content-length"]) < 1024

describe("Facebook native video", () => {
  hostContract<FacebookMetadata>({
    id: "facebook",
    setup,
    metadata: new FacebookMetadata({ message: "Launch day: the video itself", video: true }),
    byteRoute: "videos",
    byteMethod: "POST",
    byteRequests: transfers,
    keepsCutBytes: false,
    partialAck: true,
    requestsFor: (size) => Math.ceil(size / chunkBytes),
    // A transfer's multipart framing; the start's and finish's forms.
    framingBytes: 1024,
    // Graph refuses videos of 1 KB or less.
    minFileBytes: 1025,
    serverErrorBurst: [{ route: "videos", status: 503, times: 4 }],
    createRoute: "videos",
    // `upload_phase=start&file_size=<n>`: the shortest url-encoded form (the finish names the session).
    creations: (sb) =>
      requests(sb, "facebook", "POST").filter((e) =>
        e.headers["content-type"]?.startsWith("application/x-www-form-urlencoded") &&
        Number(e.headers["content-length"]) < 48
      ),
    offsetQuery: { route: "videos", requests: (sb) => transfers(sb).filter(isQuery) },
    // Only the start's answer names the video it created; Facebook expires the session itself.
    findsLostCreation: false,
    stored: (sb, session) => sb.state().uploads.find((u) => u.videoId === session.videoId),
    videoUrl: (videoId) => `https://www.facebook.com/${pageId}/videos/${videoId}`,
    sessionNamesVideo: true,
    invalidMetadata: () => ({
      metadata: new FacebookMetadata({
        message: "m",
        video: true,
        link: "https://example.com/launch",
        scheduledPublishTime: 1
      }),
      // A video post is never scheduled, and the time is in the past.
      locations: ["link", "scheduledPublishTime", "scheduledPublishTime"]
    }),
    errorCases: [
      { route: "videos", status: 400, code: "190", tag: "AuthExpired", reason: "auth_expired" },
      { route: "videos", status: 403, code: "200", tag: "AuthExpired", reason: "permission_missing" },
      { route: "videos", status: 400, code: "368", tag: "PlatformRejected", reason: "blocked" },
      { route: "videos", status: 429, tag: "QuotaExceeded", reason: "rate_limited" }
    ],
    // A session older than its lifetime (a day by default) answers error 100/1363030.
    expireSession: { expire: (sb) => sb.clock.advance(2 * 86_400_000), status: 400 }
  })
})
