/** One interface for every job action type (behaviour §10); one module per type. */
import type { JobRecord, Producer, RedisWiring, ServiceContext, WebhookGuard } from '@shallot/core';

export interface ActionDeps {
  ctx: ServiceContext;
  redis: RedisWiring;
  guard: WebhookGuard;
  dispatch: Producer<{ job_id: string }>;
  timeoutMs: number;
}

export interface ActionOutcome {
  code: number | string;
  description: string;
  details?: string;
}

export type ActionEntry = Record<string, unknown>;

export interface JobAction {
  readonly type: string;
  /** Runs one action for a job; may change the job (tags, label, update_event). Never throws. */
  run(action: ActionEntry, job: JobRecord, deps: ActionDeps, condition: string): Promise<ActionOutcome>;
}
