import t from 'tap';
import { crudTable, harness, userSession } from './crud-table.js';

const PRIVS = { create_alerts: true, edit_alerts: true, delete_alerts: true };

crudTable(t, {
  singular: 'alert',
  plural: 'alerts',
  create: {
    title: 'High CPU Load',
    expression: 'monitors.load_avg >= (cpu.cores + 1)',
    message: 'CPU load average is too high: {{float(monitors.load_avg)}} ({{cpu.cores}} CPU cores)',
    monitor_id: 'load_avg',
    samples: 1,
  },
  update: { title: 'Very High CPU Load', expression: 'monitors.load_avg >= (cpu.cores * 2)' },
  required: ['title', 'expression'],
  wrongType: {
    expression: 'monitors.load_avg >=',
    message: 'Load {{ float( }}',
    samples: 0,
    actions: [{ enabled: true, condition: 'error', type: 'snapshot' }],
    groups: 'main',
  },
  privileges: { create: 'create_alerts', edit: 'edit_alerts', delete: 'delete_alerts' },
  defaults: { enabled: true, groups: [], actions: [], exclusive_actions: false, limit_jobs: false, abort_jobs: false },
});

t.test('alerts: actions must be alert actions that point at real records', async (t) => {
  const h = await harness(t);
  const base = { title: 'A', expression: 'monitors.io_wait >= 75', message: '' };
  const good = await h.api('create_alert', {
    ...base,
    actions: [
      { enabled: true, condition: 'alert_new', type: 'email', users: ['admin'], email: 'ops@example.com' },
      { enabled: true, condition: 'alert_cleared', type: 'web_hook', web_hook: 'example_hook' },
      { enabled: false, condition: 'alert_new', type: 'snapshot' },
    ],
  });
  t.equal(good.body.code, 0, good.body.description);
  const plugin = (await h.api('create_plugin', { title: 'Job plugin', type: 'event', command: 'x' })).body.plugin;
  for (const action of [
    { enabled: true, condition: 'alert_new', type: 'store', bucket_id: 'b', bucket_sync: 'data' },
    { enabled: true, condition: 'alert_new', type: 'plugin', plugin_id: plugin.id },
    { enabled: true, condition: 'alert_new', type: 'plugin', plugin_id: 'missing_plugin' },
    { enabled: true, condition: 'alert_new', type: 'ticket', ticket_type: 'bogus', ticket_assignees: [], ticket_tags: [] },
    { enabled: true, condition: 'tag:x', type: 'snapshot' },
  ]) {
    const res = await h.api('create_alert', { ...base, actions: [action] });
    t.equal(res.body.code, 'api', res.body.description);
  }
  const actionPlugin = (await h.api('create_plugin', { title: 'Action plugin', type: 'action', command: 'x' })).body.plugin;
  const ok = await h.api('create_alert', {
    ...base,
    actions: [{ enabled: true, condition: 'alert_new', type: 'plugin', plugin_id: actionPlugin.id }],
  });
  t.equal(ok.body.code, 0);
});

t.test('alerts: test_alert compiles first, then needs server data', async (t) => {
  const h = await harness(t);
  t.equal((await h.api('test_alert', { server: 's1', expression: 'x >', message: '' })).body.code, 'api');
  t.equal((await h.api('test_alert', { server: 's1', expression: 'x > 1', message: '{{ nope( }}' })).body.code, 'api');
  const res = await h.api('test_alert', { server: 's1', expression: 'monitors.load_avg > 1', message: 'Load {{monitors.load_avg}}' });
  t.equal(res.body.code, 'server');
  t.equal((await h.api('test_alert', { expression: 'x > 1', message: '' })).body.code, 'api', 'server is required');
});

t.test('alerts: group-limited callers may read but not manage alerts (code alert)', async (t) => {
  const h = await harness(t);
  const existing = (await h.api('create_alert', { title: 'A', expression: 'jobs > 50', message: '' })).body.alert;
  const limited = await userSession(h, 'limited', { privileges: PRIVS, groups: ['main'] });
  t.equal((await h.api('get_alert', { id: existing.id }, limited)).body.code, 0);
  for (const [name, payload] of [
    ['create_alert', { title: 'B', expression: 'jobs > 1', message: '' }],
    ['update_alert', { id: existing.id, title: 'X' }],
    ['delete_alert', { id: existing.id }],
    ['test_alert', { server: 's1', expression: 'jobs > 1', message: '' }],
  ] as const) {
    const res = await h.api(name, payload, limited);
    t.equal(res.body.code, 'alert', name);
    t.equal(res.body.description, 'Group-limited users may not manage alerts.');
  }
  t.equal((await h.api('get_alert', { id: existing.id })).body.alert.title, 'A');
});
