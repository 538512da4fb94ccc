/** Monitor definitions (spec/data-structures.md §9). */
import { type Static, Type } from '@sinclair/typebox';
import { IdList, Icon, Notes, SortOrder, Title } from './common.js';

export const MONITOR_DATA_TYPES = ['integer', 'float', 'bytes', 'seconds', 'milliseconds'] as const;
export const MonitorDataType = Type.Union(MONITOR_DATA_TYPES.map((t) => Type.Literal(t)));

export const Monitor = Type.Object(
  {
    title: Title,
    source: Type.String({ minLength: 1, maxLength: 4096, description: 'Expression over ServerMonitorData; must compile' }),
    data_type: MonitorDataType,
    data_match: Type.Optional(Type.String({ maxLength: 1024, description: 'Regex; group 1 (or the whole match) is used' })),
    display: Type.Optional(Type.Boolean()),
    groups: Type.Optional(IdList),
    suffix: Type.Optional(Type.String({ maxLength: 64 })),
    min_vert_scale: Type.Optional(Type.Number()),
    delta: Type.Optional(Type.Boolean()),
    divide_by_delta: Type.Optional(Type.Boolean()),
    delta_min_value: Type.Optional(Type.Union([Type.Number(), Type.Literal(false)])),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
    sort_order: Type.Optional(SortOrder),
  },
  { $id: 'Monitor', additionalProperties: false },
);
export type Monitor = Static<typeof Monitor>;
