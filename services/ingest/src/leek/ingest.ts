/**
 * One ingest POST (leek-agent-protocol §4): validate (in the request's thread), then ONE store write (in the write
 * thread on sqlite, see writer.ts) that merges the valid documents and, in the same transaction, stores the dead
 * letters, the summary deltas derived from the merge outcomes and, in the outbox, one notification per task whose
 * stored state changed (the relay, outbox-relay.ts, hands them to the notify queue). A 201 is answered only after that
 * write is durable.
 *
 * Why one write: an agent acknowledges its broker on 201 and redelivers otherwise. If documents, dead letters, summary
 * and notifications were written separately, a failure in between would answer 503 with some of them stored; the
 * redelivered batch would then merge as "unchanged" and its summary transitions and notifications would be lost for
 * good. On sqlite the store's `also` writes commit with the documents or not at all. On Elasticsearch they follow in
 * a second bulk request (not atomic): a failure there answers 503 and the retry re-writes the dead letters (their ids
 * are content hashes, so no duplicates) but cannot recover that batch's summary deltas and notifications.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LeekError } from '@shallot/core';
import type { LeekTaskNotification, LeekTrigger } from '@shallot/schemas';
import {
  type BulkOutcome,
  type BulkUpsertCall,
  type Doc,
  LEEK_DEAD_LETTERS_INDEX,
  LEEK_EVENTS_INDEX,
  LEEK_OUTBOX_INDEX,
  LEEK_OUTBOX_SCOPE,
  LEEK_SUMMARY_INDEX,
  type Store,
} from '@shallot/store';
import { summaryDeltas } from './summary.js';
import { type Refusal, checkBatch } from './validate.js';
import type { BatchWriter } from './writer.js';

export interface IngestTarget {
  org: string;
  app: string;
  /** The batch's `x-leek-app-env` header. */
  env: string;
  scope: string;
  /** The app's triggers, as read when the request was authenticated. */
  triggers: readonly LeekTrigger[];
}

export interface IngestAnswer {
  success: number;
  rejected?: number;
  errors?: Array<{ index: number; id?: string; reason: string }>;
}

/** A dead letter's id is a hash of what was refused and why: a redelivered batch rewrites the same records. */
function deadLetterId(refusal: Refusal): string {
  return createHash('sha256').update(refusal.reason).update('\0').update(JSON.stringify(refusal.document)).digest('hex');
}

function deadLetters(refused: readonly Refusal[], env: string, now: number): Doc[] {
  return refused.map((r) => {
    const doc: Doc = { id: deadLetterId(r), index: r.index, app_env: env, reason: r.reason, received_at: now, document: r.document };
    if (r.id !== undefined) doc.doc_id = r.id;
    if (r.kind !== undefined) doc.kind = r.kind;
    return doc;
  });
}

/**
 * Whether some trigger could fire for a task in `state` of a batch sent with `env` (spec §4.2 steps 1–3: enabled,
 * env filter on the header, state filter). The consumer applies every rule again; this only spares the queue the
 * messages no trigger can match — most of them at ingest rates, as most apps only watch failures.
 */
export function mayNotify(triggers: readonly LeekTrigger[], env: string, state: unknown): boolean {
  return triggers.some(
    (t) =>
      t.enabled &&
      (t.envs.length === 0 || t.envs.includes(env)) &&
      (t.states.length === 0 || (typeof state === 'string' && t.states.includes(state))),
  );
}

/**
 * Edge-triggered: a task notifies when its stored state differs from before this write (new tasks included) and some
 * trigger of the app could match it.
 */
export function notificationsFor(target: IngestTarget, outcomes: readonly BulkOutcome[]): LeekTaskNotification[] {
  const out: LeekTaskNotification[] = [];
  if (!target.triggers.some((t) => t.enabled)) return out;
  for (const { changed, previous, current } of outcomes) {
    if (!changed || current === undefined || current.kind !== 'task') continue;
    const before = typeof previous?.state === 'string' ? previous.state : null;
    if (before === current.state || !mayNotify(target.triggers, target.env, current.state)) continue;
    out.push({
      kind: 'leek_task',
      data: {
        org: target.org,
        app: target.app,
        app_env: target.env,
        task: current as LeekTaskNotification['data']['task'],
        previous_state: before,
      },
    });
  }
  return out;
}

/**
 * What one batch writes, as plain data: the ingest write runs in this thread or in the write thread (writer.ts),
 * so the job crosses a thread boundary by structured clone.
 */
export interface BatchWrite {
  target: IngestTarget;
  /** `false`: answer once durable, not once searchable (search engines; BulkUpsertOptions.refresh). */
  refresh?: false;
  /** Valid documents, in batch order, for the `leek_events` merge. */
  valid: Doc[];
  dead: Doc[];
  /** When the batch was received (epoch ms): the outbox entries' `created_at`. */
  now: number;
}

let outboxSequence = 0;

/**
 * An outbox entry per notification (LEEK_OUTBOX_SPEC). Ids sort in write order (time, then a sequence of this
 * thread's, then a random part for other writers), so the relay queues a task's transitions in order.
 */
export function outboxEntries(notifications: readonly LeekTaskNotification[], now: number): Doc[] {
  return notifications.map((notification) => {
    outboxSequence = (outboxSequence + 1) % 1e10;
    const id = `${String(now).padStart(15, '0')}-${String(outboxSequence).padStart(10, '0')}-${randomBytes(4).toString('hex')}`;
    return { id, created_at: now, notification };
  });
}

/**
 * The store half of an ingest as one bulk upsert: the documents merge into `leek_events` and, in the same
 * transaction, the summary deltas and the notifications derived from the outcomes and the dead letters are written.
 */
export function batchUpsert({ target, valid, dead, now, refresh }: BatchWrite): BulkUpsertCall {
  return {
    index: LEEK_EVENTS_INDEX,
    scope: target.scope,
    docs: valid,
    options: {
      ...(refresh === false ? { refresh } : {}),
      also: (results) => {
        const writes = [{ index: LEEK_SUMMARY_INDEX, scope: target.scope, docs: summaryDeltas(results) }];
        if (dead.length > 0) writes.push({ index: LEEK_DEAD_LETTERS_INDEX, scope: target.scope, docs: dead });
        const notifications = notificationsFor(target, results);
        if (notifications.length > 0)
          writes.push({ index: LEEK_OUTBOX_INDEX, scope: LEEK_OUTBOX_SCOPE, docs: outboxEntries(notifications, now) });
        return writes;
      },
    },
  };
}

/** Writes one batch through `store`. */
export async function writeBatch(store: Store, job: BatchWrite): Promise<void> {
  const { index, scope, docs, options } = batchUpsert(job);
  await store.indexes.bulkUpsert(index, scope, docs, options);
}

/** Validates one batch and hands it to the writer; throws (nothing written) when the store fails. */
export async function ingestBatch(writer: BatchWriter, target: IngestTarget, body: unknown, now = Date.now()): Promise<IngestAnswer> {
  if (!Array.isArray(body)) throw new LeekError('invalid', 'The body must be a JSON array of task and worker documents');
  if (body.length === 0) return { success: 0 };
  const { valid, refused } = checkBatch(body);
  await writer.write({ target, valid, dead: deadLetters(refused, target.env, now), now });
  return {
    success: valid.length,
    rejected: refused.length,
    errors: refused.map((r) =>
      r.id === undefined ? { index: r.index, reason: r.reason } : { index: r.index, id: r.id, reason: r.reason },
    ),
  };
}
