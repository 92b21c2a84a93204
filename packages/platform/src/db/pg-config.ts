import { createHash } from 'node:crypto';
import pg from 'pg';
import { Lru } from '../lru.js';
import type { QueryOptions } from './types.js';

const { types } = pg;

/** Statement names of the texts prepared so far (a service has a few dozen; bounded all the same). */
const statementNames = new Lru<string, string>(1000);

/** A query for `pg`: named after a hash of its text when it is to be prepared. */
export function pgQueryConfig(sql: string, params: readonly unknown[], opts?: QueryOptions): pg.QueryConfig {
  let name: string | undefined;
  if (opts?.prepare) {
    name = statementNames.get(sql);
    if (name === undefined) {
      name = `hms_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}`;
      statementNames.set(sql, name);
    }
  }
  return { text: sql, values: params as unknown[], name };
}

// One set of type parsers for every pool, matching the embedded adapter (see types.ts).
const INT8 = 20;
const DATE = 1082;
const INTERVAL = 1186;
const INT8_ARRAY = 1016;
const TEXT_ARRAY = 1009;
const DATE_ARRAY = 1182;
const NUMERIC_ARRAY = 1231;
const builtin: (o: number, f?: 'text' | 'binary') => (value: string) => unknown = types.getTypeParser;
const textArray = builtin(TEXT_ARRAY) as (value: string) => (string | null)[];
export const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8) return (v: string) => Number(v);
    if (oid === DATE) return (v: string) => v;
    // arrays follow their elements (pg's own parsers give int8[] as strings, date[] as Dates and
    // numeric[] as floats, while PGlite and the scalars here give numbers and strings)
    if (oid === INT8_ARRAY) return (v: string) => textArray(v).map((e) => (e === null ? null : Number(e)));
    if (oid === DATE_ARRAY || oid === NUMERIC_ARRAY) return textArray;
    // PGlite answers the server's text form ('1 day 02:00:00'), not pg's PostgresInterval object
    if (oid === INTERVAL) return (v: string) => v;
    return builtin(oid, format);
  },
};
