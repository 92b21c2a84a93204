import { randomBytes } from 'node:crypto';
import { ROLE_NAMES } from '@hms/contracts';
import { createUser } from '@hms/auth';
import type { RunningPlatform } from './platform.js';

/** Synthetic patients (invented people) for trying the API. */
const PATIENTS = [
  {
    givenName: 'Ada',
    familyName: 'Lovelace',
    birthDate: '1985-12-10',
    sex: 'female',
    phone: '+44 20 7946 0101',
  },
  {
    givenName: 'Alan',
    familyName: 'Turing',
    birthDate: '1972-06-23',
    sex: 'male',
    phone: '+44 20 7946 0102',
  },
  {
    givenName: 'José',
    familyName: 'Núñez',
    birthDate: '1970-01-02',
    sex: 'male',
    email: 'jose.nunez@example.org',
  },
  {
    givenName: 'Grace',
    familyName: 'Hopper',
    birthDate: '1956-12-09',
    sex: 'female',
    allergies: [{ substance: 'penicillin', reaction: 'rash', severity: 'moderate' }],
  },
];

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * `npm run demo`: one user per role (`demo-<role>`, random passwords printed once, here and
 * nowhere else) and a few synthetic patients registered through the Patient service's HTTP API
 * with the demo receptionist's token. Existing demo users are left alone.
 */
export async function seedDemo(platform: RunningPlatform): Promise<string> {
  const lines: string[] = [];
  const passwords = new Map<string, string>();
  for (const role of ROLE_NAMES) {
    const username = `demo-${role}`;
    const password = randomBytes(12).toString('base64url');
    try {
      await createUser(
        platform.authDb,
        { username, password, fullName: `Demo ${role}`, roles: [role], email: `${username}@example.org` },
        'svc:auth',
      );
      passwords.set(role, password);
      lines.push(`  ${username.padEnd(20)} ${password}`);
    } catch (err) {
      if ((err as { code?: string }).code !== 'username_taken') throw err;
      lines.push(`  ${username.padEnd(20)} (exists; its password was printed when it was created)`);
    }
  }
  let patients = 'patients: the demo receptionist existed already, none registered';
  const password = passwords.get('receptionist');
  const patientUrl = platform.services.find((s) => s.name === 'patient')?.url;
  if (password && patientUrl) {
    const login = await post(`${platform.authUrl}/api/v1/auth/login`, {
      username: 'demo-receptionist',
      password,
    });
    const token = (login.body as { access_token?: string }).access_token;
    if (!token) throw new Error(`demo login failed (${login.status})`);
    let registered = 0;
    for (const p of PATIENTS) {
      const res = await post(`${patientUrl}/api/v1/patients`, p, token);
      if (res.status === 201) registered += 1;
    }
    patients = `patients: ${registered} synthetic patients registered through ${patientUrl}`;
  }
  return `Demo users (passwords shown once):\n${lines.join('\n')}\n${patients}\n`;
}
