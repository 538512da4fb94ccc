/** Alert definitions (seed 001 §Alerts): CRUD plus test_alert. */
import { Type } from '@sinclair/typebox';
import { crudApi } from '../crud.js';
import { defineApi } from '../descriptor.js';
import { Ok } from '../responses.js';
import { Alert } from '../records/alert.js';

export const alertsApi = crudApi({
  singular: 'alert',
  plural: 'alerts',
  idPrefix: 'a',
  record: Alert,
  privileges: { create: 'create_alerts', edit: 'edit_alerts', delete: 'delete_alerts' },
});

export const testAlert = defineApi({
  name: 'test_alert',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_alerts',
  summary: "Compile an alert expression and message and evaluate them against a server's latest sample",
  params: Type.Object({
    server: Type.String({ pattern: '^[\\w.-]+$', minLength: 1, maxLength: 100 }),
    expression: Alert.properties.expression,
    message: Type.String({ maxLength: 8192 }),
  }),
  response: Ok({ result: Type.Boolean(), message: Type.String() }),
});

export const ALERTS_API = [...alertsApi.all, testAlert];
