/**
 * Param values of an event or a run (data-structures §1, api-sections §11 run_event): the required / regex / range
 * rules of the plugin's params and the event's `fields`, the locked-param rule for non-admins and the reserved
 * `_xy_override_*` keys.
 */
import type { PluginParam } from '@shallot/schemas';
import { ParamError, RESERVED_OVERRIDES } from './plugin-params.js';

const RESERVED = new Set<string>(RESERVED_OVERRIDES);

const isEmpty = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === 'string' && !value.trim()) || (Array.isArray(value) && value.length === 0);

/** `"MIN - MAX / STEP"` (step may be `any`). */
function checkRange(param: PluginParam, value: unknown): void {
  if (!param.range || value === '' || value === null || value === undefined) return;
  const match = /^\s*(-?[\d.]+)\s*-\s*(-?[\d.]+)\s*(?:\/\s*([\d.]+|any))?\s*$/.exec(param.range);
  if (!match) return;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new ParamError(`Param "${param.id}" must be a number`);
  const [min, max] = [Number(match[1]), Number(match[2])];
  if (number < min || number > max) throw new ParamError(`Param "${param.id}" must be between ${min} and ${max}`);
}

/** Refuses `_xy_override_<reserved>` keys (they would rewrite the event itself). */
export function checkOverrides(params: Record<string, unknown>): void {
  for (const key of Object.keys(params)) {
    if (key.startsWith('_xy_override_') && RESERVED.has(key.slice('_xy_override_'.length))) {
      throw new ParamError(`Param "${key}" is reserved and cannot be set`);
    }
  }
}

/** Applies required / regex / range of each definition to the value in `params` (or its default). */
export function checkParamValues(definitions: readonly PluginParam[], params: Record<string, unknown>): void {
  for (const param of definitions) {
    if (param.type === 'group') continue;
    const value = param.id in params ? params[param.id] : param.value;
    if (param.required && isEmpty(value)) throw new ParamError(`Param "${param.title || param.id}" is required`);
    if (param.regex && typeof value === 'string' && value !== '' && !new RegExp(param.regex).test(value)) {
      throw new ParamError(`Param "${param.title || param.id}" does not match its pattern`);
    }
    if (param.variant === 'number') checkRange(param, value);
  }
}

/**
 * Non-admins never set locked plugin params: each is forced to `fallback[id]` (the saved value on update and run) or
 * else the plugin default (on create).
 */
export function resetLockedParams(
  definitions: readonly PluginParam[],
  params: Record<string, unknown>,
  fallback: Record<string, unknown> = {},
): Record<string, unknown> {
  const out = { ...params };
  for (const param of definitions) {
    if (!param.locked) continue;
    if (param.id in fallback) out[param.id] = fallback[param.id];
    else if (param.value !== undefined) out[param.id] = param.value;
    else delete out[param.id];
  }
  return out;
}

/** Fills missing params from the definitions' defaults (plugin params, then `fields`). */
export function withDefaults(definitions: readonly PluginParam[], params: Record<string, unknown>): Record<string, unknown> {
  const out = { ...params };
  for (const param of definitions)
    if (!(param.id in out) && param.value !== undefined && param.type !== 'group') out[param.id] = param.value;
  return out;
}
