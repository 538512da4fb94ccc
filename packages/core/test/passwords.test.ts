import t from 'tap';
import { hashPassword, safeEqual, verifyPassword } from '../src/passwords.js';

t.test('passwords: scrypt hash verifies the right password only', async (t) => {
  const hash = await hashPassword('correct horse');
  t.match(hash, /^scrypt\$[0-9a-f]{32}\$[0-9a-f]{128}$/);
  t.equal(await verifyPassword('correct horse', hash), true);
  t.equal(await verifyPassword('correct horsf', hash), false);
  t.not(await hashPassword('correct horse'), hash, 'salted');
});

t.test('passwords: malformed stored hashes never verify', async (t) => {
  t.equal(await verifyPassword('x', 'plain-text'), false);
  t.equal(await verifyPassword('x', 'scrypt$$'), false);
});

t.test('passwords: safeEqual compares whole strings', async (t) => {
  t.equal(safeEqual('abc', 'abc'), true);
  t.equal(safeEqual('abc', 'abd'), false);
  t.equal(safeEqual('abc', 'abcd'), false);
});
