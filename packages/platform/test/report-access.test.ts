import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { reportAccess } from '@hms/platform';

describe('reportAccess', () => {
  it('merges reports made in parts, naming each id and each patient once', () => {
    const request = {} as FastifyRequest;
    reportAccess(request, { patientIds: ['p-1'] });
    reportAccess(request, { ids: ['a-1', 'a-2'], patientIds: ['p-1', 'p-2'] });
    reportAccess(request, { ids: ['a-2'] });
    expect(request.accessReport).toEqual({ ids: ['a-1', 'a-2'], patientIds: ['p-1', 'p-2'] });
  });
});
