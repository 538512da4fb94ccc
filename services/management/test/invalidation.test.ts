/**
 * Per-process caches (callers, collection reads) across processes: two management services, each its own OS process
 * with its own Redis connections, sharing one SQLite file. What one changes, the other honours within 1 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_REDIS_URL, type Teardownable, deleteRedisPrefix } from '@shallot/core/testing';
import t from 'tap';
import { freePort } from '@shallot/core';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const PASSWORD = 'admin-test-password';
const WITHIN_MS = 1000;

async function waitReady(base: string, child: ChildProcess, output: string[]): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`service exited early: ${output.join('')}`);
    try {
      if ((await fetch(`${base}/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service not ready: ${output.join('')}`);
}

/** Two management processes on one data dir and one Redis prefix. */
async function twoProcesses(t: Teardownable): Promise<[string, string]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shallot-two-'));
  const prefix = `test-two-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve(undefined);
            child.once('exit', resolve);
            child.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dataDir, { recursive: true, force: true });
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
  });
  const start = async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        SHALLOT_HOST: '127.0.0.1',
        SHALLOT_PORT: String(port),
        SHALLOT_DATA_DIR: dataDir,
        SHALLOT_REDIS_PREFIX: prefix,
        REDIS_URL: TEST_REDIS_URL,
        SHALLOT_ADMIN_PASSWORD: PASSWORD,
        SHALLOT_SECRET_KEY: 'k'.repeat(64),
        SHALLOT_LOG_LEVEL: 'warn',
        SHALLOT_RATE_LIMIT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const output: string[] = [];
    child.stdout?.on('data', (d) => output.push(String(d)));
    child.stderr?.on('data', (d) => output.push(String(d)));
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, child, output);
    return base;
  };
  // The first seeds the store; the second starts on it.
  const a = await start();
  const b = await start();
  return [a, b];
}

type Body = Record<string, unknown> & { code: unknown };

async function post(base: string, path: string, payload: unknown, headers: Record<string, string> = {}): Promise<Body> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
  return (await res.json()) as Body;
}

async function login(base: string, username: string, password: string): Promise<string> {
  const body = await post(base, '/api/user/login', { username, password });
  if (body.code !== 0) throw new Error(`login failed: ${JSON.stringify(body)}`);
  return String(body.session_id);
}

/** Polls `check` until it holds; answers how long that took (ms), or Infinity after 5 s. */
async function timeUntil(check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 5000) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  return Number.POSITIVE_INFINITY;
}

t.test('what one process changes, another honours within 1 s', async (t) => {
  const [a, b] = await twoProcesses(t);
  const admin = { 'x-session-id': await login(a, 'admin', PASSWORD) };

  t.test('a session ended in one process is refused by the other', async (t) => {
    const session = await login(a, 'admin', PASSWORD);
    const headers = { 'x-session-id': session };
    // B resolves (and caches) the caller several times first.
    for (let i = 0; i < 3; i++) t.equal((await post(b, '/api/app/get_tags/v1', {}, headers)).code, 0, 'B accepts the session');
    t.equal((await post(a, '/api/user/logout', {}, headers)).code, 0);
    const took = await timeUntil(async () => (await post(b, '/api/app/get_tags/v1', {}, headers)).code === 'session');
    t.ok(took <= WITHIN_MS, `B refuses it after ${took.toFixed(0)} ms`);
  });

  t.test('logout_all in one process ends the sessions the other has cached', async (t) => {
    const mine = { 'x-session-id': await login(a, 'admin', PASSWORD) };
    const other = { 'x-session-id': await login(b, 'admin', PASSWORD) };
    t.equal((await post(b, '/api/app/get_tags/v1', {}, other)).code, 0);
    t.equal((await post(a, '/api/app/logout_all/v1', { password: PASSWORD }, mine)).code, 0);
    const took = await timeUntil(async () => (await post(b, '/api/app/get_tags/v1', {}, other)).code === 'session');
    t.ok(took <= WITHIN_MS, `refused after ${took.toFixed(0)} ms`);
    t.equal((await post(b, '/api/app/get_tags/v1', {}, mine)).code, 0, "the caller's own session lives on in B");
    Object.assign(admin, mine);
  });

  t.test("a role's privileges, granted and withdrawn in one process, apply in the other", async (t) => {
    t.equal((await post(a, '/api/app/create_role/v1', { id: 'taggers', title: 'Taggers', privileges: {} }, admin)).code, 0);
    const created = await post(
      a,
      '/api/user/admin_create',
      { username: 'rita', password: 'rita-password-1', full_name: 'Rita', email: 'rita@example.com', roles: ['taggers'] },
      admin,
    );
    t.equal(created.code, 0);
    const rita = { 'x-session-id': await login(a, 'rita', 'rita-password-1') };
    let n = 0;
    const createTag = async () => (await post(b, '/api/app/create_tag/v1', { id: `t${++n}`, title: `Tag ${n}` }, rita)).code;
    t.equal(await createTag(), 'access', 'B refuses at first (and caches the caller)');
    t.equal((await post(a, '/api/app/update_role/v1', { id: 'taggers', privileges: { create_tags: true } }, admin)).code, 0);
    const granted = await timeUntil(async () => (await createTag()) === 0);
    t.ok(granted <= WITHIN_MS, `granted in B after ${granted.toFixed(0)} ms`);
    t.equal((await post(a, '/api/app/update_role/v1', { id: 'taggers', privileges: {} }, admin)).code, 0);
    const withdrawn = await timeUntil(async () => (await createTag()) === 'access');
    t.ok(withdrawn <= WITHIN_MS, `withdrawn in B after ${withdrawn.toFixed(0)} ms`);
  });

  t.test('a disabled API key is refused by the other process', async (t) => {
    const key = await post(a, '/api/app/create_api_key/v1', { title: 'k', privileges: { admin: true } }, admin);
    t.equal(key.code, 0);
    const headers = { 'x-api-key': String(key.plain_key) };
    t.equal((await post(b, '/api/app/get_tags/v1', {}, headers)).code, 0);
    const id = String((key.api_key as { id: string }).id);
    t.equal((await post(a, '/api/app/update_api_key/v1', { id, active: false }, admin)).code, 0);
    const took = await timeUntil(async () => (await post(b, '/api/app/get_tags/v1', {}, headers)).code === 'session');
    t.ok(took <= WITHIN_MS, `refused after ${took.toFixed(0)} ms`);
  });

  t.test('a category created in one process is listed by the other', async (t) => {
    const names = async () => ((await post(b, '/api/app/get_categories/v1', {}, admin)).rows as Array<{ id: string }>).map((r) => r.id);
    t.notOk((await names()).includes('fresh'), 'B has listed (and cached) the categories');
    t.equal((await post(a, '/api/app/create_category/v1', { id: 'fresh', title: 'Fresh' }, admin)).code, 0);
    const took = await timeUntil(async () => (await names()).includes('fresh'));
    t.ok(took <= WITHIN_MS, `listed after ${took.toFixed(0)} ms`);
    t.equal((await post(a, '/api/app/delete_category/v1', { id: 'fresh' }, admin)).code, 0);
    const gone = await timeUntil(async () => !(await names()).includes('fresh'));
    t.ok(gone <= WITHIN_MS, `gone after ${gone.toFixed(0)} ms`);
  });
});
