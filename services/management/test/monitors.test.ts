import t from 'tap';
import { crudTable, harness, makeKey, userSession } from './crud-table.js';

const PRIVS = { create_monitors: true, edit_monitors: true, delete_monitors: true };

crudTable(t, {
  singular: 'monitor',
  plural: 'monitors',
  create: { title: 'CPU Usage %', source: 'cpu.currentLoad', data_type: 'float', suffix: '%', min_vert_scale: 100, groups: [] },
  update: { title: 'CPU %', source: "processes.list[.command == 'ffmpeg'].memRss" },
  required: ['title', 'source', 'data_type'],
  wrongType: {
    source: 'cpu.currentLoad +',
    data_match: '(\\d+',
    data_type: 'percent',
    delta_min_value: true,
    groups: 'main',
  },
  privileges: { create: 'create_monitors', edit: 'edit_monitors', delete: 'delete_monitors' },
  defaults: { display: true, icon: '' },
});

t.test('monitors: sources are checked as expressions (unknown functions too) and data_match must compile', async (t) => {
  const h = await harness(t);
  for (const source of ['nosuch(cpu)', 'a.constructor', 'cpu |', 'cpu|upper']) {
    const res = await h.api('create_monitor', { title: 'M', source, data_type: 'integer' });
    t.equal(res.body.code, 'api', `${source}: ${res.body.description}`);
  }
  const ok = await h.api('create_monitor', {
    title: 'Open files',
    source: 'commands.open_files',
    data_type: 'integer',
    data_match: '(\\d+)',
  });
  t.equal(ok.body.code, 0);
  t.equal((await h.api('update_monitor', { id: ok.body.monitor.id, data_match: '[' })).body.code, 'api');
  t.equal((await h.api('update_monitor', { id: ok.body.monitor.id, source: 'max(1,' })).body.code, 'api');
  t.equal((await h.api('get_monitor', { id: ok.body.monitor.id })).body.monitor.revision, 1);
});

t.test('monitors: multi_update_monitor reorders; test_monitor validates and answers no data without samples', async (t) => {
  const h = await harness(t);
  const a = (await h.api('create_monitor', { title: 'A', source: 'load[0]', data_type: 'float' })).body.monitor;
  const b = (await h.api('create_monitor', { title: 'B', source: 'jobs', data_type: 'integer' })).body.monitor;
  t.equal(b.sort_order, a.sort_order + 1, 'appended in order');
  const items = [
    { id: b.id, sort_order: 200 },
    { id: a.id, sort_order: 201 },
  ];
  t.same((await h.api('multi_update_monitor', { items })).body, { code: 0 });
  const ids = (await h.api('get_monitors', {})).body.rows.map((r: { id: string }) => r.id) as string[];
  t.same(ids.slice(-2), [b.id, a.id], 'the list follows the new order');
  const bad = await h.api('test_monitor', { server: 's1', source: 'load[', data_type: 'float' });
  t.equal(bad.body.code, 'api');
  const noData = await h.api('test_monitor', { server: 'snone', source: 'load[0]', data_type: 'float' });
  t.equal(noData.body.code, 'server');
  t.match(noData.body.description, /No monitoring data/);
  const key = await makeKey(h.ctx, { privileges: { create_monitors: true } });
  t.equal((await h.api('test_monitor', { server: 's1', source: 'load[0]', data_type: 'float' }, { key: key.key })).body.code, 'access');
});

t.test('monitors: group-limited callers may read but not manage monitors (code alert)', async (t) => {
  const h = await harness(t);
  const existing = (await h.api('create_monitor', { title: 'A', source: 'load[0]', data_type: 'float' })).body.monitor;
  const limited = await userSession(h, 'limited', { privileges: PRIVS, groups: ['main'] });
  t.ok(
    (await h.api('get_monitors', {}, limited)).body.rows.some((r: { id: string }) => r.id === existing.id),
    'reads are not scoped',
  );
  for (const [name, payload] of [
    ['create_monitor', { title: 'B', source: 'jobs', data_type: 'integer' }],
    ['update_monitor', { id: existing.id, title: 'X' }],
    ['delete_monitor', { id: existing.id }],
    ['multi_update_monitor', { items: [{ id: existing.id, sort_order: 3 }] }],
    ['multi_update_monitors', { items: [{ id: existing.id, sort_order: 3 }] }],
    ['test_monitor', { server: 's1', source: 'jobs', data_type: 'integer' }],
  ] as const) {
    const res = await h.api(name, payload, limited);
    t.equal(res.body.code, 'alert', name);
    t.equal(res.body.description, 'Group-limited users may not manage monitors.');
  }
  const categoryLimited = await userSession(h, 'catlimited', { privileges: PRIVS, categories: ['general'] });
  t.equal(
    (await h.api('update_monitor', { id: existing.id, title: 'Y' }, categoryLimited)).body.code,
    0,
    'a category limit does not matter here',
  );
});

t.test('monitor evaluation follows the pipeline rules (data_match, casts, errors)', async (t) => {
  const { evaluateMonitor, castMonitorValue } = await import('../src/monitoring-data.js');
  const sample = { commands: { open_files: '1024\t0\t9223372036854775807' }, cpu: { currentLoad: 12.3456789 }, text: 'none' };
  t.equal(evaluateMonitor({ source: 'commands.open_files', data_type: 'integer', data_match: '(\\d+)' }, sample), 1024);
  t.equal(evaluateMonitor({ source: 'cpu.currentLoad', data_type: 'float' }, sample), 12.34567);
  t.equal(evaluateMonitor({ source: 'text', data_type: 'integer', data_match: '(\\d+)' }, sample), 0, 'no match gives 0');
  t.equal(evaluateMonitor({ source: 'missing.value', data_type: 'bytes' }, sample), 0);
  t.equal(castMonitorValue('3.9', 'seconds'), 3);
});
