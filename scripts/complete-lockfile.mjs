#!/usr/bin/env node
// Adds the lock entries npm leaves out when the registry it talks to lacks other platforms' optional binaries
// (@rollup/rollup-darwin-arm64 and friends). Without them `npm ci` refuses the lock as "out of sync". Each entry
// gets the os / cpu / libc a full registry would record, so npm skips it on other platforms without fetching it.
// Run after any `npm install` that rewrote package-lock.json: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from "node:fs"

const file = new URL("../package-lock.json", import.meta.url)
const lock = JSON.parse(readFileSync(file, "utf8"))
const packages = lock.packages

const platformOf = (name) => {
  const match = /-(android|darwin|freebsd|linux|win32|openharmony|netbsd|openbsd|sunos|aix)-([a-z0-9]+)(?:-([a-z]+))?$/
    .exec(name.split("/").pop())
  if (!match) return undefined
  const [, os, cpu, suffix] = match
  const libc = suffix === "gnu" || suffix === "gnueabihf" ? "glibc" : suffix?.startsWith("musl") ? "musl" : undefined
  return { os: [os], cpu: [cpu], ...(libc && os === "linux" ? { libc: [libc] } : {}) }
}

const added = []
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = path === "" ? `node_modules/${name}` : `${path}/node_modules/${name}`
    const top = `node_modules/${name}`
    if (nested in packages || top in packages) continue
    const platform = platformOf(name)
    if (!platform) {
      console.warn(`complete-lockfile: cannot tell the platform of ${name}; left out`)
      continue
    }
    packages[top] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform }
    added.push(`${name}@${version}`)
  }
}

lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0))
)
writeFileSync(file, JSON.stringify(lock, null, 2) + "\n")
console.log(`complete-lockfile: ${added.length} entr${added.length === 1 ? "y" : "ies"} added`)
