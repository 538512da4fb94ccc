/** Web hook definitions (spec/data-structures.md §19). */
import { type Static, Type } from '@sinclair/typebox';
import { Icon, Notes, Title } from './common.js';

/** `http(s)://…` or a template starting with `{{` (case-insensitive scheme). */
export const WEB_HOOK_URL_PATTERN = '^([Hh][Tt][Tt][Pp][Ss]?://|\\{\\{)';

export const WebHookHeader = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 256 }), value: Type.String({ maxLength: 8192 }) },
  { $id: 'WebHookHeader', additionalProperties: false },
);

export const WebHook = Type.Object(
  {
    title: Title,
    method: Type.String({ pattern: '^\\w+$', maxLength: 32 }),
    url: Type.String({ pattern: WEB_HOOK_URL_PATTERN, maxLength: 8192 }),
    enabled: Type.Optional(Type.Boolean()),
    headers: Type.Optional(Type.Array(WebHookHeader, { maxItems: 100 })),
    body: Type.Optional(Type.String({ maxLength: 65536, description: 'Template; sent for non-GET/HEAD methods when non-empty' })),
    timeout: Type.Optional(Type.Number({ minimum: 1, maximum: 300, description: 'Seconds' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Retries after transport errors' })),
    follow: Type.Optional(Type.Boolean()),
    ssl_cert_bypass: Type.Optional(Type.Boolean()),
    max_per_day: Type.Optional(Type.Integer({ minimum: 0 })),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
  },
  { $id: 'WebHook', additionalProperties: false },
);
export type WebHook = Static<typeof WebHook>;
