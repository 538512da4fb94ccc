/** Query values converted to a field's stored form (shared by validation and the sqlite compiler). */
import { toEpochMs } from '../dates.js';
import { invalid, shown } from '../errors.js';
import type { FieldType } from '../types.js';
import type { TermValue } from './ast.js';

/** A query value converted to the field's stored form; 'invalid' when it cannot be. */
export function queryValue(field: string, type: FieldType, value: TermValue): string | number {
  switch (type) {
    case 'keyword':
    case 'text':
    case 'flattened':
      return String(value);
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(n)) throw invalid(`field "${field}" is a number field: ${shown(value)} is not a number`);
      return n;
    }
    case 'date': {
      const ms = typeof value === 'boolean' ? undefined : toEpochMs(value);
      if (ms === undefined)
        throw invalid(`field "${field}" is a date field: ${shown(value)} is not a date (use ISO-8601 or epoch milliseconds)`);
      return ms;
    }
    case 'boolean':
      if (value === true || value === 'true') return 1;
      if (value === false || value === 'false') return 0;
      throw invalid(`field "${field}" is a boolean field: ${shown(value)} is not true or false`);
  }
}
