// Contract: collections — CRUD, revisions, optimistic concurrency, patchMany, list paging/where/sort, validation.
import t from 'tap';
import { forEachEngine, rejectsWith } from '../fixtures/engines.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);

t.test('collections contract', async (t) => {
  forEachEngine(t, 'collections', async (t, { store }) => {
    const c = store.collections;

    t.test('create sets revision 1 and epoch-second timestamps', async (t) => {
      const before = nowSeconds();
      const record = await c.create('alerts', { id: 'a1', name: 'CPU high', threshold: 90, nested: { x: [1, 2] } });
      const after = nowSeconds();
      t.equal(record.revision, 1);
      t.ok(Number.isInteger(record.created) && record.created >= before && record.created <= after, 'created is epoch seconds');
      t.equal(record.modified, record.created);
      t.same(await c.get('alerts', 'a1'), record, 'get returns what create returned');
    });

    t.test('create ignores bookkeeping fields from the caller', async (t) => {
      const record = await c.create('alerts', { id: 'a2', name: 'x', revision: 99, created: 1, modified: 2 });
      t.equal(record.revision, 1);
      t.not(record.created, 1);
      t.equal((await c.get('alerts', 'a2'))?.revision, 1);
    });

    t.test('create of an existing id is a conflict', async (t) => {
      await c.create('alerts', { id: 'dup', name: 'first' });
      await rejectsWith(t, c.create('alerts', { id: 'dup', name: 'second' }), 'conflict', /dup/);
      t.equal((await c.get('alerts', 'dup'))?.name, 'first', 'the first record is untouched');
    });

    t.test('get of a missing id is undefined', async (t) => {
      t.equal(await c.get('alerts', 'missing'), undefined);
      t.equal(await c.get('never_created', 'x'), undefined, 'also in a collection never written');
    });

    t.test('update shallow-merges and bumps revision and modified', async (t) => {
      await c.create('users', { id: 'u1', name: 'Ann', roles: ['admin'], prefs: { theme: 'dark', lang: 'en' } });
      const updated = await c.update('users', 'u1', { name: 'Anne', prefs: { theme: 'light' } });
      t.equal(updated.revision, 2);
      t.equal(updated.name, 'Anne');
      t.same(updated.roles, ['admin'], 'untouched fields stay');
      t.same(updated.prefs, { theme: 'light' }, 'merge is shallow: nested objects are replaced');
      t.ok(updated.modified >= updated.created);
      t.same(await c.get('users', 'u1'), updated);
    });

    t.test('update cannot change bookkeeping fields', async (t) => {
      const created = await c.create('users', { id: 'u2', name: 'Bo' });
      const updated = await c.update('users', 'u2', { id: 'other', revision: 50, created: 5, name: 'Bob' });
      t.equal(updated.id, 'u2');
      t.equal(updated.revision, 2);
      t.equal(updated.created, created.created);
      t.equal(await c.get('users', 'other'), undefined);
    });

    t.test('update with the expected revision succeeds, a stale one conflicts', async (t) => {
      await c.create('keys', { id: 'k1', label: 'one' });
      const second = await c.update('keys', 'k1', { label: 'two' }, { expectRevision: 1 });
      t.equal(second.revision, 2);
      await rejectsWith(t, c.update('keys', 'k1', { label: 'stale' }, { expectRevision: 1 }), 'conflict', /revision 2/);
      t.equal((await c.get('keys', 'k1'))?.label, 'two', 'the stale write was not applied');
      t.equal((await c.update('keys', 'k1', { label: 'three' }, { expectRevision: 2 })).revision, 3);
    });

    t.test('update of a missing id is notfound', async (t) => {
      await rejectsWith(t, c.update('keys', 'nope', { label: 'x' }), 'notfound', /nope/);
    });

    t.test('concurrent updates of one record all land', async (t) => {
      await c.create('counters', { id: 'c1', n: 0 });
      await Promise.all(Array.from({ length: 5 }, (_, i) => c.update('counters', 'c1', { [`f${i}`]: i })));
      const record = await c.get('counters', 'c1');
      t.equal(record?.revision, 6);
      t.same(
        [0, 1, 2, 3, 4].map((i) => record?.[`f${i}`]),
        [0, 1, 2, 3, 4],
      );
    });

    t.test('patchMany writes fields without bumping revision and skips missing ids', async (t) => {
      for (const id of ['p1', 'p2', 'p3']) await c.create('categories', { id, name: id, sort_order: 0 });
      const before = await c.get('categories', 'p1');
      const patched = await c.patchMany('categories', [
        { id: 'p1', fields: { sort_order: 3 } },
        { id: 'p3', fields: { sort_order: 1 } },
        { id: 'ghost', fields: { sort_order: 9 } },
      ]);
      t.equal(patched, 2);
      const p1 = await c.get('categories', 'p1');
      t.equal(p1?.sort_order, 3);
      t.equal(p1?.revision, before?.revision, 'revision unchanged');
      t.equal(p1?.name, 'p1', 'other fields kept');
      t.equal((await c.get('categories', 'p3'))?.sort_order, 1);
      t.equal(await c.get('categories', 'ghost'), undefined, 'missing ids are not created');
      t.equal(await c.patchMany('categories', []), 0);
    });

    t.test('delete returns true once, then false', async (t) => {
      await c.create('events', { id: 'e1' });
      t.equal(await c.delete('events', 'e1'), true);
      t.equal(await c.get('events', 'e1'), undefined);
      t.equal(await c.delete('events', 'e1'), false);
      t.equal(await c.delete('never_created', 'x'), false);
    });

    t.test('list: paging with total, default order by id', async (t) => {
      for (let i = 1; i <= 7; i++)
        await c.create('apps', { id: `app${i}`, name: `App ${i}`, tier: i % 2 === 0 ? 'even' : 'odd', weight: i * 10, active: i <= 3 });
      const all = await c.list('apps');
      t.equal(all.total, 7);
      t.same(
        all.rows.map((r) => r.id),
        ['app1', 'app2', 'app3', 'app4', 'app5', 'app6', 'app7'],
      );
      const page = await c.list('apps', { offset: 2, limit: 3 });
      t.equal(page.total, 7);
      t.same(
        page.rows.map((r) => r.id),
        ['app3', 'app4', 'app5'],
      );
      t.same((await c.list('apps', { offset: 10 })).rows, []);
      t.equal(all.rows[0]?.revision, 1, 'rows carry bookkeeping');
    });

    t.test('list: where on strings, numbers and booleans', async (t) => {
      const odd = await c.list('apps', { where: { tier: 'odd' } });
      t.same(
        odd.rows.map((r) => r.id),
        ['app1', 'app3', 'app5', 'app7'],
      );
      t.equal(odd.total, 4);
      t.same(
        (await c.list('apps', { where: { weight: 30 } })).rows.map((r) => r.id),
        ['app3'],
      );
      t.same(
        (await c.list('apps', { where: { active: true, tier: 'odd' } })).rows.map((r) => r.id),
        ['app1', 'app3'],
      );
      t.same(
        (await c.list('apps', { where: { id: 'app6' } })).rows.map((r) => r.id),
        ['app6'],
      );
      t.equal((await c.list('apps', { where: { tier: 'none' } })).total, 0);
    });

    t.test('list: sort desc, by several fields, missing last', async (t) => {
      t.same(
        (await c.list('apps', { sort: [{ field: 'weight', order: 'desc' }], limit: 3 })).rows.map((r) => r.id),
        ['app7', 'app6', 'app5'],
      );
      t.same(
        (
          await c.list('apps', {
            sort: [
              { field: 'tier', order: 'asc' },
              { field: 'weight', order: 'desc' },
            ],
          })
        ).rows.map((r) => r.id),
        ['app6', 'app4', 'app2', 'app7', 'app5', 'app3', 'app1'],
      );
      await c.create('apps', { id: 'app0', name: 'No weight', tier: 'odd' });
      t.same((await c.list('apps', { sort: [{ field: 'weight', order: 'asc' }] })).rows.map((r) => r.id).slice(-2), ['app7', 'app0']);
    });

    t.test('collections are separate namespaces', async (t) => {
      await c.create('ns_one', { id: 'same', v: 1 });
      await c.create('ns_two', { id: 'same', v: 2 });
      t.equal((await c.get('ns_one', 'same'))?.v, 1);
      t.equal((await c.get('ns_two', 'same'))?.v, 2);
      await c.delete('ns_one', 'same');
      t.equal((await c.get('ns_two', 'same'))?.v, 2);
      t.equal((await c.list('ns_two')).total, 1);
    });

    t.test('invalid names, ids and options are rejected', async (t) => {
      await rejectsWith(t, c.create('Bad-Name', { id: 'x' }), 'invalid', /Bad-Name/);
      await rejectsWith(t, c.get('alerts; DROP TABLE collections', 'x'), 'invalid', /DROP TABLE/);
      await rejectsWith(t, c.create('alerts', { id: '' }), 'invalid', /id/);
      await rejectsWith(t, c.create('alerts', { id: 'x'.repeat(600) }), 'invalid', /512 bytes/);
      await rejectsWith(t, c.list('apps', { where: { "x') OR 1=1 --": 'y' } }), 'invalid', /OR 1=1/);
      await rejectsWith(t, c.list('apps', { sort: [{ field: 'a b', order: 'asc' }] }), 'invalid', /a b/);
      await rejectsWith(t, c.list('apps', { limit: -1 }), 'invalid', /limit/);
    });
  });
});
