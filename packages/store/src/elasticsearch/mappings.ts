/** Elasticsearch index names and mappings derived from IndexSpecs and collection names. */
import type { estypes } from '@elastic/elasticsearch';
import { TEXT_KEYWORD_SUBFIELD } from '../query/es.js';
import type { ResolvedSpec } from '../spec.js';
import type { FieldType } from '../types.js';
import type { ClusterClient } from './client.js';

/** Text fields keep a keyword sub-field for sort and terms; values longer than this are not in it. */
const TEXT_KEYWORD_IGNORE_ABOVE = 1024;
/** Keyword values longer than this are stored but not indexed (Lucene's term limit is 32766 bytes). */
const KEYWORD_IGNORE_ABOVE = 8191;

export const DATE_FORMAT = 'strict_date_optional_time||epoch_millis';

function fieldMapping(type: FieldType, client: Pick<ClusterClient, 'flattenedMapping'>): estypes.MappingProperty {
  switch (type) {
    case 'keyword':
      return { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE };
    case 'text':
      return { type: 'text', fields: { [TEXT_KEYWORD_SUBFIELD]: { type: 'keyword', ignore_above: TEXT_KEYWORD_IGNORE_ABOVE } } };
    case 'number':
      return { type: 'double' };
    case 'date':
      return { type: 'date', format: DATE_FORMAT };
    case 'boolean':
      return { type: 'boolean' };
    case 'flattened':
      return client.flattenedMapping(KEYWORD_IGNORE_ABOVE);
  }
}

/** Declared fields only (`dynamic: false`): other fields are kept in `_source` but not searchable, as on sqlite. */
export function indexMappings(resolved: ResolvedSpec, client: Pick<ClusterClient, 'flattenedMapping'>): estypes.MappingTypeMapping {
  const properties: Record<string, estypes.MappingProperty> = {};
  for (const [field, type] of resolved.fields) {
    const segments = field.split('.');
    let level = properties;
    for (const segment of segments.slice(0, -1)) {
      const existing = level[segment] as estypes.MappingObjectProperty | undefined;
      const object: estypes.MappingObjectProperty = existing ?? { type: 'object', properties: {} };
      object.properties ??= {};
      level[segment] = object;
      level = object.properties;
    }
    level[segments[segments.length - 1] ?? field] = fieldMapping(type, client);
  }
  return { dynamic: false, properties };
}

/** Collections are schemaless: strings become keywords so `where` filters match exactly. */
export const COLLECTION_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic_templates: [
    // Below the top level (lists of parameters, settings objects) one field may hold strings in one element and numbers
    // in another, which sqlite stores as given: keep every nested scalar a keyword so no record is refused for it.
    ...(['string', 'long', 'double', 'boolean'] as const).map((type) => ({
      [`nested_${type}s_as_keywords`]: {
        path_match: '*.*',
        match_mapping_type: type,
        mapping: { type: 'keyword' as const, ignore_above: KEYWORD_IGNORE_ABOVE },
      },
    })),
    { strings_as_keywords: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE } } },
  ],
  properties: {
    id: { type: 'keyword' },
    revision: { type: 'long' },
    created: { type: 'long' },
    modified: { type: 'long' },
  },
};
