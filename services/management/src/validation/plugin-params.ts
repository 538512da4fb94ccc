/**
 * Plugin parameter definitions (spec/data-structures.md §5 Plugin.params) and the locked-param rule for callers who
 * are not administrators (behaviour §4).
 */
import { compileRegex } from '@shallot/core';
import type { PluginParam } from '@shallot/schemas';
import { isPrototypeName } from './names.js';

/** `_xy_override_<name>` ids are reserved: they let a job override the event itself. */
export const RESERVED_OVERRIDES = [
  'plugin',
  'params',
  'id',
  'event',
  'enabled',
  'category',
  'fields',
  'actions',
  'limits',
  'triggers',
  'workflow',
  'command',
  'script',
  'uid',
  'gid',
  'cwd',
  'env',
  'kill',
  'runner',
] as const;
const RESERVED_IDS = new Set(RESERVED_OVERRIDES.map((name) => `_xy_override_${name}`));
const PARAM_ID = /^[A-Za-z_][\w\-.]*$/;
const TOOL_FIELD_TYPES = new Set(['checkbox', 'code', 'json', 'hidden', 'select', 'text', 'textarea']);

/** A rule of the params list is broken; the message names the param. */
export class ParamError extends Error {
  override readonly name = 'ParamError';
}

function checkId(id: unknown, what: string): string {
  if (typeof id !== 'string' || !PARAM_ID.test(id)) {
    throw new ParamError(`${what} id ${JSON.stringify(id)} must start with a letter or _ and contain only letters, digits, _ - .`);
  }
  if (isPrototypeName(id)) throw new ParamError(`${what} id "${id}" is a reserved word`);
  if (RESERVED_IDS.has(id)) throw new ParamError(`${what} id "${id}" is reserved`);
  return id;
}

function checkText(value: unknown, field: string, id: string): void {
  if (value !== undefined && /[<>]/.test(String(value))) throw new ParamError(`Param "${id}": ${field} must not contain < or >`);
}

function fitsType(type: string, value: unknown): boolean {
  switch (type) {
    case 'checkbox':
      return typeof value === 'boolean';
    case 'json':
      return typeof value === 'object';
    default:
      return typeof value === 'string' || typeof value === 'number';
  }
}

function checkToolset(param: PluginParam, paramIds: ReadonlySet<string>): void {
  const tools = (param.data as { tools?: unknown } | undefined)?.tools;
  if (!Array.isArray(tools)) throw new ParamError(`Param "${param.id}": a toolset needs data.tools (an array)`);
  const toolIds = new Set<string>();
  const fieldIds = new Set<string>();
  for (const tool of tools as Array<Record<string, unknown>>) {
    const toolId = checkId(tool?.id, 'Tool');
    if (toolIds.has(toolId)) throw new ParamError(`Tool id "${toolId}" is used twice`);
    toolIds.add(toolId);
    if (typeof tool.title !== 'string' || !tool.title.trim()) throw new ParamError(`Tool "${toolId}" needs a title`);
    if (!Array.isArray(tool.fields)) throw new ParamError(`Tool "${toolId}": fields must be an array`);
    for (const field of tool.fields as Array<Record<string, unknown>>) {
      const fieldId = checkId(field?.id, 'Tool field');
      if (fieldIds.has(fieldId) || paramIds.has(fieldId)) throw new ParamError(`Tool field id "${fieldId}" is already used`);
      fieldIds.add(fieldId);
      const type = String(field.type);
      if (!TOOL_FIELD_TYPES.has(type)) throw new ParamError(`Tool field "${fieldId}": unknown type ${JSON.stringify(field.type)}`);
      if (!('value' in field) || !fitsType(type, field.value)) throw new ParamError(`Tool field "${fieldId}": value must fit type ${type}`);
      if (field.regex !== undefined) compileParamRegex(String(field.regex), fieldId);
    }
  }
}

function compileParamRegex(pattern: string, id: string): void {
  try {
    compileRegex(pattern);
  } catch (error) {
    throw new ParamError(`Param "${id}": ${(error as Error).message}`);
  }
}

/** Checks a params list: ids (syntax, reserved, unique), titles, captions, regexes, toolsets. */
export function validateParams(params: readonly PluginParam[]): void {
  const ids = new Set<string>();
  for (const param of params) {
    const id = checkId(param.id, 'Param');
    if (ids.has(id)) throw new ParamError(`Param id "${id}" is used twice`);
    ids.add(id);
  }
  for (const param of params) {
    if (param.type !== 'group' && param.type !== 'hidden' && !String(param.title ?? '').trim()) {
      throw new ParamError(`Param "${param.id}" needs a title`);
    }
    checkText(param.title, 'title', param.id);
    checkText(param.caption, 'caption', param.id);
    if (param.regex !== undefined && param.regex !== '') {
      compileParamRegex(param.regex, param.id);
      const value = param.value;
      if (typeof value === 'string' && value !== '' && !new RegExp(param.regex).test(value)) {
        throw new ParamError(`Param "${param.id}": the default value does not match its regex`);
      }
    }
    if (param.variant !== undefined && param.type !== 'text') throw new ParamError(`Param "${param.id}": only text params have a variant`);
    if (param.type === 'system' && !param.list_id) throw new ParamError(`Param "${param.id}": a system menu needs list_id`);
    if (param.type === 'toolset') checkToolset(param, ids);
  }
}

/**
 * Non-admins may not set or change locked params (data-structures §5 `locked`): every param that is locked in the
 * stored list is put back exactly as stored (and re-added if it was removed), and a new or changed param that is
 * locked is refused. Returns the params to store.
 */
export function enforceLockedParams(incoming: readonly PluginParam[], stored: readonly PluginParam[]): PluginParam[] {
  const storedById = new Map(stored.map((p) => [p.id, p]));
  const lockedStored = stored.filter((p) => p.locked);
  const out: PluginParam[] = [];
  for (const param of incoming) {
    const previous = storedById.get(param.id);
    if (previous?.locked) {
      out.push(previous);
      continue;
    }
    if (param.locked) throw new ParamError(`Only administrators may lock param "${param.id}"`);
    out.push(param);
  }
  for (const param of lockedStored) if (!out.some((p) => p.id === param.id)) out.push(param);
  return out;
}
