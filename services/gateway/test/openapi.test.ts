/** The OpenAPI document built from the descriptors: what each kind of operation declares (issue 9, "/docs"). */
import { API } from '@shallot/schemas';
import t from 'tap';
import { buildOpenApiDocument, escapeMarkdown, sectionOf } from '../src/openapi.js';

// biome-ignore lint/suspicious/noExplicitAny: the document is checked field by field
type Json = Record<string, any>;

const doc = buildOpenApiDocument(API, 'test') as Json;
const op = (path: string, method: string): Json => doc.paths[path]?.[method] ?? {};
const names = (params: Json[] | undefined) => (params ?? []).map((p) => `${p.in}:${p.name}${p.required ? '!' : ''}`);

t.test('openapi: security per privilege, with the session header, the API key header and cookie + CSRF', async (t) => {
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearer', 'cookie', 'csrf', 'session']);
  t.match(doc.components.securitySchemes, {
    session: { type: 'apiKey', in: 'header', name: 'X-Session-ID' },
    apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    cookie: { type: 'apiKey', in: 'cookie', name: 'session_id' },
    csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
  });
  const table: Array<[string, string, Json[]]> = [
    ['/api/app/get_categories/v1', 'get', [{ session: [] }, { apiKey: [] }, { cookie: [], csrf: [] }]],
    ['/api/app/create_api_key/v1', 'post', [{ session: [] }, { apiKey: [] }, { cookie: [], csrf: [] }]],
    ['/api/user/login', 'post', []],
    ['/api/app/ping/v1', 'get', []],
    ['/api/app/echo/v1', 'get', [{}, { session: [] }, { apiKey: [] }, { cookie: [], csrf: [] }]],
    ['/api/user/logout', 'post', []],
    ['/v1/events/process', 'post', []],
    ['/v1/search', 'post', [{ session: [] }, { apiKey: [] }, { bearer: [] }]],
  ];
  for (const [path, method, security] of table) t.same(op(path, method).security, security, `${method} ${path}`);
  t.match(op('/api/app/create_api_key/v1', 'post').description, /Needs the `admin` privilege/);
});

t.test('openapi: one operation per API name, tagged with its section, aliases in the description', async (t) => {
  const get = op('/api/app/get_categories/v1', 'get');
  t.equal(get.operationId, 'get_categories');
  t.same(get.tags, ['Categories']);
  t.same(names(get.parameters), ['query:offset', 'query:limit'], 'GET parameters are query parameters');
  t.notOk(op('/api/app/get_categories/v1', 'post').operationId, 'no second operation for POST');
  t.notOk(doc.paths['/api/app/get_categories'], 'no operation for the unversioned URL');
  for (const alias of ['POST /api/app/get_categories/v1', 'GET /api/app/get_categories', 'POST /api/app/get_categories']) {
    t.match(get.description, `- \`${alias}\``);
  }
  t.match(op('/v1/search', 'post').description, '`POST /v1/search/`', 'the trailing-slash alias is listed');
  const sections: Array<[string, string]> = [
    ['test_web_hook', 'Web hooks'],
    ['test_monitor_plugin', 'Plugins'],
    ['create_group_snapshot', 'Groups'],
    ['upload_bucket_files', 'Buckets'],
    ['get_api_keys', 'API keys'],
    ['get_tags', 'Tags'],
    ['logout_all', 'Users'],
    ['echo', 'General'],
  ];
  for (const [name, section] of sections) {
    const descriptor = API.find((d) => d.name === name && d.namespace === 'app');
    t.ok(descriptor, name);
    if (descriptor) t.equal(sectionOf(descriptor), section, `${name} → ${section}`);
  }
  t.equal(sectionOf({ ...(API[0] as (typeof API)[number]), section: 'Custom' } as never), 'Custom', 'an explicit section wins');
});

t.test('openapi: /v1 declares the x-leek headers, the Leek error shape, and size/from_ on search', async (t) => {
  const ingest = op('/v1/events/process', 'post');
  t.same(names(ingest.parameters), [
    'header:x-leek-org-name!',
    'header:x-leek-app-name!',
    'header:x-leek-app-key!',
    'header:x-leek-app-env!',
  ]);
  const search = op('/v1/search', 'post');
  t.same(names(search.parameters), ['header:x-leek-app-name!', 'header:x-leek-app-env', 'query:size', 'query:from_']);
  t.match(search.responses.default.content['application/json'].schema, {
    required: ['error'],
    properties: { error: { properties: { code: { type: 'integer' }, message: { type: 'string' }, reason: { type: 'string' } } } },
  });
  t.same(
    names(op('/v1/applications/fo-triggers/{trigger_id}', 'put').parameters).slice(0, 1),
    ['path:trigger_id!'],
    'path parameters are declared',
  );
  t.match(op('/api/app/get_tag/v1', 'get').responses['4XX'].content['application/json'].schema, { required: ['code', 'description'] });
});

t.test('openapi: uploads are multipart, health and readiness appear, descriptions escape _', async (t) => {
  const upload = op('/api/app/upload_bucket_files/v1', 'post');
  t.match(upload.requestBody.content['multipart/form-data'].schema.properties.file1, { type: 'string', format: 'binary' });
  t.equal(doc.paths['/health'].get.operationId, 'health');
  t.equal(doc.paths['/ready'].get.operationId, 'ready');
  t.equal(escapeMarkdown('see get_categories and `get_categories`'), 'see get\\_categories and `get_categories`');
  const search = op('/v1/search', 'post');
  t.match(search.description, /size, from\\_/, 'an underscore in prose is escaped');
  t.notMatch(search.summary, /\\_/, 'summaries are plain text, not escaped');
  const ids = Object.values(doc.paths as Record<string, Record<string, Json>>).flatMap((ops) =>
    Object.values(ops).map((o) => o.operationId),
  );
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique');
});
