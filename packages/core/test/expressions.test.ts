import t from 'tap';
import { EXPRESSION_FUNCTIONS, ExpressionError, compileExpression, compileRegex, compileTemplate } from '../src/expressions.js';

const sample = {
  load: [1.5, 0.5, 0.25],
  cpu: { cores: 2, currentLoad: 37.5 },
  memory: { total: 1000, available: 40 },
  monitors: { load_avg: 3.14777 },
  processes: {
    list: [
      { command: 'ffmpeg', memRss: 500 },
      { command: 'node', memRss: 100 },
    ],
  },
  mounts: { root: { use: 91 } },
  name: 'web-01.prod',
};

t.test('the seeded monitor and alert expressions evaluate against server data', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['load[0]', 1.5],
    ['cpu.currentLoad', 37.5],
    ['monitors.load_avg >= (cpu.cores + 1)', true],
    ['memory.available < (memory.total * 0.05)', true],
    ['mounts.root.use >= 90', true],
    ["processes.list[.command == 'ffmpeg'].memRss", 500],
    ["'prod' in name", true],
    ['cpu.cores > 4 ? "big" : "small"', 'small'],
    ['missing.path.here', undefined],
    ['max(1, 7, 3)', 7],
    ['clamp(150, 0, 100)', 100],
    ["count(find(processes.list, 'command', 'ff'))", 1],
    ["match(name, '^web-\\\\d+')", true],
    ['float(monitors.load_avg)', 3.14],
    ["integer('42abc')", 42],
    ['bytes(1048576)', '1 MB'],
    ['pct(25, 200)', '12.5%'],
    ["encode('a b&c')", 'a%20b%26c'],
  ];
  for (const [source, expected] of cases) t.same(compileExpression(source).evaluate(sample), expected, source);
});

t.test('syntax errors, unknown functions, transforms and prototype keys are refused at compile time', async (t) => {
  for (const source of ['1 +', 'cpu..cores', 'nosuch(1)', 'name|upper', 'a.constructor', '{__proto__: 1}', '', '   ', 'x'.repeat(5000)]) {
    t.throws(() => compileExpression(source), ExpressionError, JSON.stringify(source).slice(0, 40));
  }
});

t.test('server() and event() resolve names through lookups, falling back to the id', async (t) => {
  const exp = compileExpression("server('s1') + '/' + event('e1')");
  t.equal(exp.evaluate({}), 's1/e1');
  t.equal(exp.evaluate({}, { server: () => 'Web One', event: (id) => (id === 'e1' ? 'Backup' : undefined) }), 'Web One/Backup');
});

t.test('the function table is what the spec lists', async (t) => {
  t.same([...EXPRESSION_FUNCTIONS].sort(), [
    'bytes',
    'ceil',
    'clamp',
    'count',
    'encode',
    'event',
    'find',
    'float',
    'floor',
    'includes',
    'integer',
    'match',
    'max',
    'min',
    'number',
    'pct',
    'round',
    'server',
    'stringify',
  ]);
});

t.test('regexes must compile', async (t) => {
  t.ok(compileRegex('(\\d+)').test('12'));
  t.throws(() => compileRegex('(unclosed'), ExpressionError);
});

t.test('templates render each macro once, with fallbacks, JSON for objects and inline errors', async (t) => {
  const tpl = compileTemplate('CPU load {{float(monitors.load_avg)}} ({{cpu.cores}} cores) {{nothing}} {{cpu}}');
  t.equal(tpl.render(sample, { fallback: 'n/a' }), 'CPU load 3.14 (2 cores) n/a {"cores":2,"currentLoad":37.5}');
  t.equal(tpl.render({}, {}), 'CPU load 0 ( cores)  ');
  const injected = compileTemplate('Hello {{user}}');
  t.equal(
    injected.render({ user: '{{cpu.cores}}', cpu: { cores: 2 } }),
    'Hello {{cpu.cores}}',
    'substituted values are not evaluated again',
  );
  t.equal(compileTemplate('{{1 / x.y.z}}').render({}), 'NaN');
  t.match(compileTemplate('{{match(1)}}').render({}), /^(false|\(ERROR: .+\))$/);
  t.throws(() => compileTemplate('{{ 1 + }}'), ExpressionError);
  t.throws(() => compileTemplate('ok {{nosuch()}}'), /Failed to compile macro/);
  t.equal(compileTemplate('no macros').render({}), 'no macros');
});
