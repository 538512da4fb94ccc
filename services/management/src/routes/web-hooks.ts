/**
 * Web hooks (api-sections §9): not scoped; templates must compile. `test_web_hook` sends the request for real
 * through the SSRF guard (loopback and private ranges refused unless allow-listed in SHALLOT_WEBHOOK_ALLOW).
 *
 * test_web_hook always answers code 0 with the outcome in `result` (the choice api-sections §9 allows), so the
 * report survives failures; `result.code` is 0 on a 2xx answer and "webhook" otherwise.
 */
import {
  type Implementation,
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
  });
  routes.push(
    implement(testWebHook, async ({ params }) => {
      const saved = await ctx.store.collections.get(webHooksApi.options.collection, params.id);
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
