import { describe, expect, it } from 'vitest';
import { duplicateOperationIds, mergeOpenApi, operationsOf, type OpenApiDocument } from '../src/openapi.js';
import { ROUTED, ownerOf } from '../src/routes.js';

const doc = (paths: OpenApiDocument['paths'], schemas: Record<string, unknown> = {}): OpenApiDocument => ({
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths,
  components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
});

describe('routing by prefix (SERVICES in the contracts)', () => {
  it('routes every prefix a service owns to it', () => {
    for (const { service, prefixes } of ROUTED)
      for (const p of prefixes) {
        expect(ownerOf(p)).toBe(service);
        expect(ownerOf(`${p}/x/y`)).toBe(service);
      }
  });

  it('matches whole path segments only', () => {
    expect(ownerOf('/api/v1/patientsx')).toBeUndefined();
    expect(ownerOf('/api/v1')).toBeUndefined();
    expect(ownerOf('/api/v1/patients/search')).toBe('patient');
  });

  it('gives the longest prefix precedence', () => {
    const routes = [
      { service: 'wide', prefixes: ['/api/v1/things'] },
      { service: 'narrow', prefixes: ['/api/v1/things/special'] },
    ];
    expect(ownerOf('/api/v1/things/special/1', routes)).toBe('narrow');
    expect(ownerOf('/api/v1/things/1', routes)).toBe('wide');
  });

  it('has no gateway route of its own', () => {
    expect(ROUTED.map((r) => r.service)).not.toContain('gateway');
  });
});

describe('operations of a service document', () => {
  it('reads x-permission / x-authenticated per operation, public when neither, only under the service’s prefixes', () => {
    const ops = operationsOf(
      doc({
        '/api/v1/patients': {
          get: { 'x-permission': 'patients:read' },
          post: { 'x-permission': 'patients:write' },
        },
        '/api/v1/patients/{id}': { get: { 'x-permission': 'patients:read' }, parameters: [] },
        '/api/v1/patients/public': { get: {} },
        '/api/v1/patients/mine': { get: { 'x-authenticated': true, security: [{ bearer: [] }] } },
        '/admin/events/dead-letters': { get: { 'x-permission': 'events:manage' } },
        '/api/v1/staff': { get: { 'x-permission': 'staff:read' } },
      }),
      'patient',
    );
    expect(ops).toEqual([
      { method: 'GET', path: '/api/v1/patients', permission: 'patients:read', authenticated: true },
      { method: 'POST', path: '/api/v1/patients', permission: 'patients:write', authenticated: true },
      { method: 'GET', path: '/api/v1/patients/{id}', permission: 'patients:read', authenticated: true },
      { method: 'GET', path: '/api/v1/patients/public', permission: undefined, authenticated: false },
      { method: 'GET', path: '/api/v1/patients/mine', permission: undefined, authenticated: true },
    ]);
  });
});

describe('merging the documents', () => {
  const patient = doc(
    {
      '/api/v1/patients': {
        get: {
          'x-permission': 'patients:read',
          responses: {
            200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/def-0' } } } },
          },
        },
      },
      '/admin/events/dead-letters': { get: { 'x-permission': 'events:manage' } },
    },
    {
      'def-0': { type: 'object', properties: { next: { $ref: '#/components/schemas/def-1' } } },
      'def-1': {},
      'def-2': {
        title: 'Patient',
        type: 'object',
        properties: { doctor: { $ref: '#/components/schemas/def-3' } },
      },
      'def-3': { title: 'Person', type: 'object' },
    },
  );
  const staff = doc(
    {
      '/api/v1/staff': {
        get: {
          'x-permission': 'staff:read',
          responses: {
            200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/def-0' } } } },
          },
        },
      },
    },
    {
      'def-0': { type: 'array' },
      'def-1': { title: 'Person', type: 'object' },
      'def-2': { title: 'Not a name', type: 'object' },
    },
  );
  const merged = mergeOpenApi(
    [
      { service: 'staff', doc: staff },
      { service: 'patient', doc: patient },
    ],
    { title: 'HMS API', version: '0.1.0' },
  );

  it('takes the routed paths of every service, x-permission included', () => {
    expect(Object.keys(merged.paths).sort()).toEqual(['/api/v1/patients', '/api/v1/staff']);
    expect((merged.paths['/api/v1/staff']?.get as Record<string, unknown>)['x-permission']).toBe(
      'staff:read',
    );
  });

  it('renames components per service and rewrites the references to them', () => {
    const schemas = merged.components?.schemas ?? {};
    expect(Object.keys(schemas).sort()).toEqual([
      'Patient', // a title no other component has
      'patient.def-0', // no title
      'patient.def-1',
      'patient.def-3', // 'Person' is the title of one component in each service
      'staff.def-0',
      'staff.def-1',
      'staff.def-2', // a title that is no name
    ]);
    expect(JSON.stringify(schemas.Patient)).toContain('#/components/schemas/patient.def-3');
    expect(JSON.stringify(merged.paths['/api/v1/staff'])).toContain('#/components/schemas/staff.def-0');
    expect(JSON.stringify(merged.paths['/api/v1/patients'])).toContain('#/components/schemas/patient.def-0');
    expect(JSON.stringify(schemas['patient.def-0'])).toContain('#/components/schemas/patient.def-1');
  });

  it('keeps one bearer security scheme', () => {
    expect(merged.components?.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
  });

  it('describes the platform: its info over the defaults, a contact, and the gateway as its server', () => {
    expect(merged.info).toEqual({ title: 'HMS API', version: '0.1.0', contact: { name: 'HMS maintainers' } });
    expect(merged.servers).toEqual([{ url: '/', description: 'the gateway that serves this document' }]);
  });

  it('keeps the first declaration of each tag, in service order', () => {
    const tagged = (tags: { name: string; description: string }[]) => ({ ...doc({}), tags });
    const out = mergeOpenApi(
      [
        { service: 'staff', doc: tagged([{ name: 'staff', description: 'staff members' }]) },
        {
          service: 'billing',
          doc: tagged([
            { name: 'invoices', description: 'invoices' },
            { name: 'staff', description: 'a second staff tag' },
          ]),
        },
      ],
      {},
    );
    expect(out.tags).toEqual([
      { name: 'invoices', description: 'invoices' },
      { name: 'staff', description: 'a second staff tag' },
    ]);
  });

  it('does not change the documents it merged', () => {
    expect(JSON.stringify(staff)).toContain('#/components/schemas/def-0');
    expect(Object.keys(patient.components?.schemas ?? {})).toEqual(['def-0', 'def-1', 'def-2', 'def-3']);
  });
});

describe('operationIds across services', () => {
  const withIds = (paths: Record<string, Record<string, string>>): OpenApiDocument =>
    doc(
      Object.fromEntries(
        Object.entries(paths).map(([path, ops]) => [
          path,
          Object.fromEntries(Object.entries(ops).map(([method, operationId]) => [method, { operationId }])),
        ]),
      ),
    );

  it('refuses to merge two services that use the same operationId, naming both operations', () => {
    const patient = withIds({ '/api/v1/patients': { get: 'listPatients', post: 'createRecord' } });
    const staff = withIds({ '/api/v1/staff': { get: 'listStaffMembers', post: 'createRecord' } });
    expect(() =>
      mergeOpenApi(
        [
          { service: 'patient', doc: patient },
          { service: 'staff', doc: staff },
        ],
        {},
      ),
    ).toThrow('operationIds used more than once: createRecord (POST /api/v1/patients, POST /api/v1/staff)');
  });

  it('finds every operationId used twice, and none when each is unique', () => {
    const paths = withIds({
      '/api/v1/a': { get: 'getA', put: 'same' },
      '/api/v1/b': { get: 'getB', delete: 'same' },
      '/api/v1/c': { get: 'getA' },
    }).paths;
    expect([...duplicateOperationIds(paths)]).toEqual([
      ['getA', ['GET /api/v1/a', 'GET /api/v1/c']],
      ['same', ['PUT /api/v1/a', 'DELETE /api/v1/b']],
    ]);
    expect(duplicateOperationIds(withIds({ '/api/v1/a': { get: 'getA', put: 'putA' } }).paths).size).toBe(0);
  });

  it('merges services whose operationIds are all different', () => {
    const merged = mergeOpenApi(
      [
        { service: 'patient', doc: withIds({ '/api/v1/patients': { get: 'listPatients' } }) },
        { service: 'staff', doc: withIds({ '/api/v1/staff': { get: 'listStaffMembers' } }) },
      ],
      {},
    );
    expect(Object.keys(merged.paths).sort()).toEqual(['/api/v1/patients', '/api/v1/staff']);
  });
});
