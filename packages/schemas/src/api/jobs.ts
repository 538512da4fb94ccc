/** Jobs (seed §Jobs, api-sections §11): running events, reading and controlling jobs, their logs. */
import { Type } from '@sinclair/typebox';
import { DefinitionId } from '../crud.js';
import { type ApiDescriptor, defineApi } from '../descriptor.js';
import { OpenObject } from '../records/common.js';
import { Ok, OkEmpty } from '../responses.js';

/** Job ids (`j…`), and ids clients may have been given. */
export const JobId = Type.String({ pattern: '^\\w+$', minLength: 1, maxLength: 100 });
const Job = Type.Object({ id: Type.String() }, { additionalProperties: true });

/** run_event: the event by id or title, plus overrides (api-sections §11). Open: any event property may be sent. */
const RunEventParams = Type.Object(
  {
    id: Type.Optional(DefinitionId),
    title: Type.Optional(Type.String({ maxLength: 256 })),
    params: Type.Optional(OpenObject),
    input: Type.Optional(
      Type.Object({ data: Type.Optional(Type.Unknown()), files: Type.Optional(Type.Array(OpenObject)) }, { additionalProperties: true }),
    ),
    test: Type.Optional(Type.Boolean()),
    test_actions: Type.Optional(Type.Boolean()),
    test_limits: Type.Optional(Type.Boolean()),
    priority: Type.Optional(Type.Boolean()),
    label: Type.Optional(Type.String({ maxLength: 256 })),
    targets: Type.Optional(Type.Array(Type.String({ pattern: '^[\\w.-]+$', maxLength: 100 }), { minItems: 1, maxItems: 1000 })),
    algo: Type.Optional(Type.String({ pattern: '^[\\w:]+$', maxLength: 120 })),
    tags: Type.Optional(Type.Array(Type.String({ pattern: '^\\w+$', maxLength: 100 }), { maxItems: 1000 })),
  },
  { additionalProperties: true },
);

export const runEvent = defineApi({
  name: 'run_event',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'run_jobs',
  summary: 'Run an event now (JSON) with params and other overrides; answers the new job id',
  params: RunEventParams,
  response: Ok({ id: JobId }),
});

export const runEventWait = defineApi({
  name: 'run_event_wait',
  namespace: 'app',
  path: '/api/app/run_event/v1/wait',
  methods: ['POST'],
  service: 'management',
  privilege: 'run_jobs',
  summary: 'run_event that answers when the job has completed, with the completed job',
  params: RunEventParams,
  response: Ok({ job: Job }),
});

const ActiveFilters = Type.Object(
  {
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    sort_by: Type.Optional(Type.Union([Type.Literal('started'), Type.Literal('id'), Type.Literal('progress'), Type.Literal('event')])),
    sort_dir: Type.Optional(Type.Union([Type.Literal(-1), Type.Literal(1)])),
    state: Type.Optional(Type.String({ maxLength: 40 })),
    event: Type.Optional(Type.String({ maxLength: 100 })),
    server: Type.Optional(Type.String({ maxLength: 100 })),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    source: Type.Optional(Type.String({ maxLength: 40 })),
    'workflow.job': Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const getActiveJobs = defineApi({
  name: 'get_active_jobs',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Active jobs (queued, ready, starting, active, finishing), filtered, sorted and paged',
  params: ActiveFilters,
  response: Ok({ rows: Type.Array(Job), list: Type.Object({ length: Type.Integer({ minimum: 0 }) }) }),
});

export const getActiveJobSummary = defineApi({
  name: 'get_active_job_summary',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Active jobs counted per event by state, source and target',
  params: ActiveFilters,
  response: Ok({ events: Type.Record(Type.String(), OpenObject) }),
});

export const getWorkflowJobSummary = defineApi({
  name: 'get_workflow_job_summary',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Active jobs of a workflow counted per workflow node',
  params: ActiveFilters,
  response: Ok({ nodes: Type.Record(Type.String(), Type.Integer()) }),
});

export const getJob = defineApi({
  name: 'get_job',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: 'One job, running or completed, with the token for its log links',
  params: Type.Object({ id: JobId, remove: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })) }),
  response: Ok({ job: Job, token: Type.String() }),
});

export const getJobs = defineApi({
  name: 'get_jobs',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Several jobs by id (heavy fields pruned unless verbose); out-of-scope or unknown ids answer {err}',
  params: Type.Object({ ids: Type.Array(JobId, { minItems: 1, maxItems: 1000 }), verbose: Type.Optional(Type.Boolean()) }),
  response: Ok({ jobs: Type.Array(OpenObject) }),
});

const LogParams = Type.Object({ id: JobId, t: Type.Optional(Type.String({ maxLength: 100 })) });

export const getJobLog = defineApi({
  name: 'get_job_log',
  namespace: 'app',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: "A job's log as plain text (204 when there is none)",
  params: LogParams,
  response: Type.Unknown({ description: 'text/plain' }),
});

export const viewJobLog = defineApi({
  name: 'view_job_log',
  namespace: 'app',
  methods: ['GET'],
  service: 'management',
  privilege: 'none',
  summary: "A job's log as plain text, authorised by the token get_job answers (t)",
  params: LogParams,
  response: Type.Unknown({ description: 'text/plain' }),
});

export const downloadJobLog = defineApi({
  name: 'download_job_log',
  namespace: 'app',
  methods: ['GET'],
  service: 'management',
  privilege: 'none',
  summary: "A job's log as a file download, authorised by the token get_job answers (t)",
  params: LogParams,
  response: Type.Unknown({ description: 'text/plain attachment' }),
});

export const tailLiveJobLog = defineApi({
  name: 'tail_live_job_log',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: "The end of an active job's live log (about `bytes`, default 32 KiB); empty when the job is not active",
  params: Type.Object({ id: JobId, bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1048576 })) }),
  response: Ok({ text: Type.String() }),
});

export const updateJob = defineApi({
  name: 'update_job',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Change fields of a completed job (administrators)',
  params: Type.Object({ id: JobId }, { additionalProperties: true }),
  response: OkEmpty,
});

export const resumeJob = defineApi({
  name: 'resume_job',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'run_jobs',
  summary: 'Resume a suspended active job, optionally merging params',
  params: Type.Object({ id: JobId, params: Type.Optional(OpenObject) }),
  response: OkEmpty,
});

export const jobToggleNotifyMe = defineApi({
  name: 'job_toggle_notify_me',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'session',
  summary: 'Toggle a completion e-mail to yourself for an active job',
  params: Type.Object({ id: JobId }),
  response: Ok({ enabled: Type.Boolean() }),
});

export const manageJobTags = defineApi({
  name: 'manage_job_tags',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'tag_jobs',
  summary: 'Replace the tags of a completed job',
  params: Type.Object({ id: JobId, tags: Type.Array(Type.String({ pattern: '^\\w+$', maxLength: 100 }), { maxItems: 1000 }) }),
  response: OkEmpty,
});

export const abortJob = defineApi({
  name: 'abort_job',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'abort_jobs',
  summary: 'Abort an active or queued job',
  params: Type.Object({ id: JobId }),
  response: OkEmpty,
});

export const deleteJob = defineApi({
  name: 'delete_job',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'delete_jobs',
  summary: 'Delete a completed job with its log',
  params: Type.Object({ id: JobId }),
  response: OkEmpty,
});

export const flushEventQueue = defineApi({
  name: 'flush_event_queue',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'abort_jobs',
  summary: "Remove an event's queued jobs without running any actions",
  params: Type.Object({ id: DefinitionId }),
  response: Ok({ count: Type.Integer({ minimum: 0 }) }),
});

export const JOBS_API: readonly ApiDescriptor[] = [
  runEvent,
  runEventWait,
  getActiveJobs,
  getActiveJobSummary,
  getWorkflowJobSummary,
  getJob,
  getJobs,
  getJobLog,
  viewJobLog,
  downloadJobLog,
  tailLiveJobLog,
  updateJob,
  resumeJob,
  jobToggleNotifyMe,
  manageJobTags,
  abortJob,
  deleteJob,
  flushEventQueue,
];
