/**
 * Web hooks (api-sections §9): not scoped; templates must compile. `test_web_hook` sends the request for real
 * through the SSRF guard (loopback and private ranges refused unless allow-listed in SHALLOT_WEBHOOK_ALLOW).
 *
 * test_web_hook always answers code 0 with the outcome in `result` (the choice api-sections §9 allows), so the
 * report survives failures; `result.code` is 0 on a 2xx answer and "webhook" otherwise.
 */
import {
  Errors,
  type Implementation,
  type Permissions,
  type ServiceContext,
  type WebHookSpec,
  checkWebHookTemplates,
  createWebhookGuard,
  implement,
  sendWebHook,
} from '@shallot/core';
import { testWebHook, webHooksApi } from '@shallot/schemas';
import { crudRoutes } from '../crud/index.js';
import { secretsForWebHook } from './secrets.js';
import { refuse } from './section-helpers.js';

/** What stands in for a hidden part of a web hook. */
export const REDACTED = '[redacted]';

/** May this reader see a web hook's URL, header values and body? Those who may change it (or test it) may. */
export const seesWebHookSecrets = (reader: Pick<Permissions, 'privileges'> | undefined): boolean =>
  reader !== undefined && (reader.privileges.admin === true || reader.privileges.edit_web_hooks === true);

/**
 * A URL with its credentials, path, query and fragment hidden: `https://hooks.slack.com/[redacted]`. Tokens live
 * there (Slack, Discord, signed URLs). A template URL (`{{…}}`) is hidden whole.
 */
export function redactUrl(url: unknown): string {
  if (typeof url !== 'string' || url === '') return '';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return REDACTED;
    return `${parsed.protocol}//${parsed.host}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

/**
 * A web hook as `reader` may see it (issue 8, finding 7): readers without `edit_web_hooks` get the URL's origin
 * only, header names with masked values, and a masked body (it may carry tokens as well). Activity rows (no reader)
 * are masked the same way.
 */
export function webHookView(record: Record<string, unknown>, reader?: Pick<Permissions, 'privileges'>): Record<string, unknown> {
  if (seesWebHookSecrets(reader)) return record;
  const headers = Array.isArray(record.headers) ? (record.headers as Array<Record<string, unknown>>) : [];
  return {
    ...record,
    url: redactUrl(record.url),
    headers: headers.map((h) => ({ ...h, value: REDACTED })),
    ...(typeof record.body === 'string' && record.body !== '' ? { body: REDACTED } : {}),
  };
}

function checkTemplates(record: Record<string, unknown>): void {
  try {
    checkWebHookTemplates(record as unknown as WebHookSpec);
  } catch (error) {
    refuse('web_hook', error);
  }
}

export function webHookRoutes(ctx: ServiceContext): Implementation[] {
  const guard = createWebhookGuard(ctx.config.webhookAllow);
  const routes = crudRoutes(webHooksApi, ctx, {
    defaults: {
      enabled: true,
      headers: [],
      body: '',
      timeout: 30,
      retries: 0,
      follow: false,
      ssl_cert_bypass: false,
      max_per_day: 0,
      icon: '',
      notes: '',
    },
    validate(record) {
      checkTemplates(record);
      return record;
    },
    redact: (record, reader) => webHookView(record, reader),
  });
  routes.push(
    implement(testWebHook, async ({ params }) => {
      const saved = await ctx.store.collections.get(webHooksApi.options.collection, params.id);
      if (!saved) {
        for (const field of ['title', 'method', 'url'] as const) {
          if (params[field] === undefined)
            throw new Errors.api(`Missing parameter: ${field} (there is no saved web hook "${params.id}" to take it from)`);
        }
      }
      const hook = { ...(saved ?? {}), ...params } as unknown as WebHookSpec & { title: string };
      checkTemplates(hook as unknown as Record<string, unknown>);
      const secrets = saved ? await secretsForWebHook(ctx, params.id) : [];
      const text = `Web Hook Test: ${hook.title}`;
      const outcome = await sendWebHook(
        hook,
        { text, content: text, message: text, secrets: Object.fromEntries(secrets.map((s) => [s.name, s.value])) },
        { guard, fallback: text, secrets: secrets.map((s) => s.value) },
      );
      return { code: 0 as const, result: { code: outcome.code, description: outcome.description, details: outcome.details } };
    }),
  );
  return routes;
}
