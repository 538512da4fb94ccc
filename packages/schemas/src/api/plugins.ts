/** Plugins (api-sections §1): CRUD (update answers the full record), plus the monitor and scheduler plugin tests. */
import { Type } from '@sinclair/typebox';
import { DefinitionId, crudApi } from '../crud.js';
import { defineApi } from '../descriptor.js';
import { OpenObject } from '../records/common.js';
import { Plugin } from '../records/plugin.js';
import { Ok } from '../responses.js';

export const pluginsApi = crudApi({
  singular: 'plugin',
  plural: 'plugins',
  idPrefix: 'p',
  record: Plugin,
  privileges: { create: 'create_plugins', edit: 'edit_plugins', delete: 'delete_plugins' },
  updateReturnsRecord: true,
});

/** Server ids as agents report them (hostname-like). */
const ServerId = Type.String({ pattern: '^[\\w.-]+$', minLength: 1, maxLength: 100 });

export const testMonitorPlugin = defineApi({
  name: 'test_monitor_plugin',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_plugins',
  summary: 'Run a monitor plugin once on an online server and answer its raw output',
  params: Type.Object({ id: DefinitionId, server: ServerId }),
  response: Ok({
    result: Type.Unknown({ description: 'Raw plugin output: text, or an object for JSON/XML formats' }),
    stderr: Type.Optional(Type.String()),
  }),
});

export const testSchedulerPlugin = defineApi({
  name: 'test_scheduler_plugin',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_plugins',
  summary: 'Run a scheduler plugin once with a simulated item and answer its reply',
  params: Type.Object({
    id: DefinitionId,
    params: Type.Optional(OpenObject),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone; defaults to the configured tz' })),
    epoch: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix epoch seconds; defaults to now, floored to the minute' })),
  }),
  response: Ok({
    data: Type.Optional(Type.Unknown({ description: "The plugin's parsed JSON reply" })),
    stdout: Type.Optional(Type.String()),
    stderr: Type.Optional(Type.String()),
    child_cmd: Type.Optional(Type.String()),
    err: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String()),
  }),
});

export const PLUGINS_API = [...pluginsApi.all, testMonitorPlugin, testSchedulerPlugin];
