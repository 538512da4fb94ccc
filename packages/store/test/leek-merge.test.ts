// The Leek task and worker merges as pure functions: every worked case of leek-merge-rules §6.1/§6.2, redelivery,
// batches, history and counters, self references, and the shape of the Painless scripts.
import t from 'tap';
import {
  MAX_TASK_EVENTS,
  TASK_ERROR_FIELDS,
  TASK_INPUT_FIELDS,
  TASK_MERGE_PAINLESS,
  TASK_STATE_FIELDS,
  WORKER_MERGE_PAINLESS,
  WORKER_STATE_FIELDS,
  mergeTaskDocument,
  mergeWorkerDocument,
  taskMerge,
  workerMerge,
} from '../src/leek/index.js';
import type { Doc, MergeFn } from '../src/types.js';
import {
  ALL_TASK_STATES,
  ALL_WORKER_STATES,
  RETRY_LIFE,
  TASK_BASES,
  TASK_CASES,
  TASK_ID,
  WORKER_BASES,
  WORKER_CASES,
  errorFields,
  expectedAfter,
  label,
  ms,
  shuffled,
  task,
  typicalTask,
  withRedeliveries,
  worker,
} from './fixtures/leek-cases.js';

/** Frozen inputs make any mutation by a merge throw (ES modules run in strict mode). */
function frozen<T>(value: T): T {
  const copy = structuredClone(value);
  const freeze = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    Object.freeze(v);
    for (const inner of Object.values(v)) freeze(inner);
  };
  freeze(copy);
  return copy;
}

/** Applies documents in order; also reports which were merged (not skipped). */
function fold(merge: MergeFn, docs: readonly Doc[], start?: Doc): { doc: Doc | undefined; merged: boolean[] } {
  let doc = start;
  const merged: boolean[] = [];
  for (const incoming of docs) {
    const next = merge(doc === undefined ? undefined : frozen(doc), frozen(incoming));
    merged.push(next !== undefined);
    if (next !== undefined) doc = next;
  }
  return { doc, merged };
}

t.test('task merge: the worked cases of leek-merge-rules §6.1', async (t) => {
  for (const c of TASK_CASES) {
    t.test(`merge: ${c.name} (${c.row}, ${c.rule})`, async (t) => {
      if (c.deviation !== undefined) t.comment(`deliberate deviation from the table: ${c.deviation}`);
      const result = mergeTaskDocument(c.stored === undefined ? undefined : frozen(c.stored), frozen(c.incoming));
      t.strictSame(result, expectedAfter(c.stored, c.incoming, c.expect));
    });
  }
});

t.test('worker merge: the worked cases of leek-merge-rules §6.2', async (t) => {
  for (const c of WORKER_CASES) {
    t.test(`merge: ${c.name} (${c.row}, ${c.rule})`, async (t) => {
      const result = mergeWorkerDocument(c.stored === undefined ? undefined : frozen(c.stored), frozen(c.incoming));
      t.strictSame(result, expectedAfter(c.stored, c.incoming, c.expect));
    });
  }
});

t.test('merge: the same task document merged twice leaves the stored document as merging it once, for every state', async (t) => {
  const collapsed = TASK_CASES.filter((c) => Array.isArray(c.incoming.events) && c.incoming.events.length > 1).map((c) => c.incoming);
  const incomings = [...ALL_TASK_STATES.map((state) => typicalTask(state, 100.0)), ...collapsed];
  for (const incoming of incomings) {
    for (const base of TASK_BASES) {
      const once = mergeTaskDocument(base.stored === undefined ? undefined : frozen(base.stored), frozen(incoming));
      const stored = once ?? base.stored;
      if (stored === undefined) throw new Error('a first write must store something');
      const twice = mergeTaskDocument(frozen(stored), frozen(incoming));
      t.equal(twice, undefined, `${label(incoming)} (${(incoming.events as string[]).join('+')}) ${base.name}: the second merge is a skip`);
    }
  }
});

t.test('merge: the same worker document merged twice leaves the stored document as merging it once, for every state', async (t) => {
  for (const state of ALL_WORKER_STATES) {
    for (const base of WORKER_BASES) {
      const incoming = worker(state, 100.0, { processed: 5 }, 2);
      const once = mergeWorkerDocument(base.stored === undefined ? undefined : frozen(base.stored), frozen(incoming));
      const stored = once ?? base.stored;
      if (stored === undefined) throw new Error('a first write must store something');
      t.equal(mergeWorkerDocument(frozen(stored), frozen(incoming)), undefined, `${state} ${base.name}: the second merge is a skip`);
    }
  }
});

t.test('merge: a late worker document redelivered after other merges is skipped instead of counted again', async (t) => {
  const stored = worker('HEARTBEAT', 30.0, {}, 15);
  const online = worker('ONLINE', 0.5);
  const afterOnline = mergeWorkerDocument(stored, online);
  const afterHeartbeat = mergeWorkerDocument(afterOnline, worker('HEARTBEAT', 32.0, { processed: 3 }));
  t.equal(afterHeartbeat?.events_count, 17);
  t.equal(mergeWorkerDocument(afterHeartbeat, online), undefined, 'the stored online_at already holds it');
});

t.test('merge: redelivery after later events changes nothing and events_count counts distinct merged events', async (t) => {
  const inOrder = fold(mergeTaskDocument, RETRY_LIFE).doc;
  t.match(inOrder, {
    state: 'RECOVERED',
    retries: 1,
    client: 'c1',
    worker: 'w2',
    events: ['SUCCEEDED', 'STARTED', 'RECEIVED', 'RETRY', 'STARTED', 'RECEIVED', 'QUEUED'],
    events_count: 7,
  });
  t.notOk(inOrder !== undefined && 'root_id' in inOrder, 'root_id naming the task itself is gone');

  for (let seed = 1; seed <= 40; seed++) {
    const order = shuffled(RETRY_LIFE, seed);
    const once = fold(mergeTaskDocument, order);
    const delivered = withRedeliveries(order, seed);
    const redelivered = fold(mergeTaskDocument, delivered);
    t.strictSame(redelivered.doc, once.doc, `seed ${seed}: ${delivered.map(label).join(', ')}`);
    t.equal(once.doc?.events_count, once.merged.filter(Boolean).length, `seed ${seed}: events_count = documents merged`);
  }
});

t.test('merge: a terminal document redelivered after a later terminal one does not flip the state back', async (t) => {
  const succeeded = task('SUCCEEDED', 103.75, { result: 'ok' });
  const failed = task('FAILED', 102.0, { exception: 'E' });
  const { doc } = fold(mergeTaskDocument, [task('STARTED', 101.0), succeeded, failed]);
  t.equal(doc?.state, 'FAILED', 'the last terminal to arrive wins (R1)');
  t.equal(mergeTaskDocument(doc, succeeded), undefined, 'the redelivered SUCCEEDED is skipped');
});

t.test('merge: the same task twice in one batch is merged in sequence', async (t) => {
  const queued = task('QUEUED', 100.0, { queue: 'q1', client: 'c1' });
  const received = task('RECEIVED', 100.5, { name: 'a.b', args: '(1,)', retries: 0, worker: 'w1' });
  const started = task('STARTED', 101.0, { worker: 'w1' });

  t.test('in arrival order: each document copied in turn', async (t) => {
    const afterReceived = expectedAfter(queued, received, { copy: 'all', events: ['RECEIVED', 'QUEUED'], events_count: 2 });
    const expected = expectedAfter(afterReceived, started, { copy: 'all', events: ['STARTED', 'RECEIVED', 'QUEUED'], events_count: 3 });
    t.strictSame(fold(mergeTaskDocument, [received, started], queued).doc, expected);
  });

  t.test('out of order inside the batch: the older RECEIVED only adds its own and the input fields', async (t) => {
    const afterStarted = expectedAfter(queued, started, { copy: 'all', events: ['STARTED', 'QUEUED'], events_count: 2 });
    const expected = expectedAfter(afterStarted, received, {
      copy: ['received_at', 'name', 'args', 'retries'],
      events: ['RECEIVED', 'STARTED', 'QUEUED'],
      events_count: 3,
    });
    t.strictSame(fold(mergeTaskDocument, [started, received], queued).doc, expected);
  });

  t.test('the same document twice in one batch counts once', async (t) => {
    t.strictSame(fold(mergeTaskDocument, [received, received], queued).doc, fold(mergeTaskDocument, [received], queued).doc);
    t.strictSame(fold(mergeTaskDocument, [started, started]).doc, fold(mergeTaskDocument, [started]).doc, 'also on first write');
    const w = [worker('HEARTBEAT', 30.0, { processed: 3 }, 4), worker('HEARTBEAT', 30.0, { processed: 3 }, 4)];
    t.strictSame(fold(mergeWorkerDocument, w).doc?.events_count, 4, 'workers too');
  });
});

t.test('merge: events keep the newest 21 states and events_count keeps counting', async (t) => {
  const docs = Array.from({ length: 30 }, (_, i) => task(i % 2 === 0 ? 'STARTED' : 'RETRY', 100 + i));
  const { doc } = fold(mergeTaskDocument, docs);
  const newestFirst = docs.map((d) => d.state).reverse();
  t.equal(MAX_TASK_EVENTS, 21);
  t.strictSame(doc?.events, newestFirst.slice(0, 21));
  t.equal(doc?.events_count, 30);

  const long = task(
    'RETRY',
    100,
    {},
    Array.from({ length: 25 }, (_, i) => (i % 2 === 0 ? 'RETRY' : 'STARTED')),
    25,
  );
  const first = mergeTaskDocument(undefined, long);
  t.equal((first?.events as unknown[] | undefined)?.length, 21, 'a first write is capped too');
  t.equal(first?.events_count, 25, 'its count is kept');
});

t.test('merge: events_count adds the counts of collapsed documents and not of skipped ones', async (t) => {
  const collapsed = task('STARTED', 101.0, { received_at: ms(100.5) }, ['STARTED', 'RECEIVED', 'QUEUED'], 3);
  const later = task('RETRY', 102.0, {}, ['RETRY', 'STARTED'], 2);
  const older = task('RETRY', 101.5);
  const { doc, merged } = fold(mergeTaskDocument, [collapsed, later, older]);
  t.strictSame(merged, [true, true, false], 'the older RETRY on a RETRY task is skipped (R3b)');
  t.equal(doc?.events_count, 5);
  t.strictSame(doc?.events, ['RETRY', 'STARTED', 'STARTED', 'RECEIVED', 'QUEUED']);

  const { events_count: _, ...uncounted } = task('STARTED', 101.0);
  t.equal(mergeTaskDocument(uncounted as Doc, task('SUCCEEDED', 102.0))?.events_count, 1, 'a missing count counts 0');
});

t.test('merge: root_id and parent_id naming the task itself are removed on every write', async (t) => {
  const first = mergeTaskDocument(undefined, task('QUEUED', 100.0, { root_id: TASK_ID, parent_id: TASK_ID }));
  t.notOk(first !== undefined && ('root_id' in first || 'parent_id' in first), 'first write (R0)');

  const kept = mergeTaskDocument(undefined, task('QUEUED', 100.0, { root_id: 'r0', parent_id: 'p0' }));
  t.match(kept, { root_id: 'r0', parent_id: 'p0' }, 'other tasks as root and parent are kept');

  const late = mergeTaskDocument(task('SUCCEEDED', 103.0), task('RECEIVED', 100.5, { root_id: TASK_ID, parent_id: 'p0' }));
  t.notOk(late !== undefined && 'root_id' in late, 'late RECEIVED on a finished task (R2)');
  t.equal(late?.parent_id, 'p0');

  const outOfOrder = mergeTaskDocument(task('STARTED', 101.0), task('RECEIVED', 100.5, { root_id: TASK_ID, parent_id: TASK_ID }));
  t.notOk(outOfOrder !== undefined && ('root_id' in outOfOrder || 'parent_id' in outOfOrder), 'out-of-order RECEIVED (R3c)');
});

t.test('merge: an event older than one the task already recorded for its state is skipped', async (t) => {
  t.comment("deliberate deviation: the rules (R2/R3c) would let the old event overwrite the newer one's fields");
  const { doc: recovered } = fold(
    mergeTaskDocument,
    RETRY_LIFE.filter((d) => d !== RETRY_LIFE[1]),
  );
  const oldReceived = RETRY_LIFE[1] as Doc;
  t.equal(recovered?.state, 'RECOVERED');
  t.equal(mergeTaskDocument(recovered, oldReceived), undefined, "the first cycle's RECEIVED (retries 0) on the finished task (R2)");
  const { doc: running } = fold(
    mergeTaskDocument,
    RETRY_LIFE.slice(0, 6).filter((d) => d !== RETRY_LIFE[1]),
  );
  t.equal(running?.state, 'STARTED');
  t.equal(mergeTaskDocument(running, oldReceived), undefined, "the first cycle's RECEIVED on the second cycle's STARTED (R3c)");
  const heartbeat = worker('HEARTBEAT', 60.0, { processed: 59 });
  t.equal(
    mergeWorkerDocument(worker('OFFLINE', 90.0, { last_heartbeat_at: ms(61.0) }), heartbeat),
    undefined,
    'a worker heartbeat older than the recorded one (W3)',
  );
  t.not(mergeWorkerDocument(worker('OFFLINE', 90.0, { last_heartbeat_at: ms(30.0) }), heartbeat), undefined, 'a newer one is merged (W3)');
});

t.test('merge: null fields count as absent', async (t) => {
  const first = mergeTaskDocument(undefined, task('QUEUED', 100.0, { eta: null, expires: undefined }));
  t.notOk(first !== undefined && ('eta' in first || 'expires' in first), 'a first write drops them');
  const failed = mergeTaskDocument(
    task('SUCCEEDED', 103.0, { result: 'ok' }),
    task('FAILED', 104.0, { result: null, ...errorFields('E') }),
  );
  t.equal(failed?.result, 'ok', 'copy-all does not erase with a null');
  const late = mergeTaskDocument(task('SUCCEEDED', 103.0, { name: 'a.b' }), task('RECEIVED', 100.5, { name: null }));
  t.equal(late?.name, 'a.b', 'nor does a late event');
});

t.test('merge: a document of an unknown state copies no state fields but is counted', async (t) => {
  for (const state of ['LOST', 'constructor', 'toString']) {
    const late = mergeTaskDocument(task('STARTED', 101.0), task(state, 100.0, { name: 'x', started_at: 1 }));
    t.match(late, { state: 'STARTED', events: [state, 'STARTED'], events_count: 2 }, `task ${state} (R3c)`);
    t.notOk(late !== undefined && 'name' in late);
    const w = mergeWorkerDocument(worker('ONLINE', 101.0), worker(state, 100.0, { online_at: 5 }));
    t.match(w, { state: 'ONLINE', online_at: ms(101.0), events_count: 2 }, `worker ${state} (W3)`);
  }
});

t.test('merge: the field groups are those of leek-merge-rules §2', async (t) => {
  t.strictSame(TASK_ERROR_FIELDS, ['exception', 'traceback', 'lang', 'error', 'stack', 'trace']);
  t.strictSame(TASK_INPUT_FIELDS, [
    'name',
    'name_parts',
    'args',
    'kwargs',
    'root_id',
    'parent_id',
    'eta',
    'expires',
    'retries',
    ...Array.from({ length: 10 }, (_, i) => `args_${i}`),
    'kwargs_flattened',
  ]);
  t.notOk(Object.values(TASK_STATE_FIELDS).flat().includes('worker'), '`worker` is in no conflict-resolution set');
  t.strictSame(Object.keys(WORKER_STATE_FIELDS), ['ONLINE', 'HEARTBEAT', 'OFFLINE']);
});

/** Brackets balance outside string literals: a cheap guard against a broken script template. */
function unbalanced(source: string): string | undefined {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] as string;
    if (quote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) return `unexpected ${ch} at ${i}`;
  }
  return stack.length > 0 || quote !== undefined ? 'unclosed bracket or string' : undefined;
}

t.test('merge definitions: names, JS functions and Painless scripts', async (t) => {
  t.equal(taskMerge.name, 'leek_task');
  t.equal(workerMerge.name, 'leek_worker');
  t.equal(taskMerge.js, mergeTaskDocument);
  t.equal(workerMerge.js, mergeWorkerDocument);
  for (const [name, source, fields] of [
    ['task', TASK_MERGE_PAINLESS, [...Object.values(TASK_STATE_FIELDS).flat(), ...TASK_INPUT_FIELDS, ...TASK_ERROR_FIELDS]],
    ['worker', WORKER_MERGE_PAINLESS, Object.values(WORKER_STATE_FIELDS).flat()],
  ] as const) {
    t.equal(unbalanced(source), undefined, `${name}: brackets and strings balance`);
    t.notMatch(source, /\$\{|`|undefined/, `${name}: no template leftovers`);
    t.match(source, /ctx\.op = 'noop'/, `${name}: skips are no-ops`);
    t.match(source, /params\.incoming/);
    t.match(source, /ctx\._source/);
    t.match(source, /isStale\(s, c, TIME\)/, `${name}: checks redelivery`);
    for (const field of fields) t.ok(source.includes(`"${field}"`), `${name}: lists ${field}`);
  }
});
