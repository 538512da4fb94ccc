import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { ExpressionError } from '../src/expressions.js';
import { createWebhookGuard } from '../src/ssrf.js';
import { checkWebHookTemplates, sendWebHook } from '../src/web-hook-sender.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function receiver(t: { teardown(fn: () => unknown): void }, status = 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return { received, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const hook = (url: string) => ({
  title: 'Test',
  method: 'POST',
  url: `${url}/hook?x={{encode(text)}}`,
  headers: [
    { name: 'Content-Type', value: 'application/json' },
    { name: 'X-Token', value: 'sekrit-token-value' },
  ],
  body: '{"text":"{{text}}","other":"{{unknown.macro}}"}',
});

t.test('a hook to 127.0.0.1 is refused by default, and nothing is sent', async (t) => {
  const { received, base } = await receiver(t);
  const outcome = await sendWebHook(hook(base), { text: 'hi' }, { guard: createWebhookGuard('') });
  t.equal(outcome.code, 'webhook');
  t.equal(outcome.refused, true);
  t.match(outcome.description, /refused.*loopback/);
  t.equal(received.length, 0);
});

t.test('an allow-listed hook is delivered with rendered URL, headers and body; secrets are redacted from the report', async (t) => {
  const { received, base } = await receiver(t);
  const outcome = await sendWebHook(
    hook(base),
    { text: 'a b' },
    {
      guard: createWebhookGuard('127.0.0.1'),
      fallback: 'FALLBACK',
      secrets: ['sekrit-token-value'],
    },
  );
  t.equal(outcome.code, 0, outcome.description);
  t.equal(outcome.description, 'Success (HTTP 200 OK)');
  t.equal(received.length, 1);
  const [req] = received;
  t.equal(req?.method, 'POST');
  t.equal(req?.url, '/hook?x=a%20b');
  t.equal(req?.headers['x-token'], 'sekrit-token-value', 'the receiver gets the real value');
  t.same(JSON.parse(req?.body ?? '{}'), { text: 'a b', other: 'FALLBACK' });
  t.notMatch(outcome.details, /sekrit-token-value/);
  t.match(outcome.details, /X-Token: \(REDACTED\)/);
  t.match(outcome.details, /HTTP 200/);
});

t.test('GET sends no body; header values cannot smuggle line breaks', async (t) => {
  const { received, base } = await receiver(t);
  const outcome = await sendWebHook(
    { method: 'get', url: `${base}/g`, body: 'ignored', headers: [{ name: 'X-Note', value: '{{text}}' }] },
    { text: 'one\r\nX-Evil: 1' },
    { guard: createWebhookGuard('127.0.0.1') },
  );
  t.equal(outcome.code, 0);
  t.equal(received[0]?.method, 'GET');
  t.equal(received[0]?.body, '');
  t.equal(received[0]?.headers['x-note'], 'one X-Evil: 1');
  t.notOk(received[0]?.headers['x-evil']);
});

t.test('a non-2xx answer is code webhook with the status; transport errors are retried', async (t) => {
  const { received, base } = await receiver(t, 500);
  const failed = await sendWebHook({ method: 'POST', url: base, retries: 3 }, {}, { guard: createWebhookGuard('127.0.0.1') });
  t.equal(failed.code, 'webhook');
  t.equal(failed.status, 500);
  t.equal(received.length, 1, 'an HTTP answer is not retried');
  const closed = await new Promise<number>((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  const refused = await sendWebHook(
    { method: 'POST', url: `http://127.0.0.1:${closed}/`, retries: 2 },
    {},
    { guard: createWebhookGuard('127.0.0.1') },
  );
  t.equal(refused.code, 'webhook');
  t.equal(refused.status, 0);
  t.match(refused.details, /Attempts:\*\* 3/);
});

t.test('templates are checked: body macros must compile and header names must be tokens', async (t) => {
  t.doesNotThrow(() => checkWebHookTemplates({ url: 'https://x/{{id}}', body: '{{text}}', headers: [{ name: 'X-A', value: '{{a.b}}' }] }));
  t.throws(() => checkWebHookTemplates({ url: 'https://x', body: '{{ text + }}' }), /Failed to compile macro in body/);
  t.throws(() => checkWebHookTemplates({ url: 'https://x', headers: [{ name: 'Bad Header', value: '' }] }), ExpressionError);
});
