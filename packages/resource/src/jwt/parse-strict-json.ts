/**
 * `JSON.parse` that refuses duplicate object keys and deep nesting. JSON.parse (and so jose)
 * lets the last duplicate win, and two parsers that pick different winners are a known way to
 * smuggle claims (RFC 8725 §3.11 asks to reject). Returns `undefined` for any refusal.
 */
export function parseStrictJson(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return hasDuplicateKeysOrDepth(text, maxDepth) ? undefined : value;
}

/**
 * Scans text already known to be valid JSON. Iterative, so a hostile depth cannot overflow
 * the stack; keys are compared after unescaping (`"a"` and `"\u0061"` are one key).
 */
function hasDuplicateKeysOrDepth(text: string, maxDepth: number): boolean {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.has(key)) return true;
        top.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      if (stack.length > maxDepth) return true;
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      if (stack.length > maxDepth) return true;
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return false;
}
