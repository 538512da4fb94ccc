/**
 * The secrets a job may use (behaviour §9.2 starting): those assigned to its event, its category or its plugin,
 * decrypted for the plugin's environment only. Precedence on a name clash: event, then category, then plugin.
 */
import { type JobRecord, type ServiceContext, openSecret } from '@shallot/core';

const SECRETS = 'secrets';
const SECRET_VALUES = 'secret_values';
const PAGE = 1000;

export async function jobSecrets(ctx: ServiceContext, job: JobRecord): Promise<Record<string, string>> {
  const { rows } = await ctx.store.collections.list(SECRETS, { limit: PAGE });
  const has = (list: unknown, id: unknown) => Array.isArray(list) && typeof id === 'string' && list.includes(id);
  const ranked = rows
    .filter((s) => s.enabled !== false)
    .map((s) => ({ s, rank: has(s.events, job.event) ? 3 : has(s.categories, job.category) ? 2 : has(s.plugins, job.plugin) ? 1 : 0 }))
    .filter((r) => r.rank > 0)
    .sort((a, b) => a.rank - b.rank);
  const out: Record<string, string> = {};
  // Lowest precedence first, so higher ones overwrite.
  for (const { s } of ranked) {
    const stored = await ctx.store.collections.get(SECRET_VALUES, s.id);
    if (!stored) continue;
    try {
      for (const field of await openSecret(ctx.secretKey, s.id, stored.sealed)) out[field.name] = field.value;
    } catch {
      // A secret that does not open is skipped; the job runs without it.
    }
  }
  return out;
}
