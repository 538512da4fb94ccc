/**
 * Server selection (behaviour §9.3), pure: the candidates for a job's targets among the online servers (server ids
 * and members of target groups, de-duplicated, enabled only, filtered by the expression) and the pick by `algo`.
 */
import { compileExpression } from '@shallot/core';
import type { ServerRecord } from '../server-registry.js';

export interface GroupDef {
  id: string;
  hostname_match?: string;
}

/** Groups a server belongs to: those whose `hostname_match` matches its hostname. */
export function serverGroups(server: ServerRecord, groups: readonly GroupDef[]): string[] {
  const out: string[] = [];
  for (const group of groups) {
    if (!group.hostname_match) continue;
    try {
      if (new RegExp(group.hostname_match).test(server.hostname)) out.push(group.id);
    } catch {
      // A group with a broken pattern matches nothing.
    }
  }
  return out;
}

/** Candidates in natural order: target list order, then server order within a group. */
export function candidates(
  targets: readonly string[],
  online: readonly ServerRecord[],
  groups: readonly GroupDef[],
  expression?: string,
): ServerRecord[] {
  const byId = new Map(online.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const out: ServerRecord[] = [];
  const add = (server: ServerRecord) => {
    if (seen.has(server.id) || server.enabled === false) return;
    seen.add(server.id);
    out.push(server);
  };
  for (const target of targets) {
    const server = byId.get(target);
    if (server) add(server);
    const group = groups.find((g) => g.id === target);
    if (group) for (const s of online) if (serverGroups(s, [group]).length > 0) add(s);
  }
  if (!expression?.trim()) return out;
  const compiled = compileExpression(expression);
  return out.filter((server) => {
    try {
      return !!compiled.evaluate({ ...server, groups: serverGroups(server, groups) });
    } catch {
      return false;
    }
  });
}

export interface PickContext {
  /** Round-robin counter of the event. */
  robin: number;
  /** Active jobs per server id. */
  jobCounts: ReadonlyMap<string, number>;
  random?: () => number;
}

const titleOf = (s: ServerRecord) => s.hostname.toLowerCase() + s.id.toLowerCase();

/** Picks one candidate; `undefined` for none or an algorithm this runner cannot apply (monitor:…). */
export function pickServer(list: readonly ServerRecord[], algo: string, context: PickContext): ServerRecord | undefined {
  if (list.length === 0) return undefined;
  const min = (value: (s: ServerRecord) => number) => list.reduce((best, s) => (value(s) < value(best) ? s : best));
  switch (algo) {
    case 'round_robin':
      return list[context.robin % list.length];
    case 'prefer_first_natural':
      return list[0];
    case 'prefer_last_natural':
      return list[list.length - 1];
    case 'prefer_first':
      return [...list].sort((a, b) => titleOf(a).localeCompare(titleOf(b)))[0];
    case 'prefer_last':
      return [...list].sort((a, b) => titleOf(b).localeCompare(titleOf(a)))[0];
    case 'least_cpu':
      return min((s) => s.info?.cpu?.avgLoad ?? 0);
    case 'least_mem':
      return min((s) => s.info?.memory?.active ?? 0);
    case 'fewest_jobs':
      return min((s) => context.jobCounts.get(s.id) ?? 0);
    case 'random':
      return list[Math.floor((context.random ?? Math.random)() * list.length)];
    default:
      return undefined;
  }
}
