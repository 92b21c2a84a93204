import type { AnalyticsEvent } from '@hms/contracts';
import { uuidv7 } from '@hms/platform';
import { qs, type Page, type RunningService } from '@hms/testkit';
import { expectValidationErrors, readAllPages, useServiceWith } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { analyticsService } from '../src/service.js';
import { appointmentEvent, PHI } from './fixtures.js';
import { ANALYTICS, consumed, dashboard, rebuilt, tokensFor, type Tokens } from './helpers.js';
import { DAY, EXPECTED, scriptedDay, ZONE } from './scripted-day.js';

/**
 * The scripted day published on real RabbitMQ (TEST_AMQP_URL), as the producers' relays would,
 * some events twice: the dashboard shows the numbers counted by hand in scripted-day.ts, a
 * rebuild from the kept events gives the same, and nothing kept is PHI.
 */
let svc: RunningService;
let t: Tokens;
/** Every distinct event id published to the service so far. */
const published = new Set<string>();

useServiceWith(
  analyticsService,
  tokensFor,
  async (s, tokens) => {
    svc = s;
    t = tokens;
    const events = scriptedDay();
    await svc.bus.publish(events);
    // redelivered, same ids: a consumer restart before its ack
    await svc.bus.publish(events.filter((_e, k) => k % 3 === 0));
    await consumed(
      svc,
      events.map((e) => e.id),
    );
    for (const e of events) published.add(e.id);
  },
  {
    startTimeoutMs: 60_000,
    env: { FACILITY_TIMEZONE: ZONE },
    clock: { now: () => new Date('2027-03-10T23:00:00.000Z') }, // 18:00 in New York
  },
);

describe('the dashboard after a scripted day', () => {
  it('shows the numbers counted by hand, day by facility day', async () => {
    for (const day of ['2027-03-09', DAY, '2027-03-11'])
      expect(await dashboard(svc, t.manager, day)).toEqual(EXPECTED[day]);
  });

  it("defaults to the facility's today (18:00 in New York is already the 11th in UTC)", async () => {
    const res = await svc.request('GET', `${ANALYTICS}/dashboard`, { token: t.manager });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(EXPECTED[DAY]);
  });

  it('sums a range of days', async () => {
    expect(await dashboard(svc, t.manager, '2027-03-09', '2027-03-11')).toMatchObject({
      from: '2027-03-09',
      to: '2027-03-11',
      patientsRegistered: 4,
      appointments: { scheduled: 2, checkedIn: 0, completed: 3, cancelled: 1, noShow: 2 },
      noShowRate: 2 / 5,
    });
  });

  it('a rebuild from the kept events gives the same dashboard', async () => {
    const rebuild = await rebuilt(svc, t.admin);
    expect(rebuild.events).toBe(published.size);
    for (const day of ['2027-03-09', DAY, '2027-03-11'])
      expect(await dashboard(svc, t.manager, day)).toEqual(EXPECTED[day]);
  });

  it('keeps no PHI: no name, birth date, phone, reason, note, payer or member id', async () => {
    const { rows } = await svc.db.query<{ text: string }>(
      "SELECT string_agg(ids::text || facts::text || subject, ' ') AS text FROM events",
    );
    const kept = rows[0]?.text ?? '';
    expect(kept.length).toBeGreaterThan(1000);
    for (const phi of [...Object.values(PHI), 'Acme Health', 'M-99812', 'MRN-000123', 'Amoxicillin'])
      expect(kept, phi).not.toContain(phi);
  });
});

describe('a no-show at 23:30 facility time', () => {
  it('counts on its own day, also on the night clocks go back (a 25-hour day)', async () => {
    // 2027-11-06 is EDT (UTC−4); 2027-11-07 turns EST (UTC−5) at 02:00
    const before = uuidv7();
    const onDstDay = uuidv7();
    const events = [
      appointmentEvent({ id: before, version: 1, status: 'scheduled', start: '2027-11-07T03:30:00.000Z' }),
      appointmentEvent({ id: before, version: 2, status: 'no-show', start: '2027-11-07T03:30:00.000Z' }),
      appointmentEvent({ id: onDstDay, version: 2, status: 'no-show', start: '2027-11-08T04:30:00.000Z' }),
    ];
    await svc.bus.publish(events);
    await consumed(
      svc,
      events.map((e) => e.id),
    );
    for (const e of events) published.add(e.id);
    const noShows = async (day: string) => (await dashboard(svc, t.manager, day)).appointments.noShow;
    expect([await noShows('2027-11-06'), await noShows('2027-11-07'), await noShows('2027-11-08')]).toEqual([
      1, 1, 0,
    ]);
  });
});

describe('the dashboard’s range', () => {
  it('refuses to before from, a range over 366 days and a date that is not one, naming the field', async () => {
    const ask = (q: Record<string, string>) =>
      svc.request('GET', `${ANALYTICS}/dashboard${qs(q)}`, { token: t.manager });
    expect(expectValidationErrors(await ask({ from: '2027-03-10', to: '2027-03-09' }))).toEqual([
      { path: '/querystring/to', message: 'must not be before from' },
    ]);
    expect(expectValidationErrors(await ask({ from: '2026-03-10', to: '2027-03-11' }))).toEqual([
      { path: '/querystring/to', message: 'the range may cover at most 366 days' },
    ]);
    expect((await ask({ from: '2026-03-11', to: '2027-03-11' })).status).toBe(200);
    const bad = expectValidationErrors(await ask({ from: '2027-02-30' }));
    expect(bad.map((e) => e.path)).toEqual(['/querystring/from']);
  });
});

describe('recent events', () => {
  it('lists type, subject, ids and time, newest first, filterable, paged', async () => {
    const all = await readAllPages<AnalyticsEvent>(svc, `${ANALYTICS}/events`, t.manager, { limit: 7 });
    expect(new Set(all.items.map((e) => e.id))).toEqual(published);
    const times = all.items.map((e) => e.time);
    expect(times.every((x) => !Number.isNaN(Date.parse(x)))).toBe(true);
    const claims = await svc.request<Page<AnalyticsEvent>>(
      'GET',
      `${ANALYTICS}/events${qs({ type: 'billing.claim-denied.v1' })}`,
      { token: t.manager },
    );
    expect(claims.body.items).toHaveLength(2);
    for (const e of claims.body.items) {
      expect(Object.keys(e).sort()).toEqual(['id', 'ids', 'subject', 'time', 'type']);
      expect(e.type).toBe('billing.claim-denied.v1');
      expect(Object.keys(e.ids).sort()).toEqual(['claimId', 'invoiceId']);
      expect(e.ids.claimId).toBe(e.subject);
    }
    const subject = claims.body.items[0]?.subject as string;
    const ofSubject = await svc.request<Page<AnalyticsEvent>>(
      'GET',
      `${ANALYTICS}/events${qs({ subject })}`,
      {
        token: t.manager,
      },
    );
    // the claim's submission and its denial
    expect(ofSubject.body.items.map((e) => e.type)).toEqual([
      'billing.claim-denied.v1',
      'billing.claim-submitted.v1',
    ]);
    const badCursor = await svc.request('GET', `${ANALYTICS}/events${qs({ cursor: 'bm9wZQ' })}`, {
      token: t.manager,
    });
    expect(expectValidationErrors(badCursor).map((e) => e.path)).toEqual(['/querystring/cursor']);
  });
});
