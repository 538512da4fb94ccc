/**
 * `/v1/applications*` (leek-management-and-search §3, §4.1): task-monitor applications, their triggers, admins and
 * dead letters. Every call needs a session or an API key of the org; app-scoped calls name the app in the
 * `x-leek-app-name` header. Path parameters (`:trigger_id`, `:email`) are checked by the handlers.
 */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';
import { LeekApplication, LeekApplicationCreate, LeekCleanQuery, LeekDeadLetter, LeekTriggerBody } from './applications.js';

const Done = Type.String({ description: 'Always "Done"' });
const NoParams = Type.Object({}, { additionalProperties: Type.Never() });

export const leekApplicationCreate = defineApi({
  name: 'leek_application_create',
  namespace: 'leek',
  path: '/v1/applications',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Create an application in the caller’s org (201 with the app, including its generated agent key)',
  params: LeekApplicationCreate,
  response: LeekApplication,
});

export const leekApplicationList = defineApi({
  name: 'leek_application_list',
  namespace: 'leek',
  path: '/v1/applications',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: 'Every application of the caller’s org',
  params: NoParams,
  response: Type.Array(LeekApplication),
});

export const leekApplicationDelete = defineApi({
  name: 'leek_application_delete',
  namespace: 'leek',
  path: '/v1/applications',
  methods: ['DELETE'],
  service: 'management',
  privilege: 'any',
  summary: 'Owner: delete the application with all its documents, dead letters and summary',
  params: NoParams,
  response: Done,
});

export const leekApplicationPurge = defineApi({
  name: 'leek_application_purge',
  namespace: 'leek',
  path: '/v1/applications/purge',
  methods: ['DELETE'],
  service: 'management',
  privilege: 'any',
  summary: 'Admin: delete every task and worker document; the app, its triggers and its summary stay',
  params: NoParams,
  response: Done,
});

export const leekApplicationClean = defineApi({
  name: 'leek_application_clean',
  namespace: 'leek',
  path: '/v1/applications/clean',
  methods: ['DELETE'],
  service: 'management',
  privilege: 'any',
  summary: 'Admin: delete documents of one kind whose timestamp is older than count × unit',
  params: LeekCleanQuery,
  response: Type.Object({
    task: Type.String({ description: 'Id of the clean-up (it runs to completion before the answer)' }),
    deleted: Type.Integer({ description: 'Documents deleted' }),
  }),
});

export const leekApplicationCleanupTasks = defineApi({
  name: 'leek_application_cleanup_tasks',
  namespace: 'leek',
  path: '/v1/applications/tasks/cleanup',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: 'Running clean-ups of the app: always empty, clean-ups finish before they answer',
  params: NoParams,
  response: Type.Array(Type.Unknown()),
});

const PartitionStats = Type.Object({
  name: Type.String({ description: 'Which data: events, dead_letters or summary' }),
  primaries: Type.Object({
    docs: Type.Object({ count: Type.Integer() }),
    store: Type.Object({ size_in_bytes: Type.Integer() }),
    indexing: Type.Object({
      index_total: Type.Integer({ description: 'Documents held (writes are not counted separately)' }),
      index_time_in_millis: Type.Integer({ description: 'Not measured: 0' }),
    }),
  }),
});

export const leekApplicationIndices = defineApi({
  name: 'leek_application_indices',
  namespace: 'leek',
  path: '/v1/applications/indices',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: 'Storage statistics of the app, one entry per partition',
  params: NoParams,
  response: Type.Array(PartitionStats),
});

export const leekTriggerCreate = defineApi({
  name: 'leek_trigger_create',
  namespace: 'leek',
  path: '/v1/applications/fo-triggers',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Owner: add a fan-out trigger (answers the app)',
  params: LeekTriggerBody,
  response: LeekApplication,
});

export const leekTriggerEdit = defineApi({
  name: 'leek_trigger_edit',
  namespace: 'leek',
  path: '/v1/applications/fo-triggers/:trigger_id',
  methods: ['PUT'],
  service: 'management',
  privilege: 'any',
  summary: 'Owner: replace a trigger by id; an unknown id is added (answers the app)',
  params: LeekTriggerBody,
  response: LeekApplication,
});

export const leekTriggerDelete = defineApi({
  name: 'leek_trigger_delete',
  namespace: 'leek',
  path: '/v1/applications/fo-triggers/:trigger_id',
  methods: ['DELETE'],
  service: 'management',
  privilege: 'any',
  summary: 'Owner: remove a trigger; an unknown id changes nothing (answers the app)',
  params: NoParams,
  response: LeekApplication,
});

export const leekAdminAdd = defineApi({
  name: 'leek_admin_add',
  namespace: 'leek',
  path: '/v1/applications/admins/:email',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Owner: make an e-mail an admin of the app (answers the app)',
  response: LeekApplication,
});

export const leekAdminRemove = defineApi({
  name: 'leek_admin_remove',
  namespace: 'leek',
  path: '/v1/applications/admins/:email',
  methods: ['DELETE'],
  service: 'management',
  privilege: 'any',
  summary: 'Owner: remove an admin; an absent e-mail changes nothing (answers the app)',
  params: NoParams,
  response: LeekApplication,
});

export const leekDeadLettersList = defineApi({
  name: 'leek_dead_letters_list',
  namespace: 'leek',
  path: '/v1/applications/dead-letters',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: 'Admin: ingest documents refused by validation, newest first',
  params: Type.Object(
    {
      size: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 100 })),
      from_: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
    },
    { additionalProperties: Type.Never() },
  ),
  response: Type.Object({ total: Type.Integer(), dead_letters: Type.Array(LeekDeadLetter) }),
});

export const leekDeadLettersPurge = defineApi({
  name: 'leek_dead_letters_purge',
  namespace: 'leek',
  path: '/v1/applications/dead-letters',
  methods: ['DELETE'],
  service: 'management',
  privilege: 'any',
  summary: 'Admin: delete every dead letter of the app',
  params: NoParams,
  response: Type.Object({ deleted: Type.Integer() }),
});

export const LEEK_APPLICATION_API = [
  leekApplicationCreate,
  leekApplicationList,
  leekApplicationDelete,
  leekApplicationPurge,
  leekApplicationClean,
  leekApplicationCleanupTasks,
  leekApplicationIndices,
  leekTriggerCreate,
  leekTriggerEdit,
  leekTriggerDelete,
  leekAdminAdd,
  leekAdminRemove,
  leekDeadLettersList,
  leekDeadLettersPurge,
] as const;
