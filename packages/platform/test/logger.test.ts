import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { CommonErrors, logDestination, loggerOptions, runWithContext, serializeError } from '@hms/platform';
import { captureLogger, type LogLine } from './helpers.js';

function first(lines: () => LogLine[]): LogLine {
  const line = lines()[0];
  if (!line) throw new Error('nothing was logged');
  return line;
}

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('logger', () => {
  test('writes JSON lines with service, level label, time and message', () => {
    const { logger, lines } = captureLogger('patient');
    logger.info({ route: '/api/v1/patients', status: 200 }, 'request');
    expect(lines()[0]).toMatchObject({ service: 'patient', level: 'info', msg: 'request', status: 200 });
    expect(Date.parse(String(lines()[0]?.time))).not.toBeNaN();
  });

  test('redacts PHI fields at the top level and one level down', () => {
    const { logger, lines } = captureLogger();
    logger.info(
      {
        givenName: 'Ada',
        birthDate: '1815-12-10',
        patient: {
          id: 'p-1',
          givenName: 'Ada',
          familyName: 'Lovelace',
          birthDate: '1815-12-10',
          phone: '+44 20 7946 0958',
          email: 'ada@example.org',
          address: { line1: '12 St James Square', city: 'London' },
          insurance: { payer: 'NHS', memberId: 'M-123' },
          allergies: [{ substance: 'penicillin' }],
        },
      },
      'registered',
    );
    const line = first(lines);
    expect(line.givenName).toBe('[redacted]');
    expect(line.birthDate).toBe('[redacted]');
    expect(line.patient).toEqual({
      id: 'p-1',
      givenName: '[redacted]',
      familyName: '[redacted]',
      birthDate: '[redacted]',
      phone: '[redacted]',
      email: '[redacted]',
      address: '[redacted]',
      insurance: '[redacted]',
      allergies: '[redacted]',
    });
    const text = JSON.stringify(line);
    for (const phi of ['Ada', 'Lovelace', '1815', '7946', 'example.org', 'St James', 'M-123', 'penicillin'])
      expect(text).not.toContain(phi);
  });

  test('redacts authorization headers, cookies, tokens, passwords and bodies', () => {
    const { logger, lines } = captureLogger();
    logger.info({
      headers: { authorization: 'Bearer eyJ.secret.sig', accept: 'application/json' },
      upstream: { token: 'svc-token', password: 'pw' },
      password: 'hunter2',
      refresh_token: 'rt-1',
      body: { givenName: 'Ada' },
      request: { body: '{"givenName":"Ada"}' },
    });
    const line = first(lines);
    expect(line.headers).toEqual({ authorization: '[redacted]', accept: 'application/json' });
    expect(line.upstream).toEqual({ token: '[redacted]', password: '[redacted]' });
    expect(line).toMatchObject({ password: '[redacted]', refresh_token: '[redacted]', body: '[redacted]' });
    expect(line.request).toEqual({ body: '[redacted]' });
    expect(JSON.stringify(line)).not.toMatch(/eyJ|hunter2|svc-token|rt-1|Ada/);
  });

  test('logs a request by method, path and id only: no headers, no query string', () => {
    const { logger, lines } = captureLogger();
    logger.info({
      req: {
        method: 'GET',
        url: '/api/v1/patients?familyName=Lovelace&birthDate=1815-12-10',
        id: 'req-1',
        headers: { authorization: 'Bearer eyJ.secret.sig', cookie: 'sid=1' },
      },
    });
    expect(lines()[0]?.req).toEqual({ method: 'GET', url: '/api/v1/patients', id: 'req-1' });
  });

  test('adds the trace id of the work context', () => {
    const { logger, lines } = captureLogger();
    runWithContext({ requestId: 'req-9', traceparent }, () => logger.info('inside'));
    logger.info('outside');
    expect(lines()[0]?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(lines()[1]).not.toHaveProperty('traceId');
  });
});

describe('serializeError', () => {
  test('omits the message of a database error (5-character SQLSTATE code)', () => {
    const err = Object.assign(
      new Error('duplicate key value violates unique constraint: Key (mrn)=(Ada 1815)'),
      {
        code: '23505',
        constraint: 'patients_mrn_key',
      },
    );
    const out = serializeError(err);
    expect(out).toMatchObject({ type: 'Error', code: '23505', constraint: 'patients_mrn_key' });
    expect(out.message).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('Ada');
    expect(String(out.stack)).toMatch(/^\s+at /);
  });

  test("keeps the message of Node's own errors, and their code", () => {
    const err = Object.assign(new TypeError('cannot read property x'), {
      code: 'ERR_SOMETHING',
      statusCode: 500,
    });
    expect(serializeError(err)).toMatchObject({
      type: 'TypeError',
      code: 'ERR_SOMETHING',
      statusCode: 500,
      message: 'cannot read property x',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(serializeError(refused)).toMatchObject({ message: 'connect ECONNREFUSED 127.0.0.1:5432' });
  });

  test('keeps the message of a kit error: its text is the catalogue title', () => {
    const err = CommonErrors.internal();
    expect(serializeError(err)).toMatchObject({ type: 'AppError', code: 'internal', message: err.title });
  });

  test('omits the message of any other error: an application may have interpolated a patient into it', () => {
    const out = serializeError(new Error('lookup failed for Ada Lovelace born 1815-12-10'));
    expect(out).toMatchObject({ type: 'Error' });
    expect(out.message).toBeUndefined();
    expect(JSON.stringify(out)).not.toMatch(/Ada|Lovelace|1815/);
    let parseError: unknown;
    try {
      JSON.parse('Ada Lovelace');
    } catch (e) {
      parseError = e;
    }
    expect(JSON.stringify(serializeError(parseError))).not.toContain('Lovelace');
  });

  test('describes a thrown non-Error by its type only', () => {
    expect(serializeError('Ada Lovelace')).toEqual({ type: 'string' });
    expect(serializeError({ givenName: 'Ada' })).toEqual({ type: 'object' });
  });

  test('the logger applies it to err, so a database error message never reaches a log line', () => {
    const { logger, lines } = captureLogger();
    const err = Object.assign(new Error('value "Ada" violates check constraint'), { code: '23514' });
    logger.error({ err }, 'insert failed');
    const line = first(lines);
    expect(line.err).toMatchObject({ type: 'Error', code: '23514' });
    expect(JSON.stringify(line)).not.toContain('Ada');
  });
});

describe('logDestination', () => {
  test('holds lines for one write, and still writes a lone line within its flush interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hms-log-'));
    const file = join(dir, 'service.log');
    const stream = logDestination(file);
    const logger = pino(loggerOptions('patient', 'info'), stream);
    try {
      logger.info({ status: 200 }, 'request');
      // well under 4 KiB pending: nothing is written at once…
      expect(existsSync(file) ? readFileSync(file, 'utf8') : '').toBe('');
      // …but the periodic flush writes it without waiting for more lines or for the exit
      await expect
        .poll(() => (existsSync(file) ? readFileSync(file, 'utf8') : ''), { timeout: 2000, interval: 10 })
        .toContain('"msg":"request"');
      const line = JSON.parse(readFileSync(file, 'utf8').trim()) as LogLine;
      expect(line).toMatchObject({ service: 'patient', level: 'info', status: 200 });
    } finally {
      stream.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
