import type { Page as PageSchema, Problem as ProblemSchema } from '@hms/contracts';
import type { Static, TSchema } from '@sinclair/typebox';

/**
 * An RFC 9457 problem as a service answers it: the contracts' `Problem` schema, whose extension
 * members (`existingId`, `checks`, …) it allows (`additionalProperties: true`).
 */
export type Problem = Static<typeof ProblemSchema> & { [extension: string]: unknown };

/** One entry of a validation problem's `errors`. */
export type ProblemField = NonNullable<Problem['errors']>[number];

/** The contracts' `Page(item)` schema with its items left open… */
type AnyPage = Static<ReturnType<typeof PageSchema<TSchema>>>;

/** …and a page of `T`: `{ items: T[], nextCursor }`, the rest as the schema says. */
export type Page<T = unknown> = Omit<AnyPage, 'items'> & { items: T[] };
