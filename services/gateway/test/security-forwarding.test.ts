import { randomBytes } from 'node:crypto';
import { startService, type RunningService } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayService } from '../src/service.js';
import { captureLogs, type LogLine } from '@hms/testkit';
import { STARTUP_MS, gatewayEnv, startStack, type Stack } from './helpers.js';

/**
 * Issue #17: what the gateway tells the services about a request (the client's address, the
 * request id, the trace) is the gateway's own finding, never what a client wrote. Two gateways in
 * front of the same services: one behind a load balancer it trusts (the test client, on
 * loopback), one facing clients directly (no trusted proxy).
 */
let s: Stack;
/** No trusted proxy: every caller is a client. */
let edge: RunningService;
const logs = { balanced: captureLogs('gateway'), edge: captureLogs('gateway'), auth: captureLogs('auth') };

beforeAll(async () => {
  s = await startStack(
    { GATEWAY_TRUSTED_PROXIES: '127.0.0.1' },
    { loggers: { gateway: logs.balanced.logger, auth: logs.auth.logger } },
  );
  edge = await startService(gatewayService, {
    logger: logs.edge.logger,
    keys: s.keys,
    store: s.store.store,
    env: gatewayEnv({ PATIENT_URL: s.patient.url, AUTH_URL: s.auth.url }),
  });
}, STARTUP_MS);
afterAll(async () => {
  await edge.close();
  await s.close();
});

interface Echo {
  headers: Record<string, string | undefined>;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const traceOf = (traceparent: string | undefined) => traceparent?.split('-')[1];
const newTraceparent = () => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;

/** The access line (`msg: request`) a service wrote for the request with this id, once written. */
async function accessLine(lines: () => LogLine[], reqId: string): Promise<LogLine> {
  let found: LogLine | undefined;
  await expect
    .poll(() => (found = lines().find((l) => l.msg === 'request' && l.reqId === reqId)))
    .toBeDefined();
  return found as LogLine;
}

describe('X-Forwarded-For: the one client address the gateway resolved', () => {
  it('passes on exactly the client a trusted balancer names', async () => {
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', {
      headers: { 'x-forwarded-for': '198.51.100.7' },
    });
    expect(res.body.headers['x-forwarded-for']).toBe('198.51.100.7');
  });

  it('passes on only the client, not a chain the client started with spoofed addresses', async () => {
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', {
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' },
    });
    expect(res.body.headers['x-forwarded-for']).toBe('198.51.100.7');
  });

  it('passes on an IPv6 client whole (the services count it by /64 themselves)', async () => {
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', {
      headers: { 'x-forwarded-for': '2001:db8:17::7' },
    });
    expect(res.body.headers['x-forwarded-for']).toBe('2001:db8:17::7');
  });

  it('without a trusted proxy, passes on the socket peer whatever the client sent', async () => {
    for (const xff of ['198.51.100.7', '6.6.6.6, 198.51.100.7']) {
      const res = await edge.request<Echo>('GET', '/api/v1/auth/echo', {
        headers: { 'x-forwarded-for': xff },
      });
      expect(res.body.headers['x-forwarded-for']).toBe('127.0.0.1');
    }
  });
});

describe('the request id and trace id every service logs', () => {
  it('mints its own for a client that is not a trusted proxy, and logs the client’s id apart', async () => {
    const forgedId = `forged-${randomBytes(6).toString('hex')}`;
    const forgedTp = newTraceparent();
    const res = await edge.request<Echo>('GET', '/api/v1/auth/echo', {
      headers: { 'x-request-id': forgedId, traceparent: forgedTp },
    });
    expect(res.status).toBe(200);
    // the client is answered the gateway's id, the one the service received
    const id = res.headers.get('x-request-id') as string;
    expect(id).toMatch(UUID_V7);
    expect(res.body.headers['x-request-id']).toBe(id);
    // the service is in a trace the gateway started, not in the client's
    const upstreamTrace = traceOf(res.body.headers.traceparent);
    expect(upstreamTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(upstreamTrace).not.toBe(traceOf(forgedTp));

    const gatewayLine = await accessLine(logs.edge.lines, id);
    expect(gatewayLine).toMatchObject({ route: '/api/v1/auth/*', status: 200, clientReqId: forgedId });
    expect(gatewayLine.traceId).toBe(upstreamTrace);
    const serviceLine = await accessLine(logs.auth.lines, id);
    expect(serviceLine.traceId).toBe(upstreamTrace);
    // nowhere is the forged id or trace logged as the request's own
    for (const line of [...logs.edge.lines(), ...logs.auth.lines()]) {
      expect(line.reqId).not.toBe(forgedId);
      expect(line.traceId).not.toBe(traceOf(forgedTp));
    }
  });

  it('keeps the request id and trace a trusted proxy sends', async () => {
    const givenId = `lb-${randomBytes(6).toString('hex')}`;
    const givenTp = newTraceparent();
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', {
      headers: { 'x-forwarded-for': '198.51.100.8', 'x-request-id': givenId, traceparent: givenTp },
    });
    expect(res.headers.get('x-request-id')).toBe(givenId);
    expect(res.body.headers['x-request-id']).toBe(givenId);
    expect(traceOf(res.body.headers.traceparent)).toBe(traceOf(givenTp));

    const gatewayLine = await accessLine(logs.balanced.lines, givenId);
    expect(gatewayLine.traceId).toBe(traceOf(givenTp));
    expect(gatewayLine.clientReqId).toBeUndefined();
    expect((await accessLine(logs.auth.lines, givenId)).traceId).toBe(traceOf(givenTp));
  });
});
