import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CommonErrors } from '../errors.js';
import type { Db } from '../db/types.js';

const KEY = /^[\x21-\x7e]{1,200}$/;
const REPLAYED_HEADERS = ['content-type', 'location', 'etag'];
const TTL_HOURS = 24;

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { principal: string; key: string };
  }
}

/**
 * A hash of the request. Body fields a route names in `config.secretFields` (a new user's
 * password) are left out: a fast hash of a secret kept for a day would be a gift to anyone who can
 * read the table, and a retry that differs only in a secret is still the same request.
 */
function fingerprint(request: FastifyRequest): string {
  const secret = new Set(request.routeOptions.config.secretFields ?? []);
  const body: unknown = request.body ?? null;
  const kept =
    secret.size > 0 && body !== null && typeof body === 'object' && !Array.isArray(body)
      ? Object.fromEntries(Object.entries(body).filter(([k]) => !secret.has(k)))
      : body;
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n${JSON.stringify(kept)}`)
    .digest('hex');
}

/**
 * `Idempotency-Key` for state-changing POSTs (routes with `config.idempotent`). The first
 * response to a key is stored and replayed for the same principal and request; the same key with
 * another request answers 422; a key whose first request is still running answers 409. Server
 * errors are not stored, so the client may retry them.
 */
export function installIdempotency(app: FastifyInstance, db: Db): void {
  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.idempotent) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    if (typeof header !== 'string' || !KEY.test(header))
      throw CommonErrors.bad_request('Idempotency-Key must be 1 to 200 visible ASCII characters');
    const principal = request.principal?.sub ?? 'anonymous';
    const fp = fingerprint(request);
    const inserted = await db.query(
      `INSERT INTO idempotency_keys (principal, key, method, path, fingerprint)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (principal, key) DO NOTHING`,
      [principal, header, request.method, request.url, fp],
    );
    if (inserted.rowCount === 1) {
      request.idempotency = { principal, key: header };
      return;
    }
    const { rows } = await db.query<{
      fingerprint: string;
      status_code: number | null;
      headers: Record<string, string> | null;
      body: string | null;
      expired: boolean;
    }>(
      `SELECT fingerprint, status_code, headers, body, created_at < now() - make_interval(hours => $3) AS expired
         FROM idempotency_keys WHERE principal = $1 AND key = $2`,
      [principal, header, TTL_HOURS],
    );
    const row = rows[0];
    if (!row) throw CommonErrors.idempotency_in_progress('retry in a moment');
    if (row.expired) {
      await db.query('DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2', [principal, header]);
      throw CommonErrors.idempotency_in_progress('the previous use of this key expired; retry');
    }
    if (row.fingerprint !== fp) throw CommonErrors.idempotency_key_reused();
    if (row.status_code === null) throw CommonErrors.idempotency_in_progress('retry in a moment');
    for (const [k, v] of Object.entries(row.headers ?? {})) reply.header(k, v);
    reply.header('idempotent-replayed', 'true');
    return reply.code(row.status_code).send(row.body ?? '');
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const idem = request.idempotency;
    if (!idem) return payload;
    request.idempotency = undefined;
    // Server errors and rejected input are not kept: the client may fix the body and retry with
    // the same key (schema errors never reach this hook; domain-rule errors must behave alike).
    if (reply.statusCode >= 500 || reply.statusCode === 400 || reply.statusCode === 422) {
      await db.query('DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2', [
        idem.principal,
        idem.key,
      ]);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const h of REPLAYED_HEADERS) {
      const v = reply.getHeader(h);
      if (v !== undefined) headers[h] = String(v);
    }
    await db.query(
      `UPDATE idempotency_keys SET status_code = $3, headers = $4, body = $5, completed_at = now()
        WHERE principal = $1 AND key = $2`,
      [
        idem.principal,
        idem.key,
        reply.statusCode,
        JSON.stringify(headers),
        typeof payload === 'string' ? payload : '',
      ],
    );
    return payload;
  });
}
