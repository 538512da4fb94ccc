/**
 * Active resource limits (behaviour §9.4), pure: given the job, the time and the sampled usage, which limit is
 * exceeded now. Each limit fires at most once; mem/cpu must stay over their amount for longer than `duration`.
 */

export interface Usage {
  /** CPU percent (100 = one core). */
  cpu?: number;
  /** Resident bytes. */
  mem?: number;
}

export interface LimitTracker {
  /** Indexes of limits that have fired. */
  fired: Set<number>;
  /** Since when (epoch s) each mem/cpu limit has been over its amount. */
  overSince: Map<number, number>;
}

export interface Exceeded {
  index: number;
  limit: Record<string, unknown>;
  message: string;
}

export const newTracker = (): LimitTracker => ({ fired: new Set(), overSince: new Map() });

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function exceededLimit(job: Record<string, unknown>, now: number, usage: Usage, tracker: LimitTracker): Exceeded | undefined {
  const limits = Array.isArray(job.limits) ? (job.limits as Array<Record<string, unknown>>) : [];
  for (const [index, limit] of limits.entries()) {
    if (limit?.enabled !== true || tracker.fired.has(index)) continue;
    let message: string | undefined;
    switch (limit.type) {
      case 'time':
        if (now - num(job.started) > num(limit.duration)) message = `Maximum run time exceeded (${num(limit.duration)} seconds)`;
        break;
      case 'log':
        if (num(job.log_file_size) > num(limit.amount)) message = `Maximum output size exceeded (${num(limit.amount)} bytes)`;
        break;
      case 'mem':
      case 'cpu': {
        const current = limit.type === 'mem' ? usage.mem : usage.cpu;
        if (current === undefined || current <= num(limit.amount)) {
          tracker.overSince.delete(index);
          break;
        }
        const since = tracker.overSince.get(index) ?? now;
        tracker.overSince.set(index, since);
        if (now - since >= num(limit.duration)) {
          message =
            limit.type === 'mem' ? `Maximum memory exceeded (${num(limit.amount)} bytes)` : `Maximum CPU exceeded (${num(limit.amount)}%)`;
        }
        break;
      }
    }
    if (message) {
      tracker.fired.add(index);
      return { index, limit, message };
    }
  }
  return undefined;
}
