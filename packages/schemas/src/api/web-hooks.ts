/** Web hooks (api-sections §9): CRUD plus test_web_hook, which sends a real request through the SSRF guard. */
import { Type } from '@sinclair/typebox';
import { DEFINITION_ID_PATTERN, crudApi } from '../crud.js';
import { defineApi } from '../descriptor.js';
import { Ok } from '../responses.js';
import { WebHook } from '../records/web-hook.js';

export const webHooksApi = crudApi({
  singular: 'web_hook',
  plural: 'web_hooks',
  idPrefix: 'w',
  record: WebHook,
  privileges: { create: 'create_web_hooks', edit: 'edit_web_hooks', delete: 'delete_web_hooks' },
  title: 'web hooks',
});

export const WebHookTestResult = Type.Object(
  {
    code: Type.Union([Type.Literal(0), Type.String()], { description: '0 on a 2xx answer, "webhook" otherwise' }),
    description: Type.String(),
    details: Type.String({ description: 'Markdown report; secret values are replaced by (REDACTED)' }),
  },
  { $id: 'WebHookTestResult' },
);

export const testWebHook = defineApi({
  name: 'test_web_hook',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_web_hooks',
  summary:
    'Send a web hook once for real. The given fields are merged over the saved hook when the id exists (then only ' +
    'the id is required); otherwise title, method and url are required. Always code 0: the outcome, failure ' +
    'included, is in result {code, description, details}',
  params: Type.Object(
    {
      ...Type.Partial(WebHook).properties,
      id: Type.String({ pattern: DEFINITION_ID_PATTERN, maxLength: 100 }),
    },
    { additionalProperties: true },
  ),
  response: Ok({ result: WebHookTestResult }),
});

export const WEB_HOOKS_API = [...webHooksApi.all, testWebHook];
