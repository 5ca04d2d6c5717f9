/**
 * The host contract for native LinkedIn videos (`linkedin.video: true`):
 * the Videos API driven through the LinkedIn publisher's post, as the engine
 * drives it, against the sandbox over real loopback HTTP.
 *
 * The Videos API differs from the hosts in ways the descriptor says: the
 * server chooses every part's bounds at initializeUpload; a part is stored
 * whole or not at all, so there is no partial acknowledgement; there is no
 * status request (the parts whose ETag came back are what the server holds,
 * and a part sent again answers the same ETag); and nothing deletes an
 * upload that was never finalized.
 */
import { assert, describe } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as LinkedIn from "../../src/platforms/linkedin/LinkedIn.js"
import { LinkedInMetadata } from "../../src/PublishRequest.js"
import type * as Sandbox from "../../src/sandbox/Sandbox.js"
import { hostContract, type HostLimits, nativeVideoUploader } from "../contract/host.js"
import { fastRetry, platform, platformUndici, requests, sandbox, tempDir } from "../hosts/helpers.js"

const KiB = 1024
/** The server's part: every file of the contract ends in a part of several KiB. */
const partBytes = 400 * KiB

const setup = (options: { sandbox?: Sandbox.SandboxOptions; host?: HostLimits; undici?: boolean } = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const sb = yield* sandbox({ ...options.sandbox, linkedin: { videoPartBytes: partBytes } } as Sandbox.SandboxOptions)
    const publisher = yield* LinkedIn.make({
      accessToken: Redacted.make(sb.credentials.linkedin.accessToken),
      authorUrn: sb.credentials.linkedin.authorUrn,
      baseUrl: sb.urls.linkedin,
      videoUpload: { ...options.host, retry: { ...fastRetry, ...options.host?.retry } }
      // The client's layer lives as long as the test: undici's dispatcher closes with its scope.
    }).pipe(Effect.provide(yield* Layer.build(options.undici ? platformUndici : platform)))
    return { dir, sb, host: nativeVideoUploader(publisher) }
  })

describe("LinkedIn native video", () => {
  hostContract<LinkedInMetadata>({
    id: "linkedin",
    setup,
    metadata: new LinkedInMetadata({ text: "Launch day, natively", video: true }),
    byteRoute: "videos.part",
    byteMethod: "PUT",
    keepsCutBytes: false,
    partialAck: false,
    requestsFor: (size) => Math.ceil(size / partBytes),
    // The initializeUpload, finalizeUpload and post bodies.
    framingBytes: 512,
    // The Videos API takes 75 KB to 500 MB.
    minFileBytes: 75 * KiB,
    serverErrorBurst: [{ route: "videos.part", status: 503, times: 4 }],
    createRoute: "videos.initialize",
    creations: (sb) => requests(sb, "linkedin", "POST", "/rest/videos?action=initializeUpload"),
    // Only initializeUpload's answer names the video it created; its upload URLs expire after about 30 days.
    findsLostCreation: false,
    deletesExpired: false,
    // The session's link is the upload state (parts and ETags): it changes with every part.
    sessionKey: (s) => s.videoId ?? s.uri,
    stored: (sb, session) => sb.state().uploads.find((u) => u.videoId === session.videoId),
    // The uploader's result is the post carrying the video, not the video.
    videoUrl: (postId) => `https://www.linkedin.com/feed/update/${postId}/`,
    sessionNamesVideo: false,
    invalidMetadata: () => ({
      metadata: new LinkedInMetadata({ text: "  ", video: true }),
      locations: ["text"],
      check: (issues) => assert.include(issues[0]!.message, "empty")
    }),
    errorCases: [
      { route: "videos.initialize", status: 401, code: "65601", tag: "AuthExpired", reason: "auth_expired" },
      { route: "videos.initialize", status: 403, code: "100", tag: "AuthExpired", reason: "permission_missing" },
      { route: "videos.initialize", status: 422, code: "1001", tag: "PlatformRejected", reason: "rejected" },
      { route: "videos.initialize", status: 429, tag: "QuotaExceeded", reason: "rate_limited" }
    ],
    // An upload URL that no longer works answers 404 (or 403) from the storage: a new upload.
    expireSession: {
      expire: (sb) => sb.inject({ platform: "linkedin", route: "videos.part", action: { kind: "status", status: 404 } })
    }
  })
})
