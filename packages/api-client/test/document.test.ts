import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHmsClient } from '../src/index.js';

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
}
interface Document {
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const doc = JSON.parse(
  readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8'),
) as Document;
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, op })),
);

describe('the committed API document (docs/openapi.json) a client is generated from', () => {
  it('holds the operations of every routed service', () => {
    const prefixes = new Set(operations.map(({ at }) => at.split('/')[3]));
    for (const prefix of [
      'auth',
      'patients',
      'appointments',
      'staff',
      'prescriptions',
      'inventory',
      'invoices',
    ])
      expect(prefixes).toContain(prefix);
    expect(operations.length).toBeGreaterThan(100);
  });

  it('names every operation with a camelCase operationId, used once', () => {
    const ids = operations.map(({ at, op }) => [at, op.operationId]);
    expect(ids.filter(([, id]) => typeof id !== 'string' || !/^[a-z][a-zA-Z0-9]+$/.test(id))).toEqual([]);
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [at, id] of ids as [string, string][]) {
      const first = seen.get(id);
      if (first) twice.push(`${id}: ${first} and ${at}`);
      seen.set(id, at);
    }
    expect(twice).toEqual([]);
  });

  it('describes every operation beyond its summary', () => {
    const bare = operations.filter(({ op }) => !op.summary || !op.description || op.description.length < 20);
    expect(bare.map(({ at }) => at)).toEqual([]);
  });

  it('tags every operation with a tag the document declares and describes', () => {
    const declared = new Set(doc.tags.filter((t) => t.description).map((t) => t.name));
    const untagged = operations.filter(({ op }) => !op.tags?.length || op.tags.some((t) => !declared.has(t)));
    expect(untagged.map(({ at, op }) => `${at} ${JSON.stringify(op.tags)}`)).toEqual([]);
    const used = new Set(operations.flatMap(({ op }) => op.tags ?? []));
    expect([...declared].filter((t) => !used.has(t))).toEqual([]);
  });
});

describe('createHmsClient', () => {
  it('sends the current token as a bearer token and answers the typed body', async () => {
    const seen: { url: string; authorization: string | null }[] = [];
    let token = 'first';
    const hms = createHmsClient({
      baseUrl: 'http://hms.test',
      token: () => token,
      fetch: async (request: Request) => {
        seen.push({ url: request.url, authorization: request.headers.get('authorization') });
        return Response.json({ keys: [] }, { status: 200 });
      },
    });
    const { data } = await hms.GET('/.well-known/jwks.json');
    token = 'second';
    await hms.GET('/.well-known/jwks.json');
    expect(data).toEqual({ keys: [] });
    expect(seen).toEqual([
      { url: 'http://hms.test/.well-known/jwks.json', authorization: 'Bearer first' },
      { url: 'http://hms.test/.well-known/jwks.json', authorization: 'Bearer second' },
    ]);
  });

  it('answers a problem as the error, with no data', async () => {
    const problem = {
      type: 'https://hms.local/problems/patient_not_found',
      title: 'Patient not found',
      status: 404,
    };
    const hms = createHmsClient({
      baseUrl: 'http://hms.test',
      fetch: async () =>
        new Response(JSON.stringify(problem), {
          status: 404,
          headers: { 'content-type': 'application/problem+json' },
        }),
    });
    const { data, error, response } = await hms.GET('/api/v1/patients/{id}', {
      params: { path: { id: '0190c0de-0000-7000-8000-000000000000' } },
    });
    expect(response.status).toBe(404);
    expect(data).toBeUndefined();
    expect(error).toEqual(problem);
  });
});
