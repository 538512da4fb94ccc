/**
 * The expression language of monitors, alerts, target filters and `{{ }}` templates (spec/behaviour.md §6):
 * the JEXL grammar (dot paths, filters, arithmetic, comparison, logic, ternary, `in`, literals) plus a fixed
 * function table. User input is parsed, never handed to `eval`: no assignment, no loops, no globals, and only the
 * functions below can be called.
 */
import jexlModule from 'jexl';

type JexlInstance = InstanceType<(typeof jexlModule)['Jexl']>;
type JexlExpression = ReturnType<JexlInstance['compile']>;
type Ast = ReturnType<JexlExpression['_getAst']>;

/** Longest expression accepted; the language has no loops, so this bounds the work of one evaluation. */
export const MAX_EXPRESSION_LENGTH = 4096;
/** Longest template (web hook bodies, alert messages). */
export const MAX_TEMPLATE_LENGTH = 65536;

/** A syntax error, an unknown function, or a regular expression that does not compile. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
}

/** Resolves ids to display names for `server(id)` and `event(id)`; both fall back to the id. */
export interface ExpressionLookups {
  server?: (id: string) => string | undefined;
  event?: (id: string) => string | undefined;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const asNumber = (v: unknown): number => (typeof v === 'number' ? v : Number.parseFloat(String(v)));
const truncate = (v: number, places: number): number => Math.floor(v * 10 ** places) / 10 ** places;

function bytes(value: unknown): string {
  let n = Number.parseInt(String(value), 10);
  if (!Number.isFinite(n)) n = 0;
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = i === 0 ? String(v) : String(truncate(v, v < 10 ? 1 : 0));
  return `${n < 0 ? '-' : ''}${text} ${units[i]}`;
}

function testPattern(value: unknown, pattern: unknown): boolean {
  if (value === null || value === undefined) return false;
  try {
    return new RegExp(String(pattern)).test(String(value));
  } catch {
    return false;
  }
}

/** The function table (spec/behaviour.md §6.1). Names are checked at compile time. */
function functionTable(lookups: ExpressionLookups): Record<string, (...args: unknown[]) => unknown> {
  return {
    min: (...a) => Math.min(...a.map(asNumber)),
    max: (...a) => Math.max(...a.map(asNumber)),
    floor: (v) => Math.floor(asNumber(v)),
    ceil: (v) => Math.ceil(asNumber(v)),
    round: (v) => Math.round(asNumber(v)),
    clamp: (v, lo, hi) => Math.min(Math.max(asNumber(v), asNumber(lo)), asNumber(hi)),
    count: (arr) => (Array.isArray(arr) ? arr.length : arr && typeof arr === 'object' ? Object.keys(arr).length : 0),
    find: (arr, key, substr) =>
      Array.isArray(arr)
        ? arr.filter(
            (item) => item && typeof item === 'object' && String((item as Record<string, unknown>)[String(key)]).includes(String(substr)),
          )
        : [],
    includes: (hay, needle) => (typeof hay === 'string' ? hay.includes(String(needle)) : Array.isArray(hay) ? hay.includes(needle) : false),
    match: (str, pattern) => testPattern(str, pattern),
    bytes: (n) => bytes(n),
    number: (n) => asNumber(n).toLocaleString('en-US'),
    pct: (v, max = 100, floor = false) => {
      const raw = (asNumber(v) * 100) / (asNumber(max) || 1);
      return `${floor ? Math.floor(raw) : Number(raw.toFixed(2))}%`;
    },
    integer: (v) => Number.parseInt(String(v), 10) || 0,
    float: (v) => {
      const n = asNumber(v);
      return Number.isFinite(n) ? truncate(n, 2) : 0;
    },
    stringify: (v) => JSON.stringify(v),
    encode: (s) => encodeURIComponent(String(s ?? '')),
    server: (id) => lookups.server?.(String(id)) ?? String(id),
    event: (id) => lookups.event?.(String(id)) ?? String(id),
  };
}

export const EXPRESSION_FUNCTIONS: readonly string[] = Object.keys(functionTable({}));

function createJexl(lookups: ExpressionLookups): JexlInstance {
  const jexl = new jexlModule.Jexl();
  jexl.addFunctions(functionTable(lookups));
  return jexl;
}

const defaultJexl = createJexl({});

/** Rejects what the engine would only discover at run time: unknown functions, transforms, prototype keys. */
function checkAst(node: Ast | undefined): void {
  if (!node) return;
  switch (node.type) {
    case 'FunctionCall':
      if (node.pool !== 'functions') throw new ExpressionError(`Unknown transform: ${node.name} (use a function call instead)`);
      if (!EXPRESSION_FUNCTIONS.includes(node.name)) throw new ExpressionError(`Unknown function: ${node.name}`);
      for (const arg of node.args) checkAst(arg);
      return;
    case 'Identifier':
      if (FORBIDDEN_KEYS.has(node.value)) throw new ExpressionError(`Illegal property name: ${node.value}`);
      checkAst(node.from);
      return;
    case 'UnaryExpression':
      checkAst(node.right);
      return;
    case 'BinaryExpression':
      checkAst(node.left);
      checkAst(node.right);
      return;
    case 'ConditionalExpression':
      checkAst(node.test);
      checkAst(node.consequent);
      checkAst(node.alternate);
      return;
    case 'FilterExpression':
      checkAst(node.expr);
      checkAst(node.subject);
      return;
    case 'ArrayLiteral':
      for (const item of node.value) checkAst(item);
      return;
    case 'ObjectLiteral':
      for (const [key, value] of Object.entries(node.value)) {
        if (FORBIDDEN_KEYS.has(key)) throw new ExpressionError(`Illegal object key: ${key}`);
        checkAst(value);
      }
      return;
    case 'Literal':
      return;
  }
}

export interface CompiledExpression {
  readonly source: string;
  /** Evaluates against a context; throws on evaluation errors (callers decide: 0, false, or an error text). */
  evaluate(context: Record<string, unknown>, lookups?: ExpressionLookups): unknown;
}

/** Parses and checks an expression; throws ExpressionError with a message fit for the API answer. */
export function compileExpression(source: string): CompiledExpression {
  if (typeof source !== 'string' || !source.trim()) throw new ExpressionError('Expression is empty');
  if (source.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`Expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  let compiled: JexlExpression;
  try {
    compiled = defaultJexl.compile(source);
    checkAst(compiled._getAst());
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
    throw new ExpressionError(`Syntax error: ${(error as Error).message}`);
  }
  return {
    source,
    evaluate(context, lookups) {
      // Lookups are per call (they read live server/event lists); recompiling against them is cheap.
      const expression = lookups ? createJexl(lookups).compile(source) : compiled;
      return expression.evalSync(context);
    },
  };
}

/** Checks a regular expression the way monitors' `data_match` and param `regex` need it. */
export function compileRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new ExpressionError(`Invalid regular expression: ${(error as Error).message}`);
  }
}

// ----------------------------------------------------------------------------------------------------------------
// {{ }} templates

type TemplatePart = { text: string } | { expression: CompiledExpression };

export interface CompiledTemplate {
  readonly source: string;
  /**
   * Renders in a single pass: values that themselves contain `{{…}}` are not evaluated again, so user-controlled
   * strings cannot inject expressions (the recommendation of spec/behaviour.md §6.3).
   */
  render(context: Record<string, unknown>, options?: RenderOptions): string;
}

export interface RenderOptions {
  /** Text for an undefined value: "" for alert messages, "n/a" in hook text, "N/A" in web hooks. */
  fallback?: string;
  lookups?: ExpressionLookups;
}

const MACRO = /\{\{([\s\S]*?)\}\}/g;

function stringifyValue(value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'object') return JSON.stringify(value).replace(/\{\{|\}\}/g, '');
  return String(value);
}

/** Parses every `{{ expr }}` of a template; the first syntax error throws ExpressionError. */
export function compileTemplate(source: string): CompiledTemplate {
  if (typeof source !== 'string') throw new ExpressionError('Template must be a string');
  if (source.length > MAX_TEMPLATE_LENGTH) throw new ExpressionError(`Template is longer than ${MAX_TEMPLATE_LENGTH} characters`);
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of source.matchAll(MACRO)) {
    const index = match.index ?? 0;
    if (index > last) parts.push({ text: source.slice(last, index) });
    const inner = match[1] ?? '';
    try {
      parts.push({ expression: compileExpression(inner.trim()) });
    } catch (error) {
      throw new ExpressionError(`Failed to compile macro {{${inner}}}: ${(error as Error).message}`);
    }
    last = index + match[0].length;
  }
  if (last < source.length) parts.push({ text: source.slice(last) });
  return {
    source,
    render(context, options = {}) {
      const fallback = options.fallback ?? '';
      return parts
        .map((part) => {
          if ('text' in part) return part.text;
          try {
            return stringifyValue(part.expression.evaluate(context, options.lookups), fallback);
          } catch (error) {
            return `(ERROR: ${(error as Error).message})`;
          }
        })
        .join('');
    },
  };
}
