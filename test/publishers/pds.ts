/**
 * A real Bluesky PDS (`@atproto/pds`, SQLite in a temporary directory) and
 * an in-memory PLC directory (`@did-plc/server`), run in the test process:
 * what `@atproto/dev-env`'s `TestNetworkNoAppView` starts, with both servers
 * bound to 127.0.0.1 only (dev-env's `app.listen(port)` binds every
 * interface). The PDS is configured to reach nothing but the PLC: its
 * AppView and moderation services are `.invalid` hosts, and nothing here
 * calls them.
 */
import { AtpAgent } from "@atproto/api"
import * as pds from "@atproto/pds"
import { Database, PlcServer } from "@did-plc/server"
import { generateKeyPairSync, randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer, type RequestListener, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import * as path from "node:path"

export interface TestPds {
  /** `http://127.0.0.1:<port>` of the PDS. */
  readonly url: string
  /** How long the PLC and PDS took to start, in ms. */
  readonly startMillis: number
  /** Creates an account and an app password for it. */
  readonly account: (name: string) => Promise<{
    readonly handle: string
    readonly did: string
    readonly appPassword: string
    /** Signed in with the account password, to read what the publisher wrote. */
    readonly agent: AtpAgent
  }>
  readonly close: () => Promise<void>
}

/** An http server listening on 127.0.0.1 at an ephemeral port. */
const loopback = (): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve(server))
  })

const portOf = (server: Server): number => (server.address() as AddressInfo).port

/**
 * Makes an express app's `listen(port)` (which binds every interface) hand
 * back `bound`, already listening on loopback, serving the app.
 */
const adopt = (bound: Server, app: { listen: unknown } & RequestListener): void => {
  app.listen = () => {
    bound.on("request", app)
    // The servers' start() awaits "listening" right after listen() returns.
    process.nextTick(() => bound.emit("listening"))
    return bound
  }
}

/** A secp256k1 private key as hex (the PLC rotation key the PDS signs DID operations with). */
const k256Hex = (): string => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "secp256k1" })
  return Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url").toString("hex")
}

export const startPds = async (): Promise<TestPds> => {
  const started = performance.now()
  const dir = await mkdtemp(path.join(tmpdir(), "medusa-pds-"))
  const plcBound = await loopback()
  const plc = PlcServer.create({ db: Database.mock(), port: portOf(plcBound) })
  adopt(plcBound, plc.app as never)
  await plc.start()
  const pdsBound = await loopback()
  const port = portOf(pdsBound)
  const env: pds.ServerEnvironment = {
    devMode: true,
    port,
    dataDirectory: dir,
    blobstoreDiskLocation: path.join(dir, "blobs"),
    adminPassword: randomBytes(12).toString("hex"),
    jwtSecret: randomBytes(16).toString("hex"),
    serviceHandleDomains: [".test"],
    didPlcUrl: `http://127.0.0.1:${portOf(plcBound)}`,
    bskyAppViewUrl: "https://appview.invalid",
    bskyAppViewDid: "did:example:invalid",
    modServiceUrl: "https://moderator.invalid",
    modServiceDid: "did:example:invalid",
    plcRotationKeyK256PrivateKeyHex: k256Hex(),
    inviteRequired: false,
    disableSsrfProtection: true
  }
  const server = await pds.PDS.create(pds.envToCfg(env), pds.envToSecrets(env))
  adopt(pdsBound, server.app as never)
  await server.start()
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    startMillis: performance.now() - started,
    account: async (name) => {
      const handle = `${name}.test`
      const password = randomBytes(12).toString("hex")
      const agent = new AtpAgent({ service: url })
      await agent.createAccount({ handle, email: `${name}@example.com`, password })
      const created = await agent.com.atproto.server.createAppPassword({ name: "medusa" })
      return { handle, did: agent.session!.did, appPassword: created.data.password, agent }
    },
    close: async () => {
      await server.destroy()
      await plc.destroy()
      pdsBound.closeAllConnections()
      plcBound.closeAllConnections()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
