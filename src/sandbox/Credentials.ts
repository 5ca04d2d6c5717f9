/**
 * The fake credentials each sandbox emulator accepts. Tests pass their own
 * (canary values) to prove that secrets never leak.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxCredentials {
  readonly youtube: {
    readonly clientId: string
    readonly clientSecret: string
    readonly refreshToken: string
    /** The access token valid at start (others are issued on refresh). */
    readonly accessToken: string
  }
  readonly vimeo: { readonly accessToken: string }
  readonly facebook: {
    readonly pageId: string
    readonly pageAccessToken: string
    readonly appId: string
  }
  readonly x: {
    readonly apiKey: string
    readonly apiSecret: string
    readonly accessToken: string
    readonly accessTokenSecret: string
  }
  readonly linkedin: { readonly accessToken: string; readonly authorUrn: string }
  readonly threads: { readonly accessToken: string; readonly userId: string }
  readonly mastodon: { readonly accessToken: string; readonly accountId: string }
  readonly bluesky: {
    readonly handle: string
    readonly did: string
    readonly appPassword: string
    /** Prefix of the session tokens the PDS issues. */
    readonly accessTokenPrefix: string
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const defaults: SandboxCredentials = {
  youtube: {
    clientId: "sandbox-client-id.apps.googleusercontent.com",
    clientSecret: "sandbox-client-secret",
    refreshToken: "sandbox-youtube-refresh-token",
    accessToken: "sandbox-youtube-access-token"
  },
  vimeo: { accessToken: "sandbox-vimeo-token" },
  facebook: { pageId: "1000000000001", pageAccessToken: "sandbox-facebook-page-token", appId: "2000000000002" },
  x: {
    apiKey: "sandbox-x-api-key",
    apiSecret: "sandbox-x-api-secret",
    accessToken: "1000000001-sandbox-x-access-token",
    accessTokenSecret: "sandbox-x-access-token-secret"
  },
  linkedin: { accessToken: "sandbox-linkedin-token", authorUrn: "urn:li:person:sandbox01" },
  threads: { accessToken: "sandbox-threads-token", userId: "17841400000000001" },
  mastodon: { accessToken: "sandbox-mastodon-token", accountId: "109000000000000001" },
  bluesky: {
    handle: "sandbox.bsky.social",
    did: "did:plc:sandboxbsky0000000000001",
    appPassword: "sbox-bsky-appp-pass",
    accessTokenPrefix: "sandbox-bluesky-session"
  }
}

/**
 * Fills credentials from a partial override (each platform section merged).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  overrides: { readonly [K in keyof SandboxCredentials]?: Partial<SandboxCredentials[K]> } = {}
): SandboxCredentials => ({
  youtube: { ...defaults.youtube, ...overrides.youtube },
  vimeo: { ...defaults.vimeo, ...overrides.vimeo },
  facebook: { ...defaults.facebook, ...overrides.facebook },
  x: { ...defaults.x, ...overrides.x },
  linkedin: { ...defaults.linkedin, ...overrides.linkedin },
  threads: { ...defaults.threads, ...overrides.threads },
  mastodon: { ...defaults.mastodon, ...overrides.mastodon },
  bluesky: { ...defaults.bluesky, ...overrides.bluesky }
})
