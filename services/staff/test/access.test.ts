import type { Staff, TimeOff } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectAccessMatrix, expectErrorCatalogue, expectProblem } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  CLOSURES,
  STAFF,
  counts,
  newStaff,
  onboard,
  storedRow,
  useStaffService,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;
let s: Staff;
let off: TimeOff;

useStaffService(async (started, tokens) => {
  svc = started;
  t = tokens;
  s = await onboard(svc, t.writer);
  off = (
    await svc.request<TimeOff>('POST', `${STAFF}/${s.id}/time-off`, {
      token: t.writer,
      body: { start: '2026-06-01T08:00:00Z', end: '2026-06-01T12:00:00Z' },
    })
  ).body;
  await svc.request('POST', CLOSURES, { token: t.writer, body: { date: '2026-12-25', name: 'Christmas' } });
});

/** What a refused request must leave as it was: the counts and the onboarded staff member's row. */
const untouched = async () => ({ counts: await counts(svc), row: await storedRow(svc, s.id) });

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const walked = await expectAccessMatrix(svc, {
      params: { id: s.id, timeOffId: off.id, date: '2026-12-25' },
      untouched,
    });
    expect(walked.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        `GET ${STAFF}`,
        `POST ${STAFF}`,
        `GET ${STAFF}/:id`,
        `PUT ${STAFF}/:id`,
        `PATCH ${STAFF}/:id`,
        `DELETE ${STAFF}/:id`,
        `POST ${STAFF}/:id/time-off`,
        `GET ${STAFF}/:id/time-off`,
        `DELETE ${STAFF}/:id/time-off/:timeOffId`,
        `GET ${STAFF}/:id/availability`,
        `GET ${STAFF}/:id/assignments`,
        `POST ${CLOSURES}`,
        `GET ${CLOSURES}`,
        `DELETE ${CLOSURES}/:date`,
      ].sort(),
    );
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 1, active: true });
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(svc, new URL('../src/', import.meta.url));
    expect(used).toEqual(
      expect.arrayContaining([
        'staff_not_found',
        'time_off_not_found',
        'closure_not_found',
        'closure_exists',
        'staff_has_appointments',
      ]),
    );
  });
});

describe('which roles may read and change staff', () => {
  it.each(['physician', 'nurse', 'receptionist', 'manager', 'admin'])(
    'role %s may read staff',
    async (role) => {
      const token = await svc.keys.mint({ roles: [role] });
      expect((await svc.request('GET', `${STAFF}/${s.id}`, { token })).status).toBe(200);
    },
  );

  it.each(['physician', 'nurse', 'receptionist', 'pharmacist'])(
    'role %s may not onboard, change or deactivate staff, nor close the facility',
    async (role) => {
      const token = await svc.keys.mint({ roles: [role] });
      const before = await untouched();
      for (const [method, path, body] of [
        ['POST', STAFF, newStaff()],
        ['PATCH', `${STAFF}/${s.id}`, { department: 'Elsewhere' }],
        ['DELETE', `${STAFF}/${s.id}`, undefined],
        ['POST', CLOSURES, { date: '2026-12-31', name: 'New Year’s Eve' }],
      ] as const) {
        const res = await svc.request(method, path, { token, ...(body ? { body } : {}) });
        expect(expectProblem(res, 403).detail).toBe('requires the staff:write permission');
      }
      expect(await untouched()).toEqual(before);
    },
  );

  it.each(['auditor', 'pharmacist', 'billing'])('role %s may not read staff (roles.ts)', async (role) => {
    const token = await svc.keys.mint({ roles: [role] });
    const problem = expectProblem(await svc.request('GET', STAFF, { token }), 403);
    expect(problem.detail).toBe('requires the staff:read permission');
  });

  it('the appointment service identity (staff:read) may read staff', async () => {
    const token = await svc.keys.mint({ sub: 'svc:appointment', scope: ['staff:read'] });
    expect((await svc.request('GET', `${STAFF}/${s.id}`, { token })).status).toBe(200);
  });
});
