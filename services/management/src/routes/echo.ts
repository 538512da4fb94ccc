/**
 * `echo` and `ping` (xyOps lib/api.js): anonymous connectivity checks. echo answers the request as the server saw it,
 * with the values of credentials masked: reflecting an HttpOnly session cookie or a key into a readable body would
 * hand them to any script on the page.
 */
import { Errors, implement } from '@shallot/core';
import { echo, ping } from '@shallot/schemas';
import type { FastifyRequest } from 'fastify';

const SECRET_HEADERS = new Set(['cookie', 'authorization', 'x-session-id', 'x-api-key', 'x-csrf-token', 'x-leek-app-key']);
const MASK = '********';
/** An echoed upload is counted, not kept. */
const MAX_ECHO_FILE_BYTES = 16 * 1024 * 1024;

function bag(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
}

function maskedHeaders(request: FastifyRequest): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = SECRET_HEADERS.has(name) ? MASK : value;
  return headers;
}

function maskedCookies(request: FastifyRequest): Record<string, string> {
  const cookies: Record<string, string> = {};
  // Every cookie value may be a credential of some application on the same host: names only.
  for (const name of Object.keys((request as { cookies?: Record<string, unknown> }).cookies ?? {})) cookies[name] = MASK;
  return cookies;
}

/** Fields and file summaries of a multipart request (files are read to count their size, then dropped). */
async function readMultipart(request: FastifyRequest): Promise<{ fields: Record<string, unknown>; files: Record<string, unknown> }> {
  const fields: Record<string, unknown> = {};
  const files: Record<string, unknown> = {};
  try {
    for await (const part of request.parts({ limits: { fileSize: MAX_ECHO_FILE_BYTES } })) {
      if (part.type === 'field') {
        fields[part.fieldname] = part.value;
        continue;
      }
      let size = 0;
      for await (const chunk of part.file) size += (chunk as Buffer).byteLength;
      if (part.file.truncated) throw new Errors.api(`Uploaded file ${part.fieldname} is larger than ${MAX_ECHO_FILE_BYTES} bytes`);
      files[part.fieldname] = { name: part.filename, size, type: part.mimetype };
    }
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('SHALLOT_ERR_')) throw error;
    throw new Errors.api(`Malformed multipart request: ${(error as Error).message}`);
  }
  return { fields, files };
}

export function echoRoutes() {
  return [
    implement(echo, async ({ params, caller, request }) => {
      const upload = request.isMultipart() ? await readMultipart(request) : { fields: {}, files: {} };
      const query = bag(request.query);
      delete query.session_id;
      delete query.api_key;
      return {
        code: 0 as const,
        method: request.method,
        url: request.url.replace(/([?&](?:session_id|api_key)=)[^&]*/g, `$1${MASK}`),
        ips: [...new Set([...(request.ips ?? []), request.ip])],
        query,
        headers: maskedHeaders(request),
        cookies: maskedCookies(request),
        params: { ...(params as Record<string, unknown>), ...upload.fields },
        files: upload.files,
        ...(caller ? { caller: { kind: caller.kind, username: caller.username, privileges: caller.privileges } } : {}),
      };
    }),
    implement(ping, async () => ({ code: 0 as const })),
  ];
}
