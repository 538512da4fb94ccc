import { readEventState } from '@shallot/core';
import t from 'tap';
import { crudTable, harness, userSession } from './crud-table.js';

const SCRIPT = '#!/bin/sh\necho hello\n';
const BASE = {
  title: 'Nightly',
  enabled: true,
  category: 'general',
  plugin: 'shellplug',
  targets: ['main'],
  algo: 'random',
  params: { script: SCRIPT },
};

crudTable(t, {
  singular: 'event',
  plural: 'events',
  create: BASE,
  update: { title: 'Nightly 2', algo: 'round_robin', notes: 'changed' },
  required: ['title', 'category', 'enabled'],
  wrongType: { category: 'no such', targets: 'main', algo: 'fastest', limits: [{ type: 'time' }], params: [1] },
  privileges: { create: 'create_events', edit: 'edit_events', delete: 'delete_events' },
  defaults: { limits: [], actions: [], triggers: [], icon: '' },
  updateReturnsRecord: true,
});

t.test('events: references, targets, algo and expression are checked', async (t) => {
  const h = await harness(t);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ category: 'nope' }, /Category not found/],
    [{ plugin: 'nope' }, /Plugin not found/],
    [{ plugin: 'open_files' }, /not an event plugin/],
    [{ targets: [] }, /targets/],
    [{ algo: 'fastest' }, /Unknown algo/],
    [{ expression: 'cpu >' }, /Syntax error/],
    [{ tags: ['no_such_tag'] }, /Tag not found/],
    [{ enabled: 'maybe' }, /enabled/],
  ];
  for (const [change, message] of bad) {
    const res = await h.api('create_event', { ...BASE, ...change });
    t.equal(res.body.code, 'api', JSON.stringify(change));
    t.match(res.body.description, message);
  }
  const { body } = await h.api('get_events', {});
  t.equal(body.list.length, 0, 'no partial write');
  const good = await h.api('create_event', { ...BASE, enabled: 1, algo: 'monitor:load_avg', tags: ['important'], expression: 'cpu < 50' });
  t.equal(good.body.code, 0, JSON.stringify(good.body));
  t.equal(good.body.event.enabled, true, 'numbers are stored as booleans');
});

t.test('events: plugin param rules, fields and overrides', async (t) => {
  const h = await harness(t);
  const missing = await h.api('create_event', { ...BASE, params: { script: '  ' } });
  t.equal(missing.body.code, 'api');
  t.match(missing.body.description, /required/);
  const override = await h.api('create_event', { ...BASE, params: { script: SCRIPT, _xy_override_command: 'rm -rf /' } });
  t.equal(override.body.code, 'api');
  t.match(override.body.description, /reserved/);
  const fieldClash = await h.api('create_event', { ...BASE, fields: [{ id: 'script', title: 'S', type: 'text' }] });
  t.equal(fieldClash.body.code, 'api');
  const fieldRegex = await h.api('create_event', {
    ...BASE,
    fields: [{ id: 'count', title: 'Count', type: 'text', regex: '^\\d+$' }],
    params: { script: SCRIPT, count: 'abc' },
  });
  t.equal(fieldRegex.body.code, 'api');
  t.match(fieldRegex.body.description, /pattern/);
  const ranged = await h.api('create_event', {
    ...BASE,
    fields: [{ id: 'n', title: 'N', type: 'text', variant: 'number', range: '1 - 10' }],
    params: { script: SCRIPT, n: 11 },
  });
  t.equal(ranged.body.code, 'api');

  // A non-admin cannot set the locked script: create gets the plugin default, update keeps the saved value.
  const user = await userSession(h, 'eventer', { privileges: { create_events: true, edit_events: true } });
  const created = await h.api('create_event', { ...BASE, params: { script: 'echo evil' } }, user);
  t.equal(created.body.code, 0, JSON.stringify(created.body));
  t.match(created.body.event.params.script, /^#!\/bin\/sh\n\n# Enter your shell script code here/);
  const adminSet = await h.api('update_event', { id: created.body.event.id, params: { script: SCRIPT } });
  t.equal(adminSet.body.event.params.script, SCRIPT);
  const userSet = await h.api('update_event', { id: created.body.event.id, params: { script: 'echo evil', annotate: true } }, user);
  t.equal(userSet.body.code, 0);
  t.equal(userSet.body.event.params.script, SCRIPT, 'locked param keeps the saved value');
  t.equal(userSet.body.event.params.annotate, true, 'unlocked params change');
});

t.test('events: limits and actions are validated; triggers stored loosely', async (t) => {
  const h = await harness(t);
  const badLimits = [
    [{ type: 'time', enabled: true, duration: -1 }],
    [{ type: 'bogus', enabled: true }],
    [{ type: 'queue', enabled: true, amount: 5 }],
    [{ type: 'day', enabled: true, condition: 'sometimes', amount: 1 }],
    [{ type: 'log', amount: 5 }],
  ];
  for (const limits of badLimits) {
    const res = await h.api('create_event', { ...BASE, limits });
    t.equal(res.body.code, 'api', JSON.stringify(limits));
  }
  const badActions = [
    [{ enabled: true, condition: 'error', type: 'email', users: [] }],
    [{ enabled: true, condition: 'alert_new', type: 'disable' }],
    [{ enabled: true, condition: 'error', type: 'run_event', event_id: 'missing_event' }],
  ];
  for (const actions of badActions) {
    const res = await h.api('create_event', { ...BASE, actions });
    t.equal(res.body.code, 'api', JSON.stringify(actions));
  }
  const badTriggers = [[{ type: 'manual' }], ['manual'], [{ enabled: true }]];
  for (const triggers of badTriggers) {
    const res = await h.api('create_event', { ...BASE, triggers });
    t.equal(res.body.code, 'api', JSON.stringify(triggers));
  }
  const good = await h.api('create_event', {
    ...BASE,
    limits: [
      { type: 'time', enabled: true, duration: 60 },
      { type: 'job', enabled: true, amount: 1 },
      { type: 'queue', enabled: true, amount: 10 },
      { type: 'retry', enabled: true, amount: 2, duration: 5 },
    ],
    actions: [
      { enabled: true, condition: 'error', type: 'email', users: ['admin'] },
      { enabled: true, condition: 'success', type: 'disable' },
    ],
    triggers: [
      { type: 'manual', enabled: true },
      { type: 'schedule', enabled: true, hours: [4], minutes: [0] },
    ],
  });
  t.equal(good.body.code, 0, JSON.stringify(good.body));
  t.equal(good.body.event.triggers[1].hours[0], 4);
});

t.test('events: workflows, update_state, history and scoping', async (t) => {
  const h = await harness(t);
  const wf = await h.api('create_event', {
    title: 'Flow',
    enabled: true,
    type: 'workflow',
    category: 'general',
    targets: ['main'],
    plugin: 'shellplug',
    workflow: { nodes: [], connections: [] },
  });
  t.equal(wf.body.code, 0, JSON.stringify(wf.body));
  t.equal(wf.body.event.plugin, '_workflow');
  t.same(wf.body.event.targets, []);
  const noGraph = await h.api('create_event', { title: 'Flow', enabled: true, type: 'workflow', category: 'general' });
  t.equal(noGraph.body.code, 'api');

  const ev = (await h.api('create_event', BASE)).body.event;
  const updated = await h.api('update_event', { id: ev.id, title: 'Renamed', update_state: { cursor: 1234 } });
  t.equal(updated.body.code, 0);
  t.notOk('update_state' in updated.body.event, 'update_state is not stored');
  t.same(await readEventState(h.ctx.redis, ev.id), { cursor: 1234 });

  const history = await h.api('get_event_history', { id: ev.id, limit: 10 });
  t.equal(history.body.code, 0);
  t.same(
    history.body.rows.map((r: { action: string }) => r.action),
    ['event_update', 'event_create'],
  );
  t.notOk('ip' in history.body.rows[0], 'ips are removed');
  t.notOk('headers' in history.body.rows[0], 'headers are removed');

  const got = await h.api('get_event', { id: ev.id });
  t.same(got.body.jobs, []);
  t.equal(got.body.queued, 0);

  // A category-restricted user sees only events of their categories.
  await h.api('create_category', { id: 'other', title: 'Other' });
  const hidden = (await h.api('create_event', { ...BASE, category: 'other' })).body.event;
  const limited = await userSession(h, 'limited', { categories: ['general'], privileges: { edit_events: true } });
  const seen = await h.api('get_events', {}, limited);
  t.ok(seen.body.rows.every((r: { category: string }) => r.category === 'general'));
  t.equal((await h.api('get_event', { id: hidden.id }, limited)).body.code, 'access');
  t.equal((await h.api('get_event_history', { id: hidden.id }, limited)).body.code, 'access');
  t.equal((await h.api('update_event', { id: ev.id, category: 'other' }, limited)).body.code, 'access', 'cannot move it out of scope');
  const groupLimited = await userSession(h, 'grouped', { groups: ['dev'] });
  t.equal((await h.api('get_event', { id: ev.id }, groupLimited)).body.code, 'access', 'target any-match');
  t.equal((await h.api('get_event', { id: wf.body.event.id }, groupLimited)).body.code, 0, 'workflows are exempt from targets');

  const deleted = await h.api('delete_event', { id: ev.id, delete_jobs: true });
  t.equal(deleted.body.code, 0);
  t.same(await readEventState(h.ctx.redis, ev.id), {}, 'state goes with the event');
});
