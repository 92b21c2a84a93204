import { randomBytes } from 'node:crypto';
import { ROLE_NAMES, type Role } from '@hms/contracts';
import { createUser } from '@hms/auth';
import { callerFor, login, type Caller } from './demo/http.js';
import { describeHospital, seedHospital } from './demo/hospital.js';
import type { Actors } from './demo/setup.js';
import type { RunningPlatform } from './platform.js';

/** The demo user each part of the seeding acts as. */
const ACTORS = {
  desk: 'receptionist',
  manager: 'manager',
  physician: 'physician',
  nurse: 'nurse',
  pharmacist: 'pharmacist',
  billing: 'billing',
} as const satisfies Record<keyof Actors, Role>;

/** One user per role, `demo-<role>`; answers the lines to print and the passwords of those created now. */
async function createDemoUsers(
  platform: RunningPlatform,
): Promise<{ lines: string[]; passwords: Map<Role, string> }> {
  const lines: string[] = [];
  const passwords = new Map<Role, string>();
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
  return { lines, passwords };
}

/**
 * `npm run demo`: one user per role (`demo-<role>`, random passwords printed once, here and
 * nowhere else), then, logged in as those users, a living hospital through the platform's HTTP
 * API (`demo/hospital.ts`). The hospital is seeded once per data dir: on a later run the demo users
 * exist, their passwords are known to nobody but the reader of the first run, and nothing is added.
 */
export async function seedDemo(platform: RunningPlatform): Promise<string> {
  const { lines, passwords } = await createDemoUsers(platform);
  const users = `Demo users (passwords shown once):\n${lines.join('\n')}\n`;
  const missing = Object.values(ACTORS).filter((role) => !passwords.has(role));
  if (missing.length > 0)
    return `${users}Demo hospital: seeded when the demo users were created (they existed already); nothing added\n`;
  try {
    const callers = await Promise.all(
      (Object.keys(ACTORS) as (keyof Actors)[]).map(async (actor) => {
        const role = ACTORS[actor];
        const token = await login(platform.authUrl, `demo-${role}`, passwords.get(role) ?? '');
        return [actor, callerFor(platform.services, token)] as const;
      }),
    );
    const report = await seedHospital(Object.fromEntries(callers) as Record<keyof Actors, Caller>);
    return `${users}${describeHospital(report)}\n`;
  } catch (err) {
    // the platform keeps running: what was seeded stays, and the reason is on the screen
    return `${users}Demo hospital: stopped part-way: ${(err as Error).message}\n`;
  }
}
