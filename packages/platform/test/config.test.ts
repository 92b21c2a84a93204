import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, test } from 'vitest';
import { ConfigError, describeConfig, loadConfig, secret } from '@hms/platform';

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'port to listen on' }),
  POOL_MAX: Type.Integer({ minimum: 1, default: 10 }),
  MODE: Type.Union([Type.Literal('embedded'), Type.Literal('cluster')], { default: 'embedded' }),
  SERVICE_URL: Type.String({ pattern: '^https?://', description: 'where the upstream is' }),
  DATABASE_URL: secret({ description: "this service's database" }),
  API_TOKEN: Type.Optional(secret({ minLength: 32 })),
  DEBUG: Type.Boolean({ default: false }),
});

const required = { SERVICE_URL: 'http://upstream:8080', DATABASE_URL: 'postgres://svc:pw@db/hms_svc' };

const dir = mkdtempSync(join(tmpdir(), 'hms-config-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function problemsOf(env: NodeJS.ProcessEnv): { message: string; problems: string[] } {
  try {
    loadConfig(Schema, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    return { message: e.message, problems: e.problems };
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  test('applies defaults for keys that are not set (or set empty)', () => {
    const cfg = loadConfig(Schema, { ...required, POOL_MAX: '' });
    expect(cfg).toEqual({ ...required, PORT: 8080, POOL_MAX: 10, MODE: 'embedded', DEBUG: false });
  });

  test('converts integers and booleans from their text form', () => {
    const cfg = loadConfig(Schema, {
      ...required,
      PORT: '9090',
      POOL_MAX: '25',
      MODE: 'cluster',
      DEBUG: 'true',
    });
    expect(cfg.PORT).toBe(9090);
    expect(cfg.POOL_MAX).toBe(25);
    expect(cfg.MODE).toBe('cluster');
    expect(cfg.DEBUG).toBe(true);
  });

  test('names EACH bad or missing key in one error', () => {
    const { message, problems } = problemsOf({ PORT: 'eighty', POOL_MAX: '0', MODE: 'cloud' });
    for (const key of ['PORT', 'POOL_MAX', 'MODE', 'SERVICE_URL', 'DATABASE_URL'])
      expect(problems.some((p) => p.startsWith(`${key}: `))).toBe(true);
    expect(problems.find((p) => p.startsWith('SERVICE_URL: '))).toMatch(/is required/);
    expect(problems.find((p) => p.startsWith('DATABASE_URL: '))).toMatch(/is required/);
    // non-secret values are shown to help the operator, with the key's description
    expect(problems.find((p) => p.startsWith('PORT: '))).toContain('"eighty"');
    expect(problems.find((p) => p.startsWith('PORT: '))).toContain('port to listen on');
    expect(problems.some((p) => p.startsWith('API_TOKEN') || p.startsWith('DEBUG'))).toBe(false);
    for (const p of problems) expect(message).toContain(p);
  });

  test('reads <KEY>_FILE, trimming the trailing newline', () => {
    const cfg = loadConfig(Schema, {
      SERVICE_URL: required.SERVICE_URL,
      DATABASE_URL_FILE: file('db-url', 'postgres://svc:from-file@db/hms_svc\n'),
      PORT_FILE: file('port', '7070\n'),
    });
    expect(cfg.DATABASE_URL).toBe('postgres://svc:from-file@db/hms_svc');
    expect(cfg.PORT).toBe(7070);
  });

  test('refuses KEY and KEY_FILE set together', () => {
    const { problems } = problemsOf({
      ...required,
      DATABASE_URL_FILE: file('db-url-2', 'postgres://svc:other@db/hms_svc'),
    });
    expect(problems).toEqual([
      expect.stringMatching(/^DATABASE_URL: set both DATABASE_URL and DATABASE_URL_FILE/),
    ]);
  });

  test('names a _FILE that cannot be read, once', () => {
    const { problems } = problemsOf({
      SERVICE_URL: required.SERVICE_URL,
      DATABASE_URL_FILE: join(dir, 'missing'),
    });
    expect(problems).toEqual(['DATABASE_URL_FILE: cannot read the file (ENOENT)']);
  });

  test('never prints a secret value, from the environment or from a file', () => {
    const short = 'hunter2-very-secret';
    const fromEnv = problemsOf({ ...required, API_TOKEN: short, PORT: 'x' });
    expect(fromEnv.problems.some((p) => p.startsWith('API_TOKEN: '))).toBe(true);
    expect(fromEnv.message).not.toContain(short);
    expect(fromEnv.message).not.toContain('hunter2');
    expect(fromEnv.message).not.toContain('svc:pw');

    const fromFile = problemsOf({ ...required, API_TOKEN_FILE: file('token', `${short}\n`) });
    expect(fromFile.problems.some((p) => p.startsWith('API_TOKEN: '))).toBe(true);
    expect(fromFile.message).not.toContain('hunter2');

    const both = problemsOf({
      ...required,
      API_TOKEN: short,
      API_TOKEN_FILE: file('token-2', 'other-secret'),
    });
    expect(both.message).not.toContain('hunter2');
    expect(both.message).not.toContain('other-secret');
  });

  test('describeConfig masks secrets for the start-up log line', () => {
    const cfg = loadConfig(Schema, { ...required, API_TOKEN: 'x'.repeat(40) });
    const shown = describeConfig(Schema, cfg);
    expect(shown).toMatchObject({ DATABASE_URL: '[secret]', API_TOKEN: '[secret]', PORT: 8080 });
    expect(shown.SERVICE_URL).toBe(required.SERVICE_URL);
    expect(JSON.stringify(shown)).not.toContain('svc:pw');
  });
});
