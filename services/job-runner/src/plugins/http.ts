/**
 * The HTTP request plugin (`[http-plugin]`): one request through the SSRF guard; a non-2xx answer, a refused URL, a
 * transport error or a success/error match decides the code. The response (capped) goes to the log and `data`.
 */
import { type WebhookGuard, deliverWebhook } from '@shallot/core';
import type { JobPlugin } from './types.js';

const MAX_RESPONSE_BYTES = 1024 * 1024;

function parseHeaders(text: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of String(text ?? '').split('\n')) {
    const index = line.indexOf(':');
    if (index > 0) headers[line.slice(0, index).trim()] = line.slice(index + 1).trim();
  }
  return headers;
}

export function httpPlugin(guard: WebhookGuard): JobPlugin {
  return {
    command: '[http-plugin]',
    async run(run) {
      const params = (run.job.params as Record<string, unknown>) ?? {};
      const method = String(params.method || 'GET').toUpperCase();
      const url = String(params.url ?? '');
      const timeoutMs = Math.max(1, Number(params.timeout) || 30) * 1000;
      run.log(`Sending HTTP ${method} request\n`);
      const body = method === 'GET' || method === 'HEAD' ? undefined : String(params.data ?? '');
      const result = await deliverWebhook(
        url,
        {
          method,
          headers: parseHeaders(params.headers),
          ...(body !== undefined ? { body } : {}),
          timeoutMs,
          maxResponseBytes: MAX_RESPONSE_BYTES,
        },
        guard,
      );
      const text = (result as { body?: string }).body ?? '';
      if (text) run.log(`${text}\n`);
      const data = { status: result.status, ok: result.ok };
      if (result.refused) return { code: 'http', description: `Request refused: ${result.error}`, fields: { data } };
      if (!result.ok) return { code: 'http', description: result.error ?? `HTTP ${result.status}`, fields: { data } };
      if (params.error_match && new RegExp(String(params.error_match)).test(text))
        return { code: 'http', description: 'The response matched the error pattern', fields: { data } };
      if (params.success_match && !new RegExp(String(params.success_match)).test(text))
        return { code: 'http', description: 'The response did not match the success pattern', fields: { data } };
      return { code: 0, description: `HTTP ${result.status}`, fields: { data } };
    },
  };
}
