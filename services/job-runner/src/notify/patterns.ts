/**
 * Trigger name patterns: user-written regular expressions matched at the start of a task name (Python `re.match`
 * semantics). A pattern that does not compile, or that runs away (catastrophic backtracking), never matches and is
 * reported once; it can never crash or stall the worker for longer than the match timeout.
 */
import vm from 'node:vm';

/** Longest pattern compiled (the trigger schema allows 256). @default 256 */
export const MAX_PATTERN_LENGTH = 256;
/** Task names are cut to this length before matching. @default 1024 */
export const MAX_NAME_LENGTH = 1024;
/** A single match may run this long before the pattern is disabled. @default 50 ms */
export const DEFAULT_MATCH_TIMEOUT_MS = 50;
/** Compiled patterns kept. @default 1000 */
const CACHE_SIZE = 1000;

export interface PatternProblem {
  pattern: string;
  reason: string;
}

export interface PatternMatcherOptions {
  timeoutMs?: number;
  /** Called once per bad pattern (until it leaves the cache). */
  onProblem?: (problem: PatternProblem) => void;
}

type Compiled = { regex: RegExp } | { problem: string };

/**
 * Python syntax the trigger UI users write, turned into JavaScript: named groups `(?P<n>…)`/`(?P=n)`, a leading
 * `(?i)`. The sticky flag anchors every alternative at position 0, which wrapping in `^(?:…)` would not do for a
 * pattern like `a)|(b`.
 */
function compile(pattern: string): Compiled {
  if (pattern.length > MAX_PATTERN_LENGTH) return { problem: `longer than ${MAX_PATTERN_LENGTH} characters` };
  let source = pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  let flags = 'y';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags += 'i';
  }
  try {
    return { regex: new RegExp(source, flags) };
  } catch (error) {
    return { problem: `invalid regular expression: ${(error as Error).message}` };
  }
}

export class PatternMatcher {
  readonly #cache = new Map<string, Compiled>();
  readonly #timeoutMs: number;
  readonly #onProblem: (problem: PatternProblem) => void;
  // One sandbox for every match: vm's timeout is the only way to interrupt a running regular expression.
  readonly #context = vm.createContext(Object.create(null));
  readonly #script = new vm.Script('regex.lastIndex = 0; regex.test(input)');

  constructor(options: PatternMatcherOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_MATCH_TIMEOUT_MS;
    this.#onProblem = options.onProblem ?? (() => {});
  }

  /** True when one of the patterns matches at the start of `name`. Bad patterns count as not matching. */
  matchesAny(patterns: readonly string[], name: string): boolean {
    const input = name.length > MAX_NAME_LENGTH ? name.slice(0, MAX_NAME_LENGTH) : name;
    return patterns.some((pattern) => this.#test(pattern, input));
  }

  #lookup(pattern: string): Compiled {
    const cached = this.#cache.get(pattern);
    if (cached) {
      // Refresh its place: the cache evicts the least recently used pattern.
      this.#cache.delete(pattern);
      this.#cache.set(pattern, cached);
      return cached;
    }
    const compiled = compile(pattern);
    this.#remember(pattern, compiled);
    if ('problem' in compiled) this.#onProblem({ pattern, reason: compiled.problem });
    return compiled;
  }

  #remember(pattern: string, compiled: Compiled) {
    this.#cache.set(pattern, compiled);
    if (this.#cache.size > CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }

  #test(pattern: string, input: string): boolean {
    const compiled = this.#lookup(pattern);
    if (!('regex' in compiled)) return false;
    const sandbox = this.#context as { regex?: RegExp; input?: string };
    sandbox.regex = compiled.regex;
    sandbox.input = input;
    try {
      return this.#script.runInContext(this.#context, { timeout: this.#timeoutMs }) === true;
    } catch {
      const problem = `matching took longer than ${this.#timeoutMs} ms (catastrophic backtracking?); the pattern is disabled`;
      this.#remember(pattern, { problem });
      this.#onProblem({ pattern, reason: problem });
      return false;
    } finally {
      sandbox.regex = undefined;
      sandbox.input = undefined;
    }
  }
}
