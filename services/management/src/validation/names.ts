/** Names that must never become object keys: JS prototype members and `0` (api-sections §0 "illegal key"). */
export const PROTOTYPE_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype', '0']);

export function isPrototypeName(name: string): boolean {
  return PROTOTYPE_NAMES.has(name);
}
