/** watch_group and create_group_snapshot (seed 001 §Groups; behaviour §2 `create_snapshots`). */
import { ACTIVITY_INDEX } from '@shallot/core';
import t from 'tap';
import { groupWatchKey } from '../src/watches.js';
import { harness, makeKey, userSession } from './crud-table.js';
import { type Harness, authHeaders } from './helpers.js';

async function watchRows(h: Harness, id: string) {
  const must = [{ term: { field: 'action', value: 'group_watch' } }, { term: { field: 'keywords', value: id } }];
  return (await h.ctx.store.indexes.search(ACTIVITY_INDEX.name, '', { query: { bool: { must } } })).hits;
}

t.test('watch_group / create_group_snapshot', async (t) => {
  const h = await harness(t);
  const created = await h.api('create_group', { id: 'web', title: 'Web', hostname_match: '^web' });
  t.equal(created.body.code, 0, created.body.description);
  await h.api('create_group', { id: 'db', title: 'DB', hostname_match: '^db' });

  await t.test('watch_group stores the watch with a TTL, records activity, and 0 cancels it', async (t) => {
    const before = Math.floor(Date.now() / 1000);
    const res = await h.api('watch_group', { id: 'web', duration: 3600 });
    t.same(res.body, { code: 0 });
    const end = Number(await h.ctx.redis.client.get(groupWatchKey('web')));
    t.ok(end >= before + 3600 && end <= before + 3602, 'the end epoch is now + duration');
    const ttl = await h.ctx.redis.client.ttl(groupWatchKey('web'));
    t.ok(ttl > 3590 && ttl <= 3600, `the key expires with the watch (ttl ${ttl})`);
    const rows = await watchRows(h, 'web');
    t.equal(rows.length, 1, 'one group_watch activity row');
    t.equal(rows[0]?.username, 'admin');
    t.equal(rows[0]?.duration, 3600);
    t.equal((rows[0]?.group as { id?: string } | undefined)?.id, 'web');

    const cancel = await h.api('watch_group', { id: 'web', duration: 0 });
    t.same(cancel.body, { code: 0 });
    t.equal(await h.ctx.redis.client.get(groupWatchKey('web')), null, 'duration 0 cancels the watch');
    t.equal((await watchRows(h, 'web')).length, 2, 'the cancel is recorded too');

    const viaGet = await h.call({ method: 'GET', url: '/api/app/watch_group/v1?id=web&duration=60', headers: authHeaders(h.admin) });
    t.same(viaGet.body, { code: 0 }, 'GET with query parameters works');
    t.ok(await h.ctx.redis.client.get(groupWatchKey('web')));
  });

  await t.test('watch_group: unknown group, bad params', async (t) => {
    const unknown = await h.api('watch_group', { id: 'nope', duration: 60 });
    t.equal(unknown.status, 404);
    t.equal(unknown.body.code, 'group');
    t.equal(await h.ctx.redis.client.get(groupWatchKey('nope')), null, 'nothing stored for an unknown group');
    for (const payload of [
      { id: 'db' },
      { duration: 60 },
      { id: 'db', duration: -1 },
      { id: 'db', duration: 1.5 },
      { id: 'db', duration: 'long' },
      { id: 'db', duration: 10 ** 12 },
      { id: 'DB!', duration: 60 },
    ]) {
      const res = await h.api('watch_group', payload);
      t.equal(res.body.code, 'api', JSON.stringify(payload));
    }
    t.equal(await h.ctx.redis.client.get(groupWatchKey('db')), null, 'no partial write');
    t.equal((await watchRows(h, 'db')).length, 0);
  });

  await t.test('create_group_snapshot: no monitoring data yet; unknown group; bad params', async (t) => {
    const res = await h.api('create_group_snapshot', { group: 'web' });
    t.equal(res.body.code, 'server');
    t.equal(res.body.description, 'No monitoring data for group web yet: snapshots need servers reporting metrics');
    const unknown = await h.api('create_group_snapshot', { group: 'nope' });
    t.equal(unknown.body.code, 'group');
    for (const payload of [{}, { group: '' }, { group: 5 }, { id: 'web' }]) {
      t.equal((await h.api('create_group_snapshot', payload)).body.code, 'api', JSON.stringify(payload));
    }
  });

  await t.test('both need create_snapshots (user session and API key) and the group scope', async (t) => {
    const plain = await userSession(h, 'plain_watcher', { privileges: { edit_groups: true } });
    const key = { key: (await makeKey(h.ctx, { privileges: { edit_groups: true } })).key };
    for (const [auth, who] of [
      [plain, 'You do not have'],
      [key, 'API Key'],
    ] as const) {
      for (const [name, payload] of [
        ['watch_group', { id: 'db', duration: 60 }],
        ['create_group_snapshot', { group: 'db' }],
      ] as const) {
        const res = await h.api(name, payload, auth);
        t.equal(res.status, 403, `${name} by ${who}`);
        t.equal(res.body.code, 'access');
        t.match(res.body.description, who);
      }
    }
    t.equal(await h.ctx.redis.client.get(groupWatchKey('db')), null);

    const scoped = await userSession(h, 'web_watcher', { privileges: { create_snapshots: true }, groups: ['web'] });
    t.same((await h.api('watch_group', { id: 'web', duration: 120 }, scoped)).body, { code: 0 }, 'the privilege is enough in scope');
    const outside = await h.api('watch_group', { id: 'db', duration: 120 }, scoped);
    t.equal(outside.body.code, 'access', 'a group outside the caller scope is refused');
    t.equal(await h.ctx.redis.client.get(groupWatchKey('db')), null);
    t.equal((await h.api('create_group_snapshot', { group: 'db' }, scoped)).body.code, 'access');
    t.equal((await h.api('create_group_snapshot', { group: 'web' }, scoped)).body.code, 'server');

    const scopedKey = { key: (await makeKey(h.ctx, { privileges: { create_snapshots: true } })).key };
    t.same((await h.api('watch_group', { id: 'db', duration: 0 }, scopedKey)).body, { code: 0 }, 'an API key with the privilege works');
  });
});
