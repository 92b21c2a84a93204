import type { Staff } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectValidationErrors } from '@hms/testkit/vitest';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  MERGE_PATCH,
  STAFF,
  counts,
  newStaff,
  onboard,
  putBodyOf,
  storedRow,
  useStaffService,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;

useStaffService((s, tokens) => {
  svc = s;
  t = tokens;
});

const post = (body: unknown) => svc.request('POST', STAFF, { token: t.writer, body });

describe('bad input is a 400 listing each bad field, and nothing is written', () => {
  let before: Awaited<ReturnType<typeof counts>>;
  beforeEach(async () => {
    before = await counts(svc);
  });
  const expectNothingWritten = async () => expect(await counts(svc)).toEqual(before);

  it('names an unknown IANA time zone', async () => {
    const errors = expectValidationErrors(await post(newStaff({ timezone: 'Mars/Olympus_Mons' })));
    expect(errors).toEqual([{ path: '/body/timezone', message: expect.stringContaining('IANA') as string }]);
    await expectNothingWritten();
  });

  it.each(['24:00', '9:00', '09:60', '0900', ''])('names the bad local time %j', async (start) => {
    const body = newStaff({ weeklyHours: [{ day: 'mon', start, end: '17:00' }] });
    const errors = expectValidationErrors(await post(body));
    expect(errors.map((e) => e.path)).toEqual(['/body/weeklyHours/0/start']);
    await expectNothingWritten();
  });

  it('names two shifts of one day that overlap', async () => {
    const body = newStaff({
      weeklyHours: [
        { day: 'wed', start: '08:00', end: '12:00' },
        { day: 'wed', start: '13:00', end: '17:00' },
        { day: 'wed', start: '11:30', end: '14:00' },
      ],
    });
    const errors = expectValidationErrors(await post(body));
    expect(errors).toEqual([
      { path: '/body/weeklyHours/2', message: expect.stringMatching(/overlaps weeklyHours\[0\]/) as string },
    ]);
    await expectNothingWritten();
  });

  it('names a shift past midnight that runs into the next day’s shift', async () => {
    const body = newStaff({
      weeklyHours: [
        { day: 'sun', start: '22:00', end: '02:00' },
        { day: 'mon', start: '01:00', end: '09:00' },
      ],
    });
    const errors = expectValidationErrors(await post(body));
    expect(errors).toEqual([
      { path: '/body/weeklyHours/1', message: expect.stringMatching(/overlaps weeklyHours\[0\]/) as string },
    ]);
    await expectNothingWritten();
  });

  it('accepts back-to-back shifts, a shift past midnight ending where the next begins', async () => {
    const s = await onboard(
      svc,
      t.writer,
      newStaff({
        weeklyHours: [
          { day: 'mon', start: '09:00', end: '17:00' },
          { day: 'mon', start: '17:00', end: '21:00' },
          { day: 'mon', start: '21:00', end: '03:00' },
          { day: 'tue', start: '03:00', end: '09:00' },
        ],
      }),
    );
    expect(s.weeklyHours).toHaveLength(4);
  });

  it('names a duplicate override date and overlapping shifts within an override', async () => {
    const body = newStaff({
      overrides: [
        { date: '2026-12-24', shifts: [] },
        {
          date: '2026-12-27',
          shifts: [
            { start: '08:00', end: '12:00' },
            { start: '10:00', end: '14:00' },
          ],
        },
        { date: '2026-12-24', shifts: [{ start: '08:00', end: '12:00' }] },
      ],
    });
    const errors = expectValidationErrors(await post(body));
    expect(errors).toEqual([
      { path: '/body/overrides/1/shifts/1', message: expect.stringContaining('overlaps') as string },
      { path: '/body/overrides/2/date', message: expect.stringContaining('overrides[0]') as string },
    ]);
    await expectNothingWritten();
  });

  it('lists every bad field of one request at once', async () => {
    const body = newStaff({
      givenName: '  ',
      timezone: 'Nowhere/Land',
      weeklyHours: [
        { day: 'thu', start: '08:00', end: '16:00' },
        { day: 'thu', start: '15:00', end: '18:00' },
      ],
      overrides: [
        { date: '2027-01-01', shifts: [] },
        { date: '2027-01-01', shifts: [] },
      ],
    });
    const errors = expectValidationErrors(await post(body));
    expect(errors.map((e) => e.path)).toEqual([
      '/body/givenName',
      '/body/overrides/1/date',
      '/body/timezone',
      '/body/weeklyHours/1',
    ]);
    await expectNothingWritten();
  });

  it('names a day, a role and an override date it does not know, and an unknown field', async () => {
    const body = {
      ...newStaff({ role: 'wizard' as 'admin', overrides: [{ date: '2026-02-30', shifts: [] }] }),
      weeklyHours: [{ day: 'monday', start: '09:00', end: '17:00' }],
      nickname: 'Amazing Grace',
    };
    const paths = expectValidationErrors(await post(body)).map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/body/nickname',
        '/body/overrides/0/date',
        '/body/role',
        '/body/weeklyHours/0/day',
      ]),
    );
    await expectNothingWritten();
  });

  it('a PUT or PATCH with a bad schedule changes nothing', async () => {
    const s = await onboard(svc, t.writer);
    const snapshot = { counts: await counts(svc), row: await storedRow(svc, s.id) };
    const put = await svc.request('PUT', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { ...putBodyOf(s), timezone: 'Europe/Atlantis' },
      headers: { 'if-match': '"v1"' },
    });
    expect(expectValidationErrors(put).map((e) => e.path)).toEqual(['/body/timezone']);
    const patch = await svc.request('PATCH', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: {
        weeklyHours: [
          { day: 'fri', start: '20:00', end: '04:00' },
          { day: 'sat', start: '03:59', end: '08:00' },
        ],
      },
      headers: MERGE_PATCH,
    });
    expect(expectValidationErrors(patch).map((e) => e.path)).toEqual(['/body/weeklyHours/1']);
    expect({ counts: await counts(svc), row: await storedRow(svc, s.id) }).toEqual(snapshot);
    expect((await svc.request<Staff>('GET', `${STAFF}/${s.id}`, { token: t.reader })).body).toEqual(s);
  });
});
