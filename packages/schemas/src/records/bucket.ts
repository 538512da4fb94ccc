/** Storage bucket definitions (spec/data-structures.md §14) and bucket files (§24). */
import { type Static, Type } from '@sinclair/typebox';
import { Icon, Notes, Title } from './common.js';

/** Free-form bucket data; stored apart from the bucket record. */
export const BucketData = Type.Record(Type.String(), Type.Unknown(), { description: 'User-defined JSON data' });

export const Bucket = Type.Object(
  {
    title: Title,
    enabled: Type.Optional(Type.Boolean()),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
    data: Type.Optional(BucketData),
  },
  { $id: 'Bucket', additionalProperties: false },
);
export type Bucket = Static<typeof Bucket>;

/** A stored file (data-structures §24). */
export const StoredFile = Type.Object(
  {
    id: Type.String(),
    filename: Type.String({ description: 'Normalised name: lowercase, [\\w-.] only' }),
    path: Type.String({ description: 'Storage key, also the URL path under the base URL; starts with files/' }),
    size: Type.Integer({ minimum: 0 }),
    date: Type.Integer(),
    username: Type.String(),
    bucket: Type.Optional(Type.String()),
  },
  { $id: 'StoredFile', additionalProperties: true },
);
export type StoredFile = Static<typeof StoredFile>;
