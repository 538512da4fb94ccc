import { checkWebHookTemplates, compileExpression, compileRegex, compileTemplate } from '@shallot/core';
import t from 'tap';
import { harness } from './crud-table.js';

t.test('seeded definitions are answered intact by the list and get calls', async (t) => {
  const h = await harness(t);
  for (const [plural, singular] of <Array<[string, string]>>[
    ['plugins', 'plugin'],
    ['monitors', 'monitor'],
    ['alerts', 'alert'],
    ['groups', 'group'],
    ['channels', 'channel'],
    ['web_hooks', 'web_hook'],
    ['buckets', 'bucket'],
    ['secrets', 'secret'],
  ]) {
    const list = await h.api(`get_${plural}`, {});
    t.equal(list.body.code, 0, plural);
    const stored = await h.ctx.store.collections.list(plural, { limit: 1000 });
    t.equal(list.body.list.length, stored.total, `${plural}: every seeded record is listed`);
    for (const row of stored.rows) {
      const got = await h.api(`get_${singular}`, { id: row.id });
      t.same(got.body[singular], row, `${singular} ${row.id} answered as stored`);
    }
  }
});

t.test('seeded expressions, templates and regexes pass the same checks as saved ones', async (t) => {
  const h = await harness(t);
  const rows = async (collection: string) => (await h.ctx.store.collections.list(collection, { limit: 1000 })).rows;
  for (const monitor of await rows('monitors')) {
    t.doesNotThrow(() => compileExpression(String(monitor.source)), `monitor ${monitor.id}`);
    if (monitor.data_match) t.doesNotThrow(() => compileRegex(String(monitor.data_match)));
  }
  for (const alert of await rows('alerts')) {
    t.doesNotThrow(() => compileExpression(String(alert.expression)), `alert ${alert.id}`);
    t.doesNotThrow(() => compileTemplate(String(alert.message ?? '')));
  }
  for (const group of await rows('groups')) t.doesNotThrow(() => compileRegex(String(group.hostname_match)), `group ${group.id}`);
  for (const hook of await rows('web_hooks')) t.doesNotThrow(() => checkWebHookTemplates(hook as never), `web hook ${hook.id}`);
  t.ok((await rows('monitors')).length >= 15, 'the default monitors are there');
});
