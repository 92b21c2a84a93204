import fp from 'fastify-plugin';
import { CommonErrors } from '../errors.js';
import { sendProblem } from './problems.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/**
 * `/health/live` (the process answers) and `/health/ready` (every dependency answers within 2 s;
 * 503 with the failing ones named, or while the server drains, so a load balancer stops sending).
 */
export const health = fp<{ readiness: readonly ReadinessCheck[]; closing: () => boolean }>(
  (app, opts, next) => {
    app.get('/health/live', { config: { public: true }, schema: { hide: true } }, async () => ({
      status: 'ok',
    }));
    app.get('/health/ready', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      if (opts.closing())
        return sendProblem(
          request,
          reply,
          CommonErrors.unavailable('shutting down', { headers: { 'retry-after': '1' } }),
        );
      const results: Record<string, string> = {};
      let ok = true;
      for (const c of opts.readiness) {
        try {
          await withTimeout(c.check(), 2000);
          results[c.name] = 'ok';
        } catch {
          ok = false;
          results[c.name] = 'failing';
        }
      }
      if (!ok)
        return sendProblem(
          request,
          reply,
          CommonErrors.unavailable('a dependency is not ready', {
            headers: { 'retry-after': '5' },
            extensions: { checks: results },
          }),
        );
      return { status: 'ready', checks: results };
    });
    next();
  },
  { name: 'hms-health' },
);

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
