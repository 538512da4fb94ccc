import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { blobStoreFor } from '@shallot/core';
import t from 'tap';
import { type Auth, authHeaders } from './helpers.js';
import { crudTable, harness, makeKey, userSession } from './crud-table.js';

crudTable(t, {
  singular: 'bucket',
  plural: 'buckets',
  create: { title: 'The Void', notes: 'Scratch space' },
  update: { title: 'The Big Void', enabled: false },
  required: ['title'],
  wrongType: { title: '', enabled: 'sometimes', icon: 'not an icon!', data: ['not', 'an', 'object'] },
  privileges: { create: 'create_buckets', edit: 'edit_buckets', delete: 'delete_buckets' },
  defaults: { enabled: true, icon: '' },
});

interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
}

function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----shallot-test-boundary';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename !== undefined ? 'Content-Type: application/octet-stream\r\n' : '';
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
      Buffer.from(part.value),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function upload(h: Awaited<ReturnType<typeof harness>>, parts: Part[], auth: Auth = h.admin, query = '') {
  const { payload, headers } = multipart(parts);
  return h.call({ method: 'POST', url: `/api/app/upload_bucket_files/v1${query}`, headers: { ...headers, ...authHeaders(auth) }, payload });
}

t.test('buckets: data is stored with the bucket, answered by get_bucket, replaced by update and merged by write_bucket_data', async (t) => {
  const h = await harness(t);
  const created = await h.api('create_bucket', { title: 'B', data: { foo: 'Hello this is a bucket', n: 1 } });
  t.equal(created.body.code, 0);
  const id = created.body.bucket.id;
  t.match(id, /^b/);
  t.notOk('data' in created.body.bucket, 'data is not part of the bucket record');
  t.same((await h.api('get_buckets', {})).body.rows[0].data, undefined, 'lists carry no data');
  const got = await h.api('get_bucket', { id });
  t.same(got.body.data, { foo: 'Hello this is a bucket', n: 1 });
  t.same(got.body.files, []);
  t.equal((await h.api('write_bucket_data', { id, data: { n: 2, extra: [1, 2] } })).body.code, 0);
  t.same((await h.api('get_bucket', { id })).body.data, { foo: 'Hello this is a bucket', n: 2, extra: [1, 2] }, 'shallow merge');
  t.equal((await h.api('update_bucket', { id, data: { only: true } })).body.code, 0);
  t.same((await h.api('get_bucket', { id })).body.data, { only: true }, 'update replaces data whole');
  t.equal((await h.api('update_bucket', { id, title: 'Renamed' })).body.code, 0);
  t.same((await h.api('get_bucket', { id })).body.data, { only: true }, 'update without data keeps it');
  t.equal((await h.api('write_bucket_data', { id: 'no_bucket', data: { a: 1 } })).body.code, 'bucket');
  t.equal((await h.api('write_bucket_data', { id, data: 'nope' })).body.code, 'api');
  const dup = await h.api('create_bucket', { id, title: 'Dup', data: { overwritten: true } });
  t.equal(dup.body.code, 'bucket');
  t.same((await h.api('get_bucket', { id })).body.data, { only: true }, 'a refused duplicate does not touch the data');
});

t.test('buckets: uploads are stored under files/bucket/<id>/<rand>/<name>, replaced by normalised name, and deletable', async (t) => {
  const h = await harness(t);
  const id = (await h.api('create_bucket', { title: 'Files' })).body.bucket.id;
  const first = await upload(h, [
    { name: 'bucket', value: id },
    { name: 'file1', filename: 'Report 2024.CSV', value: 'a,b\n1,2\n' },
    { name: 'file2', filename: 'notes', value: 'hello' },
  ]);
  t.equal(first.body.code, 0, JSON.stringify(first.body));
  const files = first.body.files as Array<{ filename: string; path: string; size: number; username: string; id: string }>;
  t.same(files.map((f) => f.filename).sort(), ['notes.bin', 'report_2024.csv']);
  const report = files.find((f) => f.filename === 'report_2024.csv');
  t.match(report?.path, new RegExp(`^files/bucket/${id}/[\\w-]{43}/report_2024\\.csv$`));
  t.equal(report?.size, 8);
  t.equal(report?.username, 'admin');
  t.match(report?.id, /^f/);
  const blobs = blobStoreFor(h.ctx.config);
  t.equal((await blobs.get(report?.path ?? ''))?.toString(), 'a,b\n1,2\n');

  // Same normalised name (different case and spacing): replaced in place, same key.
  const again = await upload(h, [{ name: 'file1', filename: 'REPORT 2024.csv', value: 'x,y\n' }], h.admin, `?bucket=${id}`);
  t.equal(again.body.code, 0);
  const replaced = (again.body.files as typeof files).filter((f) => f.filename === 'report_2024.csv');
  t.equal(replaced.length, 1);
  t.equal(replaced[0]?.path, report?.path, 'the key is reused');
  t.equal(replaced[0]?.size, 4);
  t.equal((await blobs.get(report?.path ?? ''))?.toString(), 'x,y\n');
  t.equal((await h.api('get_bucket', { id })).body.files.length, 2);

  const del = await h.api('delete_bucket_file', { id, filename: 'report_2024.csv' });
  t.same(del.body, { code: 0 });
  t.equal(await blobs.get(report?.path ?? ''), undefined, 'the stored object is gone');
  t.same(
    (await h.api('get_bucket', { id })).body.files.map((f: { filename: string }) => f.filename),
    ['notes.bin'],
  );
  t.equal((await h.api('delete_bucket_file', { id, filename: 'report_2024.csv' })).body.code, 'bucket');

  t.equal((await h.api('empty_bucket', { id })).body.code, 0);
  const emptied = (await h.api('get_bucket', { id })).body;
  t.same([emptied.files, emptied.data], [[], {}]);
  t.notOk(existsSync(join(resolve(h.ctx.config.dataDir), 'storage', 'files', 'bucket', id)), 'the folder is removed');
});

t.test('buckets: path traversal in file names is neutralised', async (t) => {
  const h = await harness(t);
  const id = (await h.api('create_bucket', { title: 'T' })).body.bucket.id;
  const res = await upload(h, [
    { name: 'bucket', value: id },
    { name: 'file1', filename: '../../../../etc/evil.sh', value: 'echo pwned' },
    { name: 'file2', filename: 'C:\\Windows\\win.ini', value: 'ini' },
    { name: 'file3', filename: '..%2F..%2Fpasswd', value: 'encoded' },
  ]);
  t.equal(res.body.code, 0, JSON.stringify(res.body));
  const files = res.body.files as Array<{ filename: string; path: string }>;
  for (const file of files) {
    t.notMatch(file.filename, /\//);
    t.notMatch(file.path, /\.\.\//);
    t.match(file.path, new RegExp(`^files/bucket/${id}/[\\w-]+/[\\w.-]+$`));
  }
  // Directory parts never survive: the multipart parser keeps the base name and normalisation does the rest.
  t.same(files.map((f) => f.filename).sort(), ['.._2f.._2fpasswd', 'evil.sh', 'win.ini']);
  for (const name of ['..', '.', '../..']) {
    const dots = await upload(h, [
      { name: 'bucket', value: id },
      { name: 'f', filename: name, value: 'dots' },
    ]);
    t.equal(dots.body.code, 'api', `${name}: ${dots.body.description}`);
  }
  const root = resolve(h.ctx.config.dataDir);
  t.notOk(existsSync(join(root, 'etc')), 'nothing was written outside the bucket folder');
  t.same(readdirSync(join(root, 'storage')), ['files']);
  // Deleting by a traversal name touches nothing outside the bucket.
  t.equal((await h.api('delete_bucket_file', { id, filename: '../../secret.key' })).body.code, 'bucket');
  t.equal((await h.api('get_bucket', { id })).body.files.length, 3);
});

t.test('buckets: empty and unnamed uploads, a missing or unknown bucket and non-multipart bodies are refused', async (t) => {
  const h = await harness(t);
  const id = (await h.api('create_bucket', { title: 'T' })).body.bucket.id;
  t.equal(
    (
      await upload(h, [
        { name: 'bucket', value: id },
        { name: 'f', filename: 'empty.txt', value: '' },
      ])
    ).body.code,
    'api',
  );
  t.equal(
    (
      await upload(h, [
        { name: 'bucket', value: id },
        { name: 'f', filename: '', value: 'x' },
      ])
    ).body.code,
    'api',
  );
  t.equal((await upload(h, [{ name: 'f', filename: 'a.txt', value: 'x' }])).body.code, 'api');
  t.equal(
    (
      await upload(h, [
        { name: 'bucket', value: 'no_such_bucket' },
        { name: 'f', filename: 'a.txt', value: 'x' },
      ])
    ).body.code,
    'bucket',
  );
  t.equal(
    (
      await upload(h, [
        { name: 'bucket', value: '../x' },
        { name: 'f', filename: 'a.txt', value: 'x' },
      ])
    ).body.code,
    'api',
  );
  t.equal((await h.api('upload_bucket_files', { bucket: id })).body.code, 'api', 'JSON is not an upload');
  t.same((await h.api('get_bucket', { id })).body.files, []);
});

t.test('buckets: file and data calls need edit_buckets; delete_bucket removes data and files', async (t) => {
  const h = await harness(t);
  const id = (await h.api('create_bucket', { title: 'T', data: { a: 1 } })).body.bucket.id;
  const up = await upload(h, [
    { name: 'bucket', value: id },
    { name: 'f', filename: 'a.txt', value: 'x' },
  ]);
  const path = up.body.files[0].path as string;
  const reader = await userSession(h, 'reader', { privileges: { create_buckets: true } });
  const key = await makeKey(h.ctx, { privileges: { delete_buckets: true } });
  for (const auth of [reader, { key: key.key }] as Auth[]) {
    t.equal(
      (
        await upload(
          h,
          [
            { name: 'bucket', value: id },
            { name: 'f', filename: 'b.txt', value: 'y' },
          ],
          auth,
        )
      ).body.code,
      'access',
    );
    t.equal((await h.api('write_bucket_data', { id, data: { b: 2 } }, auth)).body.code, 'access');
    t.equal((await h.api('delete_bucket_file', { id, filename: 'a.txt' }, auth)).body.code, 'access');
    t.equal((await h.api('empty_bucket', { id }, auth)).body.code, 'access');
    t.equal((await h.api('get_bucket', { id }, auth)).body.data.a, 1, 'reads need only a caller');
  }
  const editor = await makeKey(h.ctx, { privileges: { edit_buckets: true } });
  t.equal((await h.api('write_bucket_data', { id, data: { b: 2 } }, { key: editor.key })).body.code, 0);
  t.equal((await h.api('delete_bucket', { id }, { key: key.key })).body.code, 0);
  t.equal(await h.ctx.store.collections.get('bucket_contents', id), undefined);
  t.equal(await blobStoreFor(h.ctx.config).get(path), undefined);
});
