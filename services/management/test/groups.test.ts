import t from 'tap';
import { crudTable, harness, userSession } from './crud-table.js';

const PRIVS = { create_groups: true, edit_groups: true, delete_groups: true };

crudTable(t, {
  singular: 'group',
  plural: 'groups',
  create: { title: 'Main Group', hostname_match: '.+', notes: 'Primary workers' },
  update: { title: 'Main Group (prod)', hostname_match: '^prod-\\w+$' },
  required: ['title', 'hostname_match'],
  wrongType: {
    hostname_match: '(unclosed',
    alert_actions: [{ enabled: true, condition: 'error', type: 'snapshot' }],
    max_jobs_per_server: 'many',
    title: 'a <b> title',
  },
  privileges: { create: 'create_groups', edit: 'edit_groups', delete: 'delete_groups' },
  defaults: { icon: '', alert_actions: [], max_jobs_per_server: 0 },
});

t.test('groups: sort_order is appended; multi_update_group reorders without bumping revisions', async (t) => {
  const h = await harness(t);
  const ids: string[] = [];
  for (const title of ['A', 'B', 'C']) {
    const { body } = await h.api('create_group', { title, hostname_match: '' });
    ids.push(body.group.id);
  }
  // Appended after whatever exists (the seeded "main" group included).
  const rows0 = (await h.api('get_groups', {})).body.rows as Array<{ id: string; sort_order: number }>;
  const mine = ids.map((id) => rows0.find((r) => r.id === id)?.sort_order ?? -1);
  const top = Math.max(...rows0.filter((r) => !ids.includes(r.id)).map((r) => r.sort_order), -1);
  t.same(mine, [top + 1, top + 2, top + 3]);
  const res = await h.api('multi_update_group', {
    items: [
      { id: ids[2], sort_order: 100 },
      { id: ids[0], sort_order: 101 },
      { id: ids[1], sort_order: 102 },
      { id: 'unknown_group', sort_order: 103 },
    ],
  });
  t.same(res.body, { code: 0 });
  const rows = ((await h.api('get_groups', {})).body.rows as Array<{ id: string; revision: number }>).filter((r) => ids.includes(r.id));
  t.same(
    rows.map((r) => r.id),
    [ids[2], ids[0], ids[1]],
    'the list is in the new order',
  );
  t.ok(rows.every((r) => r.revision === 1));
  t.equal((await h.api('multi_update_group', { items: [] })).body.code, 'api', 'an empty list is refused');
  const alias = await h.api('multi_update_groups', { items: ids.map((id, i) => ({ id, sort_order: 300 + i })) });
  t.same(alias.body, { code: 0 }, 'the plural spelling works too');
  const again = ((await h.api('get_groups', {})).body.rows as Array<{ id: string }>).filter((r) => ids.includes(r.id));
  t.same(
    again.map((r) => r.id),
    ids,
  );
});

t.test('groups: group alert actions are validated as alert actions', async (t) => {
  const h = await harness(t);
  const good = await h.api('create_group', {
    title: 'G',
    hostname_match: '.+',
    alert_actions: [{ enabled: true, condition: 'alert_new', type: 'email', users: ['admin'] }],
  });
  t.equal(good.body.code, 0);
  for (const action of [
    { enabled: true, condition: 'alert_new', type: 'disable' },
    { enabled: true, condition: 'alert_new', type: 'email', users: [] },
    { enabled: true, condition: 'alert_new', type: 'run_event', event_id: 'no_such_event' },
    { condition: 'alert_new', type: 'snapshot' },
    { enabled: true, condition: 'alert_new', type: 'explode' },
  ]) {
    const res = await h.api('create_group', { title: 'G', hostname_match: '.+', alert_actions: [action] });
    t.equal(res.body.code, 'api', res.body.description);
  }
});

t.test('groups: a group-restricted caller sees and changes only its groups, and cannot reorder', async (t) => {
  const h = await harness(t);
  await h.api('create_group', { id: 'alpha', title: 'Alpha', hostname_match: '.+' });
  await h.api('create_group', { id: 'other', title: 'Other', hostname_match: '' });
  const limited = await userSession(h, 'limited', { privileges: PRIVS, groups: ['alpha', 'mine'] });
  const rows = (await h.api('get_groups', {}, limited)).body.rows as Array<{ id: string }>;
  t.same(
    rows.map((r) => r.id),
    ['alpha'],
  );
  t.equal((await h.api('get_group', { id: 'other' }, limited)).body.code, 'access');
  t.equal((await h.api('update_group', { id: 'other', title: 'Mine now' }, limited)).body.code, 'access');
  t.equal((await h.api('delete_group', { id: 'other' }, limited)).body.code, 'access');
  t.equal((await h.api('update_group', { id: 'alpha', title: 'Alpha 2' }, limited)).body.code, 0);
  t.equal((await h.api('create_group', { id: 'elsewhere', title: 'E', hostname_match: '' }, limited)).body.code, 'access');
  t.equal((await h.api('create_group', { id: 'mine', title: 'Mine', hostname_match: '' }, limited)).body.code, 0);
  const reorder = await h.api('multi_update_group', { items: [{ id: 'alpha', sort_order: 5 }] }, limited);
  t.equal(reorder.body.code, 'access');
  t.equal((await h.api('multi_update_groups', { items: [{ id: 'alpha', sort_order: 5 }] }, limited)).body.code, 'access');
  t.equal((await h.api('get_group', { id: 'other' })).body.group.title, 'Other', 'untouched');
});
