/**
 * Fires a Web Hook definition (spec/data-structures.md §19): renders its URL, headers and body templates against a
 * context, sends the request through the SSRF guard, retries transport errors, and writes the Markdown report that
 * `test_web_hook` and web hook actions show, with secret values redacted.
 */
import { STATUS_CODES } from 'node:http';
import { ExpressionError, compileTemplate } from './expressions.js';
import { type WebhookGuard, type WebhookResult, deliverWebhook } from './ssrf.js';

/** Longest a web hook may wait for its answer, whatever its `timeout` says. @default 300 s */
export const MAX_WEB_HOOK_TIMEOUT_SECONDS = 300;
/** Most retries honoured. @default 10 */
export const MAX_WEB_HOOK_RETRIES = 10;
/** Header names per RFC 9110 `token`. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$";
const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN);
const REDACTED = '(REDACTED)';

export interface WebHookHeader {
  name: string;
  value: string;
}

/** The fields of a web hook that sending needs. */
export interface WebHookSpec {
  title?: string;
  method: string;
  url: string;
  headers?: readonly WebHookHeader[];
  body?: string;
  /** Seconds. @default 30 */
  timeout?: number;
  /** Retries after transport errors. @default 0 */
  retries?: number;
  follow?: boolean;
  ssl_cert_bypass?: boolean;
}

export interface SendOptions {
  guard: WebhookGuard;
  /** Text for undefined macros ("N/A" for actions; the test uses "Web Hook Test: <title>"). @default 'N/A' */
  fallback?: string;
  /** Secret values to hide in the report. */
  secrets?: readonly string[];
}

export interface WebHookOutcome {
  /** 0 on a 2xx answer, `webhook` otherwise. */
  code: 0 | 'webhook';
  description: string;
  /** Markdown report: request, response, timing. */
  details: string;
  status: number;
  /** The guard refused the URL: nothing was sent. */
  refused?: boolean;
}

/**
 * Compiles every template of a web hook; throws ExpressionError naming the field, e.g. "Failed to compile macro in
 * body: …", and refuses header names that are not HTTP tokens.
 */
export function checkWebHookTemplates(spec: Pick<WebHookSpec, 'url' | 'headers' | 'body'>): void {
  const check = (field: string, text: string | undefined) => {
    if (text === undefined) return;
    try {
      compileTemplate(text);
    } catch (error) {
      throw new ExpressionError(`Failed to compile macro in ${field}: ${(error as Error).message}`);
    }
  };
  check('url', spec.url);
  check('body', spec.body);
  for (const header of spec.headers ?? []) {
    if (!HEADER_NAME.test(header.name)) throw new ExpressionError(`Invalid header name: ${JSON.stringify(header.name)}`);
    check(`header ${header.name}`, header.value);
  }
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join(REDACTED);
  return out;
}

const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ');

interface Prepared {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

function prepare(spec: WebHookSpec, context: Record<string, unknown>, fallback: string): Prepared {
  const method = spec.method.toUpperCase();
  // Web hook URLs are not URL-encoded (data-structures §19): templates call encode() themselves.
  const url = compileTemplate(spec.url).render(context, { fallback }).trim();
  const headers: Record<string, string> = {};
  for (const header of spec.headers ?? []) {
    if (!HEADER_NAME.test(header.name)) continue;
    // A value with a line break would smuggle another header; keep it on one line.
    headers[header.name] = oneLine(compileTemplate(header.value ?? '').render(context, { fallback }));
  }
  const hasBody = method !== 'GET' && method !== 'HEAD' && !!spec.body;
  return hasBody
    ? { method, url, headers, body: compileTemplate(spec.body ?? '').render(context, { fallback }) }
    : { method, url, headers };
}

function report(prepared: Prepared, result: WebhookResult, elapsedMs: number, attempts: number): string {
  const lines = ['### Request', '', `- **Method:** ${prepared.method}`, `- **URL:** ${prepared.url}`];
  const headerNames = Object.keys(prepared.headers);
  if (headerNames.length) {
    lines.push('', '**Request Headers:**', '', '```', ...headerNames.map((n) => `${n}: ${prepared.headers[n]}`), '```');
  }
  if (prepared.body !== undefined) lines.push('', '**Request Body:**', '', '```', prepared.body, '```');
  lines.push('', '### Response', '');
  if (result.status) lines.push(`- **Status:** HTTP ${result.status}`);
  if (result.error) lines.push(`- **Error:** ${result.error}`);
  if (result.body) lines.push('', '**Response Body:**', '', '```', result.body, '```');
  lines.push('', '### Performance', '', `- **Elapsed:** ${elapsedMs} ms`, `- **Attempts:** ${attempts}`);
  return lines.join('\n');
}

/** Sends a web hook once (plus retries after transport errors). Never throws for delivery problems. */
export async function sendWebHook(spec: WebHookSpec, context: Record<string, unknown>, options: SendOptions): Promise<WebHookOutcome> {
  const secrets = options.secrets ?? [];
  let prepared: Prepared;
  try {
    prepared = prepare(spec, context, options.fallback ?? 'N/A');
  } catch (error) {
    const description = redact(`Failed to prepare web hook: ${(error as Error).message}`, secrets);
    return { code: 'webhook', description, details: description, status: 0 };
  }
  const timeoutSeconds = Math.min(Math.max(spec.timeout ?? 30, 1), MAX_WEB_HOOK_TIMEOUT_SECONDS);
  const retries = Math.min(Math.max(Math.floor(spec.retries ?? 0), 0), MAX_WEB_HOOK_RETRIES);
  const started = Date.now();
  let attempts = 0;
  let result: WebhookResult;
  do {
    attempts++;
    result = await deliverWebhook(
      prepared.url,
      {
        method: prepared.method,
        headers: prepared.headers,
        ...(prepared.body !== undefined ? { body: prepared.body } : {}),
        timeoutMs: timeoutSeconds * 1000,
      },
      options.guard,
    );
    // Only transport errors are retried: an HTTP answer or a refusal would just repeat.
  } while (!result.ok && !result.refused && result.status === 0 && attempts <= retries);
  const details = redact(report(prepared, result, Date.now() - started, attempts), secrets);
  if (result.ok)
    return {
      code: 0,
      description: `Success (HTTP ${result.status} ${STATUS_CODES[result.status] ?? ''})`.replace(' )', ')'),
      details,
      status: result.status,
    };
  const why = result.refused ? `Web hook URL refused: ${result.error}` : `Web hook failed: ${result.error ?? `HTTP ${result.status}`}`;
  return {
    code: 'webhook',
    description: redact(why, secrets),
    details,
    status: result.status,
    ...(result.refused ? { refused: true } : {}),
  };
}
