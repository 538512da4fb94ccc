/**
 * The definition-CRUD framework, table-driven over the sections built on it: the full lifecycle, bad input,
 * privileges (users and API keys), activity rows and the sections' own rules.
 */
import { ACTIVITY_INDEX } from '@shallot/core';
import t from 'tap';
import { type Harness, harness, makeKey, makeUser } from './helpers.js';

interface Section {
  singular: string;
  plural: string;
  type: string;
  prefix: string;
  privileges: { create: string; edit: string; delete: string };
  create: Record<string, unknown>;
  update: Record<string, unknown>;
  /** A field of `create` that `update` must leave alone. */
  untouched: string;
  wrongType: Record<string, unknown>;
  updateReturnsRecord?: boolean;
}

const SECTIONS: Section[] = [
  {
    singular: 'category',
    plural: 'categories',
    type: 'category',
    prefix: 'ca',
    privileges: { create: 'create_categories', edit: 'edit_categories', delete: 'delete_categories' },
    create: { title: 'Operations', color: 'blue', notes: 'Night jobs' },
    update: { title: 'Ops' },
    untouched: 'color',
    wrongType: { title: 'x', enabled: 'perhaps' },
  },
  {
    singular: 'tag',
    plural: 'tags',
    type: 'tag',
    prefix: 't',
    privileges: { create: 'create_tags', edit: 'edit_tags', delete: 'delete_tags' },
    create: { title: 'Important', icon: 'alert-rhombus' },
    update: { notes: 'Look at these first' },
    untouched: 'icon',
    wrongType: { title: { text: 'x' } },
  },
  {
    singular: 'role',
    plural: 'roles',
    type: 'role',
    prefix: 'r',
    privileges: { create: 'create_roles', edit: 'edit_roles', delete: 'delete_roles' },
    create: { title: 'Operators', privileges: { run_jobs: true } },
    update: { title: 'Night operators' },
    untouched: 'privileges',
    wrongType: { title: 'x', categories: 'general' },
  },
];

/** Activity rows of one action, about one record when `id` is given. */
async function activity(h: Harness, action: string, id?: string) {
  const must = [{ term: { field: 'action', value: action } }, ...(id ? [{ term: { field: 'keywords', value: id } }] : [])];
  const { hits } = await h.ctx.store.indexes.search(ACTIVITY_INDEX.name, '', { query: { bool: { must } } });
  return hits;
}

for (const s of SECTIONS) {
  t.test(s.plural, async (t) => {
    const h = await harness(t);
    await t.test(`${s.plural}: create → get → list → sparse update → get → delete → get`, async (t) => {
      const created = await h.api(`create_${s.singular}`, { ...s.create, username: 'mallory', revision: 99, created: 1 });
      t.equal(created.body.code, 0, JSON.stringify(created.body));
      const record = created.body[s.singular];
      t.match(record.id, new RegExp(`^${s.prefix}[a-z0-9]{${16 - s.prefix.length}}$`), 'generated id with the type prefix');
      t.equal(record.username, 'admin', 'username is the caller, not the client value');
      t.equal(record.revision, 1);
      t.equal(record.created, record.modified);
      t.not(record.created, 1, 'created is server-set');
      for (const [key, value] of Object.entries(s.create)) t.same(record[key], value, `${key} stored as sent`);

      const got = await h.api(`get_${s.singular}`, { id: record.id });
      t.same(got.body, { code: 0, [s.singular]: record });

      const list = await h.call({
        method: 'GET',
        url: `/api/app/get_${s.plural}/v1`,
        headers: { 'x-session-id': (h.admin as { session: string }).session },
      });
      t.equal(list.body.code, 0);
      t.ok(list.body.rows.some((r: { id: string }) => r.id === record.id));
      t.equal(list.body.list.length, list.body.rows.length);

      const updated = await h.api(`update_${s.singular}`, { id: record.id, ...s.update, revision: 50 });
      t.equal(updated.body.code, 0, JSON.stringify(updated.body));
      if (!s.updateReturnsRecord) t.same(updated.body, { code: 0 });
      const after = (await h.api(`get_${s.singular}`, { id: record.id })).body[s.singular];
      t.equal(after.revision, 2, 'revision bumped by one');
      t.ok(after.modified >= record.modified);
      t.equal(after.created, record.created);
      t.equal(after.username, 'admin');
      for (const [key, value] of Object.entries(s.update)) t.same(after[key], value, `${key} updated`);
      t.same(after[s.untouched], record[s.untouched], `${s.untouched} left intact`);

      const deleted = await h.api(`delete_${s.singular}`, { id: record.id });
      t.same(deleted.body, { code: 0 });
      const gone = await h.api(`get_${s.singular}`, { id: record.id });
      t.equal(gone.status, 404);
      t.equal(gone.body.code, s.singular);

      const rows = await activity(h, `${s.type}_create`, record.id);
      t.equal(rows.length, 1, 'one create activity');
      t.equal(rows[0]?.username, 'admin');
      t.same(rows[0]?.keywords, [record.id, 'admin', '127.0.0.1']);
      t.equal(rows[0]?.ip, '127.0.0.1');
      t.notOk((rows[0]?.headers as Record<string, string> | undefined)?.['x-session-id'], 'no credentials in the activity headers');
      t.equal((await activity(h, `${s.type}_update`, record.id)).length, 1);
      t.equal((await activity(h, `${s.type}_delete`, record.id)).length, 1);
    });

    await t.test(`${s.plural}: bad input is refused with api and writes nothing`, async (t) => {
      const before = (await h.api(`get_${s.plural}`, {})).body.list.length;
      const cases: Array<[string, Record<string, unknown>]> = [
        ['missing title', { ...s.create, title: undefined }],
        ['wrong type', { ...s.create, ...s.wrongType }],
        ['title with markup', { ...s.create, title: '<b>x</b>' }],
        ['bad icon', { ...s.create, icon: 'a b' }],
        ['bad client id', { ...s.create, id: 'Has Spaces' }],
        ['non-string id', { ...s.create, id: 12 }],
        ['prototype key', { ...s.create, constructor: 1 }],
        ['nested prototype key', { ...s.create, notes: 'x', extra: { toString: 1 } }],
      ];
      for (const [name, payload] of cases) {
        const res = await h.api(`create_${s.singular}`, payload);
        t.equal(res.body.code, 'api', `${name}: ${JSON.stringify(res.body)}`);
        t.equal(res.status, 400, name);
      }
      t.equal((await h.api(`get_${s.plural}`, {})).body.list.length, before, 'no partial writes');
      for (const name of [`get_${s.singular}`, `update_${s.singular}`, `delete_${s.singular}`]) {
        const missing = await h.api(name, { id: 'nope_not_here' });
        t.equal(missing.body.code, name === 'update_plugin' ? 'api' : s.singular, `${name} unknown id`);
        const noId = await h.api(name, {});
        t.equal(noId.body.code, 'api', `${name} without id`);
      }
    });

    await t.test(`${s.plural}: a client id is used, a duplicate answers code ${s.type} with HTTP 409`, async (t) => {
      const first = await h.api(`create_${s.singular}`, { ...s.create, id: `my_${s.singular}` });
      t.equal(first.body[s.singular].id, `my_${s.singular}`);
      const again = await h.api(`create_${s.singular}`, { ...s.create, id: `my_${s.singular}` });
      t.equal(again.body.code, s.type);
      t.equal(again.status, 409, "a duplicate id is the caller's fault: 409, not 500");
      const unversioned = await h.call({
        method: 'POST',
        url: `/api/app/create_${s.singular}`,
        headers: { 'x-session-id': (h.admin as { session: string }).session },
        payload: { ...s.create, id: `my_${s.singular}` },
      });
      t.equal(unversioned.status, 200, 'unversioned URLs answer errors with HTTP 200');
      t.equal(unversioned.body.code, s.type);
    });

    await t.test(`${s.plural}: privileges gate writes for users and API keys; reads need any caller`, async (t) => {
      await makeUser(h.ctx, 'reader');
      const reader = { session: await h.login('reader', 'user-password-1') };
      const readerKey = await makeKey(h.ctx, { privileges: {} });
      const { body } = await h.api(`create_${s.singular}`, { ...s.create, id: 'existing' });
      t.equal(body.code, 0);
      for (const auth of [reader, { key: readerKey.key }]) {
        t.equal((await h.api(`get_${s.plural}`, {}, auth)).body.code, 0, 'list');
        t.equal((await h.api(`get_${s.singular}`, { id: 'existing' }, auth)).body.code, 0, 'get');
        for (const [call, payload] of [
          [`create_${s.singular}`, s.create],
          [`update_${s.singular}`, { id: 'existing', ...s.update }],
          [`delete_${s.singular}`, { id: 'existing' }],
        ] as const) {
          const res = await h.api(call, payload, auth);
          t.equal(res.body.code, 'access', `${call}: ${res.body.description}`);
          t.equal(res.status, 403);
        }
      }
      const anonymous = await h.call({ method: 'POST', url: `/api/app/get_${s.plural}/v1`, payload: {} });
      t.equal(anonymous.body.code, 'session');

      await makeUser(h.ctx, 'writer', {
        privileges: { [s.privileges.create]: true, [s.privileges.edit]: true, [s.privileges.delete]: true },
      });
      const writer = { session: await h.login('writer', 'user-password-1') };
      const made = await h.api(`create_${s.singular}`, s.create, writer);
      t.equal(made.body.code, 0);
      t.equal(made.body[s.singular].username, 'writer');
      const key = await makeKey(h.ctx, { privileges: { [s.privileges.edit]: true } });
      t.equal((await h.api(`update_${s.singular}`, { id: made.body[s.singular].id, ...s.update }, { key: key.key })).body.code, 0);
      const stamped = await activity(h, `${s.type}_update`);
      t.ok(
        stamped.some((row) => row.username === key.id && row.api_key === key.id),
        'API keys are stamped with their id',
      );
      t.equal((await h.api(`delete_${s.singular}`, { id: made.body[s.singular].id }, { key: key.key })).body.code, 'access');
      t.equal((await h.api(`delete_${s.singular}`, { id: made.body[s.singular].id }, writer)).body.code, 0);
    });
  });
}

t.test('get_<plural> pages with offset and limit; list.length is the total before paging', async (t) => {
  const h = await harness(t);
  for (const id of ['important', 'flag']) t.equal((await h.api('delete_tag', { id })).body.code, 0, `seeded tag ${id} removed`);
  for (let i = 0; i < 5; i++) t.equal((await h.api('create_tag', { id: `tag_${i}`, title: `Tag ${i}` })).body.code, 0);
  const page = await h.call({
    method: 'GET',
    url: '/api/app/get_tags/v1?offset=1&limit=2',
    headers: { 'x-session-id': (h.admin as { session: string }).session },
  });
  t.same(
    page.body.rows.map((r: { id: string }) => r.id),
    ['tag_1', 'tag_2'],
  );
  t.equal(page.body.list.length, 5);
  t.equal((await h.api('get_tags', { limit: 0 })).body.code, 'api', 'limit must be positive');
});

t.test('categories: sort_order appended on create; multi_update_category touches only sort_order', async (t) => {
  const h = await harness(t);
  t.equal((await h.api('delete_category', { id: 'general' })).body.code, 0, 'seeded category removed');
  const ids: string[] = [];
  for (const title of ['A', 'B', 'C']) {
    const res = await h.api('create_category', { title, sort_order: 40 });
    ids.push(res.body.category.id);
    t.equal(res.body.category.sort_order, ids.length - 1, 'sort_order is server-set, at the end');
  }
  const before = (await h.api('get_category', { id: ids[0] })).body.category;
  const res = await h.api('multi_update_category', {
    items: [
      { id: ids[2], sort_order: 0 },
      { id: ids[0], sort_order: 1 },
      { id: ids[1], sort_order: 2 },
      { id: 'unknown_id', sort_order: 3 },
    ],
  });
  t.same(res.body, { code: 0 });
  const list = (await h.api('get_categories', {})).body.rows.map((r: { id: string }) => r.id);
  t.same(list, [ids[2], ids[0], ids[1]], 'listed in the new order');
  const after = (await h.api('get_category', { id: ids[0] })).body.category;
  t.equal(after.revision, before.revision, 'revision untouched');
  t.equal(after.modified, before.modified, 'modified untouched');
  t.equal(after.title, 'A');
  t.equal((await h.api('multi_update_category', { items: [] })).body.code, 'api', 'an empty list is refused');
  t.equal((await h.api('multi_update_category', { items: [{ id: ids[0], sort_order: 'x' }] })).body.code, 'api');
  const rows = await activity(h, 'category_multi_update');
  t.equal(rows.length, 1);
  t.same(rows[0]?.keys, ['sort_order']);
});

t.test('categories: a category-restricted caller sees and changes only its categories and cannot reorder', async (t) => {
  const h = await harness(t);
  for (const id of ['ops', 'dev', 'qa']) t.equal((await h.api('create_category', { id, title: id })).body.code, 0);
  const all = { create_categories: true, edit_categories: true, delete_categories: true };
  await makeUser(h.ctx, 'opsuser', { privileges: all, categories: ['ops', 'new_one'] });
  const ops = { session: await h.login('opsuser', 'user-password-1') };
  const key = await makeKey(h.ctx, { privileges: all, categories: ['ops'] });
  for (const auth of [ops, { key: key.key }]) {
    const list = await h.api('get_categories', {}, auth);
    t.same(
      list.body.rows.map((r: { id: string }) => r.id),
      ['ops'],
    );
    t.equal(list.body.list.length, 1, 'list.length counts only permitted items');
    t.equal((await h.api('get_category', { id: 'ops' }, auth)).body.code, 0);
    t.equal((await h.api('get_category', { id: 'dev' }, auth)).body.code, 'access');
    t.equal((await h.api('update_category', { id: 'dev', title: 'x' }, auth)).body.code, 'access');
    t.equal((await h.api('delete_category', { id: 'qa' }, auth)).body.code, 'access');
    t.equal((await h.api('create_category', { id: 'elsewhere', title: 'x' }, auth)).body.code, 'access');
    t.equal((await h.api('multi_update_category', { items: [{ id: 'ops', sort_order: 0 }] }, auth)).body.code, 'access');
  }
  t.equal((await h.api('create_category', { id: 'new_one', title: 'New' }, ops)).body.code, 0, 'may create a permitted id');
  t.equal((await h.api('get_category', { id: 'dev' })).body.category.title, 'dev', 'nothing changed');
  // A role with a category list restricts too (behaviour §3).
  t.equal(
    (await h.api('create_role', { id: 'devs', title: 'Devs', categories: ['dev'], privileges: { edit_categories: true } })).body.code,
    0,
  );
  await makeUser(h.ctx, 'devuser', { roles: ['devs'] });
  const dev = { session: await h.login('devuser', 'user-password-1') };
  t.same(
    (await h.api('get_categories', {}, dev)).body.rows.map((r: { id: string }) => r.id),
    ['dev'],
  );
  t.equal((await h.api('update_category', { id: 'dev', title: 'Dev' }, dev)).body.code, 0);
});

t.test('categories: a category used by an event cannot be deleted', async (t) => {
  const h = await harness(t);
  t.equal((await h.api('create_category', { id: 'busy', title: 'Busy' })).body.code, 0);
  await h.ctx.store.collections.create('events', { id: 'e1', title: 'Uses busy', category: 'busy' });
  const res = await h.api('delete_category', { id: 'busy' });
  t.equal(res.body.code, 'api');
  t.match(res.body.description, /still used by 1 event/);
  t.equal((await h.api('get_category', { id: 'busy' })).body.code, 0, 'still there');
  await h.ctx.store.collections.delete('events', 'e1');
  t.equal((await h.api('delete_category', { id: 'busy' })).body.code, 0);
});

t.test('tags: system tag ids (leading underscore) are refused on create', async (t) => {
  const h = await harness(t);
  const res = await h.api('create_tag', { id: '_success', title: 'Nope' });
  t.equal(res.body.code, 'api');
});

t.test('roles: privileges are stored as true only, defaults filled', async (t) => {
  const h = await harness(t);
  const res = await h.api('create_role', { title: 'Mixed', privileges: { run_jobs: true, abort_jobs: false, tag_jobs: 1 } });
  t.same(res.body.role.privileges, { run_jobs: true, tag_jobs: true });
  t.equal(res.body.role.enabled, true);
  t.same(res.body.role.categories, []);
  t.same(res.body.role.groups, []);
});

t.test('parameter hygiene: HTML stripped from notes; query and body merged with the body winning', async (t) => {
  const h = await harness(t);
  const res = await h.call({
    method: 'POST',
    url: '/api/app/create_tag/v1?title=FromQuery&icon=flag',
    headers: { 'x-session-id': (h.admin as { session: string }).session },
    payload: { title: 'FromBody', notes: 'see <script>alert(1)</script><b>this</b>' },
  });
  t.equal(res.body.code, 0);
  t.equal(res.body.tag.title, 'FromBody', 'body wins');
  t.equal(res.body.tag.icon, 'flag', 'query fills in');
  t.equal(res.body.tag.notes, 'see alert(1)this');
});
