import { assert, describe, it } from "@effect/vitest"
import * as Redacted from "effect/Redacted"
import * as fc from "fast-check"
import * as OAuth1 from "../../src/platforms/x/internal/oauth1.js"

// X's published worked example ("Creating a signature").
const example = {
  method: "POST",
  consumerKey: "xvz1evFS4wEEPTGEFPHBog",
  consumerSecret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
  token: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
  tokenSecret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
  nonce: "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
  timestamp: 1318622958,
  formParams: { status: "Hello Ladies + Gentlemen, a signed OAuth request!" }
} as const

const expectedParamString = "include_entities=true&oauth_consumer_key=xvz1evFS4wEEPTGEFPHBog" +
  "&oauth_nonce=kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg&oauth_signature_method=HMAC-SHA1" +
  "&oauth_timestamp=1318622958&oauth_token=370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb" +
  "&oauth_version=1.0&status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21"

describe("OAuth 1.0a", () => {
  it("percent-encodes per RFC 3986, including ! * ' ( )", () => {
    assert.strictEqual(OAuth1.percentEncode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen")
    assert.strictEqual(OAuth1.percentEncode("!*'()"), "%21%2A%27%28%29")
    assert.strictEqual(OAuth1.percentEncode("-._~aZ09"), "-._~aZ09")
    assert.strictEqual(OAuth1.percentEncode("☃"), "%E2%98%83")
  })

  it("reproduces the worked example on api.twitter.com", () => {
    const signed = OAuth1.signDetailed({
      ...example,
      url: "https://api.twitter.com/1.1/statuses/update.json?include_entities=true"
    })
    assert.strictEqual(signed.parameterString, expectedParamString)
    assert.strictEqual(
      signed.baseString,
      "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&" + OAuth1.percentEncode(expectedParamString)
    )
    assert.strictEqual(signed.signature, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
    assert.include(signed.header, `oauth_signature="${OAuth1.percentEncode("hCtSmYh+iHYCEqBWrE7C7hYmtUk=")}"`)
  })

  it("reproduces the worked example on api.x.com, with Redacted secrets", () => {
    const header = OAuth1.sign({
      ...example,
      consumerKey: Redacted.make(example.consumerKey),
      consumerSecret: Redacted.make(example.consumerSecret),
      token: Redacted.make(example.token),
      tokenSecret: Redacted.make(example.tokenSecret),
      url: "https://api.x.com/1.1/statuses/update.json?include_entities=true"
    })
    const params = OAuth1.parseHeader(header)
    assert.strictEqual(params?.get("oauth_signature"), "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=")
    assert.strictEqual(params?.get("oauth_token"), example.token)
  })

  it("normalises the base URI (case, default port, no query)", () => {
    assert.strictEqual(OAuth1.baseUri("HTTPS://API.X.com:443/2/tweets?a=1#f"), "https://api.x.com/2/tweets")
    assert.strictEqual(OAuth1.baseUri("http://127.0.0.1:8080/2/tweets"), "http://127.0.0.1:8080/2/tweets")
  })

  it("sorts repeated names by value", () => {
    assert.strictEqual(
      OAuth1.parameterString([], "http://h/p?b=2&a=2&a=1", [["c", "x y"]]),
      "a=1&a=2&b=2&c=x%20y"
    )
  })

  it("builds a header it can parse back", () => {
    const header = OAuth1.buildHeader([["oauth_b", "x y"], ["oauth_a", "a=b,c\"d"]])
    assert.strictEqual(header, "OAuth oauth_a=\"a%3Db%2Cc%22d\", oauth_b=\"x%20y\"")
    const parsed = OAuth1.parseHeader(header)
    assert.deepStrictEqual([...parsed!.entries()], [["oauth_a", "a=b,c\"d"], ["oauth_b", "x y"]])
    const compact = OAuth1.parseHeader("OAuth realm=\"\",oauth_nonce=\"n%2Fx\",oauth_version=\"1.0\"")
    assert.deepStrictEqual([...compact!.entries()], [["realm", ""], ["oauth_nonce", "n/x"], ["oauth_version", "1.0"]])
    assert.isUndefined(OAuth1.parseHeader("Bearer abc"))
    assert.isUndefined(OAuth1.parseHeader("OAuth garbage"))
  })

  const secretsFor = (key: string, token: string | undefined) =>
    key === example.consumerKey && token === example.token
      ? { consumerSecret: example.consumerSecret, tokenSecret: example.tokenSecret }
      : undefined

  it("verifies what it signs and rejects tampering", () => {
    const url = "http://127.0.0.1:4000/2/tweets?x=1"
    const authorization = OAuth1.sign({ ...example, url, formParams: undefined })
    const ok = OAuth1.verify({ method: "POST", url, authorization, secretsFor })
    assert.isTrue(ok.ok)
    const check = (over: Partial<OAuth1.VerifyInput>) =>
      OAuth1.verify({ method: "POST", url, authorization, secretsFor, ...over })
    const otherPort = check({ url: "http://127.0.0.1:4001/2/tweets?x=1" })
    assert.isTrue(!otherPort.ok && otherPort.reason === "bad_signature")
    const otherMethod = check({ method: "PUT" })
    assert.isTrue(!otherMethod.ok && otherMethod.reason === "bad_signature")
    const otherQuery = check({ url: "http://127.0.0.1:4000/2/tweets?x=2" })
    assert.isTrue(!otherQuery.ok && otherQuery.reason === "bad_signature")
    const form = check({ formParams: { extra: "1" } })
    assert.isTrue(!form.ok && form.reason === "bad_signature")
    const unknown = check({ secretsFor: () => undefined })
    assert.isTrue(!unknown.ok && unknown.reason === "unknown_key")
    const missing = check({ authorization: undefined })
    assert.isTrue(!missing.ok && missing.reason === "missing")
    const wrongSecret = check({ secretsFor: () => ({ consumerSecret: "nope", tokenSecret: example.tokenSecret }) })
    assert.isTrue(!wrongSecret.ok && wrongSecret.reason === "bad_signature")
    const malformed = check({ authorization: "OAuth oauth_consumer_key=\"a\"" })
    assert.isTrue(!malformed.ok && malformed.reason === "malformed")
  })

  it("round-trips sign → verify for arbitrary form params and secrets", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1 }), fc.string()), { maxLength: 6 }),
        fc.string({ minLength: 1 }),
        fc.string(),
        (formParams, consumerSecret, text) => {
          const url = `http://127.0.0.1:9/2/media/upload?command=${encodeURIComponent(text)}`
          const authorization = OAuth1.sign({
            method: "POST",
            url,
            consumerKey: "ck",
            consumerSecret,
            token: "tk",
            tokenSecret: "ts",
            formParams
          })
          const result = OAuth1.verify({
            method: "post",
            url,
            authorization,
            formParams: new URLSearchParams(formParams.map(([k, v]): [string, string] => [k, v])),
            secretsFor: () => ({ consumerSecret, tokenSecret: "ts" })
          })
          return result.ok
        }
      )
    )
  })
})
