/**
 * "Did you mean …?" for misspelt keys of the config file and the publish
 * request.
 *
 * @internal
 */

const normalise = (key: string): string => key.toLowerCase().replace(/[_\-\s]/g, "")

/** Edit distance: insertions, deletions, substitutions and swaps of two neighbours (`titel` → `title` is 1). */
const distance = (a: string, b: string): number => {
  const d: Array<Array<number>> = Array.from({ length: a.length + 1 }, (_, i) => [i])
  for (let j = 0; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/**
 * The known key nearest to `key`, comparing without case, `_` and `-` (so
 * `maxWait` finds `max_wait`), when it is close enough to be a typo: at most
 * a third of the longer key's letters differ.
 *
 * @internal
 */
export const nearestKey = (key: string, known: ReadonlyArray<string>): string | undefined => {
  const k = normalise(key)
  let best: { readonly key: string; readonly d: number; readonly prefix: number } | undefined
  for (const candidate of known) {
    const c = normalise(candidate)
    const d = distance(k, c)
    let prefix = 0
    while (prefix < k.length && k[prefix] === c[prefix]) prefix++
    // Ties go to the key that shares the longer beginning (`max_retry` → `max_retries`, not `max_delay`).
    if (best === undefined || d < best.d || (d === best.d && prefix > best.prefix)) best = { key: candidate, d, prefix }
  }
  if (best === undefined) return undefined
  const longest = Math.max(k.length, normalise(best.key).length)
  return best.d <= Math.max(1, Math.floor(longest / 3)) ? best.key : undefined
}
