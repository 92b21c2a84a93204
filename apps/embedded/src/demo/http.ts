import { SERVICES } from '@hms/contracts';

/**
 * How the demo talks to the running platform: the public HTTP API with a user's bearer token,
 * nothing else. A request goes straight to the service that owns its path (by the prefixes the
 * gateway routes on), not through the gateway: its rate limits (RATE_LIMIT_PRINCIPAL, 300 a
 * minute) are meant for clients, not for a bulk seeding, and every service checks the token and
 * the route's permission itself.
 */

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** A refusal the demo did not plan for: the request, the status and the problem's title and detail. */
export class DemoRefused extends Error {
  constructor(method: string, path: string, answer: Answer) {
    const p = (answer.body ?? {}) as { title?: string; detail?: string; errors?: { path: string }[] };
    const fields = p.errors?.length ? ` (${p.errors.map((e) => e.path).join(', ')})` : '';
    super(`${method} ${path} answered ${answer.status}: ${p.title ?? ''} ${p.detail ?? ''}${fields}`.trim());
    this.name = 'DemoRefused';
  }
}

/** One user's side of the API. `send` answers any status; the others throw DemoRefused unless 2xx. */
export interface Caller {
  send<T>(method: string, path: string, body?: unknown): Promise<Answer<T>>;
  get<T>(path: string, query?: Record<string, string | number | undefined>): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
}

/** The platform's services by name and base URL (`RunningPlatform.services`). */
export type ServiceUrls = readonly { name: string; url: string }[];

/** The base URL of the service that owns `path`, as the gateway would route it. */
export function ownerOf(services: ServiceUrls, path: string): string {
  for (const [name, def] of Object.entries(SERVICES))
    if ((def.prefixes as readonly string[]).some((p) => path === p || path.startsWith(`${p}/`))) {
      const url = services.find((s) => s.name === name)?.url;
      if (url) return url;
    }
  throw new Error(`no running service owns ${path}`);
}

export function queryString(query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function request<T>(url: string, method: string, token: string | undefined, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export function callerFor(services: ServiceUrls, token: string): Caller {
  const send = <T>(method: string, path: string, body?: unknown) =>
    request<T>(ownerOf(services, path.split('?')[0] ?? path) + path, method, token, body);
  const ok = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const answer = await send<T>(method, path, body);
    if (answer.status < 200 || answer.status > 299) throw new DemoRefused(method, path, answer);
    return answer.body;
  };
  return {
    send,
    get: (path, query) => ok('GET', path + queryString(query)),
    post: (path, body) => ok('POST', path, body ?? {}),
    put: (path, body) => ok('PUT', path, body),
  };
}

/** Logs a user in through the auth service; answers the access token. */
export async function login(authUrl: string, username: string, password: string): Promise<string> {
  const path = '/api/v1/auth/login';
  const answer = await request<{ access_token?: string }>(authUrl + path, 'POST', undefined, {
    username,
    password,
  });
  if (!answer.body?.access_token) throw new DemoRefused('POST', path, answer);
  return answer.body.access_token;
}

/** Runs `work` on every item, at most `concurrency` at a time; answers the results in item order. */
export async function inPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i] as T, i);
      } catch (err) {
        failed = true; // the other workers stop taking items; the first error is the one reported
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Waits until `check` answers a value (not undefined); throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every item of a list route, page by page (`nextCursor`), 100 at a time. */
export async function allPages<T>(
  caller: Caller,
  path: string,
  query: Record<string, string | number | undefined> = {},
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await caller.get<{ items: T[]; nextCursor: string | null }>(path, {
      ...query,
      limit: 100,
      cursor,
    });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}
