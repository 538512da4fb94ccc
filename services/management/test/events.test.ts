import { STATE_KEYS, readEventState } from '@shallot/core';
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

t.test('events: limits, actions and triggers are validated strictly', async (t) => {
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
  const badTriggers: Array<[unknown[], RegExp]> = [
    // The loose shape (type + enabled) is the request schema's; the strict one per type is checkEvent's.
    [[{ type: 'manual' }], /triggers\.0\.enabled/],
    [['manual'], /triggers\.0: Expected object/],
    [[{ enabled: true }], /triggers\.0\.type/],
    [[{ type: 'interval', enabled: true, duration: 60 }], /triggers\[0\] \(interval\)\/start/],
    [[{ type: 'hourly', enabled: true }], /unknown trigger type "hourly"/],
    [[{ type: 'schedule', enabled: true, hours: [25] }], /triggers\[0\] \(schedule\)\/hours\/0/],
    [[{ type: 'schedule', enabled: true, colour: 'red' }], /triggers\[0\] \(schedule\)/],
    [[{ type: 'schedule', enabled: true, timezone: 'Mars/Olympus' }], /unknown time zone/],
    [
      [
        { type: 'manual', enabled: true },
        { type: 'manual', enabled: true },
      ],
      /At most one enabled manual/,
    ],
    [
      [
        { type: 'interval', enabled: true, start: 1_700_000_000, duration: 60 },
        { type: 'precision', enabled: true, seconds: [5] },
      ],
      /interval trigger cannot be combined with an enabled precision/,
    ],
    [[{ type: 'blackout', enabled: true, start: 2000, end: 1000 }], /start must not be after end/],
  ];
  for (const [triggers, message] of badTriggers) {
    const res = await h.api('create_event', { ...BASE, triggers });
    t.equal(res.body.code, 'api', JSON.stringify(triggers));
    t.match(res.body.description, message, JSON.stringify(triggers));
    const fine = await h.api('create_event', { ...BASE, title: 'Fine' });
    const update = await h.api('update_event', { id: fine.body.event.id, triggers });
    t.equal(update.body.code, 'api', `update refuses ${JSON.stringify(triggers)}`);
    t.same((await h.api('get_event', { id: fine.body.event.id })).body.event.triggers, [], 'and writes nothing');
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
      { type: 'schedule', enabled: true, hours: [4], minutes: [0], timezone: 'America/New_York' },
      { type: 'single', enabled: true, epoch: 4_102_444_830 },
    ],
  });
  t.equal(good.body.code, 0, JSON.stringify(good.body));
  t.equal(good.body.event.triggers[1].hours[0], 4);
  t.equal(good.body.event.triggers[2].epoch, 4_102_444_800, 'a single epoch is floored to the minute');

  // next_runs: daily at 04:00 New York, the next five days' slots in order, 24 h apart except across a DST change.
  const got = await h.api('get_event', { id: good.body.event.id });
  const runs = got.body.next_runs as number[];
  t.equal(runs.length, 5, JSON.stringify(runs));
  const now = Date.now() / 1000;
  const first = runs[0] ?? 0;
  t.ok(first > now && first <= now + 86_400 + 3600, 'the first run is within a day');
  for (const run of runs) {
    const wall = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    t.equal(wall.format(run * 1000), '04:00', 'each run is 04:00 in New York');
  }
  t.same(
    [...runs].sort((a, b) => a - b),
    runs,
    'in order',
  );
  await h.api('update_event', { id: good.body.event.id, enabled: false });
  t.same((await h.api('get_event', { id: good.body.event.id })).body.next_runs, [], 'a disabled event has no next runs');
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
  t.equal(await h.ctx.redis.client.hget(STATE_KEYS.schedulerCursors, ev.id), '1200', 'the scheduler cursor moved, on its minute');
  t.equal(await h.ctx.redis.client.hget(STATE_KEYS.schedulerGenerations, ev.id), '1', 'replayed minutes are new claims');

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
