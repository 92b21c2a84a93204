import type { Appointment } from '@hms/contracts';
import { expectAccessMatrix, expectErrorCatalogue, expectProblem } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  APPOINTMENTS,
  TYPES,
  booked,
  counts,
  createType,
  onboard,
  register,
  storedAppointment,
  useWorld,
} from './helpers.js';

/** Who may do what on the Appointment service: every route's guard, and the roles of roles.ts. */
const world = useWorld();

let a: Appointment;
let type: string;
let staffId: string;
let patientId: string;
beforeAll(async () => {
  staffId = (await onboard(world())).id;
  patientId = (await register(world())).id;
  type = (await createType(world())).code;
  a = await booked(world(), { patientId, staffId, type, start: '2027-03-01T10:00:00Z' });
});

const storedType = async (code: string) =>
  (await world().appointment.db.query('SELECT * FROM appointment_types WHERE code = $1', [code])).rows;

/** What a refused request must leave as it was: the counts, the appointment and its type. */
const untouched = async () => ({
  counts: await counts(world().appointment),
  appointment: await storedAppointment(world().appointment, a.id),
  type: await storedType(type),
});

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const walked = await expectAccessMatrix(world().appointment, {
      params: { id: a.id, code: type },
      untouched,
    });
    // the service's own routes, all of them (the kit's /admin routes are walked too)
    const own = walked.filter((r) => r.url.startsWith('/api/')).map((r) => `${r.method} ${r.url}`);
    expect(own.sort()).toEqual(
      [
        `GET ${APPOINTMENTS}`,
        `POST ${APPOINTMENTS}`,
        `GET ${APPOINTMENTS}/slots`,
        `GET ${APPOINTMENTS}/:id`,
        `PUT ${APPOINTMENTS}/:id`,
        `DELETE ${APPOINTMENTS}/:id`,
        `POST ${APPOINTMENTS}/:id/cancel`,
        `POST ${APPOINTMENTS}/:id/reschedule`,
        `POST ${APPOINTMENTS}/:id/check-in`,
        `POST ${APPOINTMENTS}/:id/complete`,
        `POST ${APPOINTMENTS}/:id/no-show`,
        `GET ${TYPES}`,
        `POST ${TYPES}`,
        `GET ${TYPES}/:code`,
        `PUT ${TYPES}/:code`,
      ].sort(),
    );
    expect(await storedAppointment(world().appointment, a.id)).toMatchObject({
      status: 'scheduled',
      version: 1,
    });
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(world().appointment, new URL('../src/', import.meta.url));
    expect(used).toEqual(
      expect.arrayContaining([
        'appointment_not_found',
        'appointment_conflict',
        'slot_unavailable',
        'illegal_transition',
        'patient_inactive',
        'staff_inactive',
        'appointment_type_inactive',
        'appointment_type_exists',
        'appointment_type_not_found',
      ]),
    );
  });
});

describe('which roles may read and book appointments', () => {
  const get = (token: string) =>
    world().appointment.request<Appointment>('GET', `${APPOINTMENTS}/${a.id}`, { token });
  const mint = (roles: string[]) => world().appointment.keys.mint({ roles });

  it.each(['physician', 'nurse', 'receptionist', 'admin'])('role %s may read and book', async (role) => {
    const token = await mint([role]);
    expect((await get(token)).status).toBe(200);
    const res = await world().appointment.request<Appointment>('POST', APPOINTMENTS, {
      token,
      body: { patientId: (await register(world())).id, staffId, type, start: '2027-03-08T09:00:00Z' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // free the slot for the next role
    expect(
      (await world().appointment.request('DELETE', `${APPOINTMENTS}/${res.body.id}`, { token })).status,
    ).toBe(204);
  });

  it.each(['pharmacist', 'billing', 'auditor', 'manager'])(
    'role %s may not read appointments',
    async (role) => {
      const problem = expectProblem(await get(await mint([role])), 403);
      expect(problem.detail).toBe('requires the appointments:read permission');
    },
  );

  it('a caller with only appointments:read may not book, cancel or change types, and changes nothing', async () => {
    const reader = await world().appointment.keys.mint({ sub: 'svc:reader', scope: ['appointments:read'] });
    expect((await get(reader)).status).toBe(200);
    const before = await untouched();
    const calls: [string, string, unknown][] = [
      ['POST', APPOINTMENTS, { patientId, staffId, type, start: '2027-03-08T10:00:00Z' }],
      ['POST', `${APPOINTMENTS}/${a.id}/cancel`, { reason: 'not mine to cancel' }],
      ['DELETE', `${APPOINTMENTS}/${a.id}`, undefined],
      ['POST', `${APPOINTMENTS}/${a.id}/check-in`, undefined],
      ['POST', TYPES, { code: 'sneaky', name: 'Sneaky', durationMin: 30 }],
    ];
    for (const [method, path, body] of calls) {
      const res = await world().appointment.request(method, path, {
        token: reader,
        ...(body === undefined ? {} : { body }),
      });
      expect(expectProblem(res, 403, `${method} ${path}`).detail).toBe(
        'requires the appointments:write permission',
      );
    }
    expect(await untouched()).toEqual(before);
  });

  it('a service identity with appointments:read (billing’s) may list appointments', async () => {
    const billing = await world().appointment.keys.mint({ sub: 'svc:billing', scope: ['appointments:read'] });
    const res = await world().appointment.request<{ items: Appointment[] }>(
      'GET',
      `${APPOINTMENTS}?patientId=${patientId}`,
      { token: billing },
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((x) => x.id)).toEqual([a.id]);
  });
});
