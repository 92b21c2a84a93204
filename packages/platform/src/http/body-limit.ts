import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { problemType } from '../errors.js';

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (a header block too large,
 * a malformed request line) with a problem, then closes the connection.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return;
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const title = tooLarge ? 'Request header fields too large' : 'Bad request';
  const body = JSON.stringify({
    type: problemType(tooLarge ? 'header_too_large' : 'bad_request'),
    title,
    status,
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** How long the rest of an unwanted body is read after the answer before the connection is cut. */
export const LINGER_MS = 5_000;
const MiB = 1024 * 1024;

const lingering = new WeakSet<FastifyRequest>();

/**
 * An answer given before the request's body has all arrived (a body over `BODY_LIMIT`, a 401, a
 * 429 or a 404 answered before the body was read) reaches the client: the rest of the body is read
 * and dropped, then the connection goes on (its next request is parsed as usual). Before, the
 * connection was closed as soon as the answer was written (`Connection: close`, set by Fastify on
 * a body it refused and by the gateway on any early error); a client still sending then got EPIPE
 * or a reset instead of the answer (4–6 of 10 2 MB POSTs through the gateway).
 *
 * Reading is bounded: at most `max(8 MiB, 2 × bodyLimit)` more bytes, for at most `LINGER_MS`; a
 * body that declares more than that, or sends it, has its connection cut (as before) rather than
 * read. While the server drains for a shutdown the connection closes as before.
 */
export function bodyLimitAnswered(app: FastifyInstance, bodyLimit: number, closing: () => boolean): void {
  const lingerBytes = Math.max(8 * MiB, 2 * bodyLimit);
  app.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (!raw.complete && !closing() && Number(raw.headers['content-length'] ?? 0) <= lingerBytes) {
      reply.removeHeader('connection');
      lingering.add(request);
    }
    done(null, payload);
  });
  app.addHook('onResponse', (request, _reply, done) => {
    if (lingering.has(request) && !request.raw.complete) discardRest(request.raw, lingerBytes);
    done();
  });
}

/** Reads what is left of a request body and drops it; cuts the connection past the bounds. */
function discardRest(raw: IncomingMessage, maxBytes: number): void {
  const socket = raw.socket;
  let seen = 0;
  const cut = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  raw.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > maxBytes) cut();
  });
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
}
