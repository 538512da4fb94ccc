// The sqlite engine's background WAL checkpointer: a busy writer gets a thread that copies the WAL back into the
// database file; stores that write little never start one; close() stops it.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BACKGROUND_CHECKPOINT_AFTER_DOCS, type Doc, SqliteStore } from '../../src/index.js';
import { tempDir } from '../fixtures/engines.js';

const SPEC = { name: 'ckpt', fields: { n: 'number' as const } };
const docs = (from: number, count: number): Doc[] =>
  Array.from({ length: count }, (_, i) => ({ id: `d${from + i}`, n: from + i, pad: 'x'.repeat(200) }));

async function fill(store: SqliteStore, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) await store.indexes.bulkUpsert(SPEC.name, 's', docs(i, 1000));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Database file size: pages reach it only through checkpoints (automatic ones are off in these tests). */
const dbSize = (file: string) => statSync(file).size;

t.test('a busy writer’s WAL is checkpointed by the background thread', async (t) => {
  const file = join(tempDir(t, 'ckpt'), 'store.db');
  const store = SqliteStore.open({ file, walAutocheckpointPages: 0, backgroundCheckpointMs: 20 });
  t.teardown(() => store.close());
  await store.indexes.ensure(SPEC);
  const before = dbSize(file);
  await fill(store, BACKGROUND_CHECKPOINT_AFTER_DOCS + 1000);
  let after = dbSize(file);
  for (let i = 0; i < 100 && after <= before; i++) {
    await sleep(50);
    after = dbSize(file);
  }
  t.ok(after > before, `the database file grew from ${before} to ${after} bytes without automatic checkpoints`);
  t.equal(await store.indexes.count(SPEC.name, 's'), BACKGROUND_CHECKPOINT_AFTER_DOCS + 1000);
  await store.close();
  t.pass('close() stops the thread');
});

t.test('without the background thread (or before the threshold) nothing is checkpointed', async (t) => {
  for (const [name, options, count] of [
    ['turned off', { backgroundCheckpointMs: 0 }, BACKGROUND_CHECKPOINT_AFTER_DOCS + 1000],
    ['below the threshold', { backgroundCheckpointMs: 20 }, 2000],
  ] as const) {
    const file = join(tempDir(t, 'ckpt'), 'store.db');
    const store = SqliteStore.open({ file, walAutocheckpointPages: 0, ...options });
    await store.indexes.ensure(SPEC);
    const before = dbSize(file);
    await fill(store, count);
    await sleep(300);
    t.equal(dbSize(file), before, name);
    await store.close();
  }
});
