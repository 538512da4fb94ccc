/** Plugin definitions (spec/data-structures.md §5). */
import { type Static, Type } from '@sinclair/typebox';
import { IdList, Icon, Notes, OpenObject, Title } from './common.js';

export const PLUGIN_TYPES = ['event', 'monitor', 'action', 'scheduler'] as const;
export const PLUGIN_FORMATS = ['text', 'json', 'xml'] as const;
export const PLUGIN_KILL_MODES = ['none', 'parent', 'all'] as const;

/** The control types of a plugin param (and of an event's `fields`). */
export const PARAM_TYPES = [
  'text',
  'textarea',
  'code',
  'json',
  'checkbox',
  'select',
  'bucket',
  'system',
  'hidden',
  'toolset',
  'group',
] as const;
export const PARAM_TEXT_VARIANTS = [
  'color',
  'date',
  'datetime-local',
  'email',
  'number',
  'password',
  'text',
  'time',
  'tel',
  'url',
] as const;
export const PARAM_SYSTEM_LISTS = [
  'alerts',
  'algos',
  'buckets',
  'categories',
  'channels',
  'events',
  'groups',
  'monitors',
  'plugins',
  'roles',
  'servers',
  'tags',
  'targets',
  'users',
  'web_hooks',
] as const;

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

/**
 * One parameter definition. The shape is checked here; the cross-field rules (id syntax and uniqueness, reserved
 * ids, regex compiling, toolset data) are checked by the plugins section on save.
 */
export const PluginParam = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100 }),
    title: Type.String({ maxLength: 256 }),
    type: literals(PARAM_TYPES),
    variant: Type.Optional(literals(PARAM_TEXT_VARIANTS)),
    value: Type.Optional(Type.Unknown({ description: 'Default value' })),
    caption: Type.Optional(Type.String({ maxLength: 4096 })),
    required: Type.Optional(Type.Boolean()),
    regex: Type.Optional(Type.String({ maxLength: 1024 })),
    locked: Type.Optional(Type.Boolean({ description: 'Only administrators may set or override it' })),
    multiple: Type.Optional(Type.Boolean()),
    range: Type.Optional(Type.String({ maxLength: 100 })),
    list_id: Type.Optional(literals(PARAM_SYSTEM_LISTS)),
    bucket_id: Type.Optional(Type.String({ maxLength: 100 })),
    bucket_path: Type.Optional(Type.String({ maxLength: 1024 })),
    data: Type.Optional(OpenObject),
  },
  { $id: 'PluginParam', additionalProperties: true },
);
export type PluginParam = Static<typeof PluginParam>;

export const Plugin = Type.Object(
  {
    title: Title,
    type: literals(PLUGIN_TYPES),
    command: Type.String({ minLength: 1, maxLength: 8192, pattern: '\\S' }),
    enabled: Type.Optional(Type.Boolean()),
    script: Type.Optional(Type.String({ maxLength: 1048576 })),
    params: Type.Optional(Type.Array(PluginParam, { maxItems: 1000 })),
    groups: Type.Optional(IdList),
    format: Type.Optional(literals(PLUGIN_FORMATS)),
    quick: Type.Optional(Type.Boolean()),
    uid: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Integer({ minimum: 0 })])),
    gid: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Integer({ minimum: 0 })])),
    kill: Type.Optional(literals(PLUGIN_KILL_MODES)),
    runner: Type.Optional(Type.Boolean()),
    cwd: Type.Optional(Type.String({ maxLength: 4096 })),
    timeout: Type.Optional(Type.Number({ minimum: 0 })),
    stock: Type.Optional(Type.Boolean()),
    marketplace: Type.Optional(Type.Object({ id: Type.String(), version: Type.String() }, { additionalProperties: true })),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
  },
  { $id: 'Plugin', additionalProperties: false },
);
export type Plugin = Static<typeof Plugin>;
