/** The email action over real SMTP: a local smtp-server receives what nodemailer sends. */
import type { AddressInfo } from 'node:net';
import { USERS, createProducer, createWebhookGuard, userKey } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import { dispatchQueue } from '@shallot/schemas';
import { SMTPServer } from 'smtp-server';
import t from 'tap';
import { runActions } from '../src/actions/index.js';

interface Received {
  from: string;
  to: string[];
  data: string;
}

async function smtpReceiver(t: { teardown(fn: () => unknown): void }) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        received.push({
          from: String(session.envelope.mailFrom ? session.envelope.mailFrom.address : ''),
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { received, port: (server.server.address() as AddressInfo).port };
}

t.test('email action: users and addresses receive the job summary over SMTP; the outcome is recorded', async (t) => {
  const smtp = await smtpReceiver(t);
  const ctx = await testContext(t, { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'jobs@shallot.test' });
  await ctx.store.collections.create(USERS, { id: userKey('ops'), username: 'ops', email: 'ops@example.com', active: true });
  const dispatch = createProducer(ctx.redis, dispatchQueue);
  t.teardown(() => dispatch.close());
  const deps = { ctx, redis: ctx.redis, guard: createWebhookGuard(''), dispatch, timeoutMs: 5000 };
  const job = {
    id: 'jmail1',
    event: 'nightly',
    code: 'warning',
    description: 'Disk almost full',
    output: 'checking disks\n',
    actions: [
      { enabled: true, condition: 'warning', type: 'email', users: ['ops', 'nobody'], email: 'lead@example.com, not-an-address' },
      { enabled: true, condition: 'success', type: 'email', users: ['ops'] },
    ],
  };
  const ran = await runActions(job, ['complete', 'error', 'warning'], deps);
  t.equal(ran, 1, 'only the matching condition ran');
  t.equal(smtp.received.length, 1);
  const mail = smtp.received[0] as Received;
  t.equal(mail.from, 'jobs@shallot.test');
  t.same(mail.to.sort(), ['lead@example.com', 'ops@example.com']);
  t.match(mail.data, /Subject: Job failed: nightly: Disk almost full/);
  t.match(mail.data, /checking disks/);
  const [first, second] = job.actions as Array<Record<string, unknown>>;
  t.equal(first?.code, 0);
  t.match(first?.description, /2 recipient/);
  t.notOk(second && 'code' in second, 'the other action did not run');

  // No transport: recorded as an email error, the job is not affected.
  const bare = await testContext(t);
  const noSmtp = { ...deps, ctx: bare };
  await bare.store.collections.create(USERS, { id: userKey('ops'), username: 'ops', email: 'ops@example.com', active: true });
  const other = { id: 'jmail2', code: 0, actions: [{ enabled: true, condition: 'success', type: 'email', users: ['ops'] }] };
  await runActions(other, ['success'], noSmtp);
  t.equal((other.actions[0] as Record<string, unknown>).code, 'email');
  const none = { id: 'jmail3', code: 0, actions: [{ enabled: true, condition: 'success', type: 'email', users: [], email: '' }] };
  await runActions(none, ['success'], noSmtp);
  t.match((none.actions[0] as Record<string, unknown>).description, /skipping/);
});
