/**
 * A request the HTTP parser refuses (oversized headers, not HTTP) is answered with the API's error shape and
 * `Connection: close`, so a keep-alive client does not send its next request on the socket being closed.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import t from 'tap';
import { createApp } from '../src/service.js';
import { testConfig } from '../src/testing.js';

async function listening(t: Parameters<typeof testConfig>[0]) {
  const app = createApp({ ...testConfig(t), logLevel: 'silent' });
  app.get('/ok', async () => ({ code: 0 }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Sends raw bytes and reads until the server closes the socket. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => reject(new Error(`no close; got: ${answer.slice(0, 200)}`)));
  });
}

const body = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

t.test('oversized headers: 431, the error shape, and Connection: close', async (t) => {
  const port = await listening(t);
  const answer = await raw(port, `GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
  t.match(answer, /^HTTP\/1\.1 431 /);
  t.match(answer, /\r\nConnection: close\r\n/i, 'the client is told the socket closes');
  t.match(body(answer), { code: 'api', description: /headers are larger than this server accepts/ });
});

t.test('bytes that are not HTTP: 400, the error shape, and Connection: close', async (t) => {
  const port = await listening(t);
  const answer = await raw(port, 'HELLO THERE\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 400 /);
  t.match(answer, /\r\nConnection: close\r\n/i);
  t.match(body(answer), { code: 'api', description: 'The request is not valid HTTP/1.1' });
});

/** One GET through `agent`, its status once the body is read. */
function get(agent: Agent, port: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/ok', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('a keep-alive client goes on after a refused request on its only connection', async (t) => {
  const port = await listening(t);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  for (let round = 0; round < 20; round++) {
    t.equal(await get(agent, port, { 'x-big': 'a'.repeat(40_000) }), 431);
    t.equal(await get(agent, port), 200, `round ${round}: the next request is answered, not lost on the closed socket`);
  }
});
