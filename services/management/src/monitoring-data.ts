/**
 * Server monitoring samples as `test_alert` and `test_monitor` need them (behaviour §7: "the server's latest stored
 * sample"), and the evaluation rules of the per-minute pipeline for one monitor.
 */
import { type CompiledExpression, type ServiceContext, compileExpression, compileRegex } from '@shallot/core';

/**
 * The latest ServerMonitorData of a server. Server metric ingestion does not store samples yet, so there is none;
 * callers answer "no data" until it does.
 */
export async function latestServerSample(_ctx: ServiceContext, _serverId: string): Promise<Record<string, unknown> | undefined> {
  return undefined;
}

export interface MonitorRule {
  source: string;
  data_type: string;
  data_match?: string | undefined;
}

const INTEGER_TYPES = new Set(['integer', 'bytes', 'seconds', 'milliseconds']);

/** Casts a raw value by data type: integers parse (or 0); floats keep five decimals. */
export function castMonitorValue(raw: unknown, dataType: string): number {
  if (INTEGER_TYPES.has(dataType)) return Number.parseInt(String(raw), 10) || 0;
  const n = typeof raw === 'number' ? raw : Number.parseFloat(String(raw));
  return Number.isFinite(n) ? Math.floor(n * 1e5) / 1e5 : 0;
}

/**
 * One monitor against one sample (behaviour §7 step 3): evaluate `source`, apply `data_match` (group 1, else the
 * whole match, no match gives 0), cast. Evaluation errors throw; the pipeline turns them into 0, test_monitor into fail.
 */
export function evaluateMonitor(rule: MonitorRule, sample: Record<string, unknown>, compiled?: CompiledExpression): number {
  let raw = (compiled ?? compileExpression(rule.source)).evaluate(sample);
  if (rule.data_match) {
    const match = compileRegex(rule.data_match).exec(String(raw ?? ''));
    raw = match ? (match[1] ?? match[0]) : 0;
  }
  return castMonitorValue(raw, rule.data_type);
}
