import t from 'tap';
import { SecretBoxError, openSecret, sealSecret } from '../src/secret-box.js';

const KEY = 'k'.repeat(64);
const FIELDS = [
  { name: 'DB_PASSWORD', value: 'hunter2-very-secret' },
  { name: 'TOKEN', value: 'tok_ABC' },
];

t.test('a sealed secret opens with the same key and id, and the blob holds no plaintext', async (t) => {
  const sealed = await sealSecret(KEY, 'zdb', FIELDS);
  t.equal(sealed.alg, 'aes-256-gcm');
  t.equal(Buffer.from(sealed.salt, 'base64').length, 16);
  t.equal(Buffer.from(sealed.iv, 'base64').length, 12);
  t.notMatch(JSON.stringify(sealed), /hunter2|tok_ABC|DB_PASSWORD/);
  t.same(await openSecret(KEY, 'zdb', sealed), FIELDS);
});

t.test('every seal uses a fresh salt and IV', async (t) => {
  const a = await sealSecret(KEY, 'zdb', FIELDS);
  const b = await sealSecret(KEY, 'zdb', FIELDS);
  t.not(a.salt, b.salt);
  t.not(a.iv, b.iv);
  t.not(a.ct, b.ct);
});

t.test('a wrong key, another id (AAD), a tampered blob or garbage fail with SecretBoxError', async (t) => {
  const sealed = await sealSecret(KEY, 'zdb', FIELDS);
  await t.rejects(openSecret('other-key', 'zdb', sealed), SecretBoxError);
  await t.rejects(openSecret(KEY, 'zother', sealed), SecretBoxError, 'a blob moved to another secret does not open');
  const ct = Buffer.from(sealed.ct, 'base64');
  ct[0] = (ct[0] ?? 0) ^ 1;
  await t.rejects(openSecret(KEY, 'zdb', { ...sealed, ct: ct.toString('base64') }), SecretBoxError);
  await t.rejects(openSecret(KEY, 'zdb', { ...sealed, tag: Buffer.alloc(16).toString('base64') }), SecretBoxError);
  await t.rejects(openSecret(KEY, 'zdb', { nope: 1 }), SecretBoxError);
  await t.rejects(openSecret(KEY, 'zdb', null), SecretBoxError);
});

t.test('sealing without a key is refused', async (t) => {
  await t.rejects(sealSecret('', 'zdb', FIELDS), SecretBoxError);
});
