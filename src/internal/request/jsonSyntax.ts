/**
 * Finds where a JSON text stops being valid, as a line and column (1-based),
 * for error messages. `JSON.parse` does not always say where (Node 20 gives
 * no position for an unexpected token), so this walks the grammar itself.
 *
 * @internal
 */
export const locateSyntaxError = (
  text: string
): { readonly line: number; readonly column: number; readonly message: string } | undefined => {
  let i = 0
  const fail = (message: string): never => {
    throw new SyntaxProblem(i, message)
  }
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++
  }
  const describe = () => (i >= text.length ? "end of file" : `${JSON.stringify(text[i])}`)
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) {
      if (text[i] !== word[k]) fail(`unexpected ${describe()} (expected ${word})`)
      i++
    }
  }
  const string = () => {
    i++ // opening quote
    while (true) {
      if (i >= text.length) fail("unterminated string")
      const c = text[i]!
      if (c === "\"") {
        i++
        return
      }
      if (c === "\\") {
        i++
        const e = text[i]
        if (e === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) fail("invalid \\u escape in string")
          }
          i += 5
          continue
        }
        if (e === undefined || !"\"\\/bfnrt".includes(e)) fail("invalid escape in string")
        i++
        continue
      }
      if (c.charCodeAt(0) < 0x20) fail("control character in string (write \\n for a newline)")
      i++
    }
  }
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i))
    if (match === null || match[0] === "" || match[0] === "-") fail(`unexpected ${describe()}`)
    i += match![0].length
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === "{") {
      i++
      ws()
      if (text[i] === "}") {
        i++
        return
      }
      while (true) {
        ws()
        if (text[i] !== "\"") {
          fail(
            text[i] === "}" ?
              "trailing comma before \"}\"" :
              `unexpected ${describe()} (expected a double-quoted property name)`
          )
        }
        string()
        ws()
        if (text[i] !== ":") fail(`unexpected ${describe()} (expected ":" after the property name)`)
        i++
        value()
        ws()
        if (text[i] === ",") {
          i++
          continue
        }
        if (text[i] === "}") {
          i++
          return
        }
        fail(`unexpected ${describe()} (expected "," or "}")`)
      }
    }
    if (c === "[") {
      i++
      ws()
      if (text[i] === "]") {
        i++
        return
      }
      while (true) {
        ws()
        if (text[i] === "]") fail("trailing comma before \"]\"")
        value()
        ws()
        if (text[i] === ",") {
          i++
          continue
        }
        if (text[i] === "]") {
          i++
          return
        }
        fail(`unexpected ${describe()} (expected "," or "]")`)
      }
    }
    if (c === "\"") return string()
    if (c === "t") return literal("true")
    if (c === "f") return literal("false")
    if (c === "n") return literal("null")
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number()
    fail(`unexpected ${describe()} (expected a value)`)
  }
  try {
    value()
    ws()
    if (i < text.length) fail(`unexpected ${describe()} after the end of the JSON value`)
    return undefined
  } catch (error) {
    if (!(error instanceof SyntaxProblem)) throw error
    const before = text.slice(0, error.offset)
    const line = before.split("\n").length
    const column = error.offset - (before.lastIndexOf("\n") + 1) + 1
    return { line, column, message: error.problem }
  }
}

class SyntaxProblem {
  constructor(readonly offset: number, readonly problem: string) {}
}
