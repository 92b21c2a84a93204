import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditRecord } from '@hms/contracts';
import { authService } from '@hms/auth';
import { gatewayService } from '@hms/gateway';
import { patientService } from '@hms/patient';
import { qs, startBehindGateway, type Page } from '@hms/testkit';
import { expectingStatus, useStarted } from '@hms/testkit/vitest';
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { auditService } from '../src/service.js';
import { AUDIT, auditEnv } from './helpers.js';

/**
 * A reader's trail (issue #14), end to end through the gateway with real tokens from the auth
 * service (users created and logged in through the API): a receptionist registers, reads and
 * searches for a patient, a manager is refused the patient's record; an auditor sees each access
 * with the patient, the actor and the outcome, and the patient's access report lists them.
 */
const ADMIN = { username: 'trail-admin', password: 'correct horse battery staple trail' };

async function startPlatform() {
  const dir = mkdtempSync(join(tmpdir(), 'hms-audit-e2e-'));
  const clientsDir = join(dir, 'clients');
  mkdirSync(clientsDir);
  const jwksFile = join(dir, 'jwks.json');
  const authEnv = {
    AUTH_KEYS_DIR: join(dir, 'keys'),
    JWKS_FILE: jwksFile,
    SERVICE_CLIENTS_DIR: clientsDir,
    HMS_ADMIN_USERNAME: ADMIN.username,
    HMS_ADMIN_PASSWORD: ADMIN.password,
    KEY_ACTIVATION_DELAY_SEC: '0',
  };
  // every service trusts the auth service's keys, as in a deployment
  return startBehindGateway(
    gatewayService,
    [{ module: authService, env: authEnv }, patientService, { module: auditService, env: auditEnv() }],
    { jwksUrl: pathToFileURL(jwksFile).href },
  );
}

const platform = useStarted(startPlatform, 120_000);
const call = expectingStatus(() => platform().gateway);

/** Creates a user through the gateway and logs them in: their id and a real access token. */
async function user(adminToken: string, role: string) {
  const username = `${role}${randomBytes(4).toString('hex')}`;
  const password = `pw-${username}-long-enough-here`;
  const created = await call<{ id: string }>('POST', '/api/v1/auth/users', adminToken, 201, {
    username,
    password,
    fullName: `Test ${role}`,
    roles: [role],
  });
  const tokens = await call<{ access_token: string }>('POST', '/api/v1/auth/login', undefined, 200, {
    username,
    password,
  });
  return { id: created.id, token: tokens.access_token };
}

describe("a reader's trail, through the gateway", () => {
  test('every access to a patient is in the trail with its actor, patients and outcome, and in the patient’s report', async () => {
    const admin = (await call<{ access_token: string }>('POST', '/api/v1/auth/login', undefined, 200, ADMIN))
      .access_token;
    const desk = await user(admin, 'receptionist');
    const manager = await user(admin, 'manager');
    const auditor = await user(admin, 'auditor');

    // letters only: a hex fragment of a name could turn up inside a uuid in a log line
    const family = `Trail${Array.from(randomBytes(8), (b) => String.fromCharCode(103 + (b % 20))).join('')}`;
    const patient = await call<{ id: string }>(
      'POST',
      '/api/v1/patients?confirmDuplicate=true',
      desk.token,
      201,
      {
        givenName: 'Rita',
        familyName: family,
        birthDate: '1961-04-12',
        sex: 'female',
      },
    );
    await call('GET', `/api/v1/patients/${patient.id}`, desk.token, 200);
    const found = await call<Page<{ id: string }>>(
      'GET',
      `/api/v1/patients/search${qs({ name: family })}`,
      desk.token,
      200,
    );
    expect(found.items.map((p) => p.id)).toEqual([patient.id]);
    await call('GET', `/api/v1/patients/${patient.id}`, manager.token, 403);

    // the patient's accounting: each access, newest first, once the access records came in
    const accesses = async () =>
      (
        await call<Page<AuditRecord>>(
          'GET',
          `${AUDIT}/patients/${patient.id}/accesses?limit=100`,
          auditor.token,
          200,
        )
      ).items.map((r) => ({
        actor: r.actor?.id,
        action: r.action,
        outcome: r.outcome,
        status: r.status,
        service: r.service,
        patients: r.patientIds,
      }));
    const expected = [
      {
        actor: desk.id,
        action: 'create',
        outcome: 'granted',
        status: 201,
        service: 'patient',
        patients: [patient.id],
      },
      {
        actor: desk.id,
        action: 'read',
        outcome: 'granted',
        status: 200,
        service: 'patient',
        patients: [patient.id],
      },
      {
        actor: desk.id,
        action: 'search',
        outcome: 'granted',
        status: 200,
        service: 'patient',
        patients: [patient.id],
      },
      {
        actor: manager.id,
        action: 'read',
        outcome: 'refused',
        status: 403,
        service: 'gateway',
        patients: [patient.id],
      },
    ];
    const listed = (rows: unknown[]) =>
      expected.filter((e) => rows.some((r) => JSON.stringify(r) === JSON.stringify(e))).length;
    await expect
      .poll(async () => listed(await accesses()), { timeout: 20_000, interval: 250 })
      .toBe(expected.length);
    // those four only (the auditor's own reads of the report are there too), and one service's in
    // the order they happened, newest first (services send their records in batches of their own)
    const others = (await accesses()).filter((r) => r.service !== 'audit');
    expect(others).toHaveLength(expected.length);
    expect(others.filter((r) => r.service === 'patient').map((r) => r.action)).toEqual([
      'search',
      'read',
      'create',
    ]);

    // the receptionist's trail: those three accesses, each naming the patient
    const trail = await call<Page<AuditRecord>>(
      'GET',
      `${AUDIT}/events${qs({ actor: desk.id, type: 'access.recorded.v1' })}`,
      auditor.token,
      200,
    );
    expect(trail.items.map((r) => [r.action, r.outcome, r.patientIds])).toEqual([
      ['search', 'granted', [patient.id]],
      ['read', 'granted', [patient.id]],
      ['create', 'granted', [patient.id]],
    ]);
    // and their login, a security event of the auth service
    const logins = await call<Page<AuditRecord>>(
      'GET',
      `${AUDIT}/events${qs({ actor: desk.id, type: 'auth.login-succeeded.v1' })}`,
      auditor.token,
      200,
    );
    expect(logins.items.map((r) => r.outcome)).toEqual(['granted']);

    // the registration itself, recorded from its event: by the receptionist, naming the patient
    const registered = await call<Page<AuditRecord>>(
      'GET',
      `${AUDIT}/events${qs({ patient: patient.id, type: 'patient.registered.v1' })}`,
      auditor.token,
      200,
    );
    expect(registered.items.map((r) => [r.actor, r.patientIds])).toEqual([
      [{ kind: 'user', id: desk.id }, [patient.id]],
    ]);

    // nothing of the patient's record is in the trail
    const text = JSON.stringify(
      await call('GET', `${AUDIT}/events?patient=${patient.id}&limit=100`, auditor.token, 200),
    );
    expect(text).not.toContain(family);
    expect(text).not.toContain('1961-04-12');
  });
});
