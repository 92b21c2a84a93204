import type { AnalyticsRebuild } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectAccessMatrix, expectErrorCatalogue, expectProblem, useServiceWith } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { analyticsService } from '../src/service.js';
import { ANALYTICS, rebuilt, tokensFor, type Tokens } from './helpers.js';

let svc: RunningService;
let t: Tokens;
let rebuild: AnalyticsRebuild;

useServiceWith(
  analyticsService,
  tokensFor,
  async (s, tokens) => {
    svc = s;
    t = tokens;
    rebuild = await rebuilt(svc, t.admin);
  },
  // streams the matrix opens end at once, so its requests get an answer
  { startTimeoutMs: 60_000, env: { ANALYTICS_STREAM_MAX_MS: '100' } },
);

/** What a refused request must not change: rebuilds asked for, events published. */
async function snapshot() {
  const { rows } = await svc.db.query(
    `SELECT (SELECT count(*) FROM rebuilds)::int AS rebuilds, (SELECT count(*) FROM outbox
       WHERE type = 'analytics.report-generated.v1')::int AS reports`,
  );
  return rows[0];
}

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const walked = await expectAccessMatrix(svc, {
      params: { id: rebuild.id },
      untouched: snapshot,
    });
    expect(walked.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        `GET ${ANALYTICS}/dashboard`,
        `GET ${ANALYTICS}/reports`,
        `GET ${ANALYTICS}/events`,
        `GET ${ANALYTICS}/stream`,
        `POST ${ANALYTICS}/rebuild`,
        `GET ${ANALYTICS}/rebuild/:id`,
      ].sort(),
    );
  });

  it('by role: an auditor and a manager read, only an admin rebuilds, a receptionist sees nothing', async () => {
    const auditor = await svc.keys.mint({ roles: ['auditor'] });
    for (const token of [auditor, t.manager, t.admin])
      expect((await svc.request('GET', `${ANALYTICS}/dashboard`, { token })).status).toBe(200);
    expectProblem(await svc.request('GET', `${ANALYTICS}/dashboard`, { token: t.desk }), 403);
    for (const token of [auditor, t.manager])
      expectProblem(await svc.request('POST', `${ANALYTICS}/rebuild`, { token, body: {} }), 403);
  });

  it('an unknown rebuild is 404', async () => {
    const res = await svc.request('GET', `${ANALYTICS}/rebuild/0190f3a0-0000-7000-8000-000000000000`, {
      token: t.admin,
    });
    expect(expectProblem(res, 404).code).toBe('rebuild_not_found');
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(svc, new URL('../src/', import.meta.url));
    // (the use cases' 403 and 400 come from the kit's authorize and invalid)
    expect(used).toEqual(['rebuild_not_found']);
  });
});
