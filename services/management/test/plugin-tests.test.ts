/** test_monitor_plugin and test_scheduler_plugin (api-sections §1; behaviour §2 `edit_plugins`). */
import t from 'tap';
import { harness, makeKey, userSession } from './crud-table.js';

t.test('test_monitor_plugin / test_scheduler_plugin', async (t) => {
  const h = await harness(t);
  for (const [id, type] of [
    ['mon', 'monitor'],
    ['sched', 'scheduler'],
    ['ev', 'event'],
  ] as const) {
    const res = await h.api('create_plugin', { id, title: id, type, command: 'echo hi' });
    t.equal(res.body.code, 0, res.body.description);
  }

  await t.test('a valid test answers that no server can run it yet', async (t) => {
    const monitor = await h.api('test_monitor_plugin', { id: 'mon', server: 'web-01.example' });
    t.equal(monitor.status, 409, 'no runner online is a state, not our fault');
    t.equal(monitor.body.code, 'server');
    t.match(monitor.body.description, /No server is available to run the plugin test on yet/);
    t.match(monitor.body.description, /web-01\.example/);
    const scheduler = await h.api('test_scheduler_plugin', { id: 'sched', params: { a: 1 }, timezone: 'Europe/Paris', epoch: 1700000000 });
    t.equal(scheduler.body.code, 'server');
    t.equal(scheduler.body.description, 'No server is available to run the plugin test on yet');
    t.equal((await h.api('test_scheduler_plugin', { id: 'sched' })).body.code, 'server', 'params, timezone and epoch are optional');
  });

  await t.test('unknown ids and plugins of the wrong type', async (t) => {
    const m = await h.api('test_monitor_plugin', { id: 'nope', server: 's1' });
    t.equal(m.status, 404);
    t.equal(m.body.code, 'plugin');
    t.equal((await h.api('test_scheduler_plugin', { id: 'nope' })).body.code, 'plugin');
    for (const id of ['sched', 'ev']) {
      const res = await h.api('test_monitor_plugin', { id, server: 's1' });
      t.equal(res.body.code, 'api');
      t.match(res.body.description, /not a monitor plugin/);
    }
    for (const id of ['mon', 'ev']) {
      const res = await h.api('test_scheduler_plugin', { id });
      t.equal(res.body.code, 'api');
      t.match(res.body.description, /not a scheduler plugin/);
    }
  });

  await t.test('bad params are refused with api', async (t) => {
    for (const payload of [
      { id: 'mon' },
      { server: 's1' },
      { id: 'mon', server: '' },
      { id: 'mon', server: 'a b' },
      { id: 'mon', server: 7 },
    ]) {
      t.equal((await h.api('test_monitor_plugin', payload)).body.code, 'api', JSON.stringify(payload));
    }
    for (const payload of [
      {},
      { id: 'sched', params: 'x' },
      { id: 'sched', params: [1] },
      { id: 'sched', timezone: 'Mars/Olympus' },
      { id: 'sched', timezone: '' },
      { id: 'sched', epoch: -5 },
      { id: 'sched', epoch: 'noon' },
    ]) {
      t.equal((await h.api('test_scheduler_plugin', payload)).body.code, 'api', JSON.stringify(payload));
    }
  });

  await t.test('both need edit_plugins (user session and API key)', async (t) => {
    const plain = await userSession(h, 'plain_tester', { privileges: { create_plugins: true } });
    const key = { key: (await makeKey(h.ctx, { privileges: { create_plugins: true } })).key };
    for (const [auth, who] of [
      [plain, 'You do not have'],
      [key, 'API Key'],
    ] as const) {
      for (const [name, payload] of [
        ['test_monitor_plugin', { id: 'mon', server: 's1' }],
        ['test_scheduler_plugin', { id: 'sched' }],
      ] as const) {
        const res = await h.api(name, payload, auth);
        t.equal(res.status, 403, `${name} by ${who}`);
        t.equal(res.body.code, 'access');
        t.match(res.body.description, who);
      }
    }
    const granted = await userSession(h, 'granted_tester', { privileges: { edit_plugins: true } });
    t.equal((await h.api('test_scheduler_plugin', { id: 'sched' }, granted)).body.code, 'server', 'edit_plugins is enough');
    const grantedKey = { key: (await makeKey(h.ctx, { privileges: { edit_plugins: true } })).key };
    t.equal((await h.api('test_monitor_plugin', { id: 'mon', server: 's1' }, grantedKey)).body.code, 'server');
  });
});
