/**
 * The bootstrap bundle that login and resume_session answer (api-sections §8b): the definitions a UI needs to start,
 * filtered by the user's category and group scope. Parts that belong to jobs, servers and monitoring (which do not
 * run yet) are present and empty, so clients can rely on every key.
 */
import { type Permissions, type ServiceContext, categoryAllowed, groupAllowed, targetAllowed } from '@shallot/core';
import type { CollectionRecord } from '@shallot/store';
import { scanAll } from '../crud/index.js';
import { webHookView } from '../routes/web-hooks.js';

const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
/** Definitions are ordered lists (sort_order, then creation). */
const ordered = (ctx: ServiceContext, collection: string) => scanAll(ctx, collection, true);

/** Stored records without their bookkeeping-only or secret fields. */
function apiKeyView(record: CollectionRecord): Record<string, unknown> {
  const { key_hash: _hash, ...rest } = record;
  return { ...rest, key: 'REDACTED' };
}

export async function bootstrapBundle(ctx: ServiceContext, permissions: Permissions): Promise<Record<string, unknown>> {
  const [categories, groups, monitors, alerts, events, channels, webHooks, buckets, secrets, plugins, tags, roles, users, apiKeys] =
    await Promise.all(
      [
        'categories',
        'groups',
        'monitors',
        'alerts',
        'events',
        'channels',
        'web_hooks',
        'buckets',
        'secrets',
        'plugins',
        'tags',
        'roles',
        'users',
        'api_keys',
      ].map((collection) => ordered(ctx, collection)),
    );
  const inGroups = (record: CollectionRecord) => targetAllowed(permissions, list(record.groups));
  return {
    epoch: Math.floor(Date.now() / 1000),
    activeJobs: {},
    internalJobs: {},
    numQueuedJobs: 0,
    socketNav: {},
    activeAlerts: {},
    serverCache: {},
    servers: {},
    categories: categories?.filter((c) => categoryAllowed(permissions, c.id)) ?? [],
    groups: groups?.filter((g) => groupAllowed(permissions, g.id)) ?? [],
    monitors: monitors?.filter(inGroups) ?? [],
    alerts: alerts?.filter(inGroups) ?? [],
    events:
      events?.filter(
        (e) =>
          categoryAllowed(permissions, String(e.category ?? '')) && (e.type === 'workflow' || targetAllowed(permissions, list(e.targets))),
      ) ?? [],
    channels: channels ?? [],
    web_hooks: (webHooks ?? []).map((hook) => webHookView(hook, permissions)),
    buckets: buckets ?? [],
    secrets: secrets ?? [],
    plugins: plugins ?? [],
    tags: tags ?? [],
    roles: roles ?? [],
    users: (users ?? []).map((u) => ({ username: u.username, full_name: u.full_name, icon: u.icon, roles: list(u.roles) })),
    api_keys: (apiKeys ?? []).map(apiKeyView),
    state: {},
    stats: {},
    sounds: [],
  };
}
