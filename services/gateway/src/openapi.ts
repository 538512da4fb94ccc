/**
 * The OpenAPI document at /docs, built from the API descriptors: one operation per API name (its operationId), under
 * its section's tag, with the credentials it accepts, its headers and its error shape. Every other URL answering the
 * same call (unversioned, GET/POST, trailing slash) is listed in the operation's description, so the page shows one
 * entry per call and "Try it out" sends the canonical request.
 */
import type { TSchema } from '@sinclair/typebox';
import { type ApiDescriptor, ErrorResponse, routePaths } from '@shallot/schemas';

type Json = Record<string, unknown>;

export const SECURITY_SCHEMES = {
  session: { type: 'apiKey', in: 'header', name: 'X-Session-ID', description: 'The `session_id` answered by `POST /api/user/login`' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A plain API key (shown once by `create_api_key`)' },
  cookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'session_id',
    description: 'The HttpOnly cookie set at login (browsers send it themselves)',
  },
  csrf: {
    type: 'apiKey',
    in: 'header',
    name: 'X-CSRF-Token',
    description: 'The `csrf_token` answered at login: needed with the cookie on every call but GET and HEAD',
  },
  bearer: { type: 'http', scheme: 'bearer', description: 'A session id as `Authorization: Bearer <session_id>` (task-monitor clients)' },
} as const;

/** The error answer of `/v1/*` (task-monitor API), as Leek answers it. */
export const LeekErrorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'reason'],
      properties: {
        code: { type: 'integer', description: 'Six digits: the HTTP status and a number (e.g. 404001: application does not exist)' },
        message: { type: 'string', description: 'The title of the code' },
        reason: { type: 'string', description: 'What was wrong, in words' },
      },
    },
  },
};

const LEEK_AGENT_HEADERS = ['x-leek-org-name', 'x-leek-app-name', 'x-leek-app-key', 'x-leek-app-env'];
const HEADER_TEXT: Record<string, string> = {
  'x-leek-org-name': 'The organisation the application belongs to',
  'x-leek-app-name': 'The application (lower-case letters)',
  'x-leek-app-key': "The application's agent key",
  'x-leek-app-env': 'The environment (e.g. prod, qa)',
};

/** Section of each record noun in API names (`test_web_hook` → Web hooks); the last noun in a name wins. */
const NOUNS: ReadonlyArray<[RegExp, string]> = [
  [/categor(y|ies)/, 'Categories'],
  [/alerts?/, 'Alerts'],
  [/buckets?/, 'Buckets'],
  [/channels?/, 'Channels'],
  [/groups?/, 'Groups'],
  [/monitors?/, 'Monitors'],
  [/plugins?/, 'Plugins'],
  [/secrets?/, 'Secrets'],
  [/web_hooks?/, 'Web hooks'],
  [/tags?(?=_|$)/, 'Tags'],
  [/roles?/, 'Roles'],
  [/api_keys?/, 'API keys'],
  [/(users?|avatar|logout_all)/, 'Users'],
  [/events?/, 'Events'],
  [/jobs?/, 'Jobs'],
  [/servers?/, 'Servers'],
  [/tickets?/, 'Tickets'],
];

/** The tag an operation is listed under. */
export function sectionOf(descriptor: ApiDescriptor): string {
  if (descriptor.section) return descriptor.section;
  if (descriptor.namespace === 'user') return 'User';
  if (descriptor.namespace === 'leek') return `Task monitor: ${(descriptor.path ?? '').split('/')[2] ?? 'other'}`;
  let best: { at: number; section: string } | undefined;
  for (const [pattern, section] of NOUNS) {
    const global = new RegExp(pattern.source, 'g');
    for (const match of descriptor.name.matchAll(global)) {
      if (!best || match.index >= best.at) best = { at: match.index, section };
    }
  }
  return best?.section ?? 'General';
}

/** Markdown text with `_` escaped outside code spans (`get_categories` must not start italics). */
export function escapeMarkdown(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/([_*])/g, '\\$1')))
    .join('');
}

const openApiPath = (route: string) => route.replace(/:(\w+)/g, '{$1}');
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
const SCALAR = new Set(['string', 'number', 'integer', 'boolean']);

/** A JSON copy of a TypeBox schema (drops its symbol keys). */
const plain = (schema: TSchema | Json): Json => JSON.parse(JSON.stringify(schema)) as Json;

function properties(schema: TSchema | undefined): Array<[string, Json]> {
  const props = (schema as { properties?: Record<string, Json> } | undefined)?.properties;
  return props ? Object.entries(props) : [];
}

/** GET carries its parameters in the query string, so it is the canonical request only when they are all scalars. */
function canonicalMethod(descriptor: ApiDescriptor): string {
  const methods = descriptor.methods;
  if (methods.length === 1) return methods[0] as string;
  const scalarParams = properties(descriptor.params).every(([, s]) => SCALAR.has(String(s.type)));
  if (methods.includes('GET') && scalarParams) return 'GET';
  return (methods.find((m) => m === 'POST') ?? methods[0]) as string;
}

function securityOf(descriptor: ApiDescriptor): Json[] {
  const anyCredential: Json[] = [{ session: [] }, { apiKey: [] }, { cookie: [], csrf: [] }];
  if (descriptor.namespace === 'leek') {
    if (descriptor.privilege === 'none') return [];
    return [{ session: [] }, { apiKey: [] }, { bearer: [] }];
  }
  switch (descriptor.privilege) {
    case 'none':
      return [];
    case 'optional':
      return [{}, ...anyCredential];
    case 'session':
      return [{ session: [] }, { cookie: [], csrf: [] }];
    default:
      return anyCredential;
  }
}

function privilegeText(descriptor: ApiDescriptor): string {
  switch (descriptor.privilege) {
    case 'none':
      return 'No credentials needed.';
    case 'optional':
      return 'No credentials needed; credentials that are sent must be valid.';
    case 'any':
      return 'Any session or API key.';
    case 'session':
      return 'A user session (API keys are refused).';
    default:
      return `Needs the \`${descriptor.privilege}\` privilege (administrators have every privilege).`;
  }
}

const isUpload = (descriptor: ApiDescriptor) => /upload/.test(descriptor.name) || descriptor.name === 'echo';

function multipartBody(descriptor: ApiDescriptor): Json {
  return {
    type: 'object',
    description: 'Form fields are parameters; files are uploads',
    properties: {
      ...Object.fromEntries(properties(descriptor.params).map(([name, schema]) => [name, plain(schema)])),
      file1: { type: 'string', format: 'binary', description: 'The file to upload (more files: file2, file3, …)' },
    },
  };
}

function headerParameters(descriptor: ApiDescriptor): Json[] {
  if (descriptor.namespace !== 'leek') return [];
  const agent = (descriptor.path ?? '').startsWith('/v1/events');
  const names = agent ? LEEK_AGENT_HEADERS : ['x-leek-app-name', 'x-leek-app-env'];
  return names.map((name) => ({
    name,
    in: 'header',
    required: agent || (name === 'x-leek-app-name' && (descriptor.path ?? '').startsWith('/v1/search')),
    description: HEADER_TEXT[name],
    schema: { type: 'string' },
  }));
}

function queryParameters(descriptor: ApiDescriptor, method: string): Json[] {
  if (descriptor.name === 'leek_search' || descriptor.name === 'leek_search_summary') {
    return [
      {
        name: 'size',
        in: 'query',
        schema: { type: 'integer', minimum: 0, maximum: 100_000 },
        description: 'Hits to answer (overrides the body size; 0 when absent)',
      },
      {
        name: 'from_',
        in: 'query',
        schema: { type: 'integer', minimum: 0, maximum: 100_000 },
        description: 'Hits to skip (overrides the body from)',
      },
    ];
  }
  if (!BODYLESS.has(method) || !descriptor.params) return [];
  const required = new Set((descriptor.params as { required?: string[] }).required ?? []);
  return properties(descriptor.params).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: plain(schema),
    ...(typeof schema.description === 'string' ? { description: escapeMarkdown(schema.description) } : {}),
  }));
}

function pathParameters(route: string): Json[] {
  return [...route.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
}

function operation(descriptor: ApiDescriptor, operationId: string, route: string, method: string): Json {
  const leek = descriptor.namespace === 'leek';
  const aliases = routePaths(descriptor)
    .flatMap((path) => descriptor.methods.map((m) => `${m} ${path}`))
    .filter((alias) => alias !== `${method} ${route}`);
  const lines = [escapeMarkdown(descriptor.summary), '', privilegeText(descriptor)];
  if (aliases.length) lines.push('', 'Also answered at:', ...aliases.map((a) => `- \`${a}\``));
  if (!leek && descriptor.namespace === 'app') {
    lines.push('', 'Errors answer `{code, description}`: with their HTTP status on `/v1` URLs, with HTTP 200 on unversioned ones.');
  }
  const op: Json = {
    operationId,
    tags: [sectionOf(descriptor)],
    // Swagger UI shows summaries as plain text and descriptions as Markdown: only the latter are escaped.
    summary: descriptor.summary.length > 120 ? `${descriptor.summary.slice(0, 117)}…` : descriptor.summary,
    description: lines.join('\n'),
    security: securityOf(descriptor),
    parameters: [...pathParameters(route), ...headerParameters(descriptor), ...queryParameters(descriptor, method)],
    responses: leek
      ? {
          '2xx': { description: 'Success', content: { 'application/json': { schema: plain(descriptor.response) } } },
          default: { description: 'A task-monitor error', content: { 'application/json': { schema: LeekErrorResponse } } },
        }
      : {
          '200': {
            description: 'Success (`code: 0`); on unversioned URLs errors too',
            content: { 'application/json': { schema: plain(descriptor.response) } },
          },
          '4XX': { description: 'An error on /v1 URLs', content: { 'application/json': { schema: plain(ErrorResponse) } } },
          '5XX': { description: 'An error on /v1 URLs', content: { 'application/json': { schema: plain(ErrorResponse) } } },
        },
  };
  if (!BODYLESS.has(method) && (descriptor.params || isUpload(descriptor))) {
    const content: Json = {};
    if (descriptor.params) content['application/json'] = { schema: plain(descriptor.params) };
    if (isUpload(descriptor)) content['multipart/form-data'] = { schema: multipartBody(descriptor) };
    op.requestBody = { required: !isUpload(descriptor) && (descriptor.params as { required?: string[] }).required !== undefined, content };
  }
  return op;
}

const HEALTH_PATHS: Json = {
  '/health': {
    get: {
      operationId: 'health',
      tags: ['Health'],
      summary: 'Liveness: the process answers',
      security: [],
      responses: { '200': { description: 'Alive', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  },
  '/ready': {
    get: {
      operationId: 'ready',
      tags: ['Health'],
      summary: 'Readiness: every dependency (Redis, the store, or the services behind the gateway) answers',
      security: [],
      responses: {
        '200': { description: 'Ready', content: { 'application/json': { schema: { type: 'object' } } } },
        '503': {
          description: 'A dependency is not answering; the body names it',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  },
};

/** The whole document for a list of descriptors. */
export function buildOpenApiDocument(api: readonly ApiDescriptor[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const used = new Set<string>();
  for (const descriptor of api) {
    const route = routePaths(descriptor)[0] as string;
    const method = canonicalMethod(descriptor);
    // Names are unique per namespace; a name used twice (user `login` and app `login`) gets its namespace.
    const operationId = used.has(descriptor.name) ? `${descriptor.namespace}_${descriptor.name}` : descriptor.name;
    used.add(operationId);
    const path = openApiPath(route);
    paths[path] ??= {};
    (paths[path] as Record<string, Json>)[method.toLowerCase()] = operation(descriptor, operationId, route, method);
  }
  const tags = [...new Set(Object.values(paths).flatMap((ops) => Object.values(ops).flatMap((op) => op.tags as string[])))];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Shallot API',
      version,
      description: [
        'Celery task monitoring (`/v1`, the Leek API) and an xyOps-compatible job scheduling and server monitoring API (`/api/app`, `/api/user`).',
        '',
        'To try calls here: run `login` (User) with your username and password, copy `session_id` from the answer, press Authorize and paste it as `session` (X-Session-ID). An API key goes in `apiKey` (X-API-Key).',
      ].join('\n'),
    },
    tags: [...tags.sort(), 'Health'].filter((t, i, all) => all.indexOf(t) === i).map((name) => ({ name })),
    paths: { ...paths, ...HEALTH_PATHS },
    components: { securitySchemes: SECURITY_SCHEMES },
  };
}
