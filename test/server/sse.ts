/** A small Server-Sent Events reader over fetch, for tests and the benchmark. */
export interface SseEvent {
  readonly id: string | undefined
  readonly event: string
  readonly data: string
  /** performance.now() when it was parsed. */
  readonly receivedAt: number
}

export interface SseConnection {
  readonly status: number
  readonly events: Array<SseEvent>
  /** Heartbeat comments seen. */
  readonly comments: () => number
  /** Resolves once `predicate` holds for the events so far (polls; bounded by `timeoutMs`). */
  readonly until: (predicate: (events: ReadonlyArray<SseEvent>) => boolean, timeoutMs?: number) => Promise<void>
  readonly close: () => void
  /** The last `id:` received. */
  readonly lastEventId: () => string | undefined
}

/** One parsed block of an event stream: an event, or a comment (a heartbeat). */
export type SseBlock = { readonly id: string | undefined; readonly event: string; readonly data: string } | "comment"

/**
 * An incremental SSE parser: given the text as it arrives, the events (and
 * comments) each piece completes. An event without data is skipped.
 */
export const blocks = () => {
  let buffer = ""
  return (text: string): Array<SseBlock> => {
    buffer += text
    const out: Array<SseBlock> = []
    let end: number
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let id: string | undefined
      let event = "message"
      const data: Array<string> = []
      let isComment = true
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue
        isComment = false
        const colon = line.indexOf(":")
        const field = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
        if (field === "id") id = value
        else if (field === "event") event = value
        else if (field === "data") data.push(value)
      }
      if (isComment) out.push("comment")
      else if (data.length > 0) out.push({ id, event, data: data.join("\n") })
    }
    return out
  }
}

export const connect = async (
  url: string,
  options: { readonly key: string; readonly lastEventId?: string | undefined; readonly onEvent?: (e: SseEvent) => void }
): Promise<SseConnection> => {
  const controller = new AbortController()
  const response = await fetch(url, {
    headers: {
      authorization: `Bearer ${options.key}`,
      accept: "text/event-stream",
      ...(options.lastEventId !== undefined ? { "last-event-id": options.lastEventId } : {})
    },
    signal: controller.signal
  })
  const events: Array<SseEvent> = []
  let comments = 0
  let lastId: string | undefined = options.lastEventId
  let ended = false
  if (response.ok && response.body !== null) {
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    const parse = blocks()
    void (async () => {
      try {
        while (true) {
          const { done, value } = await reader.read()
          if (done) break
          for (const block of parse(decoder.decode(value, { stream: true }))) {
            if (block === "comment") {
              comments++
              continue
            }
            if (block.id !== undefined) lastId = block.id
            const e = { ...block, receivedAt: performance.now() }
            events.push(e)
            options.onEvent?.(e)
          }
        }
      } catch {
        // aborted
      } finally {
        ended = true
      }
    })()
  } else {
    await response.body?.cancel()
  }
  return {
    status: response.status,
    events,
    comments: () => comments,
    lastEventId: () => lastId,
    until: async (predicate, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs
      while (!predicate(events)) {
        if (Date.now() > deadline || ended) {
          if (predicate(events)) return
          throw new Error(`SSE: condition not met within ${timeoutMs} ms (${events.length} events, ended: ${ended})`)
        }
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    close: () => controller.abort()
  }
}
