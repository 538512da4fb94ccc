/** Field schemas shared by definition records (spec/data-structures.md §0). */
import { Type } from '@sinclair/typebox';

/** `title`: non-blank; `<` and `>` are refused by the parameter hygiene of every call. */
export const Title = Type.String({ minLength: 1, maxLength: 256, pattern: '\\S' });
/** A Material Design Icon name, or empty for none. */
export const Icon = Type.String({ pattern: '^[\\w-]*$', maxLength: 100 });
/** Free text; HTML tags are stripped by the parameter hygiene. */
export const Notes = Type.String({ maxLength: 65536 });
export const SortOrder = Type.Integer({ minimum: 0 });
/** A list of definition ids (categories, groups, roles). */
export const IdList = Type.Array(Type.String({ pattern: '^[a-z0-9_]+$', maxLength: 100 }), { maxItems: 10000 });
/**
 * Entries of `actions` / `limits` (data-structures §3, §4). Kept open here; the sections that run them validate
 * their shapes in their `validate` hooks.
 */
export const OpenObject = Type.Object({}, { additionalProperties: true });
