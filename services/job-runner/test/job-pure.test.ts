/** Pure job logic without Redis or HTTP: the plugin protocol, server selection, limits, completion conditions. */
import t from 'tap';
import { completionConditions } from '../src/actions/index.js';
import { candidates, pickServer, serverGroups } from '../src/dispatch/select.js';
import { exceededLimit, newTracker } from '../src/limits/check.js';
import { LineSplitter, parseLine } from '../src/plugins/protocol.js';
import type { ServerRecord } from '../src/server-registry.js';

t.test('protocol: xy lines are updates or completion, everything else is log', async (t) => {
  t.same(parseLine('hello'), { kind: 'log', text: 'hello\n' });
  t.same(parseLine('{"not":"xy"}'), { kind: 'log', text: '{"not":"xy"}\n' });
  t.same(parseLine('{"xy":2,"progress":1}').kind, 'log', 'only xy:1');
  t.same(parseLine('{"xy":1,"progress":0.5,"status":"half"}'), { kind: 'update', fields: { progress: 0.5, status: 'half' } });
  t.same(parseLine('{"xy":1,"progress":7}').fields, { progress: 1 }, 'progress is clamped');
  t.same(parseLine('{"xy":1,"code":0,"data":{"a":1}}'), { kind: 'complete', fields: { code: 0, data: { a: 1 } } });
  t.same(
    parseLine('{"xy":1,"tags":["x"],"state":"complete","id":"j1","perf":{"db":1}}').fields,
    { perf: { db: 1 } },
    'protected fields dropped',
  );
  t.same(parseLine('{"xy":1,"markdown":"# Hi"}').fields, { html: { content: '# Hi' } });
  t.same(parseLine('{"xy":1, broken').kind, 'log');
  const lines: string[] = [];
  const splitter = new LineSplitter((l) => lines.push(l));
  splitter.push('a\nb');
  splitter.push('c\n');
  splitter.push('tail');
  splitter.end();
  t.same(lines, ['a', 'bc', 'tail']);
});

const server = (id: string, extra: Partial<ServerRecord> = {}): ServerRecord => ({
  id,
  hostname: `${id}.example.com`,
  pid: 1,
  started: 0,
  heartbeat: 0,
  instance: id,
  info: { cpu: { avgLoad: 1 }, memory: { active: 100 } },
  ...extra,
});

t.test('selection: targets by server id and group, de-duplicated, enabled only, expression filtered', async (t) => {
  const online = [
    server('b1'),
    server('a1', { info: { cpu: { avgLoad: 0.1 }, memory: { active: 500 } } }),
    server('off', { enabled: false }),
    server('db1'),
  ];
  const groups = [
    { id: 'web', hostname_match: '^[ab]\\d' },
    { id: 'db', hostname_match: '^db' },
    { id: 'none', hostname_match: '' },
  ];
  t.same(serverGroups(online[0] as ServerRecord, groups), ['web']);
  t.same(
    candidates(['web'], online, groups).map((s) => s.id),
    ['b1', 'a1'],
  );
  t.same(
    candidates(['db1', 'web', 'a1'], online, groups).map((s) => s.id),
    ['db1', 'b1', 'a1'],
    'target order, no duplicates',
  );
  t.same(candidates(['off', 'gone'], online, groups), [], 'disabled and offline servers are skipped');
  t.same(
    candidates(['web', 'db'], online, groups, 'info.cpu.avgLoad < 0.5').map((s) => s.id),
    ['a1'],
  );
  const list = candidates(['web', 'db'], online, groups);
  const ctx = {
    robin: 0,
    jobCounts: new Map([
      ['b1', 3],
      ['a1', 1],
      ['db1', 2],
    ]),
  };
  t.equal(pickServer(list, 'prefer_first_natural', ctx)?.id, 'b1');
  t.equal(pickServer(list, 'prefer_last_natural', ctx)?.id, 'db1');
  t.equal(pickServer(list, 'prefer_first', ctx)?.id, 'a1');
  t.equal(pickServer(list, 'prefer_last', ctx)?.id, 'db1');
  t.equal(pickServer(list, 'least_cpu', ctx)?.id, 'a1');
  t.equal(pickServer(list, 'least_mem', ctx)?.id, 'b1');
  t.equal(pickServer(list, 'fewest_jobs', ctx)?.id, 'a1');
  t.same(
    [0, 1, 2, 3].map((robin) => pickServer(list, 'round_robin', { ...ctx, robin })?.id),
    ['b1', 'a1', 'db1', 'b1'],
  );
  t.equal(pickServer(list, 'random', { ...ctx, random: () => 0.99 })?.id, 'db1');
  t.equal(pickServer(list, 'monitor:load_avg', ctx), undefined, 'monitor selection is not applied here');
  t.equal(pickServer([], 'random', ctx), undefined);
});

t.test('limits: time, log, and sustained mem/cpu fire once', async (t) => {
  const job = {
    started: 100,
    log_file_size: 10,
    limits: [
      { type: 'time', enabled: true, duration: 5.8 },
      { type: 'log', enabled: true, amount: 100 },
      { type: 'mem', enabled: true, amount: 1000, duration: 2 },
      { type: 'cpu', enabled: false, amount: 1, duration: 0 },
    ],
  };
  const tracker = newTracker();
  t.equal(exceededLimit(job, 104, { mem: 10, cpu: 500 }, tracker), undefined);
  t.equal(exceededLimit(job, 104, { mem: 2000 }, tracker), undefined, 'mem over, not yet sustained');
  t.equal(exceededLimit(job, 105, { mem: 10 }, tracker), undefined, 'dropping back resets the timer');
  t.equal(exceededLimit(job, 105.5, { mem: 2000 }, tracker), undefined);
  const time = exceededLimit(job, 106, { mem: 2000 }, tracker);
  t.equal(time?.limit.type, 'time');
  t.match(time?.message, /Maximum run time/);
  t.equal(exceededLimit(job, 107, { mem: 2000 }, tracker), undefined, 'over for 1.5 s only');
  t.equal(exceededLimit(job, 107.5, { mem: 2000 }, tracker)?.limit.type, 'mem', 'sustained for 2 s since 105.5');
  job.log_file_size = 1000;
  t.equal(exceededLimit(job, 108, {}, tracker)?.limit.type, 'log');
  t.equal(exceededLimit(job, 109, { mem: 5000 }, tracker), undefined, 'each fires once');
});

t.test('completion conditions', async (t) => {
  t.same(completionConditions({ id: 'j', code: 0, tags: ['a'] }), ['complete', 'success', 'tag:a']);
  t.same(completionConditions({ id: 'j', code: 'warning' }), ['complete', 'error', 'warning']);
  t.same(completionConditions({ id: 'j', code: 'abort' }), ['complete', 'error', 'abort']);
  t.same(completionConditions({ id: 'j', code: 12 }), ['complete', 'error', 'user']);
});
