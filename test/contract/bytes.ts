/**
 * Deterministic test bytes shared by the host and sandbox tests, so that a
 * failing case can be replayed from its seed.
 */
import { createHash } from "node:crypto"

/** `length` bytes of an xorshift32 stream started at `state` (0 would stay 0, so it becomes 1). */
export const xorshiftBytes = (length: number, state: number): Buffer => {
  const out = Buffer.alloc(length)
  let x = state >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

export const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex")
