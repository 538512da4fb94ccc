import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { type HostLookup, createWebhookGuard, deliverWebhook, forbiddenAddressReason, parseWebhookAllowList } from '../src/ssrf.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP receiver on 127.0.0.1; `respond` decides each answer. */
async function receiver(
  t: { teardown(fn: () => unknown): void },
  respond: (req: IncomingMessage, res: import('node:http').ServerResponse) => void = (_req, res) => res.end('ok'),
) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      respond(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return { received, port, url: `http://127.0.0.1:${port}/hook` };
}

const REFUSED = { name: 'WebhookRefusedError', kind: 'webhook_refused' };

const fakeDns =
  (answers: Record<string, string[]>, calls: string[] = []): HostLookup =>
  async (host) => {
    calls.push(host);
    const list = answers[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

t.test('ssrf: refuses loopback, private, link-local, metadata, CGNAT, multicast and other schemes in every spelling', async (t) => {
  const guard = createWebhookGuard('');
  const refused = [
    'http://127.0.0.1/',
    'http://127.0.0.1:8080/hook',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://[::1]/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://0/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[ff02::1]/',
    'http://[fc00::1]/',
    'http://[fd12:3456::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:10.0.0.1]/',
    'http://[64:ff9b::a00:1]/',
    'http://[2002:7f00:1::]/',
    'http://[::127.0.0.1]/',
    'https://[::1]:8443/',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_INFO',
    'ftp://example.com/',
    'data:text/plain,hello',
    'javascript:alert(1)',
    'not a url',
    'http://',
  ];
  for (const url of refused) {
    await t.rejects(guard.check(url), REFUSED, `${url} is refused`);
    const outcome = await deliverWebhook(url, { body: '{}', timeoutMs: 2000 }, guard);
    t.match(outcome, { ok: false, status: 0, refused: true }, `${url} is not delivered`);
  }
});

t.test('ssrf: the refusal says why', async (t) => {
  const guard = createWebhookGuard('', { lookup: fakeDns({ 'internal.example': ['10.1.2.3'] }) });
  await t.rejects(guard.check('http://169.254.169.254/'), /link-local/);
  await t.rejects(guard.check('gopher://x/'), /only http and https URLs are allowed, not gopher/);
  await t.rejects(guard.check('http://internal.example/'), /internal\.example resolves to 10\.1\.2\.3, which is a private address/);
  await t.rejects(guard.check('http://[::ffff:127.0.0.1]/'), /loopback address \(IPv6 form of 127\.0\.0\.1\)/);
  await t.rejects(guard.check('http://nowhere.example/'), /could not be resolved/);
});

t.test('ssrf: a host with one internal address among public ones is refused (any address could be used)', async (t) => {
  const guard = createWebhookGuard('', { lookup: fakeDns({ 'mixed.example': ['93.184.216.34', '192.168.0.10'] }) });
  await t.rejects(guard.check('https://mixed.example/hook'), /192\.168\.0\.10/);
});

t.test('ssrf: public addresses pass, whatever the spelling', async (t) => {
  const guard = createWebhookGuard('', {
    lookup: fakeDns({ 'hooks.slack.com': ['34.226.36.58', '2600:1f18:24e6:b900::1'] }),
  });
  const target = await guard.check('https://hooks.slack.com/services/T000/B000/XXXX');
  t.equal(target.host, 'hooks.slack.com');
  t.same(
    target.addresses.map((a) => a.address),
    ['34.226.36.58', '2600:1f18:24e6:b900::1'],
  );
  t.ok(await guard.check('http://8.8.8.8/'));
  t.ok(await guard.check('http://[2001:4860:4860::8888]/'));
  t.ok(await guard.check('http://[::ffff:8.8.8.8]/'), 'the IPv6 form of a public IPv4 address');
  t.ok(await guard.check('http://172.32.0.1/'), 'just outside 172.16/12');
  t.ok(await guard.check('http://100.128.0.1/'), 'just outside 100.64/10');
  t.equal(forbiddenAddressReason('11.0.0.1'), undefined);
  t.equal(forbiddenAddressReason('not-an-ip'), 'not an IP address');
});

t.test('ssrf: the allow list opens host names, addresses and CIDR ranges, and nothing else', async (t) => {
  const lookup = fakeDns({ 'receiver.internal': ['10.9.8.7'], 'other.internal': ['10.9.8.7'], localhost: ['127.0.0.1'] });
  const guard = createWebhookGuard('receiver.internal, 127.0.0.1 ,192.168.0.0/16,fd00::/8', { lookup });
  t.ok(await guard.check('http://receiver.internal/'), 'allow-listed host name');
  t.ok(await guard.check('http://RECEIVER.internal./'), 'host names compare case-insensitively, trailing dot ignored');
  await t.rejects(guard.check('http://other.internal/'), /private/, 'another name for the same address is still refused');
  t.ok(await guard.check('http://127.0.0.1:9999/'), 'allow-listed address');
  t.ok(await guard.check('http://localhost/'), 'a name resolving to an allow-listed address');
  t.ok(await guard.check('http://[::ffff:127.0.0.1]/'), 'the IPv6 form of an allow-listed IPv4 address');
  await t.rejects(guard.check('http://127.0.0.2/'), /loopback/, 'only that address');
  t.ok(await guard.check('http://192.168.44.1/'), 'inside the allowed range');
  await t.rejects(guard.check('http://10.0.0.1/'), /private/);
  t.ok(await guard.check('http://[fd00::5]/'), 'IPv6 range');
  await t.rejects(guard.check('http://[::1]/'), /loopback/);
  await t.rejects(guard.check('file:///etc/passwd'), /only http and https/, 'the allow list never opens other schemes');
});

t.test('ssrf: a malformed allow list entry fails loudly', async (t) => {
  for (const bad of ['10.0.0.0/33', '10.0.0.0/x', 'fd00::/129', 'http://x', 'a b', 'host/8']) {
    t.throws(() => parseWebhookAllowList(bad), { name: 'TypeError' }, `${bad} is rejected`);
  }
  t.doesNotThrow(() => parseWebhookAllowList(' , ,'), 'empty entries are ignored');
});

t.test('ssrf: host:port entries open that port only, and parse without throwing', async (t) => {
  const lookup = fakeDns({ 'hooks.internal': ['10.1.1.1'], localhost: ['127.0.0.1'] });
  const guard = createWebhookGuard('127.0.0.1:8080, [::1]:9000, hooks.internal:8443, 10.0.0.0/8', { lookup });
  t.ok(await guard.check('http://127.0.0.1:8080/api/app/echo'), 'the allowed address on its port');
  t.ok(await guard.check('http://localhost:8080/'), 'a name resolving to it, same port');
  await t.rejects(guard.check('http://127.0.0.1:8081/'), /loopback/, 'another port of the same address');
  await t.rejects(guard.check('http://127.0.0.1/'), /loopback/, 'the default port is 80, not 8080');
  t.ok(await guard.check('http://[::1]:9000/'), 'bracketed IPv6 with a port');
  await t.rejects(guard.check('http://[::1]:9001/'), /loopback/);
  t.ok(await guard.check('https://hooks.internal:8443/'), 'a host name on its port');
  t.ok(await guard.check('http://10.2.3.4:1234/'), 'CIDR ranges stay port-independent');

  const https = createWebhookGuard('hooks.internal:443', { lookup });
  t.ok(await https.check('https://hooks.internal/'), 'https without a port is port 443');
  await t.rejects(https.check('http://hooks.internal/'), /private/, 'http without a port is port 80');

  for (const bad of ['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:x', 'host:', '[::1]:', '[::1]x']) {
    t.throws(() => parseWebhookAllowList(bad), { name: 'TypeError' }, `${bad} is rejected`);
  }
});

t.test('ssrf: a receiver allow-listed as host:port is reached over real HTTP, another port is not', async (t) => {
  const hook = await receiver(t);
  const other = await receiver(t);
  const guard = createWebhookGuard(`127.0.0.1:${hook.port}`);
  t.match(await deliverWebhook(hook.url, { body: 'x' }, guard), { ok: true, status: 200 });
  t.match(await deliverWebhook(other.url, { body: 'x' }, guard), { ok: false, refused: true });
  t.equal(hook.received.length, 1);
  t.equal(other.received.length, 0, 'the receiver on another port was never called');
});

t.test('ssrf: a local receiver is reached only when allow-listed', async (t) => {
  const hook = await receiver(t);
  const refused = await deliverWebhook(hook.url, { body: '{"a":1}' }, createWebhookGuard(''));
  t.match(refused, { ok: false, refused: true, status: 0 });
  t.equal(hook.received.length, 0, 'no request was made');

  const allowed = await deliverWebhook(
    hook.url,
    { body: '{"a":1}', headers: { 'content-type': 'application/json', 'x-extra': 'yes' } },
    createWebhookGuard('127.0.0.1'),
  );
  t.match(allowed, { ok: true, status: 200, body: 'ok' });
  t.equal(allowed.refused, undefined);
  t.equal(hook.received.length, 1);
  t.match(hook.received[0], {
    method: 'POST',
    url: '/hook',
    body: '{"a":1}',
    headers: { 'content-type': 'application/json', 'x-extra': 'yes', 'content-length': '7' },
  });
});

t.test('ssrf: the connection goes to the address that was checked, with the original Host (no second DNS answer)', async (t) => {
  const hook = await receiver(t);
  const calls: string[] = [];
  const guard = createWebhookGuard('127.0.0.1', { lookup: fakeDns({ 'hooks.test': ['127.0.0.1'] }, calls) });
  const outcome = await deliverWebhook(`http://hooks.test:${hook.port}/x?y=1`, { method: 'PUT', body: 'hi' }, guard);
  t.match(outcome, { ok: true, status: 200 });
  t.same(calls, ['hooks.test'], 'the name was resolved exactly once');
  t.equal(hook.received[0]?.headers.host, `hooks.test:${hook.port}`);
  t.equal(hook.received[0]?.method, 'PUT');
  t.equal(hook.received[0]?.url, '/x?y=1');
});

t.test('ssrf: redirects are not followed', async (t) => {
  const hook = await receiver(t, (_req, res) => {
    res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
    res.end();
  });
  const outcome = await deliverWebhook(hook.url, { body: 'x' }, createWebhookGuard('127.0.0.1'));
  t.match(outcome, { ok: false, status: 302, error: /redirect \(HTTP 302\) not followed/ });
  t.equal(hook.received.length, 1);
});

t.test('ssrf: a non-2xx answer, a closed port and a bad header are reported, never thrown', async (t) => {
  const hook = await receiver(t, (_req, res) => {
    res.writeHead(500);
    res.end('no_service\n');
  });
  const guard = createWebhookGuard('127.0.0.1');
  t.match(await deliverWebhook(hook.url, { body: 'x' }, guard), { ok: false, status: 500, error: 'HTTP 500: no_service' });

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  t.match(await deliverWebhook(`http://127.0.0.1:${port}/`, { body: 'x' }, guard), { ok: false, status: 0, error: /ECONNREFUSED/ });

  const bad = await deliverWebhook(hook.url, { body: 'x', headers: { 'x-bad': 'a\r\nInjected: 1' } }, guard);
  t.match(bad, { ok: false, status: 0 });
  t.equal(hook.received.length, 1, 'the request with a bad header was not sent');
});

t.test('ssrf: a receiver that never answers times out', async (t) => {
  const hook = await receiver(t, () => {
    // Never answers.
  });
  const outcome = await deliverWebhook(hook.url, { body: 'x', timeoutMs: 200 }, createWebhookGuard('127.0.0.1'));
  t.match(outcome, { ok: false, status: 0, error: 'timed out after 200 ms' });
});

t.test('ssrf: only the start of a large response is kept', async (t) => {
  const hook = await receiver(t, (_req, res) => {
    res.write('a'.repeat(5000));
    // The rest never comes: the delivery must not wait for it.
  });
  const outcome = await deliverWebhook(hook.url, { body: 'x', maxResponseBytes: 100, timeoutMs: 5000 }, createWebhookGuard('127.0.0.1'));
  t.match(outcome, { ok: true, status: 200 });
  t.equal(outcome.body?.length, 100);
});

t.test('ssrf: error messages never contain the URL (its path is the secret of a Slack hook)', async (t) => {
  const hook = await receiver(t, (_req, res) => {
    res.writeHead(403);
    res.end('invalid_token');
  });
  const secretUrl = `${hook.url}/T0001/B0001/s3cr3tT0k3n`;
  const guard = createWebhookGuard('127.0.0.1');
  const outcome = await deliverWebhook(secretUrl, { body: 'x' }, guard);
  t.notMatch(outcome.error ?? '', /s3cr3t/);
  const refused = await deliverWebhook('http://10.0.0.1/services/s3cr3tT0k3n', { body: 'x' }, guard);
  t.notMatch(refused.error ?? '', /s3cr3t/);
});
