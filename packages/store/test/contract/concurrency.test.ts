// Contract: two processes merging into the same ids never lose an update (sqlite: one file; Elasticsearch: one cluster).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { type IndexSpec, type StoreOptions, openStore } from '../../src/index.js';
import { forEachEngine } from '../fixtures/engines.js';
import { COUNTER_SPEC, counterMerge } from '../fixtures/merges.js';

const WORKER = fileURLToPath(new URL('../fixtures/merge-worker.ts', import.meta.url));
const IDS = ['j1', 'j2', 'j3', 'j4'];
const ROUNDS = 150;

/** Runs the worker under the same TypeScript loader as this test. */
function runWorker(options: StoreOptions, mode: 'single' | 'bulk'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, WORKER, JSON.stringify(options), JSON.stringify(IDS), String(ROUNDS), mode],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: process.env,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Each engine's half runs the full load: on a replicated 3-node cluster sharing a 2-core machine with the rest of the
// suite that takes longer than the suite's 180 s per file.
t.setTimeout(600_000);

t.test('concurrent writers contract', async (t) => {
  forEachEngine(t, 'concurrency', async (t, { engine, options, dir }) => {
    t.test('two processes merge-increment the same ids: final counts are exact', async (t) => {
      // sqlite: a file neither process has opened yet, so they also race to create and migrate it.
      const shared: StoreOptions = engine === 'sqlite' ? { engine: 'sqlite', file: join(dir, 'shared.db') } : options;
      const started = Date.now();
      const [a, b] = await Promise.all([runWorker(shared, 'single'), runWorker(shared, 'bulk')]);
      t.comment(`two writer processes, ${2 * ROUNDS * IDS.length} merges, took ${Date.now() - started} ms`);
      for (const [name, result] of [
        ['single-upsert worker', a],
        ['bulk worker', b],
      ] as const) {
        t.equal(result.code, 0, `${name} exits 0${result.code === 0 ? '' : `: ${result.stderr.slice(-2000)}`}`);
      }
      const store = await openStore(shared);
      t.teardown(() => store.close());
      store.registerMerge(counterMerge);
      await store.indexes.ensure(COUNTER_SPEC as IndexSpec);
      for (const id of IDS)
        t.equal((await store.indexes.get(COUNTER_SPEC.name, 'race', id))?.count, 2 * ROUNDS, `${id} counted every merge`);
      const agg = await store.indexes.search(COUNTER_SPEC.name, 'race', { aggs: { total: { sum: { field: 'count' } } } });
      t.same(agg.aggregations?.total, { value: 2 * ROUNDS * IDS.length });
    });
  });
});
