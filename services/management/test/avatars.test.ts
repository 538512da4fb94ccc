/** Avatars: multipart upload (field file1) → 64 and 256 px PNGs as blobs, served publicly with a fallback. */
import { blobStoreFor } from '@shallot/core';
import sharp from 'sharp';
import t from 'tap';
import { harness, makeUser } from './helpers.js';

function multipart(field: string, filename: string, content: Buffer, fields: Record<string, string> = {}) {
  const boundary = '----shallot-test-boundary';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function photo(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .jpeg()
    .toBuffer();
}

t.test('upload_avatar stores 64 and 256 px PNGs; avatar serves them by size; delete_avatar falls back', async (t) => {
  const h = await harness(t);
  const session = (h.admin as { session: string }).session;
  const before = await h.call({
    method: 'POST',
    url: '/api/user/admin_get_user',
    headers: { 'x-session-id': session },
    payload: { username: 'admin' },
  });
  const body = multipart('file1', 'me.jpg', await photo(640, 480));
  const up = await h.app.inject({
    method: 'POST',
    url: '/api/app/upload_avatar/v1',
    headers: { ...body.headers, 'x-session-id': session },
    payload: body.payload,
  });
  t.equal(up.json().code, 0, up.body);
  t.ok(up.json().user.modified >= before.body.user.modified);
  t.ok(up.json().user.revision === undefined, 'the user view has no revision');

  for (const [size, expected] of [
    [32, 64],
    [64, 64],
    [65, 256],
    [undefined, 256],
  ] as const) {
    const res = await h.app.inject({ method: 'GET', url: `/api/app/avatar/admin.png${size ? `?size=${size}` : ''}` });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'image/png');
    t.match(res.headers['cache-control'], /max-age=\d+/);
    const meta = await sharp(res.rawPayload).metadata();
    t.equal(meta.format, 'png');
    t.equal(meta.width, expected, `size ${size} → ${expected} px`);
    t.equal(meta.height, expected);
  }
  const blobs = blobStoreFor(h.ctx.config);
  t.ok(await blobs.stat('users/admin/avatar/64.png'));
  t.ok(await blobs.stat('users/admin/avatar/256.png'));

  const del = await h.api('delete_avatar', {});
  t.equal(del.body.code, 0);
  t.notOk(await blobs.stat('users/admin/avatar/64.png'));
  const fallback = await h.app.inject({ method: 'GET', url: '/api/app/avatar/admin.png?size=64' });
  t.equal(fallback.statusCode, 200, 'a default image when there is none');
  t.equal((await sharp(fallback.rawPayload).metadata()).width, 64);
  const unknown = await h.app.inject({ method: 'GET', url: '/api/app/avatar/nobody.png' });
  t.equal(unknown.statusCode, 200);
});

t.test('avatar uploads refuse non-images, the wrong field, non-multipart bodies and anonymous callers', async (t) => {
  const h = await harness(t);
  const session = (h.admin as { session: string }).session;
  const junk = multipart('file1', 'x.png', Buffer.from('definitely not an image'));
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/app/upload_avatar/v1',
    headers: { ...junk.headers, 'x-session-id': session },
    payload: junk.payload,
  });
  t.equal(res.json().code, 'api');
  t.equal(res.statusCode, 400);
  const wrongField = multipart('image', 'x.jpg', await photo(10, 10));
  t.equal(
    (
      await h.app.inject({
        method: 'POST',
        url: '/api/app/upload_avatar/v1',
        headers: { ...wrongField.headers, 'x-session-id': session },
        payload: wrongField.payload,
      })
    ).json().code,
    'api',
  );
  t.equal((await h.api('upload_avatar', {})).body.code, 'api', 'JSON is not an upload');
  const anon = multipart('file1', 'x.jpg', await photo(10, 10));
  t.equal(
    (await h.app.inject({ method: 'POST', url: '/api/app/upload_avatar/v1', headers: anon.headers, payload: anon.payload })).json().code,
    'session',
  );
  const traversal = await h.app.inject({ method: 'GET', url: '/api/app/avatar/..%2F..%2Fsecret.key.png' });
  t.not(traversal.statusCode, 500);
  t.notOk(traversal.rawPayload.includes(Buffer.from(h.ctx.secretKey)), 'no file outside the avatar store is served');
});

t.test('admin_upload_avatar and admin_delete_avatar act on another user; non-admins are refused', async (t) => {
  const h = await harness(t);
  await makeUser(h.ctx, 'first.last');
  const session = (h.admin as { session: string }).session;
  const body = multipart('file1', 'p.jpg', await photo(300, 300), { username: 'first.last' });
  const up = await h.app.inject({
    method: 'POST',
    url: '/api/app/admin_upload_avatar/v1',
    headers: { ...body.headers, 'x-session-id': session },
    payload: body.payload,
  });
  t.equal(up.json().code, 0, up.body);
  const served = await h.app.inject({ method: 'GET', url: '/api/app/avatar/first.last.png?size=256' });
  t.equal((await sharp(served.rawPayload).metadata()).width, 256);
  t.ok(await blobStoreFor(h.ctx.config).stat('users/firstlast/avatar/256.png'), 'stored under the normalised user key');
  const plain = await h.login('first.last', 'user-password-1');
  const denied = multipart('file1', 'p.jpg', await photo(30, 30), { username: 'admin' });
  t.equal(
    (
      await h.app.inject({
        method: 'POST',
        url: '/api/app/admin_upload_avatar/v1',
        headers: { ...denied.headers, 'x-session-id': plain },
        payload: denied.payload,
      })
    ).json().code,
    'access',
  );
  t.equal((await h.api('admin_delete_avatar', { username: 'first.last' })).body.code, 0);
  t.notOk(await blobStoreFor(h.ctx.config).stat('users/firstlast/avatar/256.png'));
  t.equal((await h.api('admin_delete_avatar', { username: 'ghost' })).body.code, 'user');
});
