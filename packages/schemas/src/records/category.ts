/** Category definitions (spec/data-structures.md §12). */
import { type Static, Type } from '@sinclair/typebox';
import { Icon, Notes, OpenObject, SortOrder, Title } from './common.js';

export const CATEGORY_COLORS = [
  'plain',
  'red',
  'fire',
  'orange',
  'tangerine',
  'amber',
  'gold',
  'yellow',
  'lemon',
  'lime',
  'grass',
  'green',
  'mint',
  'emerald',
  'aqua',
  'teal',
  'turquoise',
  'cyan',
  'ice',
  'skyblue',
  'azure',
  'blue',
  'sapphire',
  'indigo',
  'lavender',
  'violet',
  'orchid',
  'purple',
  'magenta',
  'fuchsia',
  'hotpink',
  'pink',
  'blush',
  'rose',
] as const;

export const Category = Type.Object(
  {
    title: Title,
    enabled: Type.Optional(Type.Boolean({ description: "A disabled category blocks its events' jobs" })),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
    color: Type.Optional(Type.Union(CATEGORY_COLORS.map((c) => Type.Literal(c)))),
    actions: Type.Optional(Type.Array(OpenObject, { description: 'Appended to every job of the category' })),
    limits: Type.Optional(Type.Array(OpenObject, { description: "Appended after the event's limits" })),
    sort_order: Type.Optional(SortOrder),
  },
  { $id: 'Category', additionalProperties: false },
);
export type Category = Static<typeof Category>;
