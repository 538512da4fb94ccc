/** Elasticsearch wildcard patterns (`*`, `?`, `\\` escapes) matched without backtracking. */

/** A compiled wildcard: code points to match literally, or ANY (`?`) / STAR (`*`). */
const ANY = -1;
const STAR = -2;
type Wildcard = Int32Array;

const WILDCARD_CACHE_SIZE = 256;
const wildcardCache = new Map<string, Wildcard>();

const codePoints = (text: string): number[] => Array.from(text, (c) => c.codePointAt(0) as number);

/** `*`/`?` with `\` escapes, compiled once per pattern (runs of `*` collapse into one). */
function compileWildcard(pattern: string): Wildcard {
  let compiled = wildcardCache.get(pattern);
  if (compiled === undefined) {
    const out: number[] = [];
    const cps = codePoints(pattern);
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i] as number;
      if (c === 0x5c && i + 1 < cps.length) out.push(cps[++i] as number);
      else if (c === 0x2a) {
        if (out[out.length - 1] !== STAR) out.push(STAR);
      } else if (c === 0x3f) out.push(ANY);
      else out.push(c);
    }
    compiled = Int32Array.from(out);
    if (wildcardCache.size >= WILDCARD_CACHE_SIZE) wildcardCache.clear();
    wildcardCache.set(pattern, compiled);
  }
  return compiled;
}

/**
 * Whether `value` matches the whole wildcard `pattern` (`*` any run, `?` one code point, `\` escapes). Greedy with a
 * single resume point (the last `*`): at most value × pattern steps, never the exponential backtracking a regex of
 * `.*` groups can take (`*?*?*?…!` froze the process for seconds).
 */
export function wildcardMatch(value: string, pattern: string, caseInsensitive = false): boolean {
  const p = compileWildcard(caseInsensitive ? pattern.toLowerCase() : pattern);
  const t = codePoints(caseInsensitive ? value.toLowerCase() : value);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (i < t.length) {
    const pj = j < p.length ? (p[j] as number) : undefined;
    if (pj !== undefined && pj !== STAR && (pj === ANY || pj === t[i])) {
      i++;
      j++;
    } else if (pj === STAR) {
      star = j++;
      resume = i;
    } else if (star >= 0) {
      j = star + 1;
      i = ++resume;
    } else return false;
  }
  while (j < p.length && p[j] === STAR) j++;
  return j === p.length;
}
