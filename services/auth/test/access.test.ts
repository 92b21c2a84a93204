import { expectAccessMatrix, expectErrorCatalogue } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { AUTH, USERS, signingKeys, useAuth, type AuthUnderTest } from './helpers.js';

const auth = useAuth();

/** What a refused request must leave as it was: users, sessions and events. */
const untouched = async (svc: AuthUnderTest) =>
  (
    await svc.db.query(
      `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM sessions)::int AS sessions,
              (SELECT count(*) FROM outbox)::int AS outbox, (SELECT max(version) FROM users) AS version`,
    )
  ).rows;

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const svc = auth();
    // the guard trusts the keys the service signs with, not the test keys it was started with
    const walked = await expectAccessMatrix(svc, {
      keys: await signingKeys(svc),
      untouched: () => untouched(svc),
    });
    expect(walked.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        `POST ${AUTH}/logout`,
        `GET ${AUTH}/me`,
        `POST ${AUTH}/introspect`,
        `POST ${USERS}`,
        `GET ${USERS}`,
        `GET ${USERS}/:id`,
        `PATCH ${USERS}/:id`,
        `POST ${USERS}/:id/reset-password`,
        `POST ${AUTH}/keys/rotate`,
      ]),
    );
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(auth(), new URL('../src/', import.meta.url));
    expect(used).toEqual(
      expect.arrayContaining(['invalid_credentials', 'user_not_found', 'username_taken', 'last_admin']),
    );
  });
});
