import { createHash, randomUUID } from 'node:crypto';
import type { RecordDraft } from '@hms/audit/chain';

/**
 * Drafts shaped like the trail's: four access records (a read or a search by a user, naming a
 * patient or a page of them) for each domain event (metadata, changed fields, a digest).
 */
const users = Array.from({ length: 50 }, () => randomUUID());
const patients = Array.from({ length: 5000 }, () => randomUUID());
const pick = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;

export function draft(n: number, at = new Date()): RecordDraft {
  const time = at.toISOString();
  const patient = pick(patients, n * 7919);
  if (n % 5 === 4)
    return {
      id: randomUUID(),
      recordedAt: time,
      category: 'event',
      type: 'patient.updated.v1',
      eventId: randomUUID(),
      item: 0,
      source: '/hms/patient',
      subject: patient,
      at: time,
      resource: { type: 'patient', ids: [patient] },
      patientIds: [patient],
      changedFields: ['phone', 'address'],
      dataDigest: createHash('sha256').update(`${n}`).digest('hex'),
    };
  const search = n % 5 === 3;
  const ids = search ? Array.from({ length: 20 }, (_, i) => pick(patients, n * 31 + i)) : [patient];
  return {
    id: randomUUID(),
    recordedAt: time,
    category: 'access',
    type: 'access.recorded.v1',
    eventId: randomUUID(),
    item: n % 200,
    source: '/hms/patient',
    subject: 'patient',
    at: time,
    actor: { kind: 'user', id: pick(users, n) },
    action: search ? 'search' : 'read',
    outcome: 'granted',
    status: 200,
    service: 'patient',
    method: 'GET',
    route: search ? '/api/v1/patients' : '/api/v1/patients/:id',
    requestId: randomUUID(),
    clientIp: '10.1.2.3',
    resource: { type: 'patient', ids },
    patientIds: ids,
    changedFields: [],
  };
}
