/**
 * The routes `medusa auth check` reads: YouTube's `channels.list?mine=true`
 * and Vimeo's `GET /oauth/verify`.
 */
import { expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { request } from "./sandbox-http.js"

it.scoped("youtube channels.list?mine=true names the token's channel, costs 1 unit and needs a token", () =>
  Effect.gen(function*() {
    const sb = yield* Sandbox.make({ youtube: { channelTitle: "Route Channel" } })
    const url = `${sb.urls.youtube}/youtube/v3/channels?part=snippet&mine=true`
    const ok = yield* Effect.promise(() =>
      request(url, { headers: { authorization: `Bearer ${sb.credentials.youtube.accessToken}` } })
    )
    expect(ok.status).toBe(200)
    expect(ok.json.kind).toBe("youtube#channelListResponse")
    const state = sb.state().platforms.youtube as { channelId: string; quota: { unitsUsed: number } }
    expect(ok.json.items).toEqual([
      expect.objectContaining({ id: state.channelId, snippet: expect.objectContaining({ title: "Route Channel" }) })
    ])
    expect(state.quota.unitsUsed).toBe(1)
    const anonymous = yield* Effect.promise(() => request(url))
    expect(anonymous.status).toBe(401)
    const noFilter = yield* Effect.promise(() =>
      request(`${sb.urls.youtube}/youtube/v3/channels?part=snippet`, {
        headers: { authorization: `Bearer ${sb.credentials.youtube.accessToken}` }
      })
    )
    expect(noFilter.status).toBe(400)
    sb.inject({ platform: "youtube", route: "channels.list", action: { kind: "status", status: 503 } })
    const faulted = yield* Effect.promise(() =>
      request(url, { headers: { authorization: `Bearer ${sb.credentials.youtube.accessToken}` } })
    )
    expect(faulted.status).toBe(503)
  }))

it.scoped("youtube refresh answers the scopes granted to the refresh token", () =>
  Effect.gen(function*() {
    const sb = yield* Sandbox.make({ youtube: { scopes: ["https://www.googleapis.com/auth/youtube.readonly"] } })
    const c = sb.credentials.youtube
    const answer = yield* Effect.promise(() =>
      request(`${sb.urls.youtube}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: c.refreshToken,
          client_id: c.clientId,
          client_secret: c.clientSecret
        }).toString()
      })
    )
    expect(answer.status).toBe(200)
    expect(answer.json.scope).toBe("https://www.googleapis.com/auth/youtube.readonly")
  }))

it.scoped("vimeo oauth.verify answers the scopes and the user, and 401 for a bad token", () =>
  Effect.gen(function*() {
    const sb = yield* Sandbox.make({ vimeo: { scopes: ["public", "upload"], accountName: "Route User" } })
    const verify = (token: string) =>
      Effect.promise(() =>
        request(`${sb.urls.vimeo}/oauth/verify`, {
          headers: { authorization: `bearer ${token}`, accept: "application/vnd.vimeo.*+json;version=3.4" }
        })
      )
    const ok = yield* verify(sb.credentials.vimeo.accessToken)
    expect(ok.status).toBe(200)
    expect(ok.json.scope).toBe("public upload")
    expect(ok.json.user.name).toBe("Route User")
    expect(ok.json.user.uri).toMatch(/^\/users\/\d+$/)
    const bad = yield* verify("not-a-token")
    expect(bad.status).toBe(401)
    expect(bad.json.error_code).toBe(8002)
    sb.expireToken("vimeo")
    expect((yield* verify(sb.credentials.vimeo.accessToken)).status).toBe(401)
    sb.inject({ platform: "vimeo", route: "oauth.verify", action: { kind: "status", status: 500 } })
    expect((yield* verify("any")).status).toBe(500)
  }))
