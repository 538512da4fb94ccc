/** `/v1/events/process` (leek-agent-protocol §1–§4): the agent's liveness, readiness and ingest calls. */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';

export const leekEventsOptions = defineApi({
  name: 'leek_events_options',
  namespace: 'leek',
  path: '/v1/events/process',
  methods: ['OPTIONS'],
  service: 'ingest',
  privilege: 'none',
  summary: 'Agent liveness: always 200, no header checks',
  response: Type.String(),
});

export const leekEventsReady = defineApi({
  name: 'leek_events_ready',
  namespace: 'leek',
  path: '/v1/events/process',
  methods: ['GET'],
  service: 'ingest',
  privilege: 'none',
  summary: 'Agent readiness: 200 "Ready!" when the app exists and the x-leek-app-key header is its key',
  response: Type.String(),
});

export const LeekIngestError = Type.Object({
  index: Type.Integer({ description: 'Position of the refused element in the batch' }),
  id: Type.Optional(Type.String()),
  reason: Type.String(),
});

export const leekEventsProcess = defineApi({
  name: 'leek_events_process',
  namespace: 'leek',
  path: '/v1/events/process',
  methods: ['POST'],
  service: 'ingest',
  privilege: 'none',
  summary:
    'Ingest a JSON array of task/worker documents: valid ones are merged, invalid ones dead-lettered; 201 only once both are durably stored',
  params: Type.Unknown({ description: 'A JSON array of task and worker documents (leek-agent-protocol §7, §8)' }),
  response: Type.Object({
    success: Type.Integer({ description: 'Documents merged (including no-op merges of redelivered ones)' }),
    rejected: Type.Optional(Type.Integer({ description: 'Documents refused by validation and dead-lettered' })),
    errors: Type.Optional(Type.Array(LeekIngestError)),
  }),
});

export const LEEK_EVENTS_API = [leekEventsOptions, leekEventsReady, leekEventsProcess] as const;
