import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint, VerificationReport } from '@hms/contracts';
import { captureLogs, type Page } from '@hms/testkit';
import { expectProblem, useService } from '@hms/testkit/vitest';
import { calculateJwkThumbprint, compactVerify, exportJWK, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditService } from '../src/service.js';
import { AUDIT, asAttacker, auditEnv, checkpointDirOf, publishSamples, waitForRecords } from './helpers.js';

/**
 * Checkpoints: signed with the audit service's own ES256 key (here from AUDIT_SIGNING_KEY_FILE),
 * exported as files, verifiable by anyone with the published public key.
 */
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const env = auditEnv({ AUDIT_CHECKPOINT_EVERY: '5' });
const keyFile = join(env.HMS_DATA_DIR, 'given-key.pem');
writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
const audit = useService(auditService, { env: { ...env, AUDIT_SIGNING_KEY_FILE: keyFile } });

// a second instance whose jobs run often: checkpoints by time, and the scheduled verification
const timedEnv = auditEnv({ AUDIT_CHECKPOINT_MS: '150', AUDIT_VERIFY_MS: '150' });
const timedLogs = captureLogs('audit');
const timed = useService(auditService, { env: timedEnv, logger: timedLogs.logger });

let auditor: string;
let admin: string;
beforeAll(async () => {
  auditor = await audit().keys.mint({ roles: ['auditor'] });
  admin = await audit().keys.mint({ roles: ['admin'] });
});

const take = (status: number) =>
  audit()
    .request<Checkpoint>('POST', `${AUDIT}/checkpoints`, { token: admin })
    .then((res) => {
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      return res.body;
    });

const list = async (svc = audit(), query = '') => {
  const token = svc === audit() ? auditor : await svc.keys.mint({ roles: ['auditor'] });
  const res = await svc.request<Page<Checkpoint>>('GET', `${AUDIT}/checkpoints${query}`, { token });
  expect(res.status).toBe(200);
  return res.body;
};

describe('signed checkpoints', () => {
  it('refuses to sign an empty trail', async () => {
    expect(
      expectProblem(await audit().request('POST', `${AUDIT}/checkpoints`, { token: admin }), 409).code,
    ).toBe('trail_empty');
    expect((await list()).items).toEqual([]);
  });

  it('signs the head with the configured key, exports it as a file, and the published key verifies it', async () => {
    await publishSamples(audit().bus, 3);
    await waitForRecords(audit().db, 3);
    const cp = await take(201);
    expect(cp.seq).toBe(3);

    // the published key is the configured one (its RFC 7638 thumbprint is the kid)
    const jwks = await audit().request<{ keys: Record<string, unknown>[] }>(
      'GET',
      `${AUDIT}/checkpoints/key`,
    );
    expect(jwks.status).toBe(200);
    const ownJwk = await exportJWK(createPublicKey(privateKey));
    expect(jwks.body.keys).toHaveLength(1);
    expect(jwks.body.keys[0]).toMatchObject({
      ...ownJwk,
      alg: 'ES256',
      kid: await calculateJwkThumbprint(ownJwk),
    });
    expect(cp.kid).toBe(await calculateJwkThumbprint(ownJwk));

    // the file holds the JWS, and its payload signs the head: seq 3 and the hash of record 3
    const file = readFileSync(join(checkpointDirOf(env), '0000000000000003.jws'), 'utf8').trim();
    expect(file).toBe(cp.jws);
    const { payload, protectedHeader } = await compactVerify(file, createPublicKey(privateKey));
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: cp.kid });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    const third = await audit().db.query<{ hash: string }>('SELECT hash FROM audit_records WHERE seq = 3');
    expect(claims).toMatchObject({ seq: 3, hash: third.rows[0]?.hash, at: cp.at });
    await compactVerify(file, await importJWK(jwks.body.keys[0] as never, 'ES256'));

    // nothing new: the newest checkpoint already signs the head
    expect(await take(200)).toEqual(cp);
  });

  it('signs one by itself once AUDIT_CHECKPOINT_EVERY records were appended', async () => {
    await publishSamples(audit().bus, 6);
    await waitForRecords(audit().db, 9);
    await expect.poll(async () => (await list()).items[0]?.seq ?? 0, { timeout: 10_000 }).toBeGreaterThan(3);
  });

  it('lists them newest first, page by page', async () => {
    await publishSamples(audit().bus, 1);
    await waitForRecords(audit().db, 10);
    await take(201);
    const all = await list();
    const seqs = all.items.map((c) => c.seq);
    expect(seqs[0]).toBe(10);
    expect(seqs[seqs.length - 1]).toBe(3);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    const first = await list(audit(), '?limit=1');
    expect(first.items.map((c) => c.seq)).toEqual([10]);
    const second = await list(audit(), `?limit=1&cursor=${first.nextCursor ?? ''}`);
    expect(second.items.map((c) => c.seq)).toEqual([seqs[1]]);
  });

  it('reports a checkpoint file whose signature does not hold, and does not trust it', async () => {
    const dir = checkpointDirOf(env);
    const name = join(dir, '0000000000000010.jws');
    const [header, , signature] = readFileSync(name, 'utf8').trim().split('.');
    const forged = Buffer.from(
      JSON.stringify({ iss: 'hms-audit', seq: 10, hash: 'a'.repeat(64), at: new Date().toISOString() }),
    ).toString('base64url');
    writeFileSync(name, `${header}.${forged}.${signature}\n`);
    const res = await audit().request<VerificationReport>('GET', `${AUDIT}/verify`, { token: auditor });
    expect(res.body).toMatchObject({
      intact: false,
      breakCount: 0,
      checkpoint: { seq: 10, signatureValid: false },
    });
  });

  it('answers 404 for a checkpoint that was never exported', async () => {
    expect(
      expectProblem(await audit().request('GET', `${AUDIT}/verify?checkpoint=7777`, { token: auditor }), 404)
        .code,
    ).toBe('checkpoint_not_found');
  });
});

describe('the scheduled jobs', () => {
  it('checkpoints every AUDIT_CHECKPOINT_MS while records are appended', async () => {
    await publishSamples(timed().bus, 2);
    await waitForRecords(timed().db, 2);
    await expect.poll(async () => (await list(timed())).items[0]?.seq, { timeout: 10_000 }).toBe(2);
  });

  it('verifies the chain, sets the gauges, and logs a break as an error without the record', async () => {
    const metric = async (name: string) => {
      const res = await timed().manage<string>('GET', '/metrics');
      return Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(res.body)?.[1]);
    };
    await expect.poll(() => metric('audit_chain_verified_seq'), { timeout: 10_000 }).toBe(2);
    expect(await metric('audit_chain_breaks')).toBe(0);
    await asAttacker(timed(), (db) => db.query(`UPDATE audit_records SET subject = 'x' WHERE seq = 1`));
    await expect.poll(() => metric('audit_chain_breaks'), { timeout: 10_000 }).toBe(1);
    const errors = timedLogs.lines().filter((l) => l.msg === 'audit chain verification found breaks');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ level: 'error', breakCount: 1, breaks: [{ kind: 'altered', seq: 1 }] });
    expect(JSON.stringify(errors)).not.toContain('"subject"');
  });
});
