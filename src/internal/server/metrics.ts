/**
 * `GET /metrics`: Prometheus text format (0.0.4). Tasks by state come from
 * the store; everything else is Effect's metric registry as it is, so any
 * `Metric` the process records (uploads, retries, webhook deliveries)
 * appears without the server knowing it.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"

const sanitize = (name: string): string => {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, "_")
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`
}

const escapeLabel = (value: string): string => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")

const labels = (tags: ReadonlyArray<readonly [string, string]>): string =>
  tags.length === 0 ? "" : `{${tags.map(([k, v]) => `${sanitize(k)}="${escapeLabel(v)}"`).join(",")}}`

const num = (n: number | bigint): string =>
  typeof n === "bigint" ? n.toString() : Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN"

/** Renders metric pairs; series of one name are grouped under one HELP/TYPE. @internal */
export const render = (
  pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>,
  extra: ReadonlyArray<string> = []
): string => {
  const families = new Map<string, { type: string; help: string; lines: Array<string> }>()
  const family = (name: string, type: string, help: string | undefined) => {
    let f = families.get(name)
    if (f === undefined) {
      f = { type, help: help ?? name, lines: [] }
      families.set(name, f)
    }
    return f
  }
  for (const pair of pairs) {
    const key = pair.metricKey
    const name = sanitize(key.name)
    const tags = key.tags.map((t) => [t.key, t.value] as const)
    const help = Option.getOrUndefined(key.description)
    const state = pair.metricState
    if (MetricState.isCounterState(state)) {
      family(name, "counter", help).lines.push(`${name}${labels(tags)} ${num(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      family(name, "gauge", help).lines.push(`${name}${labels(tags)} ${num(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      const f = family(name, "histogram", help)
      for (const [bound, count] of state.buckets) {
        f.lines.push(`${name}_bucket${labels([...tags, ["le", num(bound)]])} ${count}`)
      }
      if (!state.buckets.some(([bound]) => bound === Infinity)) {
        f.lines.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${state.count}`)
      }
      f.lines.push(`${name}_sum${labels(tags)} ${num(state.sum)}`)
      f.lines.push(`${name}_count${labels(tags)} ${state.count}`)
    } else if (MetricState.isSummaryState(state)) {
      const f = family(name, "summary", help)
      for (const [q, value] of state.quantiles) {
        if (Option.isSome(value)) {
          f.lines.push(`${name}${labels([...tags, ["quantile", String(q)]])} ${num(value.value)}`)
        }
      }
      f.lines.push(`${name}_sum${labels(tags)} ${num(state.sum)}`)
      f.lines.push(`${name}_count${labels(tags)} ${state.count}`)
    } else if (MetricState.isFrequencyState(state)) {
      // A frequency is a counter per word.
      const f = family(name, "counter", help)
      for (const [word, count] of state.occurrences) {
        f.lines.push(`${name}${labels([...tags, ["value", word]])} ${count}`)
      }
    }
  }
  const out: Array<string> = [...extra]
  for (const [name, f] of families) {
    out.push(`# HELP ${name} ${f.help.replace(/\n/g, " ")}`)
    out.push(`# TYPE ${name} ${f.type}`)
    out.push(...f.lines)
  }
  return out.join("\n") + "\n"
}

/** The whole page: tasks by state, then the registry. @internal */
export const page = (tasksByState: Readonly<Record<string, number>>): Effect.Effect<string> =>
  Effect.map(Metric.snapshot, (pairs) =>
    render(pairs, [
      "# HELP medusa_tasks Tasks in the store by state",
      "# TYPE medusa_tasks gauge",
      ...Object.entries(tasksByState).map(([state, count]) => `medusa_tasks{state="${state}"} ${count}`)
    ]))
