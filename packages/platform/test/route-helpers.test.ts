import {
  ConfigError,
  IdParams,
  IfMatchHeader,
  ProblemResponses,
  callerOf,
  ifMatchOptional,
  ifMatchRequired,
  withETag,
  type Clock,
  type ServiceModule,
} from '@hms/platform';
import { startService, type RunningService } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A fixed clock: one second before clocks in Europe/Berlin sprang forward in 2027. */
const BEFORE_DST = '2027-03-28T00:59:59.000Z';
const clock: Clock = { now: () => new Date(BEFORE_DST) };

/** A service of one resource, written with the kit's route helpers as a new service would be. */
const things: ServiceModule = {
  name: 'things',
  description: 'a resource for the route helpers',
  migrations: () => [],
  setup(app, deps) {
    const updates = { params: IdParams, headers: IfMatchHeader };
    const schema = { ...updates, response: { ...ProblemResponses } };
    app.get(
      '/api/v1/things/:id',
      { config: { permission: 'patients:read' }, schema },
      async (request, reply) =>
        withETag(reply, 7).send({
          id: request.params.id,
          caller: callerOf(request),
          now: deps.clock.now().toISOString(),
          facility: deps.facility,
        }),
    );
    app.put(
      '/api/v1/things/:id',
      { config: { permission: 'patients:write' }, schema: updates },
      async (request) => ({
        expected: ifMatchRequired(request),
      }),
    );
    app.patch(
      '/api/v1/things/:id',
      { config: { permission: 'patients:write' }, schema: updates },
      async (request) => ({
        expected: ifMatchOptional(request) ?? null,
      }),
    );
  },
};

let svc: RunningService;
beforeAll(async () => {
  svc = await startService(things, {
    clock,
    env: { FACILITY_TIMEZONE: 'Europe/Berlin', FACILITY_LOCALE: 'de-CH' },
  });
}, 60_000);
afterAll(async () => svc.close());

const ID = '0190d6f2-5b1c-7c3e-9a4b-2f6d8e1a3c5b';

describe("the kit's route helpers", () => {
  it('refuses a malformed :id with a 400 naming the parameter', async () => {
    const res = await svc.request<{ errors: { path: string }[] }>('GET', '/api/v1/things/not-a-uuid', {
      token: await svc.keys.mint({ roles: ['nurse'] }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.errors.map((e) => e.path)).toContain('/params/id');
  });

  it('answers with the ETag of the version, the caller as a person, the clock and the facility handed to it', async () => {
    const staffId = '0190d6f2-5b1c-7c3e-9a4b-000000000001';
    const token = await svc.keys.mint({
      roles: ['nurse'],
      staffId,
      sub: '0190d6f2-5b1c-7c3e-9a4b-000000000002',
    });
    const res = await svc.request<Record<string, unknown>>('GET', `/api/v1/things/${ID}`, { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v7"');
    expect(res.body).toMatchObject({
      id: ID,
      caller: { kind: 'user', id: '0190d6f2-5b1c-7c3e-9a4b-000000000002', roles: ['nurse'], staffId },
      now: BEFORE_DST,
      facility: { timezone: 'Europe/Berlin', locale: 'de-CH' },
    });
  });

  it('tells a service identity from a person', async () => {
    const token = await svc.keys.mint({ sub: 'svc:billing', scope: ['patients:read'] });
    const res = await svc.request<{ caller: Record<string, unknown> }>('GET', `/api/v1/things/${ID}`, {
      token,
    });
    expect(res.body.caller).toMatchObject({ kind: 'service', id: 'svc:billing', service: 'billing' });
  });

  it('requires If-Match where the route says so (428 absent, 412 unreadable) and reads it where it is optional', async () => {
    const token = await svc.keys.mint({ roles: ['nurse'] });
    const put = (headers: Record<string, string>) =>
      svc.request<{ expected?: unknown; code?: string }>('PUT', `/api/v1/things/${ID}`, { token, headers });
    expect((await put({})).status).toBe(428);
    expect((await put({ 'if-match': 'W/"v3"' })).status).toBe(412);
    expect((await put({ 'if-match': '"v3"' })).body.expected).toBe(3);
    expect((await put({ 'if-match': '*' })).body.expected).toBe('*');
    const patch = (headers: Record<string, string>) =>
      svc.request<{ expected?: unknown }>('PATCH', `/api/v1/things/${ID}`, { token, headers, body: {} });
    expect((await patch({})).body.expected).toBeNull();
    expect((await patch({ 'if-match': '"v12"' })).body.expected).toBe(12);
  });
});

describe('facility settings are kit configuration', () => {
  it('defaults to UTC and English', async () => {
    const plain = await startService(things);
    try {
      const token = await plain.keys.mint({ roles: ['nurse'] });
      const res = await plain.request<{ facility: unknown; now: string }>('GET', `/api/v1/things/${ID}`, {
        token,
      });
      expect(res.body.facility).toEqual({ timezone: 'UTC', locale: 'en' });
      expect(Date.now() - Date.parse(res.body.now)).toBeLessThan(60_000); // the system clock
    } finally {
      await plain.close();
    }
  });

  it('refuses to start with a time zone that does not exist, naming the key', async () => {
    const start = startService(things, { env: { FACILITY_TIMEZONE: 'Europe/Atlantis' } });
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(/FACILITY_TIMEZONE/);
  });
});

describe('BODY_LIMIT is every service’s', () => {
  it('answers 413 to a body over the configured limit, on any service the runtime starts', async () => {
    const small = await startService(things, { env: { BODY_LIMIT: '1024' } });
    try {
      const token = await small.keys.mint({ roles: ['nurse'] });
      const big = await small.request('PATCH', `/api/v1/things/${ID}`, {
        token,
        body: { note: 'x'.repeat(2048) },
      });
      expect(big.status).toBe(413);
      expect(big.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const fits = await small.request('PATCH', `/api/v1/things/${ID}`, {
        token,
        body: { note: 'x'.repeat(512) },
      });
      expect(fits.status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
