import t from 'tap';
import { type PatternProblem, PatternMatcher } from '../src/notify/patterns.js';

function matcher() {
  const problems: PatternProblem[] = [];
  return { problems, patterns: new PatternMatcher({ timeoutMs: 30, onProblem: (p) => problems.push(p) }) };
}

t.test('patterns: match at the start of the name only (Python re.match), not a full match', async (t) => {
  const { patterns } = matcher();
  t.ok(patterns.matchesAny(['app\\.'], 'app.tasks.add'));
  t.ok(patterns.matchesAny(['app'], 'application'), 'a prefix is enough');
  t.notOk(patterns.matchesAny(['tasks'], 'app.tasks.add'), 'not found further in the name');
  t.notOk(patterns.matchesAny(['b|tasks'], 'app.tasks.add'), 'every alternative is anchored');
  t.ok(patterns.matchesAny(['x', 'app'], 'app.x'), 'any pattern of the list');
  t.notOk(patterns.matchesAny([], 'app'));
  t.ok(patterns.matchesAny(['.*'], ''), 'an empty name can match');
});

t.test('patterns: a pattern escaping its anchor with unbalanced parentheses does not compile', async (t) => {
  const { patterns, problems } = matcher();
  t.notOk(patterns.matchesAny(['a)|(tasks'], 'app.tasks'));
  t.equal(problems.length, 1);
  t.match(problems[0]?.reason, /invalid regular expression/);
});

t.test('patterns: Python named groups and a leading (?i) are understood', async (t) => {
  const { patterns, problems } = matcher();
  t.ok(patterns.matchesAny(['(?i)APP\\.'], 'app.x'));
  t.ok(patterns.matchesAny(['(?P<mod>\\w+)\\.(?P=mod)'], 'abc.abc'));
  t.notOk(patterns.matchesAny(['(?P<mod>\\w+)\\.(?P=mod)$'], 'abc.abd'));
  t.same(problems, []);
});

t.test('patterns: a bad pattern is reported once and never matches', async (t) => {
  const { patterns, problems } = matcher();
  for (let i = 0; i < 3; i++) t.notOk(patterns.matchesAny(['(unclosed'], '(unclosed'));
  t.notOk(patterns.matchesAny(['a'.repeat(300)], 'a'.repeat(300)), 'an overlong pattern is refused');
  t.same(
    problems.map((p) => p.pattern.slice(0, 9)),
    ['(unclosed', 'aaaaaaaaa'],
  );
});

t.test('patterns: catastrophic backtracking is cut off and the pattern disabled', async (t) => {
  const { patterns, problems } = matcher();
  const evil = `${'a'.repeat(40)}!`;
  t.notOk(patterns.matchesAny(['(a+)+$'], evil));
  t.match(problems, [{ pattern: '(a+)+$', reason: /longer than 30 ms/ }]);
  t.notOk(patterns.matchesAny(['(a+)+$'], 'aaa'), 'disabled: it no longer matches even an easy name');
  t.equal(problems.length, 1, 'reported once');
  t.ok(patterns.matchesAny(['a'], evil), 'other patterns still work');
});
