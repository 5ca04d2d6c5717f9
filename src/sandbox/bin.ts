/**
 * The standalone sandbox runner:
 *
 * ```sh
 * npm run sandbox -- --config-out /tmp/sb/medusa.config.json [--port 8100] [--latency 0] [--seed 1] [--keep-bytes]
 * ```
 *
 * Starts every emulator on loopback, writes a ready config at the given path
 * (credential files beside it), prints the base URLs and the state URL, and
 * runs until SIGINT or SIGTERM, then closes its servers and exits 0.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Runner from "./Runner.js"

const usage =
  `Usage: npm run sandbox -- --config-out <path> [--port <first port>] [--latency <ms>] [--seed <n>] [--keep-bytes]

  --config-out <path>  where to write medusa.config.json (credential files go beside it);
                       default .medusa/sandbox/medusa.config.json
  --port <n>           fixed ports: youtube n, vimeo n+1, facebook n+2, x n+3, linkedin n+4, control n+5,
                       threads n+6, mastodon n+7, bluesky n+8
                       (default: ephemeral ports)
  --latency <ms>       latency added to every request (default 0)
  --seed <n>           seed for ids and random faults (default 1)
  --keep-bytes         keep uploaded bytes in memory (default: hash and count only)
`

interface Args {
  readonly configOut: string
  readonly port: number | undefined
  readonly latency: number
  readonly seed: number
  readonly keepBytes: boolean
}

const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${usage}`)
  process.exit(2)
}

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  let configOut = ".medusa/sandbox/medusa.config.json"
  let port: number | undefined
  let latency = 0
  let seed = 1
  let keepBytes = false
  const number = (flag: string, value: string | undefined, min: number, max: number) => {
    const n = Number(value)
    if (value === undefined || !Number.isInteger(n) || n < min || n > max) {
      fail(`${flag} needs an integer between ${min} and ${max}; got ${value === undefined ? "nothing" : `'${value}'`}`)
    }
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [
      arg,
      undefined
    ]
    const value = () => inline ?? argv[++i]
    switch (flag) {
      case "--config-out": {
        const v = value()
        if (!v) fail("--config-out needs a path, e.g. --config-out /tmp/sb/medusa.config.json")
        configOut = v!
        break
      }
      case "--port":
        port = number("--port", value(), 1, 65_530)
        break
      case "--latency":
        latency = number("--latency", value(), 0, 600_000)
        break
      case "--seed":
        seed = number("--seed", value(), 0, 2 ** 31)
        break
      case "--keep-bytes":
        keepBytes = true
        break
      case "--help":
      case "-h":
        process.stdout.write(usage)
        process.exit(0)
        break
      default:
        fail(`Unknown option '${arg}'`)
    }
  }
  return { configOut, port, latency, seed, keepBytes }
}

const main = (args: Args) =>
  Runner.runForeground({
    configOut: args.configOut,
    port: args.port,
    sandbox: { latencyMillis: args.latency, seed: args.seed, keepBytes: args.keepBytes },
    until: Effect.tap(
      Runner.untilSignal,
      (signal) => Effect.sync(() => process.stdout.write(`Received ${signal}, stopping the sandbox\n`))
    )
  }).pipe(Effect.scoped)

Effect.runPromiseExit(main(parseArgs(process.argv.slice(2)))).then((exit) => {
  if (Exit.isSuccess(exit)) return process.exit(0)
  const failure = Cause.failureOption(exit.cause)
  process.stderr.write(
    `${
      failure._tag === "Some" ? failure.value.message : `Error while running the sandbox: ${Cause.pretty(exit.cause)}`
    }\n`
  )
  process.exit(1)
})
