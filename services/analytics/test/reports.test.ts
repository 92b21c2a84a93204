import { isDeepStrictEqual } from 'node:util';
import type { AnalyticsDashboard, AnalyticsReport } from '@hms/contracts';
import { uuidv7 } from '@hms/platform';
import { outboxRows, qs, type RunningService } from '@hms/testkit';
import { expectValidationErrors, useServiceWith } from '@hms/testkit/vitest';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { analyticsService } from '../src/service.js';
import { appointmentEvent } from './fixtures.js';
import { ANALYTICS, consumed, tokensFor, until, type Tokens } from './helpers.js';
import { DAY, EXPECTED, scriptedDay, ZONE } from './scripted-day.js';

/**
 * Reports of the scripted day (numbers counted by hand), as RFC 4180 CSV that a spreadsheet opens
 * without running anything, and as JSON; each generation published. And the coalesced
 * analytics.dashboard-updated.v1.
 */
const NOW = new Date('2027-03-10T23:00:00.000Z'); // 18:00 in New York
let svc: RunningService;
let t: Tokens;

useServiceWith(
  analyticsService,
  tokensFor,
  async (s, tokens) => {
    svc = s;
    t = tokens;
    const events = scriptedDay();
    await svc.bus.publish(events);
    await consumed(
      svc,
      events.map((e) => e.id),
    );
  },
  {
    startTimeoutMs: 60_000,
    env: { FACILITY_TIMEZONE: ZONE, ANALYTICS_DASHBOARD_EVENT_MS: '100' },
    clock: { now: () => NOW },
  },
);

const subOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }).sub;

const report = (q: Record<string, string>, token = t.manager) =>
  svc.request<string | AnalyticsReport>('GET', `${ANALYTICS}/reports${qs(q)}`, { token });

describe('reports', () => {
  it('daily, as CSV: RFC 4180 with a header, one line per facility day, empty for a rate of nothing', async () => {
    const res = await report({ type: 'daily', from: '2027-03-09', to: '2027-03-11', format: 'csv' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="daily-2027-03-09-2027-03-11.csv"',
    );
    const text = res.body as string;
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.split('\r\n').filter(Boolean)).toHaveLength(4);
    expect(parse(text, { record_delimiter: '\r\n' })).toEqual([
      [
        'date',
        'patientsRegistered',
        'scheduled',
        'checkedIn',
        'completed',
        'cancelled',
        'noShow',
        'noShowRate',
        'prescriptionsFilled',
        'stockAlerts',
      ],
      ['2027-03-09', '1', '0', '0', '0', '0', '0', '', '0', '0'],
      ['2027-03-10', '3', '1', '0', '3', '1', '2', '0.4', '2', '2'],
      ['2027-03-11', '0', '1', '0', '0', '0', '0', '', '0', '0'],
    ]);
  });

  it('denials, as CSV: a denial code that would be a formula (-2-3) is text, no cell can run', async () => {
    const res = await report({ type: 'denials', from: '2027-03-09', to: '2027-03-11', format: 'csv' });
    expect(res.status).toBe(200);
    const cells: string[][] = parse(res.body as string);
    expect(cells).toEqual([
      ['denialCode', 'currency', 'claimsDenied', 'deniedAmount', 'shareOfDenials'],
      ["'-2-3", 'EUR', '1', '2500', '0.5'],
      ['CO-50', 'USD', '1', '4000', '0.5'],
    ]);
    for (const cell of cells.flat()) expect(cell, cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('billing, as JSON: per day and currency', async () => {
    const res = await report({ type: 'billing', from: DAY, to: '2027-03-11' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      type: 'billing',
      from: DAY,
      to: '2027-03-11',
      timezone: ZONE,
      columns: [
        'date',
        'currency',
        'invoicedCount',
        'invoicedAmount',
        'paidCount',
        'paidAmount',
        'claimsApproved',
        'claimsDenied',
        'deniedAmount',
        'claimDenialRate',
      ],
      rows: [
        [DAY, 'EUR', 1, 5000, 0, 0, 0, 1, 2500, 1],
        [DAY, 'USD', 2, 23000, 3, 23000, 1, 1, 4000, 0.5],
      ],
    });
  });

  it('publishes each generation: type, range, format, rows and who', async () => {
    await report({ type: 'daily', from: '2027-03-01', to: '2027-03-07', format: 'csv' });
    const rows = await outboxRows(svc.db, { type: 'analytics.report-generated.v1' });
    expect(rows.at(-1)?.envelope.data).toEqual({
      reportType: 'daily',
      from: '2027-03-01',
      to: '2027-03-07',
      format: 'csv',
      rows: 7,
      generatedBy: subOf(t.manager),
      generatedAt: NOW.toISOString(),
    });
  });

  it('refuses an unknown type or format and a bad range, naming the fields, and publishes nothing', async () => {
    const before = (await outboxRows(svc.db, { type: 'analytics.report-generated.v1' })).length;
    expect(expectValidationErrors(await report({ from: DAY })).map((e) => e.path)).toEqual([
      '/querystring/type',
    ]);
    const bad = expectValidationErrors(await report({ type: 'patients', format: 'xlsx' }));
    expect(bad.map((e) => e.path).sort()).toEqual(['/querystring/format', '/querystring/type']);
    expect(expectValidationErrors(await report({ type: 'daily', from: DAY, to: '2027-03-01' }))).toEqual([
      { path: '/querystring/to', message: 'must not be before from' },
    ]);
    expect((await outboxRows(svc.db, { type: 'analytics.report-generated.v1' })).length).toBe(before);
  });
});

describe('analytics.dashboard-updated.v1', () => {
  const updates = async () =>
    (await outboxRows(svc.db, { type: 'analytics.dashboard-updated.v1' })).map(
      (r) => r.envelope.data as { dashboard: AnalyticsDashboard; asOf: string },
    );

  it("carries today's dashboard once it changed; none while nothing changes", async () => {
    await until('an update with the scripted day', async () =>
      (await updates()).some((u) => isDeepStrictEqual(u.dashboard, EXPECTED[DAY])),
    );
    const last = (await updates()).at(-1);
    expect(last).toEqual({ dashboard: EXPECTED[DAY], asOf: NOW.toISOString() });
    const n = (await updates()).length;
    await new Promise((resolve) => setTimeout(resolve, 500)); // five intervals
    expect((await updates()).length).toBe(n);
  });

  it('coalesces a burst: 40 changes, a handful of updates, the last one with all of them', async () => {
    const before = (await updates()).length;
    const started = Date.now();
    const burst = Array.from({ length: 40 }, () =>
      appointmentEvent({ id: uuidv7(), version: 1, status: 'scheduled', start: '2027-03-10T21:00:00.000Z' }),
    );
    for (const e of burst) await svc.bus.publish([e]);
    await consumed(
      svc,
      burst.map((e) => e.id),
    );
    const scheduled = (EXPECTED[DAY]?.appointments.scheduled ?? 0) + 40;
    await until(
      'an update with the whole burst',
      async () => (await updates()).at(-1)?.dashboard.appointments.scheduled === scheduled,
    );
    const published = (await updates()).length - before;
    // at most one per 100 ms interval (and one more for an interval already under way)
    expect(published).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 100) + 1);
    expect(published).toBeLessThan(40);
  });
});
