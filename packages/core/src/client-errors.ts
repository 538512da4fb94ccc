/**
 * Answers a request Node's HTTP parser refused (headers too large, not HTTP, too slow) before Fastify sees it. The
 * socket is closed afterwards, so the answer says `Connection: close`: a keep-alive client that is not told would
 * send its next request on the dead socket and lose it (Fastify's default handler omits the header). The body is the
 * REST API's error shape.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

const ANSWERS: Record<string, { status: number; description: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    description: 'The request headers are larger than this server accepts: send fewer or shorter headers',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, description: 'The request was not received in time: send it again' },
  ERR_HTTP_HEADERS_TIMEOUT: { status: 408, description: 'The request headers were not received in time: send it again' },
};
const NOT_HTTP = { status: 400, description: 'The request is not valid HTTP/1.1' };

export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, description } = ANSWERS[error.code ?? ''] ?? NOT_HTTP;
  this.log.debug({ err: error }, 'refused a request the HTTP parser could not read');
  if (socket.writable) {
    const body = JSON.stringify({ code: 'api', description });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
