import { describe, expect, it } from 'vitest';
import { bucketsOf, plan, type AggregateState } from '../src/domain/buckets.js';
import { kpisOf } from '../src/domain/dashboard.js';
import { daysOf, facilityDay, resolveRange } from '../src/domain/days.js';
import { keptEventOf, type Fact } from '../src/domain/facts.js';
import { neutralised, toCsv } from '../src/domain/reports.js';
import { appointmentEvent, claimEvent, PHI } from './fixtures.js';

const NY = 'America/New_York';

describe('facility days', () => {
  it('an instant belongs to the date on the facility’s clocks, across both DST changes', () => {
    expect(facilityDay('2027-03-11T04:30:00.000Z', NY)).toBe('2027-03-10'); // 23:30 EST
    expect(facilityDay('2027-03-11T04:30:00.000Z', 'UTC')).toBe('2027-03-11');
    // 2027-03-14 has 23 hours in New York: 00:00 EST is 05:00Z, the next midnight (EDT) 04:00Z
    expect(facilityDay('2027-03-14T05:00:00.000Z', NY)).toBe('2027-03-14');
    expect(facilityDay('2027-03-15T03:59:59.999Z', NY)).toBe('2027-03-14');
    expect(facilityDay('2027-03-15T04:00:00.000Z', NY)).toBe('2027-03-15');
    // 2027-11-07 has 25 hours: 00:00 EDT is 04:00Z, the next midnight (EST) 05:00Z
    expect(facilityDay('2027-11-07T04:00:00.000Z', NY)).toBe('2027-11-07');
    expect(facilityDay('2027-11-08T04:59:59.999Z', NY)).toBe('2027-11-07');
    expect(facilityDay('2027-11-08T05:00:00.000Z', NY)).toBe('2027-11-08');
    expect(facilityDay('2027-03-10T23:30:00-05:00', 'Europe/Berlin')).toBe('2027-03-11');
  });

  it('a range defaults to today, refuses to before from and more than 366 days', () => {
    expect(resolveRange({}, '2027-03-10')).toEqual({
      range: { from: '2027-03-10', to: '2027-03-10' },
      problems: [],
    });
    expect(resolveRange({ to: '2027-03-01' }, '2027-03-10').range).toEqual({
      from: '2027-03-01',
      to: '2027-03-01',
    });
    expect(resolveRange({ from: '2024-01-01', to: '2024-12-31' }, 'x').problems).toEqual([]); // 366 days
    expect(resolveRange({ from: '2024-01-01', to: '2025-01-01' }, 'x').problems).toEqual([
      { path: '/querystring/to', message: 'the range may cover at most 366 days' },
    ]);
    expect(resolveRange({ from: '2024-01-02', to: '2024-01-01' }, 'x').problems).toEqual([
      { path: '/querystring/to', message: 'must not be before from' },
    ]);
    expect(daysOf({ from: '2027-02-27', to: '2027-03-02' })).toEqual([
      '2027-02-27',
      '2027-02-28',
      '2027-03-01',
      '2027-03-02',
    ]);
  });
});

describe('the newest version wins', () => {
  const appt = (version: number, status: 'scheduled' | 'completed' | 'no-show', start: string): Fact => ({
    kind: 'appointment',
    id: 'a1',
    version,
    status,
    start,
  });
  const stored = (f: Fact): Map<string, AggregateState> =>
    new Map([
      [`${f.kind}\u0000${f.id}`, { kind: f.kind, id: f.id, version: f.version, buckets: bucketsOf(f, NY) }],
    ]);

  it('a newer version moves the aggregate from its old bucket to its new one', () => {
    const v1 = appt(1, 'scheduled', '2027-03-10T15:00:00.000Z');
    const { writes, deltas } = plan(stored(v1), [appt(3, 'no-show', '2027-03-11T15:00:00.000Z')], NY);
    expect(writes.map((w) => w.version)).toEqual([3]);
    expect(deltas.map((d) => [d.day, d.dimension, d.count])).toEqual([
      ['2027-03-10', 'scheduled', -1],
      ['2027-03-11', 'no-show', 1],
    ]);
  });

  it('an older or equal version changes nothing; a change that lands in the same bucket adds no delta', () => {
    const v2 = appt(2, 'completed', '2027-03-10T15:00:00.000Z');
    expect(plan(stored(v2), [appt(1, 'scheduled', '2027-03-10T15:00:00.000Z'), v2], NY)).toEqual({
      writes: [],
      deltas: [],
    });
    const moved = plan(stored(v2), [appt(3, 'completed', '2027-03-10T15:00:00.000Z')], NY);
    expect(moved.writes).toHaveLength(1);
    expect(moved.deltas).toEqual([]);
  });

  it('of several facts of one aggregate, whatever their order, the newest is applied', () => {
    const facts = [
      appt(2, 'completed', '2027-03-10T15:00:00.000Z'),
      appt(3, 'no-show', '2027-03-10T15:00:00.000Z'),
      appt(1, 'scheduled', '2027-03-10T15:00:00.000Z'),
    ];
    const a = plan(new Map(), facts, NY);
    const b = plan(new Map(), [...facts].reverse(), NY);
    expect(a).toEqual(b);
    expect(a.deltas.map((d) => d.dimension)).toEqual(['no-show']);
  });

  it('a claim counts on its adjudication day; denied also under its code; submitted nowhere', () => {
    const claim = { kind: 'claim' as const, id: 'c', version: 2, currency: 'USD', amount: 700 };
    expect(bucketsOf({ ...claim, status: 'submitted' }, NY)).toEqual([]);
    expect(
      bucketsOf(
        { ...claim, status: 'denied', adjudicatedAt: '2027-03-11T02:00:00.000Z', denialCode: 'CO-50' },
        NY,
      ),
    ).toEqual([
      { day: '2027-03-10', metric: 'claims', dimension: 'denied', currency: 'USD', count: 1, amount: 700 },
      { day: '2027-03-10', metric: 'denials', dimension: 'CO-50', currency: 'USD', count: 1, amount: 700 },
    ]);
    expect(bucketsOf({ ...claim, status: 'paid', adjudicatedAt: '2027-03-10T12:00:00.000Z' }, NY)).toEqual([
      { day: '2027-03-10', metric: 'claims', dimension: 'approved', currency: 'USD', count: 1, amount: 700 },
    ]);
  });
});

describe('KPIs', () => {
  it('cancelled appointments and claims not adjudicated are in no denominator; nothing to rate is null', () => {
    const k = kpisOf([
      { metric: 'appointments', dimension: 'cancelled', currency: '', count: 5, amount: 0 },
      { metric: 'appointments', dimension: 'completed', currency: '', count: 3, amount: 0 },
      { metric: 'appointments', dimension: 'no-show', currency: '', count: 1, amount: 0 },
    ]);
    expect(k.noShowRate).toBe(1 / 4);
    expect(k.claimDenialRate).toBeNull();
    expect(kpisOf([]).noShowRate).toBeNull();
  });
});

describe('kept events', () => {
  it('keep ids, codes, statuses, amounts and instants: no name, reason or note', () => {
    const kept = keptEventOf(
      claimEvent({
        id: '0190f3a0-0000-7000-8000-00000000c001',
        invoiceId: '0190f3a0-0000-7000-8000-00000000c002',
        version: 2,
        status: 'denied',
        currency: 'USD',
        amount: 900,
        adjudicatedAt: '2027-03-10T12:00:00.000Z',
        denialCode: 'CO-50',
      }),
    );
    expect(kept?.facts).toEqual([
      {
        kind: 'claim',
        id: '0190f3a0-0000-7000-8000-00000000c001',
        version: 2,
        status: 'denied',
        currency: 'USD',
        amount: 900,
        adjudicatedAt: '2027-03-10T12:00:00.000Z',
        denialCode: 'CO-50',
      },
    ]);
    const appointment = keptEventOf(
      appointmentEvent({
        id: '0190f3a0-0000-7000-8000-00000000c003',
        version: 1,
        status: 'scheduled',
        start: '2027-03-10T12:00:00.000Z',
      }),
    );
    const text = JSON.stringify([kept, appointment]);
    for (const phi of Object.values(PHI)) expect(text).not.toContain(phi);
    expect(Object.keys(appointment?.ids ?? {}).sort()).toEqual(['appointmentId', 'staffId']);
  });
});

describe('CSV', () => {
  it('neutralises a cell that would run as a formula', () => {
    for (const v of ['=1+1', '+1', '-2-3', '@SUM(A1)', '\t=1', '\r=1']) expect(neutralised(v)).toBe(`'${v}`);
    expect(neutralised('CO-50')).toBe('CO-50');
  });

  it('is RFC 4180: CRLF line ends, quoted fields with commas, quotes and line breaks, numbers as numbers', () => {
    expect(
      toCsv({
        columns: ['a', 'b', 'c'],
        rows: [
          ['x,y', 'say "hi"', -1],
          ['two\nlines', null, 0.5],
        ],
      }),
    ).toBe('a,b,c\r\n"x,y","say ""hi""",-1\r\n"two\nlines",,0.5\r\n');
  });
});
