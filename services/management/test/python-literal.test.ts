// Celery's args/kwargs reprs read back for a retry: the literals JSON can carry, and everything else refused.
import t from 'tap';
import { parsePythonLiteral } from '../src/leek/python-literal.js';

t.test('reads the reprs Celery stores', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['()', []],
    ['(1,)', [1]],
    ['(1, 2.5, -3, 1e3, 1_000)', [1, 2.5, -3, 1000, 1000]],
    ["('a', \"b\", 'it\\'s', 'tab\\there', '\\x41\\u00e9\\U0001F600')", ['a', 'b', "it's", 'tab\there', 'Aé😀']],
    ['[None, True, False]', [null, true, false]],
    ["{'a': 1, 'b': [1, (2, 3)], \"c\": {'d': None},}", { a: 1, b: [1, [2, 3]], c: { d: null } }],
    ['{}', {}],
    ["{'__proto__': 1}", JSON.parse('{"__proto__": 1}')],
    ['  ( 1 , 2 )  ', [1, 2]],
  ];
  for (const [text, expected] of cases) t.same(parsePythonLiteral(text), expected, text);
  const proto = parsePythonLiteral("{'__proto__': {'x': 1}}") as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(proto), Object.prototype, 'a __proto__ key is a plain key, not a prototype');
});

t.test('refuses what JSON cannot carry or what is not a literal, naming where', async (t) => {
  const bad = [
    "(1, 'abc...",
    '(1, 2',
    "b'bytes'",
    '{1, 2}',
    '{1: 2}',
    'datetime.datetime(2020, 1, 1)',
    '<object at 0x7f>',
    '1 2',
    '',
    '9007199254740993',
    '1e999',
    "'\\q'",
    '['.repeat(100) + ']'.repeat(100),
  ];
  for (const text of bad) t.throws(() => parsePythonLiteral(text), SyntaxError, text.slice(0, 40));
  t.throws(() => parsePythonLiteral('(1, 2'), /position/);
});
