/**
 * Consumes `schedule.launch`: each scheduled (event, slot) becomes one job (behaviour §8 → §9.1). The job id is derived
 * from the launch key, so a message delivered twice (a consumer crash after enqueueing, a re-handed slot) finds its
 * job in the active set or the jobs index and creates nothing; a short claim key keeps two concurrent deliveries apart.
 */
import { createHash } from 'node:crypto';
import { JOBS_INDEX, JOBS_SCOPE, type Producer, type RedisWiring, buildJob, enqueueJob, getActiveJob } from '@shallot/core';
import type { ScheduleLaunchPayload } from '@shallot/schemas';
import type { Store } from '@shallot/store';
import type { Zones } from '@shallot/core/schedule';
import { DEFAULT_GATE_TIMEOUT_SECONDS, type GatePlugin, type SchedulerPluginGate } from './plugin-gate.js';

type Fields = Record<string, unknown>;

/** How long a launch key stays claimed while its job is written; a crashed consumer's retry waits this long. */
export const LAUNCH_CLAIM_SECONDS = 60;

/**
 * The job id of a launch: `j` + base36 of the slot (ms, so ids sort by slot like generated ones) + a hash of the key,
 * 16 characters like `generateId`.
 */
export function launchJobId(payload: Pick<ScheduleLaunchPayload, 'key' | 'now'>): string {
  const head = `j${(payload.now * 1000).toString(36)}`;
  const hash = BigInt(`0x${createHash('sha256').update(payload.key).digest('hex').slice(0, 24)}`).toString(36);
  return (head + hash.padStart(16, '0')).slice(0, 16);
}

export interface LaunchLog {
  info(obj: object, msg: string): void;
}

export interface LaunchConsumerDeps {
  redis: RedisWiring;
  store: Store;
  dispatch: Producer<{ job_id: string }>;
  log?: LaunchLog;
  /** Runs scheduler plugins for `plugin` triggers; without it such launches are skipped and say why. */
  gate?: { plugins: SchedulerPluginGate; zones: Zones };
}

export type LaunchOutcome = { job: string } | { skipped: string };

const asObject = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});

/** The handler for one `schedule.launch` message. */
/** The enabled `plugin` trigger of an event as saved now, if any. */
function pluginTrigger(event: Fields): Fields | undefined {
  const triggers = Array.isArray(event.triggers) ? (event.triggers as unknown[]) : [];
  return triggers.map(asObject).find((t) => t.type === 'plugin' && t.enabled !== false && typeof t.plugin_id === 'string');
}

export function createLaunchHandler({ redis, store, dispatch, log, gate }: LaunchConsumerDeps) {
  return async (payload: ScheduleLaunchPayload): Promise<LaunchOutcome> => {
    const id = launchJobId(payload);
    const skip = (reason: string): LaunchOutcome => {
      log?.info({ key: payload.key, event: payload.event, job: id, reason }, 'scheduled launch skipped');
      return { skipped: reason };
    };
    if ((await getActiveJob(redis, id)) || (await store.indexes.get(JOBS_INDEX.name, JOBS_SCOPE, id))) {
      return skip('already launched');
    }
    // The event may have changed since the slot was claimed: launch what is saved now, if it still may run.
    const event = await store.collections.get('events', payload.event);
    if (!event) return skip('event deleted');
    if (event.enabled !== true) return skip('event disabled');
    const category = await store.collections.get('categories', String(event.category));
    if (!category) return skip('category not found');
    if (category.enabled === false) return skip('category disabled');
    let plugin: Fields | undefined;
    if (event.type !== 'workflow' && !String(event.plugin ?? '').startsWith('_') && event.plugin !== undefined) {
      plugin = await store.collections.get('plugins', String(event.plugin));
      if (!plugin) return skip('plugin not found');
      if (plugin.enabled === false) return skip('plugin disabled');
    }

    // A scheduler plugin decides at launch time, from the event as saved now (it may have lost its plugin trigger).
    const trigger = payload.splugin ? pluginTrigger(event) : undefined;
    let splugin: (GatePlugin & Fields) | undefined;
    if (trigger) {
      if (!gate) return skip('this runner does not run scheduler plugins');
      const found = await store.collections.get('plugins', String(trigger.plugin_id));
      if (!found) return skip(`scheduler plugin ${String(trigger.plugin_id)} not found`);
      if (found.enabled === false) return skip(`scheduler plugin ${found.id} is disabled`);
      if (found.type !== 'scheduler') return skip(`plugin ${found.id} is not a scheduler plugin`);
      splugin = found;
    }
    const gateSeconds =
      splugin && typeof splugin.timeout === 'number' && splugin.timeout > 0 ? splugin.timeout : DEFAULT_GATE_TIMEOUT_SECONDS;
    const claimSeconds = splugin ? LAUNCH_CLAIM_SECONDS + gateSeconds : LAUNCH_CLAIM_SECONDS;

    const claim = `schedule:launching:${payload.key}`;
    if ((await redis.client.set(claim, id, 'EX', claimSeconds, 'NX')) !== 'OK') return skip('launch in progress');
    try {
      const tags = [...(Array.isArray(event.tags) ? (event.tags as string[]) : []), ...(payload.tags ?? [])];
      const input = payload.data === undefined ? undefined : Array.isArray(payload.data) ? { items: payload.data } : { data: payload.data };
      const workflow = asObject(event.workflow);
      const job = buildJob({
        event: { ...event, params: { ...asObject(event.params), ...(payload.params ?? {}) } },
        category,
        ...(plugin ? { plugin } : {}),
        source: payload.source,
        overrides: {
          now: payload.now,
          tags: [...new Set(tags)],
          ...(payload.stype ? { stype: payload.stype } : {}),
          ...(payload.splugin ? { splugin: payload.splugin } : {}),
          ...(input ? { input } : {}),
          ...(payload.invisible ? { invisible: true } : {}),
          ...(payload.ephemeral ? { ephemeral: true } : {}),
          ...(payload.trigger && event.type === 'workflow' ? { workflow: { ...workflow, start: payload.trigger } } : {}),
        },
      });
      job.id = id;
      if (payload.state === 'start_delay' && typeof payload.until === 'number') {
        job.state = 'start_delay';
        job.until = payload.until;
      }
      if (splugin && trigger && gate) {
        const timezone = typeof trigger.timezone === 'string' && trigger.timezone !== '' ? trigger.timezone : gate.zones.defaultZone;
        const { secrets: _secrets, ...visible } = job as Fields;
        const decision = await gate.plugins.decide(splugin, {
          plugin_id: splugin.id,
          params: asObject(trigger.params),
          timezone,
          dargs: gate.zones.get(timezone).parts(payload.now),
          now: payload.now,
          job: visible,
        });
        // The claim stays: a second delivery of a declined slot does not ask the plugin again.
        if (!decision.launch) return skip(decision.reason);
        if (decision.delay) {
          job.state = 'start_delay';
          job.until = payload.now + decision.delay;
        }
        if (decision.data) {
          const jobInput = asObject(job.input);
          job.input = { ...jobInput, data: { ...asObject(jobInput.data), ...decision.data } };
        }
        // A plugin trigger's jobs are visible unless the plugin itself asks otherwise.
        if (decision.invisible) job.invisible = true;
        else delete job.invisible;
      }
      await enqueueJob(redis, dispatch, job);
      return { job: id };
    } catch (error) {
      // Let the retry (BullMQ attempts) launch it at once rather than after the claim expires.
      await redis.client.del(claim).catch(() => undefined);
      throw error;
    }
  };
}
