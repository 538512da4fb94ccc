import t from 'tap';
import { generateId, randomToken } from '../src/ids.js';

t.test('ids: prefixed, 16 characters, lowercase alphanumeric', async (t) => {
  for (const prefix of ['e', 'j', 'ca', 'sn']) {
    const id = generateId(prefix);
    t.equal(id.length, 16, id);
    t.ok(id.startsWith(prefix));
    t.match(id, /^[a-z0-9]+$/);
  }
});

t.test('ids: unique and sortable by creation time', async (t) => {
  const first = generateId('j');
  await new Promise((r) => setTimeout(r, 5));
  const ids = Array.from({ length: 1000 }, () => generateId('j'));
  t.equal(new Set(ids).size, ids.length);
  t.ok(
    ids.every((id) => id > first),
    'later ids sort after earlier ones',
  );
});

t.test('ids: random tokens are hex of the asked size', async (t) => {
  t.match(randomToken(16), /^[0-9a-f]{32}$/);
  t.not(randomToken(), randomToken());
});
