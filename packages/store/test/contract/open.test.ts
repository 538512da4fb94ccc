// Contract: opening a store — sqlite pragmas and migrations (idempotent, shared by several handles), ping/close.
import { join } from 'node:path';
import t from 'tap';
import { MIGRATIONS, SCHEMA_VERSION, SqliteStore, type Store, StoreError, openStore } from '../../src/index.js';
import { forEachEngine, rejectsWith } from '../fixtures/engines.js';

const SPEC = { name: 'notes', fields: { text: 'text', tag: 'keyword' }, hot: ['tag'] } as const;

t.test('open contract', async (t) => {
  forEachEngine(t, 'open', async (t, { engine, store, reopen, dir }) => {
    t.test('ping answers', async (t) => {
      await t.resolves(store.ping());
    });

    t.test('opening the same storage twice is idempotent and shares data', async (t) => {
      await store.collections.create('settings', { id: 'site', title: 'Shallot' });
      await store.indexes.ensure({ ...SPEC, hot: [...SPEC.hot] });
      await store.indexes.upsert('notes', 's', { id: 'n1', text: 'hello there', tag: 'a' });
      const second = await reopen();
      const third = await reopen();
      for (const other of [second, third]) {
        await other.indexes.ensure({ ...SPEC, hot: [...SPEC.hot] });
        t.equal((await other.collections.get('settings', 'site'))?.title, 'Shallot');
        t.equal(await other.indexes.count('notes', 's', { match: { field: 'text', query: 'hello' } }), 1);
      }
      if (engine === 'sqlite') {
        for (const handle of [store, second, third])
          t.equal((handle as SqliteStore).schemaVersion(), SCHEMA_VERSION, 'schema at the latest version');
        t.ok(
          MIGRATIONS.length >= 1 && MIGRATIONS.every((m, i) => i === 0 || m.version > (MIGRATIONS[i - 1]?.version ?? 0)),
          'migrations are ordered',
        );
      }
    });

    if (engine === 'sqlite') {
      t.test('sqlite: WAL, synchronous=NORMAL, busy_timeout', async (t) => {
        t.same((store as SqliteStore).settings(), { journalMode: 'wal', synchronous: 1, busyTimeout: 5000 });
      });

      t.test('sqlite: reopening a closed file keeps data and schema', async (t) => {
        const file = join(dir, 'reopen.db');
        const first = SqliteStore.open({ file });
        await first.collections.create('users', { id: 'u1', name: 'Ann' });
        await first.close();
        const again = SqliteStore.open({ file });
        t.teardown(() => again.close());
        t.equal(again.schemaVersion(), SCHEMA_VERSION);
        t.equal((await again.collections.get('users', 'u1'))?.name, 'Ann');
      });

      t.test('sqlite: a spec change adds hot columns and full text to existing documents', async (t) => {
        const file = join(dir, 'evolve.db');
        const s = SqliteStore.open({ file });
        t.teardown(() => s.close());
        await s.indexes.ensure({ name: 'evolving', fields: { kind: 'keyword' } });
        await s.indexes.bulkUpsert('evolving', 'x', [
          { id: '1', kind: 'a', size: 10, note: 'first note' },
          { id: '2', kind: 'b', size: 20, note: 'second note' },
        ]);
        await s.indexes.ensure({ name: 'evolving', fields: { kind: 'keyword', size: 'number', note: 'text' }, hot: ['kind', 'size'] });
        t.equal(await s.indexes.count('evolving', 'x', { range: { field: 'size', gte: 15 } }), 1, 'backfilled hot column');
        t.equal(await s.indexes.count('evolving', 'x', { match: { field: 'note', query: 'second' } }), 1, 'rebuilt full text');
        const other = SqliteStore.open({ file });
        await other.indexes.ensure({ name: 'evolving', fields: { kind: 'keyword', size: 'number', note: 'text' }, hot: ['kind', 'size'] });
        t.equal(
          await other.indexes.count('evolving', 'x', { term: { field: 'kind', value: 'a' } }),
          1,
          'another handle sees the new layout',
        );
        await other.close();
      });

      t.test('sqlite: a file from a newer schema is refused', async (t) => {
        const file = join(dir, 'future.db');
        const s = SqliteStore.open({ file });
        await s.close();
        const { default: Database } = await import('better-sqlite3');
        const raw = new Database(file);
        raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
        raw.close();
        t.throws(() => SqliteStore.open({ file }), { name: 'StoreError', kind: 'unsupported' });
      });

      t.test('sqlite: a closed store is unavailable', async (t) => {
        const s = SqliteStore.open({ file: join(dir, 'closed.db') });
        await s.close();
        await rejectsWith(t, s.ping(), 'unavailable');
        await rejectsWith(t, s.collections.get('users', 'u1'), 'unavailable');
      });
    }
  });

  t.test('openStore rejects unknown engines and bad options', async (t) => {
    await t.rejects(openStore({ engine: 'mysql' } as unknown as Parameters<typeof openStore>[0]), StoreError);
    await t.rejects(openStore({ engine: 'elasticsearch', url: 'http://127.0.0.1:9200', prefix: 'Bad Prefix' }), {
      name: 'StoreError',
      kind: 'invalid',
    });
  });

  t.test('an unreachable Elasticsearch is unavailable', async (t) => {
    const store: Store = await openStore({ engine: 'elasticsearch', url: 'http://127.0.0.1:1', requestTimeoutMs: 2000, maxRetries: 0 });
    t.teardown(() => store.close());
    await rejectsWith(t, store.ping(), 'unavailable', /ELASTICSEARCH_URL/);
    await rejectsWith(t, store.collections.get('users', 'u1'), 'unavailable');
  });
});
