/**
 * Request parameters of the REST API (api-sections §0): query string and body merged (body wins), values from text
 * sources (query, form bodies) converted to the schema's types, the parameter hygiene rules, then schema validation.
 */
import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifyRequest } from 'fastify';
import { Errors } from './errors.js';
import { quote } from './responses.js';

type Bag = Record<string, unknown>;

/** Keys that would reach an object's prototype, plus `0` (api-sections §0): refused anywhere in the input. */
export const ILLEGAL_KEYS: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype', '0']);
/** Deeper input is refused rather than walked. */
const MAX_DEPTH = 32;
const ICON = /^[\w-]*$/;
/** Fields whose HTML tags are stripped. */
const STRIPPED = ['notes', 'label', 'message'] as const;
/** Never a parameter: auth has read it already. */
const CREDENTIAL_KEYS = ['session_id', 'api_key', 'csrf_token'] as const;

const isBag = (value: unknown): value is Bag =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);

/** More values than this in one request are refused before any schema work (defaults, checks) walks them. */
export const MAX_VALUES = 200_000;

/**
 * Refuses prototype-named keys, nesting deeper than MAX_DEPTH and more than MAX_VALUES values; walks keys only
 * (never string contents) and builds a path only for the message of a refusal.
 */
function checkKeys(root: unknown): void {
  const path: string[] = [];
  let values = 0;
  const walk = (value: unknown, depth: number): void => {
    if (++values > MAX_VALUES) throw new Errors.api(`Parameters hold more than ${MAX_VALUES} values`);
    if (depth > MAX_DEPTH) throw new Errors.api(`Parameters nest deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(`[${i}]`);
        walk(value[i], depth + 1);
        path.pop();
      }
    } else if (isBag(value)) {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (ILLEGAL_KEYS.has(key)) throw new Errors.api(`Illegal key: ${quote(path.join('') + key)}`);
        path.push(`${key}.`);
        walk(value[key], depth + 1);
        path.pop();
      }
    }
  };
  walk(root, 0);
}

/**
 * `text` without its HTML tags (`<` up to the next `>`), in one pass: a `<` with no `>` after it ends the scan, so
 * no input costs more than its length (the regex `/<[^>]*>/g` rescanned the tail from every unclosed `<`).
 */
export function stripTags(text: string): string {
  let open = text.indexOf('<');
  if (open < 0) return text;
  let out = '';
  let from = 0;
  while (open >= 0) {
    const close = text.indexOf('>', open + 1);
    if (close < 0) break;
    out += text.slice(from, open);
    from = close + 1;
    open = text.indexOf('<', from);
  }
  return out + text.slice(from);
}

/**
 * The structural part of the hygiene (api-sections §0), checked before anything else reads the parameters:
 * prototype-named keys and nesting depth. It walks keys only, never string contents.
 */
export function checkStructure(params: Bag): Bag {
  checkKeys(params);
  if ('id' in params && params.id !== undefined && typeof params.id !== 'string') throw new Errors.api('Parameter id must be a string');
  return params;
}

/**
 * The value rules of api-sections §0, in place, on parameters whose schema (with its `maxLength`s) already passed:
 * a non-string `id`, `title` with `<`/`>`, a malformed `icon` → `api`; HTML tags removed from `notes`, `label`,
 * `message`. Every rule is linear in the field's length.
 */
export function applyHygiene(params: Bag): Bag {
  if (typeof params.title === 'string' && /[<>]/.test(params.title)) throw new Errors.api('Parameter title must not contain < or >');
  if (params.icon !== undefined && (typeof params.icon !== 'string' || !ICON.test(params.icon))) {
    throw new Errors.api('Parameter icon must be an icon name (letters, digits, _ and -)');
  }
  for (const key of STRIPPED) {
    const value = params[key];
    if (typeof value === 'string') params[key] = stripTags(value);
  }
  return params;
}

/** Whether the body came as text fields (form posts), so its values need converting like a query string. */
function isTextBody(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  return type.startsWith('application/x-www-form-urlencoded');
}

/** Query string and body merged, body winning; text sources converted to the schema's types. */
export function mergeParams(request: FastifyRequest, schema: TSchema | undefined): Bag {
  const convert = (bag: Bag): Bag => (schema ? (Value.Convert(schema, bag) as Bag) : bag);
  const query = isBag(request.query) ? convert({ ...request.query }) : {};
  const rawBody = isBag(request.body) ? { ...request.body } : {};
  const body = isTextBody(request) ? convert(rawBody) : rawBody;
  const merged: Bag = { ...query, ...body };
  for (const key of CREDENTIAL_KEYS) delete merged[key];
  return merged;
}

export type ParamsValidator = (params: Bag) => Bag;

function describePath(path: string): string {
  return path === '' ? 'parameters' : `parameter ${path.slice(1).replaceAll('/', '.')}`;
}

const defaultsInside = new WeakMap<object, boolean>();

/** Whether `schema` or anything under it declares a `default` (memoized: schemas are shared and immutable). */
function hasDefaults(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  let known = defaultsInside.get(schema);
  if (known === undefined) {
    defaultsInside.set(schema, false); // a cycle counts as no default until proven otherwise
    known = 'default' in schema || Object.values(schema).some((child) => hasDefaults(child));
    defaultsInside.set(schema, known);
  }
  return known;
}

/**
 * The schema's defaults filled in, in place, visiting only the parts of the schema that declare one. TypeBox's
 * `Value.Default` walks the whole value and clones it once per union variant: a 100k-key object in a union of
 * literals cost seconds. Unions (and anything unusual) that do declare defaults still go through `Value.Default`.
 */
function fillDefaults(schema: TSchema, given: unknown): unknown {
  if (!hasDefaults(schema)) return given;
  let value = given;
  if (value === undefined && 'default' in schema) {
    const fallback = schema.default as unknown;
    value = typeof fallback === 'object' && fallback !== null ? structuredClone(fallback) : fallback;
  }
  if (schema.type === 'object' && isBag(value)) {
    const properties = (schema.properties ?? {}) as Record<string, TSchema>;
    for (const [key, property] of Object.entries(properties)) {
      if (!hasDefaults(property)) continue;
      const filled = fillDefaults(property, Object.hasOwn(value, key) ? value[key] : undefined);
      if (filled !== undefined) value[key] = filled;
    }
    const extra = schema.additionalProperties;
    if (typeof extra === 'object' && hasDefaults(extra)) {
      for (const key of Object.keys(value)) if (!Object.hasOwn(properties, key)) value[key] = fillDefaults(extra as TSchema, value[key]);
    }
    return value;
  }
  if (schema.type === 'array' && Array.isArray(value)) {
    const items = schema.items as TSchema | undefined;
    if (items && !Array.isArray(items)) for (let i = 0; i < value.length; i++) value[i] = fillDefaults(items, value[i]);
    return value;
  }
  if (schema.type === 'object' || schema.type === 'array') return value;
  return Value.Default(schema, value);
}

/** Compiles a params schema once; the returned function applies defaults, validates and answers `api` errors. */
export function compileParams(schema: TSchema | undefined): ParamsValidator {
  if (!schema) return (params) => params;
  const check: TypeCheck<TSchema> = TypeCompiler.Compile(schema);
  return (params) => {
    const value = fillDefaults(schema, params) as Bag;
    if (check.Check(value)) return value;
    const first = check.Errors(value).First();
    throw new Errors.api(first ? `Invalid ${describePath(first.path)}: ${first.message}` : 'Invalid parameters');
  };
}
