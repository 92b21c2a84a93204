/**
 * Row mapping every store needs (STYLE.md §5: the store answers plain typed objects): the columns
 * a query selects, snake_case, become the resource's camelCase fields; a timestamp becomes RFC 3339
 * text; a NULL leaves its (optional) field out. Other columns of the row (a search's rank) are not
 * copied. The mapping of column names is worked out once, not per row.
 */
export function rowMapper<T>(columns: string): (row: object) => T {
  const pairs = columns
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((column) => [column, column.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())] as const);
  return (row) => {
    const r = row as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [column, field] of pairs) {
      const value = r[column];
      if (value === null || value === undefined) continue;
      out[field] = value instanceof Date ? value.toISOString() : value;
    }
    return out as T;
  };
}

/** Collects a query's parameters: `bind(v)` appends `v` and answers its placeholder (`$n`). */
export function sqlParams(): { params: unknown[]; bind: (v: unknown) => string } {
  const params: unknown[] = [];
  return {
    params,
    bind: (v) => {
      params.push(v);
      return `$${params.length}`;
    },
  };
}
