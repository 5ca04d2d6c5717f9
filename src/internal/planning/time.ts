/**
 * Reading the times people give `--at` and `medusa reschedule`: ISO 8601
 * (with an offset it is absolute; without one it is read in the time zone),
 * or a local time such as `tomorrow 09:00`, `today 18:30`, `friday 09:00`,
 * `2030-01-31 09:00`, `in 2 hours`. Zone arithmetic (DST included) is
 * Luxon's, over the platform's Intl time zone data.
 *
 * @internal
 */
import { DateTime, Info } from "luxon"

/** @internal */
export type TimeResult = { readonly at: number } | { readonly error: string }

const weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const

const examples = "ISO 8601 (2030-01-31T09:00:00Z, 2030-01-31T09:00+01:00), \"2030-01-31 09:00\", " +
  "\"tomorrow 09:00\", \"today 18:30\", \"friday 09:00\" or \"in 2 hours\""

/** The system's time zone (Intl's). @internal */
export const systemZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC"

/** Whether Intl knows the zone. @internal */
export const isZone = (zone: string): boolean => zone === "UTC" || Info.isValidIANAZone(zone)

const clock = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$/i

const parseClock = (
  text: string
): { readonly hour: number; readonly minute: number; readonly second: number } | undefined => {
  const m = clock.exec(text.trim())
  if (m === null) return undefined
  let hour = Number(m[1])
  const minute = m[2] === undefined ? 0 : Number(m[2])
  const second = m[3] === undefined ? 0 : Number(m[3])
  const meridiem = m[4]?.toLowerCase()
  if (meridiem !== undefined) {
    if (hour < 1 || hour > 12) return undefined
    hour = (hour % 12) + (meridiem === "pm" ? 12 : 0)
  }
  if (hour > 23 || minute > 59 || second > 59) return undefined
  return { hour, minute, second }
}

const units: Readonly<Record<string, "minutes" | "hours" | "days" | "weeks">> = {
  m: "minutes",
  min: "minutes",
  mins: "minutes",
  minute: "minutes",
  minutes: "minutes",
  h: "hours",
  hour: "hours",
  hours: "hours",
  d: "days",
  day: "days",
  days: "days",
  week: "weeks",
  weeks: "weeks"
}

/**
 * The instant `text` names, read in `zone` relative to `now` (epoch ms).
 * Past times are accepted here; the caller decides.
 *
 * @internal
 */
export const parseTime = (text: string, zone: string, now: number): TimeResult => {
  if (!isZone(zone)) {
    return { error: `unknown time zone ${JSON.stringify(zone)}; use an IANA name such as Europe/Paris or UTC` }
  }
  const input = text.trim()
  const lower = input.toLowerCase()
  const today = DateTime.fromMillis(now, { zone })
  const at = (dt: DateTime): TimeResult =>
    dt.isValid ? { at: dt.toMillis() } : { error: `${JSON.stringify(text)} is not a valid time; use ${examples}` }

  const relative = /^in\s+(\d+)\s*([a-z]+)$/.exec(lower)
  if (relative !== null) {
    const unit = units[relative[2]!]
    if (unit !== undefined) return at(today.plus({ [unit]: Number(relative[1]) }))
  }

  const [first, ...rest] = lower.split(/\s+/)
  const restText = rest.join(" ")
  const clockOf = (s: string) => (s.length === 0 ? { hour: 0, minute: 0, second: 0 } : parseClock(s))
  if (first === "today" || first === "tomorrow") {
    const c = clockOf(restText)
    if (c !== undefined) {
      return at(today.plus({ days: first === "tomorrow" ? 1 : 0 }).set({ ...c, millisecond: 0 }))
    }
  }
  const weekday = weekdays.findIndex((d) => d === first || d.slice(0, 3) === first)
  if (first !== undefined && weekday >= 0) {
    const c = clockOf(restText)
    if (c !== undefined) {
      // The next such day (a week ahead when it is today and the time has passed).
      let day = today.set({ ...c, millisecond: 0 })
      const ahead = (weekday + 1 - today.weekday + 7) % 7
      day = day.plus({ days: ahead })
      if (day.toMillis() <= now) day = day.plus({ days: 7 })
      return at(day)
    }
  }
  const onlyClock = parseClock(lower)
  if (onlyClock !== undefined) return at(today.set({ ...onlyClock, millisecond: 0 }))

  // ISO 8601 (a space may stand for the T); with an offset or Z it is absolute.
  const iso = input.replace(/^(\d{4}-\d{2}-\d{2})\s+(\d)/, "$1T$2")
  const parsed = DateTime.fromISO(iso, { zone })
  if (parsed.isValid) return { at: parsed.toMillis() }
  return { error: `${JSON.stringify(text)} is not a time Medusa reads; use ${examples}` }
}

/**
 * `2030-01-31T08:00:00.000Z (Thu 31 Jan 2030 09:00 Europe/Paris)`: the
 * instant in UTC and in the zone.
 *
 * @internal
 */
export const describeTime = (at: number, zone: string): string =>
  `${new Date(at).toISOString()} (${DateTime.fromMillis(at, { zone }).toFormat("ccc d LLL yyyy HH:mm")} ${zone})`

/** `Thu 31 Jan 2030 09:00`: the instant's wall-clock time in the zone. @internal */
export const localTime = (at: number, zone: string): string =>
  DateTime.fromMillis(at, { zone }).toFormat("ccc d LLL yyyy HH:mm")
