import type { AnalyticsDashboard, AnalyticsRebuild } from '@hms/contracts';
import { qs, type RunningService } from '@hms/testkit';
import { expect } from 'vitest';

export const ANALYTICS = '/api/v1/analytics';

export interface Tokens {
  /** manager: analytics:read */
  manager: string;
  /** admin: analytics:read and analytics:manage */
  admin: string;
  /** receptionist: no analytics permission */
  desk: string;
}

export async function tokensFor(svc: RunningService): Promise<Tokens> {
  return {
    manager: await svc.keys.mint({ roles: ['manager'] }),
    admin: await svc.keys.mint({ roles: ['admin'] }),
    desk: await svc.keys.mint({ roles: ['receptionist'] }),
  };
}

/** Waits until `check` answers true; fails after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the service's inbox has taken each event id (applied, or skipped as a duplicate). */
export async function consumed(svc: RunningService, ids: readonly string[]): Promise<void> {
  const want = new Set(ids).size;
  await until(`${want} events consumed`, async () => {
    const { rows } = await svc.db.query<{ n: number }>(
      'SELECT count(DISTINCT event_id)::int AS n FROM inbox WHERE consumer = $1 AND event_id = ANY ($2::uuid[])',
      ['analytics', [...new Set(ids)]],
    );
    return rows[0]?.n === want;
  });
}

export async function dashboard(
  svc: RunningService,
  token: string,
  from: string,
  to = from,
): Promise<AnalyticsDashboard> {
  const res = await svc.request<AnalyticsDashboard>('GET', `${ANALYTICS}/dashboard${qs({ from, to })}`, {
    token,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Asks for a rebuild and waits until it is completed; answers it. */
export async function rebuilt(svc: RunningService, adminToken: string): Promise<AnalyticsRebuild> {
  const res = await svc.request<AnalyticsRebuild>('POST', `${ANALYTICS}/rebuild`, {
    token: adminToken,
    body: {},
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body.state).toBe('pending');
  const location = res.headers.get('location') ?? '';
  expect(location).toBe(`${ANALYTICS}/rebuild/${res.body.id}`);
  let done: AnalyticsRebuild | undefined;
  await until('the rebuild completed', async () => {
    const got = await svc.request<AnalyticsRebuild>('GET', location, { token: adminToken });
    expect(got.status).toBe(200);
    if (got.body.state === 'completed') done = got.body;
    return done !== undefined;
  });
  return done as AnalyticsRebuild;
}
