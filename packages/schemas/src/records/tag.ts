/** Tag definitions (spec/data-structures.md §21). */
import { type Static, Type } from '@sinclair/typebox';
import { Icon, Notes, Title } from './common.js';

/** Ids beginning with `_` are the system tags (`_success`, `_error`, …); creating one is refused. */
export const SYSTEM_TAG_PREFIX = '_';

export const Tag = Type.Object(
  {
    title: Title,
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
  },
  { $id: 'Tag', additionalProperties: false },
);
export type Tag = Static<typeof Tag>;
