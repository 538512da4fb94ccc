/** CPU and memory of a process group, sampled from /proc (Linux); undefined elsewhere or when the group is gone. */
import { readFile, readdir } from 'node:fs/promises';

const TICKS_PER_SECOND = 100;
const PAGE_SIZE = 4096;

export interface GroupSample {
  /** CPU ticks used by the group's live processes. */
  ticks: number;
  /** Resident bytes. */
  rss: number;
  at: number;
}

/** One pass over /proc: the processes whose process group is `pgid`. */
export async function sampleGroup(pgid: number): Promise<GroupSample | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  let ticks = 0;
  let rss = 0;
  let found = false;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue;
    found = true;
    ticks += Number(fields[11]) + Number(fields[12]);
    rss += Number(fields[21]) * PAGE_SIZE;
  }
  return found ? { ticks, rss, at: Date.now() / 1000 } : undefined;
}

/** CPU percent between two samples (100 = one core). */
export function cpuPercent(previous: GroupSample, current: GroupSample): number {
  const seconds = current.at - previous.at;
  if (seconds <= 0) return 0;
  return (Math.max(0, current.ticks - previous.ticks) / TICKS_PER_SECOND / seconds) * 100;
}
