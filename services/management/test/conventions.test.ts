/** REST conventions (api-sections §0): GET/POST, JSON on GET, form bodies, merging, list.length, statuses, unknown APIs. */
import t from 'tap';
import { harness } from './helpers.js';

t.test('conventions of /api/app/NAME/v1 calls', async (t) => {
  const h = await harness(t);
  const session = (h.admin as { session: string }).session;
  const auth = { 'x-session-id': session };

  await t.test('GET with a query string and POST with JSON reach the same call', async (t) => {
    const get = await h.call({ method: 'GET', url: '/api/app/get_tag/v1?id=flag', headers: auth });
    const post = await h.call({ method: 'POST', url: '/api/app/get_tag/v1', headers: auth, payload: { id: 'flag' } });
    t.equal(get.body.code, 0);
    t.same(get.body, post.body);
  });

  await t.test('a GET may carry its parameters as a JSON body', async (t) => {
    const res = await h.call({
      method: 'GET',
      url: '/api/app/get_tag/v1',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'important' }),
    });
    t.equal(res.body.code, 0, JSON.stringify(res.body));
    t.equal(res.body.tag.id, 'important');
    const empty = await h.call({ method: 'GET', url: '/api/app/get_tags/v1', headers: { ...auth, 'content-type': 'application/json' } });
    t.equal(empty.body.code, 0, 'an empty JSON body means no parameters');
    const emptyPost = await h.call({
      method: 'POST',
      url: '/api/app/get_tags/v1',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '',
    });
    t.equal(emptyPost.body.code, 0);
  });

  await t.test('query and body are merged; the body wins; query values are converted to the declared types', async (t) => {
    const res = await h.call({
      method: 'POST',
      url: '/api/app/get_tags/v1?offset=5&limit=1',
      headers: auth,
      payload: { offset: 0 },
    });
    t.equal(res.body.code, 0);
    t.equal(res.body.rows.length, 1, 'limit from the query, converted to a number');
    t.equal(res.body.list.length, 2, 'list.length is the total before paging');
    t.equal(res.body.rows[0].id, 'flag', 'offset 0 from the body wins over 5');
  });

  await t.test('form-urlencoded bodies are accepted and converted', async (t) => {
    const res = await h.call({
      method: 'POST',
      url: '/api/app/create_category/v1',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=from_form&title=From+a+form&enabled=false',
    });
    t.equal(res.body.code, 0, JSON.stringify(res.body));
    t.equal(res.body.category.title, 'From a form');
    t.equal(res.body.category.enabled, false, '"false" became a boolean');
    const bad = await h.call({
      method: 'POST',
      url: '/api/app/create_category/v1',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'title=x&enabled=perhaps',
    });
    t.equal(bad.body.code, 'api');
  });

  await t.test('JSON bodies are not coerced: wrong types are errors naming the parameter', async (t) => {
    const res = await h.api('create_tag', { title: 12 });
    t.equal(res.body.code, 'api');
    t.match(res.body.description, /title/);
    const extra = await h.api('create_tag', { title: 'x', unknown_field: 1 });
    t.equal(extra.body.code, 'api', 'unknown fields of a strict record are refused, not dropped');
  });

  await t.test('errors: real statuses on /v1, HTTP 200 without it; unknown APIs answer code api', async (t) => {
    const versioned = await h.call({ method: 'POST', url: '/api/app/get_tag/v1', headers: auth, payload: { id: 'nope' } });
    t.equal(versioned.status, 404);
    const bare = await h.call({ method: 'POST', url: '/api/app/get_tag', headers: auth, payload: { id: 'nope' } });
    t.equal(bare.status, 200);
    t.equal(bare.body.code, 'tag');
    const noSession = await h.call({ method: 'POST', url: '/api/app/get_tag', payload: { id: 'nope' } });
    t.same(noSession.body, { code: 'session', description: 'No Session ID or API Key could be found' });
    t.equal(noSession.status, 200);
    const unknown = await h.call({ method: 'POST', url: '/api/app/no_such_call/v1', headers: auth, payload: {} });
    t.same(unknown.body, { code: 'api', description: 'Unsupported API: no_such_call' });
  });

  await t.test('authentication comes before parameter validation', async (t) => {
    const res = await h.call({ method: 'POST', url: '/api/app/create_tag/v1', payload: { title: 12 } });
    t.equal(res.body.code, 'session');
  });

  await t.test('credentials and CSRF tokens never reach the handler’s parameters', async (t) => {
    const res = await h.call({ method: 'POST', url: '/api/app/echo/v1', payload: { session_id: session, csrf_token: 'x', hello: 1 } });
    t.same(res.body.params, { hello: 1 });
  });
});
