/**
 * The table every definition section is tested against (behaviour §13): the create → get → list → update → get →
 * delete → get lifecycle, bad input, unknown ids, and callers without the privilege (user session and API key).
 */
import type { Test } from 'tap';
import { type Auth, type Harness, harness, makeKey, makeUser } from './helpers.js';

type Tap = Test;
type Fields = Record<string, unknown>;

export interface SectionCase {
  singular: string;
  plural: string;
  /** A valid create payload (without id). */
  create: Fields;
  /** A sparse update; every key must differ from `create`. */
  update: Fields;
  /** Required fields: each is left out once and must be refused with `api`. */
  required: string[];
  /** Fields with a wrong type or shape: each must be refused with `api`. */
  wrongType: Fields;
  privileges: { create: string; edit: string; delete: string };
  /** Duplicate-id error code. @default singular */
  duplicateCode?: string;
  /** Error code of update/delete on an unknown id. @default singular (the section's code, as xyOps answers) */
  unknownUpdateCode?: string;
  /** Server defaults expected on a fresh record. */
  defaults?: Fields;
  /** update answers the full record. */
  updateReturnsRecord?: boolean;
}

const PASSWORD = 'user-password-1';

async function userSession(h: Harness, username: string, fields: Parameters<typeof makeUser>[2] = {}): Promise<Auth> {
  await makeUser(h.ctx, username, fields, PASSWORD);
  return { session: await h.login(username, PASSWORD) };
}

/** Runs the standard table for one section on one service instance (subtests run one after the other). */
export function crudTable(t: Tap, section: SectionCase): void {
  const { singular, plural } = section;
  let shared: Promise<Harness> | undefined;
  // One service for the whole table keeps the file fast; every case makes its own records and users.
  const harnessOnce = (_t: Tap) => {
    shared ??= harness(t);
    return shared;
  };

  t.test(`${plural}: create → get → list → sparse update → get → delete → get`, async (t) => {
    const h = await harnessOnce(t);
    const created = await h.api(`create_${singular}`, section.create);
    t.equal(created.body.code, 0, JSON.stringify(created.body));
    const record = created.body[singular];
    t.match(record.id, /^[a-z0-9_]+$/);
    t.equal(record.revision, 1);
    t.equal(record.username, 'admin');
    t.type(record.created, 'number');
    for (const [key, value] of Object.entries({ ...section.defaults, ...section.create })) {
      if (key !== 'fields' && key !== 'data') t.same(record[key], value, `create keeps/sets ${key}`);
    }
    const got = await h.api(`get_${singular}`, { id: record.id });
    t.same(got.body[singular], record, 'get answers what create answered');
    const listed = await h.call({
      method: 'GET',
      url: `/api/app/get_${plural}/v1`,
      headers: { 'x-session-id': (h.admin as { session: string }).session },
    });
    t.ok(
      listed.body.rows.some((r: Fields) => r.id === record.id),
      'list has it',
    );
    t.equal(listed.body.list.length, listed.body.rows.length);

    const updated = await h.api(`update_${singular}`, { id: record.id, ...section.update, revision: 99, username: 'mallory' });
    t.equal(updated.body.code, 0, JSON.stringify(updated.body));
    if (section.updateReturnsRecord) t.equal(updated.body[singular].revision, 2);
    const after = (await h.api(`get_${singular}`, { id: record.id })).body[singular];
    t.equal(after.revision, 2, 'revision bumped once');
    t.equal(after.username, 'admin', 'username is not client-settable');
    t.equal(after.created, record.created);
    for (const [key, value] of Object.entries(section.update))
      if (key !== 'fields' && key !== 'data') t.same(after[key], value, `updated ${key}`);
    for (const [key, value] of Object.entries(record)) {
      if (!(key in section.update) && !['revision', 'modified', 'names'].includes(key)) t.same(after[key], value, `kept ${key}`);
    }

    const deleted = await h.api(`delete_${singular}`, { id: record.id });
    t.same(deleted.body, { code: 0 });
    const gone = await h.api(`get_${singular}`, { id: record.id });
    t.equal(gone.status, 404);
    t.equal(gone.body.code, singular);
  });

  t.test(`${plural}: a client id is kept; a duplicate id is refused with code ${section.duplicateCode ?? singular}`, async (t) => {
    const h = await harnessOnce(t);
    const first = await h.api(`create_${singular}`, { ...section.create, id: `my_${singular}` });
    t.equal(first.body[singular]?.id, `my_${singular}`);
    const again = await h.api(`create_${singular}`, { ...section.create, id: `my_${singular}` });
    t.equal(again.body.code, section.duplicateCode ?? singular);
    t.equal(again.status, 409, "a duplicate id is the caller's fault: 409, not 500");
    const bad = await h.api(`create_${singular}`, { ...section.create, id: 'Bad Id!' });
    t.equal(bad.body.code, 'api');
  });

  t.test(`${plural}: missing required fields and wrong types are refused with api, and nothing is stored`, async (t) => {
    const h = await harnessOnce(t);
    const before = (await h.api(`get_${plural}`, {})).body.list.length;
    for (const field of section.required) {
      const { [field]: _omitted, ...payload } = section.create;
      const res = await h.api(`create_${singular}`, payload);
      t.equal(res.body.code, 'api', `without ${field}: ${res.body.description}`);
      t.equal(res.status, 400);
    }
    for (const [field, value] of Object.entries(section.wrongType)) {
      const res = await h.api(`create_${singular}`, { ...section.create, [field]: value });
      t.equal(res.body.code, 'api', `${field}=${JSON.stringify(value)}: ${res.body.description}`);
    }
    t.equal((await h.api(`get_${plural}`, {})).body.list.length, before, 'no partial writes');
    const created = (await h.api(`create_${singular}`, section.create)).body[singular];
    for (const [field, value] of Object.entries(section.wrongType)) {
      const res = await h.api(`update_${singular}`, { id: created.id, [field]: value });
      t.equal(res.body.code, 'api', `update ${field}=${JSON.stringify(value)}`);
    }
    t.equal((await h.api(`get_${singular}`, { id: created.id })).body[singular].revision, 1, 'refused updates change nothing');
  });

  t.test(`${plural}: unknown ids`, async (t) => {
    const h = await harnessOnce(t);
    const get = await h.api(`get_${singular}`, { id: 'nope_nothing' });
    t.equal(get.body.code, singular);
    const update = await h.api(`update_${singular}`, { id: 'nope_nothing', ...section.update });
    t.equal(update.body.code, section.unknownUpdateCode ?? singular);
    const del = await h.api(`delete_${singular}`, { id: 'nope_nothing' });
    t.equal(del.body.code, singular);
    const missing = await h.api(`get_${singular}`, {});
    t.equal(missing.body.code, 'api', 'id is required');
  });

  t.test(`${plural}: callers without the privilege are refused (user session and API key); reads need any caller`, async (t) => {
    const h = await harnessOnce(t);
    const existing = (await h.api(`create_${singular}`, section.create)).body[singular];
    const user = await userSession(h, `plain_${singular}`);
    const key = await makeKey(h.ctx, { privileges: {} });
    const keyAuth: Auth = { key: key.key };
    for (const [auth, who] of [
      [user, 'You do not have'],
      [keyAuth, 'API Key'],
    ] as const) {
      const calls: Array<[string, Fields]> = [
        [`create_${singular}`, section.create],
        [`update_${singular}`, { id: existing.id, ...section.update }],
        [`delete_${singular}`, { id: existing.id }],
      ];
      for (const [name, payload] of calls) {
        const res = await h.api(name, payload, auth);
        t.equal(res.status, 403, `${name} by ${who}`);
        t.equal(res.body.code, 'access');
        t.match(res.body.description, who);
      }
      const read = await h.api(`get_${singular}`, { id: existing.id }, auth);
      t.equal(read.body.code, 0, 'reads need only a valid caller');
    }
    const anonymous = await h.call({ method: 'GET', url: `/api/app/get_${plural}/v1` });
    t.equal(anonymous.body.code, 'session');
    // The matching privilege is enough (no admin needed) unless the section is admin-only.
    if (section.privileges.create !== 'admin') {
      const granted = await userSession(h, `granted_${singular}`, {
        privileges: { [section.privileges.create]: true, [section.privileges.edit]: true, [section.privileges.delete]: true },
      });
      const made = await h.api(`create_${singular}`, section.create, granted);
      t.equal(made.body.code, 0, JSON.stringify(made.body));
      t.equal(made.body[singular].username, `granted_${singular}`);
      t.equal((await h.api(`update_${singular}`, { id: made.body[singular].id, ...section.update }, granted)).body.code, 0);
      t.equal((await h.api(`delete_${singular}`, { id: made.body[singular].id }, granted)).body.code, 0);
      const keyed = await makeKey(h.ctx, { privileges: { [section.privileges.create]: true } });
      const byKey = await h.api(`create_${singular}`, section.create, { key: keyed.key });
      t.equal(byKey.body[singular]?.username, keyed.id, 'an API key stamps its id');
    }
  });

  t.test(`${plural}: every change is in the activity log`, async (t) => {
    const h = await harnessOnce(t);
    const created = (await h.api(`create_${singular}`, section.create)).body[singular];
    await h.api(`update_${singular}`, { id: created.id, ...section.update });
    await h.api(`delete_${singular}`, { id: created.id });
    const { hits } = await h.ctx.store.indexes.search('activity', '', {
      query: { term: { field: 'keywords', value: created.id } },
      limit: 100,
    });
    const actions = hits.map((r) => r.action).sort();
    const type = section.duplicateCode ?? singular;
    t.same(actions, [`${type}_create`, `${type}_delete`, `${type}_update`]);
  });
}

export { harness, makeKey, makeUser, userSession, PASSWORD };
