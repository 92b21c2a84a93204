import { Type } from '@sinclair/typebox';
import { Problem, Uuid } from '@hms/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CommonErrors, type ProblemField } from '../errors.js';
import { etagOf, requireIfMatch } from './etag.js';

/**
 * What routes of every service share (STYLE.md §2: a route is its schema and one call): the `:id`
 * parameter, `If-Match` read as required or optional, answers with an `ETag`, and who is calling.
 */

/** `/…/:id` where the id is a UUID (a malformed one is a 400 naming `/params/id`). */
export const IdParams = Type.Object({ id: Uuid });

/** The `If-Match` request header, documented on routes that read it. */
export const IfMatchHeader = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'ETag of the version read' })),
});

/** The problems most routes answer, for their `response` schemas. */
export const ProblemResponses = { 400: Problem, 401: Problem, 403: Problem, 404: Problem } as const;

/** `If-Match` of an update that requires it (PUT): 428 when absent, 412 when unreadable. */
export function ifMatchRequired(request: FastifyRequest): number | '*' {
  return requireIfMatch(headerOf(request, 'if-match'));
}

/** `If-Match` of an update that accepts it (PATCH, DELETE): undefined when absent. */
export function ifMatchOptional(request: FastifyRequest): number | '*' | undefined {
  const header = headerOf(request, 'if-match');
  return header === undefined ? undefined : requireIfMatch(header);
}

/** Sets the `ETag` of the version answered; chain `.send(…)` or `.code(…)` after it. */
export function withETag(reply: FastifyReply, version: number): FastifyReply {
  return reply.header('etag', etagOf(version));
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Who is calling, as use cases receive it (STYLE.md §14): a person (their user id, roles and the
 * staff record they are linked to) or a service identity (`svc:<name>`), with what they may do.
 */
export type Caller =
  | {
      kind: 'user';
      /** The user id (`sub`). */
      id: string;
      roles: readonly string[];
      staffId: string | undefined;
      permissions: ReadonlySet<string>;
    }
  | {
      kind: 'service';
      /** `svc:<name>`. */
      id: string;
      /** The service's name (`<name>`). */
      service: string;
      permissions: ReadonlySet<string>;
    };

/** The caller of an authenticated request (the kit's guard verified its token); 401 otherwise. */
export function callerOf(request: FastifyRequest): Caller {
  const p = request.principal;
  if (!p) throw CommonErrors.unauthenticated('this route needs an access token');
  return p.isService
    ? { kind: 'service', id: p.sub, service: p.sub.slice('svc:'.length), permissions: p.permissions }
    : { kind: 'user', id: p.sub, roles: p.roles, staffId: p.staffId, permissions: p.permissions };
}

/** A source of the current time, handed to use cases so tests can fix it (across a DST change, say). */
export interface Clock {
  now(): Date;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => new Date() };

/**
 * A use case says which permission it needs itself too (the guard checked the route's already):
 * 403 naming it otherwise. For callers that reach a use case other than through its route.
 */
export function authorize(caller: Caller, permission: string): void {
  if (!caller.permissions.has(permission))
    throw CommonErrors.forbidden(`requires the ${permission} permission`);
}

/**
 * Bad input a schema cannot catch, answered like the schema's own: 400 `validation_failed` with
 * one `{ path, message }` per bad field (JSON pointers from the request part: `/body/end`).
 */
export function invalid(problems: ProblemField[]): never {
  throw CommonErrors.validation_failed('one or more fields are not valid', { errors: problems });
}
