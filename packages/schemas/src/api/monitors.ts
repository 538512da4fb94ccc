/** Monitors (seed 001 §Monitors): ordered definitions with validated expressions, plus test_monitor. */
import { Type } from '@sinclair/typebox';
import { crudApi } from '../crud.js';
import { type ApiDescriptor, defineApi } from '../descriptor.js';
import { Ok } from '../responses.js';
import { Monitor, MonitorDataType } from '../records/monitor.js';

export const monitorsApi = crudApi({
  singular: 'monitor',
  plural: 'monitors',
  idPrefix: 'm',
  record: Monitor,
  privileges: { create: 'create_monitors', edit: 'edit_monitors', delete: 'delete_monitors' },
  multiUpdate: true,
});

export const testMonitor = defineApi({
  name: 'test_monitor',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_monitors',
  summary: "Evaluate a monitor source (and data_match) against a server's latest sample: value, or fail:true",
  params: Type.Object({
    server: Type.String({ pattern: '^[\\w.-]+$', minLength: 1, maxLength: 100 }),
    source: Monitor.properties.source,
    data_type: MonitorDataType,
    data_match: Type.Optional(Type.String({ maxLength: 1024 })),
  }),
  response: Ok({ value: Type.Optional(Type.Number()), fail: Type.Optional(Type.Boolean()) }),
});

/** `multi_update_monitors`: the plural spelling some clients use, same behaviour as multi_update_monitor. */
export const multiUpdateMonitors = {
  ...(monitorsApi.multiUpdate as ApiDescriptor),
  name: 'multi_update_monitors',
  summary: 'Alias of multi_update_monitor',
};

export const MONITORS_API: ApiDescriptor[] = [...monitorsApi.all, multiUpdateMonitors, testMonitor];
