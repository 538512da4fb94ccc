/**
 * Jobs (seed §Jobs, api-sections §11, behaviour §9): run_event turns a request into a job record and a dispatch
 * message (the job-runners choose a server and run it); the other calls read and control jobs. Active jobs live in
 * Redis (core live-jobs), completed ones in the `jobs` index; control reaches a running job as a flag its runner reads.
 */
import { gunzipSync } from 'node:zlib';
import {
  type Caller,
  Errors,
  type Implementation,
  JOBS_INDEX,
  JOBS_SCOPE,
  type JobRecord,
  type Producer,
  RecordError,
  type ServiceContext,
  BlobTooLargeError,
  BlobTooSmallError,
  blobStoreFor,
  buildJob,
  categoryAllowed,
  enqueueJob,
  generateId,
  getActiveJob,
  implement,
  jobLogBlobKey,
  jobLogStreamKey,
  jobNotifyKey,
  jobLogToken,
  listActiveJobs,
  removeActiveJob,
  requestAbort,
  randomFolder,
  safeEqual,
  targetAllowed,
  urlName,
  userKey,
} from '@shallot/core';
import {
  type PluginParam,
  abortJob,
  deleteJob,
  downloadJobLog,
  flushEventQueue,
  getActiveJobSummary,
  getActiveJobs,
  getJob,
  getJobLog,
  getJobs,
  getWorkflowJobSummary,
  jobToggleNotifyMe,
  manageJobTags,
  resumeJob,
  runEvent,
  runEventWait,
  tailLiveJobLog,
  updateJob,
  viewJobLog,
} from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordActivity } from '../activity.js';
import { checkOverrides, withDefaults } from '../validation/event-params.js';
import type { ParamError } from '../validation/plugin-params.js';
import { EVENTS, checkEvent, eventAccess } from './events.js';

type Fields = Record<string, unknown>;

/** Heavy fields get_jobs prunes unless verbose (data-structures §7). */
const PRUNED = ['actions', 'activity', 'html', 'limits', 'procs', 'conns', 'table', 'timelines', 'input', 'data', 'files'];
/** Run overrides that never apply: the event's identity and the launch fields (api-sections §11). */
const NOT_OVERRIDABLE = [
  'id',
  'title',
  'type',
  'category',
  'command',
  'script',
  'uid',
  'gid',
  'cwd',
  'env',
  'kill',
  'runner',
  'enabled',
  'triggers',
  'workflow',
  'fields',
  'update_state',
];
const WAIT_POLL_MS = 250;
/** run_event multipart uploads (behaviour §12 `job_upload_settings`): per file, and files per run. */
export const MAX_RUN_FILE_BYTES = 1024 * 1024 * 1024;
export const MAX_RUN_FILES = 100;
/** Input files expire after 30 days (`user_file_expiration`); recorded on the file for the expiry sweep. */
const INPUT_FILE_TTL_SECONDS = 30 * 86400;

function who(caller: Caller | null): Caller {
  if (!caller) throw new Errors.session('No Session ID or API Key could be found');
  return caller;
}

/** Behaviour §4 for jobs: category check on job.category, target any-match on job.targets. */
export function jobAccess(caller: Caller, job: Fields): boolean {
  if (!categoryAllowed(caller, String(job.category ?? ''))) return false;
  if (job.type === 'workflow') return true;
  return targetAllowed(caller, Array.isArray(job.targets) ? (job.targets as string[]) : []);
}

const asObject = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});

export interface JobRouteOptions {
  dispatch: Producer<{ job_id: string }>;
}

export function jobRoutes(ctx: ServiceContext, { dispatch }: JobRouteOptions): Implementation[] {
  const blobs = blobStoreFor(ctx.config);

  async function findEvent(params: Fields): Promise<CollectionRecord> {
    if (typeof params.id === 'string' && params.id) {
      const event = await ctx.store.collections.get(EVENTS, params.id);
      if (!event) throw new RecordError('event', `Failed to launch job: Event not found: ${params.id}`);
      return event;
    }
    if (typeof params.title === 'string' && params.title) {
      const { rows } = await ctx.store.collections.list(EVENTS, { where: { title: params.title }, limit: 1 });
      if (!rows[0]) throw new RecordError('event', `Failed to launch job: Event not found: ${params.title}`);
      return rows[0];
    }
    throw new RecordError('event', 'Failed to launch job: no event id or title given');
  }

  /**
   * A multipart run_event: the `json` field is the payload, every file part is stored under
   * `files/<user>/<rand>/<name>` and appended to `input.files`. A failure removes the files already written.
   */
  async function readRunUpload(request: FastifyRequest, caller: Caller, query: Fields): Promise<{ params: Fields; files: Fields[] }> {
    let params: Fields = { ...query };
    const files: Fields[] = [];
    try {
      for await (const part of request.parts({ limits: { fileSize: MAX_RUN_FILE_BYTES + 1, files: MAX_RUN_FILES, fields: 20 } })) {
        if (part.type === 'field') {
          if (part.fieldname === 'json') {
            try {
              params = { ...params, ...asObject(JSON.parse(String(part.value))) };
            } catch {
              throw new Errors.api('The json field must hold the run_event payload as JSON');
            }
          }
          continue;
        }
        const name = urlName(part.filename);
        if (!name) throw new Errors.api('Unnamed file uploads are refused');
        const path = `files/${userKey(caller.username) || 'key'}/${randomFolder()}/${name}`;
        const info = await blobs.put(path, part.file, { maxBytes: MAX_RUN_FILE_BYTES, minBytes: 1 });
        const date = Math.floor(Date.now() / 1000);
        files.push({
          id: generateId('f'),
          date,
          filename: name,
          path,
          size: info.size,
          username: caller.username,
          expires: date + INPUT_FILE_TTL_SECONDS,
        });
      }
    } catch (error) {
      await Promise.all(files.map((f) => blobs.delete(String(f.path))));
      if (error instanceof BlobTooLargeError || error instanceof BlobTooSmallError) throw new Errors.api(error.message);
      throw error;
    }
    return { params, files };
  }

  /** run_event from JSON or multipart; uploaded files are removed again when the launch is refused. */
  async function launchRequest(params: Fields, caller: Caller, request: FastifyRequest): Promise<string> {
    if (!request.isMultipart()) return launch(params, caller);
    const upload = await readRunUpload(request, caller, params);
    const input = asObject(upload.params.input);
    const given = Array.isArray(input.files) ? (input.files as Fields[]) : [];
    try {
      return await launch({ ...upload.params, input: { ...input, files: [...given, ...upload.files] } }, caller);
    } catch (error) {
      await Promise.all(upload.files.map((f) => blobs.delete(String(f.path))));
      throw error;
    }
  }

  /** Launches a job for a user or key; answers the job id. */
  async function launch(params: Fields, caller: Caller): Promise<string> {
    const event = await findEvent(params);
    if (!eventAccess(caller, event)) throw new Errors.access(`You do not have access to event "${event.id}".`);
    const test = params.test === true;
    const triggers = Array.isArray(event.triggers) ? (event.triggers as Fields[]) : [];
    if (!test && !triggers.some((t) => t.type === 'manual' && t.enabled === true)) {
      throw new RecordError('event', `Event "${event.title}" does not allow manual job runs.`);
    }
    if (!test && event.enabled !== true) throw new RecordError('event', `Failed to launch job: Event "${event.title}" is disabled.`);

    const overrides: Fields = { ...params };
    for (const key of NOT_OVERRIDABLE) delete overrides[key];
    const given = asObject(params.params);
    try {
      checkOverrides(given);
    } catch (error) {
      throw new Errors.api((error as ParamError).message);
    }
    const merged = { ...asObject(event.params), ...given };
    const checked = await checkEvent(ctx, { ...event, ...overrides, params: merged }, { caller, savedParams: asObject(event.params) });
    if (Array.isArray(params.targets) && !targetAllowed(caller, params.targets as string[])) {
      throw new Errors.access('You do not have access to the requested targets.');
    }
    const category = await ctx.store.collections.get('categories', String(checked.category));
    if (!category) throw new RecordError('event', 'Failed to launch job: Category not found');
    if (!test && category.enabled === false)
      throw new RecordError('event', `Failed to launch job: Category "${category.title}" is disabled.`);
    let plugin: CollectionRecord | undefined;
    if (checked.type !== 'workflow' && !String(checked.plugin).startsWith('_')) {
      plugin = await ctx.store.collections.get('plugins', String(checked.plugin));
      if (!plugin) throw new RecordError('event', 'Failed to launch job: Plugin not found');
      if (!test && plugin.enabled === false) throw new RecordError('event', `Failed to launch job: Plugin "${plugin.title}" is disabled.`);
    }
    checked.params = withDefaults(Array.isArray(checked.fields) ? (checked.fields as PluginParam[]) : [], asObject(checked.params));
    const job = buildJob({
      event: { ...checked, id: event.id },
      category,
      ...(plugin ? { plugin } : {}),
      overrides: {
        ...(params.input !== undefined ? { input: params.input } : {}),
        ...(test ? { test: true, test_actions: params.test_actions === true, test_limits: params.test_limits === true } : {}),
        ...(params.priority === true ? { priority: true } : {}),
        ...(typeof params.label === 'string' ? { label: params.label } : {}),
      },
      source: caller.kind === 'key' ? 'key' : 'user',
      username: caller.username,
    });
    await enqueueJob(ctx.redis, dispatch, job);
    return job.id;
  }

  /** A completed job from the index, or an active one. */
  async function loadJob(id: string): Promise<{ job: JobRecord; active: boolean } | undefined> {
    const active = await getActiveJob(ctx.redis, id);
    if (active) return { job: active, active: true };
    const stored = await ctx.store.indexes.get(JOBS_INDEX.name, JOBS_SCOPE, id);
    return stored ? { job: stored as JobRecord, active: false } : undefined;
  }

  async function loadScoped(id: string, caller: Caller) {
    const found = await loadJob(id);
    if (!found) throw new Errors.notfound(`Job not found: ${id}`);
    if (!jobAccess(caller, found.job)) throw new Errors.access(`You do not have access to job "${id}".`);
    return found;
  }

  async function waitForCompletion(id: string): Promise<JobRecord> {
    for (;;) {
      const stored = await ctx.store.indexes.get(JOBS_INDEX.name, JOBS_SCOPE, id);
      if (stored) return stored as JobRecord;
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    }
  }

  /** The live log so far (active jobs), from the capped stream. */
  async function liveLog(id: string): Promise<string> {
    const entries = await ctx.redis.client.xrange(jobLogStreamKey(id), '-', '+');
    return entries.map(([, fields]) => fields[1] ?? '').join('');
  }

  /** The full log: live for active jobs; inline output or the stored gzip for completed ones. */
  async function fullLog(job: JobRecord, active: boolean): Promise<string | undefined> {
    if (active) {
      const text = await liveLog(job.id);
      return text === '' ? undefined : text;
    }
    if (typeof job.output === 'string') return job.output === '' ? undefined : job.output;
    const gz = await blobs.get(jobLogBlobKey(job.id));
    return gz ? gunzipSync(gz).toString('utf8') : undefined;
  }

  function checkToken(id: string, token: unknown): void {
    if (typeof token !== 'string' || !safeEqual(token, jobLogToken(ctx.secretKey, id))) throw new Errors.access('Authentication failed.');
  }

  async function sendLog(reply: FastifyReply, found: { job: JobRecord; active: boolean }, download: boolean, emptyStatus: number) {
    const text = await fullLog(found.job, found.active);
    if (text === undefined) {
      if (emptyStatus === 404) throw new Errors.notfound('No log is available for this job.');
      return reply.code(204).send();
    }
    reply.type('text/plain; charset=utf-8');
    if (download) {
      const name = found.active ? `xyOps-Partial-Job-Log-${found.job.id}.txt` : `xyOps-Job-Log-${found.job.id}.txt`;
      reply.header('content-disposition', `attachment; filename=${name}`);
    }
    return reply.send(text);
  }

  function filterActive(jobs: JobRecord[], caller: Caller, params: Fields): JobRecord[] {
    const keys = ['state', 'event', 'server', 'category', 'source'] as const;
    return jobs.filter((job) => {
      if (!jobAccess(caller, job)) return false;
      for (const key of keys) if (params[key] !== undefined && job[key] !== params[key]) return false;
      if (params['workflow.job'] !== undefined && asObject(job.workflow).job !== params['workflow.job']) return false;
      return true;
    });
  }

  async function logJobActivity(request: FastifyRequest, caller: Caller, action: string, job: Fields, description: string) {
    await recordActivity(ctx, request, caller, action, {
      description,
      keywords: [job.id as string, String(job.event ?? '')],
      job: { id: job.id, event: job.event },
    });
  }

  return [
    implement(runEvent, async ({ params, caller, request }) => ({
      code: 0 as const,
      id: await launchRequest(params as Fields, who(caller), request),
    })),

    implement(runEventWait, async ({ params, caller, request }) => {
      const id = await launchRequest(params as Fields, who(caller), request);
      return { code: 0 as const, job: await waitForCompletion(id) };
    }),

    implement(getActiveJobs, async ({ params, caller }) => {
      const rows = filterActive(await listActiveJobs(ctx.redis), who(caller), params as Fields);
      const sortBy = params.sort_by ?? 'started';
      const dir = params.sort_dir ?? -1;
      rows.sort((a, b) => {
        const [x, y] = [a[sortBy] as number | string, b[sortBy] as number | string];
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      const offset = params.offset ?? 0;
      const page = rows.slice(offset, params.limit === undefined ? undefined : offset + params.limit);
      return { code: 0 as const, rows: page, list: { length: rows.length } };
    }),

    implement(getActiveJobSummary, async ({ params, caller }) => {
      const events: Record<string, { id: string; states: Fields; sources: Fields; targets: Fields }> = {};
      for (const job of filterActive(await listActiveJobs(ctx.redis), who(caller), params as Fields)) {
        const id = String(job.event ?? '');
        events[id] ??= { id, states: {}, sources: {}, targets: {} };
        const entry = events[id];
        const bump = (bag: Fields, key: string) => {
          bag[key] = ((bag[key] as number) ?? 0) + 1;
        };
        bump(entry.states, String(job.state));
        bump(entry.sources, String(job.source));
        for (const target of (job.targets as string[]) ?? []) bump(entry.targets, target);
      }
      return { code: 0 as const, events };
    }),

    implement(getWorkflowJobSummary, async ({ params, caller }) => {
      const nodes: Record<string, number> = {};
      for (const job of filterActive(await listActiveJobs(ctx.redis), who(caller), params as Fields)) {
        const node = asObject(job.workflow).node;
        if (typeof node === 'string') nodes[node] = (nodes[node] ?? 0) + 1;
      }
      return { code: 0 as const, nodes };
    }),

    implement(getJob, async ({ params, caller }) => {
      const { job } = await loadScoped(params.id, who(caller));
      const shown: Fields = { ...job };
      for (const key of params.remove ?? []) delete shown[key];
      return { code: 0 as const, job: shown as JobRecord, token: jobLogToken(ctx.secretKey, job.id) };
    }),

    implement(getJobs, async ({ params, caller }) => {
      const c = who(caller);
      const jobs: Fields[] = [];
      for (const id of params.ids) {
        const found = await loadJob(id);
        if (!found) jobs.push({ id, err: 'Job not found' });
        else if (!jobAccess(c, found.job)) jobs.push({ id, err: 'Access denied' });
        else {
          const shown: Fields = { ...found.job };
          if (!params.verbose) for (const key of PRUNED) delete shown[key];
          jobs.push(shown);
        }
      }
      return { code: 0 as const, jobs };
    }),

    implement(getJobLog, async ({ params, caller, reply }) => {
      const found = await loadScoped(params.id, who(caller));
      return (await sendLog(reply, found, false, 204)) as never;
    }),

    implement(viewJobLog, async ({ params, reply }) => {
      checkToken(params.id, params.t);
      const found = await loadJob(params.id);
      if (!found) throw new Errors.notfound(`Job not found: ${params.id}`);
      return (await sendLog(reply, found, false, 404)) as never;
    }),

    implement(downloadJobLog, async ({ params, reply }) => {
      checkToken(params.id, params.t);
      const found = await loadJob(params.id);
      if (!found) throw new Errors.notfound(`Job not found: ${params.id}`);
      return (await sendLog(reply, found, true, 404)) as never;
    }),

    implement(tailLiveJobLog, async ({ params, caller }) => {
      const found = await loadScoped(params.id, who(caller));
      if (!found.active) return { code: 0 as const, text: '' };
      const want = params.bytes ?? 32768;
      const chunks: string[] = [];
      let size = 0;
      let end = '+';
      // Newest entries first, a page at a time, until enough bytes are collected.
      while (size < want) {
        const page = await ctx.redis.client.xrevrange(jobLogStreamKey(params.id), end, '-', 'COUNT', 100);
        if (page.length === 0) break;
        for (const [id, fields] of page) {
          const text = fields[1] ?? '';
          chunks.unshift(text);
          size += Buffer.byteLength(text);
          end = `(${id}`;
          if (size >= want) break;
        }
        if (page.length < 100) break;
      }
      const text = chunks.join('');
      return {
        code: 0 as const,
        text:
          size > want
            ? Buffer.from(text)
                .subarray(size - want)
                .toString('utf8')
            : text,
      };
    }),

    implement(abortJob, async ({ params, caller, request }) => {
      const c = who(caller);
      const found = await loadScoped(params.id, c);
      if (!found.active) throw new RecordError('job', `Job is not active: ${params.id}`);
      await requestAbort(ctx.redis, params.id, `Manually aborted by user: ${c.username}`);
      await logJobActivity(request, c, 'job_abort', found.job, `Job aborted by ${c.username}`);
      return { code: 0 as const };
    }),

    implement(deleteJob, async ({ params, caller, request }) => {
      const c = who(caller);
      const found = await loadScoped(params.id, c);
      if (found.active) throw new RecordError('job', 'Active jobs cannot be deleted: abort the job first.');
      await ctx.store.indexes.deleteByQuery(JOBS_INDEX.name, JOBS_SCOPE, { term: { field: 'id', value: params.id } });
      await blobs.delete(jobLogBlobKey(params.id));
      await blobs.deletePrefix(`files/jobs/${params.id}`);
      await logJobActivity(request, c, 'job_delete', found.job, `Job deleted by ${c.username}`);
      return { code: 0 as const };
    }),

    implement(updateJob, async ({ params, caller, request }) => {
      const c = who(caller);
      const { id, ...changes } = params as Fields & { id: string };
      const found = await loadScoped(id, c);
      if (found.active)
        throw new RecordError('job', 'Running jobs are updated by their runner only; update the job once it has completed.');
      delete changes.id;
      await ctx.store.indexes.upsert(JOBS_INDEX.name, JOBS_SCOPE, { ...found.job, ...changes, id });
      await logJobActivity(request, c, 'job_update', found.job, `Job updated: ${Object.keys(changes).join(', ')}`);
      return { code: 0 as const };
    }),

    implement(manageJobTags, async ({ params, caller, request }) => {
      const c = who(caller);
      const found = await loadScoped(params.id, c);
      if (found.active) throw new RecordError('job', 'Tags of a running job cannot be changed.');
      const system = ((found.job.tags as string[]) ?? []).filter((t) => t.startsWith('_'));
      const tags = [...new Set([...params.tags.filter((t) => !t.startsWith('_')), ...system])];
      await ctx.store.indexes.upsert(JOBS_INDEX.name, JOBS_SCOPE, { ...found.job, tags });
      await logJobActivity(request, c, 'job_tags', found.job, `Job tags set to: ${tags.join(', ') || '(none)'}`);
      return { code: 0 as const };
    }),

    implement(jobToggleNotifyMe, async ({ params, caller }) => {
      const c = who(caller);
      const found = await loadScoped(params.id, c);
      if (!found.active) throw new RecordError('job', `Job is not active: ${params.id}`);
      const key = jobNotifyKey(params.id);
      const removed = await ctx.redis.client.srem(key, c.username);
      if (!removed)
        await ctx.redis.client
          .multi()
          .sadd(key, c.username)
          .expire(key, 7 * 86400)
          .exec();
      return { code: 0 as const, enabled: !removed };
    }),

    implement(resumeJob, async ({ params, caller }) => {
      const found = await loadScoped(params.id, who(caller));
      if (!found.active) throw new RecordError('job', `Job is not active: ${params.id}`);
      if (found.job.suspended !== true) throw new RecordError('job', `Job is not suspended: ${params.id}`);
      throw new RecordError('job', 'Suspended jobs cannot be resumed yet: the suspend action is not implemented.');
    }),

    implement(flushEventQueue, async ({ params, caller, request }) => {
      const c = who(caller);
      const event = await ctx.store.collections.get(EVENTS, params.id);
      if (event && !eventAccess(c, event)) throw new Errors.access(`You do not have access to event "${params.id}".`);
      let count = 0;
      for (const job of await listActiveJobs(ctx.redis)) {
        if (job.event !== params.id || job.state !== 'queued') continue;
        await removeActiveJob(ctx.redis, job.id);
        count++;
      }
      await recordActivity(ctx, request, c, 'queue_flush', { description: `${count} queued job(s) flushed`, keywords: [params.id] });
      return { code: 0 as const, count };
    }),
  ];
}
