import { schedulerEnabled } from '@shallot/core';
import t from 'tap';
import { harness, makeUser } from './helpers.js';

t.test('global state: pausing the scheduler as xyOps does, read back by anyone, written by admins only', async (t) => {
  const h = await harness(t);
  const fresh = await h.api('get_global_state', {});
  t.equal(fresh.body.code, 0);
  t.same(fresh.body.state.scheduler, { enabled: true, leader: null, minute: null, pending: 0 }, 'a fresh install schedules');

  const paused = await h.api('update_global_state', { 'scheduler.enabled': false });
  t.same(paused.body, { code: 0 });
  t.equal(await schedulerEnabled(h.ctx.redis.client), false, 'the scheduler reads the same switch');
  const state = await h.api('get_master_state', {});
  t.equal(state.body.state.scheduler.enabled, false, 'the seed name answers the same state');

  await h.api('update_master_state', { 'scheduler.enabled': true, 'ui.banner': 'hello' });
  const after = await h.api('get_global_state', {});
  t.equal(after.body.state.scheduler.enabled, true);
  t.same(after.body.state.ui, { banner: 'hello' }, 'dot paths nest');

  await makeUser(h.ctx, 'viewer');
  const viewer = { session: await h.login('viewer', 'user-password-1') };
  t.equal((await h.api('get_global_state', {}, viewer)).body.code, 0, 'any caller may read');
  const refused = await h.api('update_global_state', { 'scheduler.enabled': false }, viewer);
  t.equal(refused.body.code, 'access', 'a non-admin may not write');
  t.equal(await schedulerEnabled(h.ctx.redis.client), true, 'and nothing changed');
});

t.test('global state: bad keys and values are refused whole, with the spec messages', async (t) => {
  const h = await harness(t);
  for (const key of ['__proto__.x', 'a.constructor', 'events.0.cursor', 'a..b']) {
    const answer = await h.api('update_global_state', { [key]: 1, 'ok.key': 2 });
    t.equal(answer.body.code, 'api', key);
    t.match(answer.body.description, /Naughty key detected/);
  }
  const wrongType = await h.api('update_global_state', { 'scheduler.enabled': 'no' });
  t.equal(wrongType.body.code, 'api');
  t.match(wrongType.body.description, /true or false/);
  t.equal((await h.api('update_global_state', {})).body.code, 'api');
  const state = await h.api('get_global_state', {});
  t.equal(state.body.state.ok, undefined, 'no partial write');
  t.equal(state.body.state.scheduler.enabled, true);
});
