/** Events (seed §Events, api-sections §11): CRUD (update answers the full record), history. Running them is in jobs.ts. */
import { Type } from '@sinclair/typebox';
import { DefinitionId, crudApi } from '../crud.js';
import { type ApiDescriptor, defineApi } from '../descriptor.js';
import { OpenObject } from '../records/common.js';
import { Event } from '../records/event.js';
import { Ok, OkEmpty } from '../responses.js';

export const eventsApi = crudApi({
  singular: 'event',
  plural: 'events',
  idPrefix: 'e',
  record: Event,
  privileges: { create: 'create_events', edit: 'edit_events', delete: 'delete_events' },
  updateReturnsRecord: true,
});

/** get_event also answers the event's active jobs and how many of them are queued. */
export const getEvent: ApiDescriptor = {
  ...eventsApi.get,
  summary: 'Fetch one event by id, with its active jobs, the count of its queued jobs and its next scheduled runs',
  response: Ok({
    event: eventsApi.row,
    jobs: Type.Array(OpenObject),
    queued: Type.Integer({ minimum: 0 }),
    next_runs: Type.Array(Type.Integer({ minimum: 0 }), {
      maxItems: 5,
      description: 'The next run times (epoch seconds) of its schedule/interval/single triggers; empty when disabled',
    }),
  }),
};

/** delete_event refuses while jobs of the event are active; `delete_jobs` also removes its finished jobs. */
export const deleteEvent: ApiDescriptor = {
  ...eventsApi.delete,
  summary: 'Delete an event (refused while it has active jobs); delete_jobs also removes its job history',
  params: Type.Object({ id: DefinitionId, delete_jobs: Type.Optional(Type.Boolean()) }),
  response: OkEmpty,
};

export const getEventHistory = defineApi({
  name: 'get_event_history',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: "The event's revision history from the activity log (event_create, event_update, event_delete), newest first",
  params: Type.Object({
    id: DefinitionId,
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })),
    sort_by: Type.Optional(Type.Union([Type.Literal('_id'), Type.Literal('epoch')])),
    sort_dir: Type.Optional(Type.Union([Type.Literal(-1), Type.Literal(1)])),
  }),
  response: Ok({ rows: Type.Array(OpenObject), list: Type.Object({ length: Type.Integer({ minimum: 0 }) }) }),
});

export const EVENTS_API: readonly ApiDescriptor[] = [
  eventsApi.list,
  getEvent,
  eventsApi.create,
  eventsApi.update,
  deleteEvent,
  getEventHistory,
];
