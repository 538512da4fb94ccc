import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { BlobKeyError, BlobTooLargeError, FsBlobStore, checkKey, cleanName, urlName } from '../src/blobs.js';

function store(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'shallot-blobs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, blobs: new FsBlobStore(join(dir, 'storage')) };
}

t.test('urlName: lowercase, [\\w-.] only, no dot-only names, .bin without an extension', async (t) => {
  const cases: Array<[string, string | undefined]> = [
    ['Report 2024.CSV', 'report_2024.csv'],
    ['../../etc/passwd', '.._.._etc_passwd'],
    ['..', '__.bin'],
    ['.', '_.bin'],
    ['a\\b\\c.txt', 'a_b_c.txt'],
    ['héllo.png', 'h_llo.png'],
    ['README', 'readme.bin'],
    ['.htaccess', '.htaccess.bin'],
    ['', undefined],
    ['   ', undefined],
  ];
  for (const [input, expected] of cases) t.equal(urlName(input), expected, JSON.stringify(input));
  t.ok((urlName(`${'a'.repeat(500)}.txt`) ?? '').length <= 200);
});

t.test('cleanName keeps the last path component only', async (t) => {
  t.equal(cleanName('../../secret/My Report.pdf'), 'My Report.pdf');
  t.equal(cleanName('C:\\Users\\x\\a<b>.txt'), 'ab.txt');
  t.equal(cleanName('..'), '');
});

t.test('checkKey refuses traversal, absolute paths and odd characters', async (t) => {
  t.equal(checkKey('files/bucket/b1/x_Y-z/a.txt'), 'files/bucket/b1/x_Y-z/a.txt');
  for (const key of ['../x', 'files/../../x', '/etc/passwd', 'files//x', 'files/./x', 'files/a b', 'files\\..\\x', '', 'files/x/..']) {
    t.throws(() => checkKey(key), BlobKeyError, key);
  }
});

t.test('put / get / stat / stream / delete round-trip, and deletePrefix removes a folder', async (t) => {
  const { blobs } = store(t);
  const info = await blobs.put('files/bucket/b1/r1/a.txt', 'hello');
  t.equal(info.size, 5);
  t.equal((await blobs.get('files/bucket/b1/r1/a.txt'))?.toString(), 'hello');
  await blobs.put('files/bucket/b1/r1/a.txt', Readable.from([Buffer.from('replaced!')]));
  t.equal((await blobs.stat('files/bucket/b1/r1/a.txt'))?.size, 9, 'a second put replaces');
  const chunks: Buffer[] = [];
  for await (const c of (await blobs.stream('files/bucket/b1/r1/a.txt')) ?? []) chunks.push(c as Buffer);
  t.equal(Buffer.concat(chunks).toString(), 'replaced!');
  t.equal(await blobs.delete('files/bucket/b1/r1/a.txt'), true);
  t.equal(await blobs.delete('files/bucket/b1/r1/a.txt'), false);
  t.equal(await blobs.get('files/bucket/b1/r1/a.txt'), undefined);
  t.equal(await blobs.stream('files/bucket/b1/r1/a.txt'), undefined);
  await blobs.put('files/bucket/b2/r/x.bin', 'x');
  await blobs.put('files/bucket/b2/s/y.bin', 'y');
  await blobs.deletePrefix('files/bucket/b2/');
  t.equal(await blobs.stat('files/bucket/b2/r/x.bin'), undefined);
});

t.test('a put over the size limit fails and leaves nothing behind (not even a temp file)', async (t) => {
  const { dir, blobs } = store(t);
  await t.rejects(blobs.put('files/u/r/big.bin', Buffer.alloc(2048), { maxBytes: 1024 }), BlobTooLargeError);
  t.equal(await blobs.stat('files/u/r/big.bin'), undefined);
  t.same(readdirSync(join(dir, 'storage', 'files', 'u', 'r')), []);
  t.notOk(existsSync(join(dir, 'etc')));
  await t.rejects(blobs.put('../escape.txt', 'x'), BlobKeyError);
  t.notOk(existsSync(join(dir, 'escape.txt')));
});
