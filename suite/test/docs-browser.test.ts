/**
 * The API document is usable from a browser: in headless Chromium, log in through the /docs page, authorize with
 * the session id (then with an API key), and "Try it out" on get_categories answers rows. Cookies are cleared
 * before each authorized call, so the header the page sends is what authenticates it.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { testContext } from '@shallot/core/testing';
import { type Browser, type Page, chromium } from 'playwright-core';
import t from 'tap';
import { buildSuite } from '../src/suite.js';

const CHROMIUM = '/usr/bin/chromium';
// A browser rendering ~120 operations on a shared CI machine: more than the default file timeout.
t.setTimeout(400_000);
const PASSWORD = 'docs-browser-password';

async function operation(page: Page, path: string) {
  const block = page.locator('.opblock', { has: page.locator(`[data-path="${path}"]`) }).first();
  if (!(await block.locator('.opblock-body').isVisible())) await block.locator('.opblock-summary').first().click();
  return block;
}

/** Clicks Execute and answers the response body the page shows. */
async function execute(block: Awaited<ReturnType<typeof operation>>): Promise<{ status: string; body: string; curl: string }> {
  await block.locator('button.execute').click();
  const body = block.locator('.live-responses-table .response-col_description pre').first();
  await body.waitFor({ state: 'visible' });
  const status = ((await block.locator('.live-responses-table .response .response-col_status').first().textContent()) ?? '').replace(
    /\D.*$/s,
    '',
  );
  const curl = (await block.locator('.curl-command').first().textContent()) ?? '';
  return { status: status.trim(), body: (await body.textContent()) ?? '', curl };
}

async function authorize(page: Page, header: string, value: string): Promise<void> {
  await page.locator('.auth-wrapper button.authorize').click();
  const container = page.locator('.auth-container', { hasText: header });
  await container.locator('input').first().fill(value);
  await container.locator('button.authorize').click();
  await page.locator('.modal-ux button.btn-done').first().click();
}

async function logoutAll(page: Page): Promise<void> {
  await page.locator('.auth-wrapper button.authorize').click();
  for (const button of await page.locator('.modal-ux button.logout').all()) await button.click();
  await page.locator('.modal-ux button.btn-done').first().click();
}

t.test('/docs: log in through the page, authorize, and Try it out on get_categories answers rows', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(
      `Chromium is not installed at ${CHROMIUM}: this test drives the /docs page in it. Install it with "apt-get install -y chromium" (.ci/run does).`,
    );
    return;
  }
  const ctx = await testContext(t, { adminPassword: PASSWORD });
  const app = await buildSuite(ctx);
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  // A category to list, and an API key to authorize with later (made over the API, not through the page).
  const login = (await (
    await fetch(`${base}/api/user/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    })
  ).json()) as { session_id: string };
  const admin = { 'content-type': 'application/json', 'x-session-id': login.session_id };
  await fetch(`${base}/api/app/create_category/v1`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ id: 'from_browser_test', title: 'Browser test' }),
  });
  const key = (await (
    await fetch(`${base}/api/app/create_api_key/v1`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ title: 'Docs page', privileges: { admin: true } }),
    })
  ).json()) as { plain_key: string };

  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (error) {
    t.fail(`Chromium at ${CHROMIUM} did not start: ${(error as Error).message}`);
    return;
  }
  t.teardown(() => browser.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  // The page renders ~120 operations: give a loaded machine time.
  page.setDefaultTimeout(60_000);
  await page.goto(`${base}/docs`);
  // Sections start collapsed (rendering all ~160 operations at once stalls the page): open the two this test uses.
  for (const tag of ['User', 'Categories']) await page.locator(`h3.opblock-tag[data-tag="${tag}"]`).click();
  await page.locator('[data-path="/api/user/login"]').first().waitFor({ state: 'attached' });

  // Log in through the page: the login operation, with the JSON body typed into it.
  const loginBlock = await operation(page, '/api/user/login');
  await loginBlock.locator('button.try-out__btn').click();
  await loginBlock.locator('textarea.body-param__text').fill(JSON.stringify({ username: 'admin', password: PASSWORD }));
  const loggedIn = await execute(loginBlock);
  t.equal(loggedIn.status, '200', 'login answered 200');
  const sessionId = (JSON.parse(loggedIn.body) as { session_id?: string }).session_id;
  t.type(sessionId, 'string', 'the page shows the session id');

  // Only the header may authenticate what follows: the login cookie is dropped.
  await context.clearCookies();
  const categories = await operation(page, '/api/app/get_categories/v1');
  await categories.locator('button.try-out__btn').click();
  const anonymous = await execute(categories);
  t.equal(anonymous.status, '403', 'without authorization the call is refused');
  t.match(anonymous.body, /"code": "session"/);

  await authorize(page, 'X-Session-ID', String(sessionId));
  const withSession = await execute(categories);
  t.equal(withSession.status, '200', 'authorized with the session: 200');
  t.match(withSession.curl, /X-Session-ID/i, 'the page sent the session header');
  const rows = (JSON.parse(withSession.body) as { code: number; rows: Array<{ id: string }> }).rows;
  t.ok(
    rows.some((r) => r.id === 'from_browser_test'),
    'get_categories returned the rows',
  );

  await logoutAll(page);
  await context.clearCookies();
  await authorize(page, 'X-API-Key', key.plain_key);
  const withKey = await execute(categories);
  t.equal(withKey.status, '200', 'authorized with an API key: 200');
  t.match(withKey.curl, /X-API-Key/i, 'the page sent the key header');
  t.match(withKey.body, /from_browser_test/);
});
