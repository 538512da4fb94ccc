/** First-run seed (behaviour §14): every default record exists, passes its section's rules, and is created once. */
import { API } from '@shallot/schemas';
import { Value } from '@sinclair/typebox/value';
import t from 'tap';
import { SEED_DATA } from '../src/seed-data.js';
import { seedDefaults } from '../src/seed.js';
import { harness } from './helpers.js';

const BOOKKEEPING = new Set(['id', 'username', 'created', 'modified', 'revision']);

t.test('a fresh install has the default records of behaviour §14', async (t) => {
  const h = await harness(t);
  const count = async (collection: string) => (await h.ctx.store.collections.list(collection)).total;
  t.equal(await count('roles'), 1);
  t.equal(await count('groups'), 1);
  t.equal(await count('plugins'), 6);
  t.equal(await count('categories'), 1);
  t.equal(await count('channels'), 1);
  t.equal(await count('web_hooks'), 1);
  t.equal(await count('tags'), 2);
  t.equal(await count('monitors'), 15);
  t.equal(await count('alerts'), 5);

  const role = await h.api('get_role', { id: 'all' });
  t.same(role.body.role.privileges, { create_events: true, edit_events: true, run_jobs: true, tag_jobs: true });
  t.equal(role.body.role.username, 'admin');
  const monitors = await h.api('get_monitors', {});
  t.same(
    monitors.body.rows.map((m: { sort_order: number }) => m.sort_order),
    [...Array(15).keys()],
  );
  const shell = (await h.api('get_plugin', { id: 'shellplug' })).body.plugin;
  t.same(
    shell.params.map((p: { id: string; locked?: boolean }) => [p.id, p.locked ?? false]),
    [
      ['script', true],
      ['annotate', false],
    ],
  );
  const alert = (await h.api('get_alert', { id: 'active_jobs_high' })).body.alert;
  t.equal(alert.limit_jobs, true);
  t.equal(alert.abort_jobs, false);
  const { total } = await h.ctx.store.indexes.search('activity', '', { query: { term: { field: 'action', value: 'monitor_create' } } });
  t.equal(total, 15, 'seeding logs creation activities');
});

t.test('every seeded record satisfies its section schema and survives an update through the API', async (t) => {
  const h = await harness(t);
  for (const { collection, type, records } of SEED_DATA) {
    const create = API.find((d) => d.namespace === 'app' && d.name === `create_${type}`);
    t.ok(create?.params, `create_${type} exists`);
    for (const record of records) {
      const fields = Object.fromEntries(Object.entries(record).filter(([k]) => !BOOKKEEPING.has(k)));
      if (create?.params) {
        const errors = [...Value.Errors(create.params, fields)].map((e) => `${e.path}: ${e.message}`);
        t.same(errors, [], `${collection}/${record.id} matches create_${type}`);
      }
      // The section's own validate hook runs on the merged record: a no-op update must pass it.
      const res = await h.api(`update_${type}`, { id: record.id, title: record.title });
      t.equal(res.body.code, 0, `update_${type} ${record.id}: ${res.body.description ?? ''}`);
    }
  }
});

t.test('seeding is idempotent and does not bring back what an administrator deleted', async (t) => {
  const h = await harness(t);
  t.equal(await seedDefaults(h.ctx), 0, 'a second start creates nothing');
  t.equal((await h.api('delete_tag', { id: 'flag' })).body.code, 0);
  t.equal(await seedDefaults(h.ctx), 0);
  t.equal((await h.api('get_tag', { id: 'flag' })).body.code, 'tag', 'stays deleted');
});
