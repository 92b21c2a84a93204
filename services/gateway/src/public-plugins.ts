import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

const ROUTE_METHODS = ['route', 'get', 'head', 'post', 'put', 'delete', 'options', 'patch', 'all'] as const;

type Method = (this: unknown, ...args: unknown[]) => unknown;

function markPublic(method: string, args: unknown[]): unknown[] {
  const withPublic = (o: unknown) => {
    const opts = (o ?? {}) as { config?: Record<string, unknown> };
    return { ...opts, config: { ...opts.config, public: true } };
  };
  if (method === 'route') return [withPublic(args[0]), ...args.slice(1)];
  const [url, opts, handler] = args;
  return typeof opts === 'function' ? [url, withPublic(undefined), opts] : [url, withPublic(opts), handler];
}

/**
 * Registers a third-party plugin whose routes are public by nature (the CORS preflight route, the
 * docs UI and its assets) but that cannot declare `config: { public: true }` itself, which the
 * kit's secure-by-default check requires of every route. While the plugin loads, the routes it
 * adds are marked public; routes added before or after are checked as usual.
 *
 * Stop-gap until the kit lets a server declare such routes public (see the gateway's README).
 */
export function publicRoutesOf<O extends Record<string, unknown>>(
  plugin: FastifyPluginAsync<O> | FastifyPluginCallback<O>,
  opts: O,
) {
  return fp(
    async (instance: FastifyInstance) => {
      const target = instance as unknown as Record<string, Method>;
      const saved = ROUTE_METHODS.map((m) => [m, Object.getOwnPropertyDescriptor(instance, m)] as const);
      for (const m of ROUTE_METHODS) {
        const original = target[m] as Method;
        Object.defineProperty(instance, m, {
          configurable: true,
          writable: true,
          value: function (this: unknown, ...args: unknown[]) {
            return original.apply(this, markPublic(m, args));
          },
        });
      }
      try {
        await instance.register(plugin as FastifyPluginAsync<O>, opts);
      } finally {
        for (const [m, descriptor] of saved) {
          if (descriptor) Object.defineProperty(instance, m, descriptor);
          else Reflect.deleteProperty(instance, m);
        }
      }
    },
    { fastify: '5.x' },
  );
}

/**
 * The kit applies @fastify/swagger by a direct call (so that its route collector sees every
 * route), which does not record the plugin's name; @fastify/swagger-ui checks that name. This
 * records it; the `swagger()` decorator it needs is the kit's.
 */
export const swaggerApplied = fp(async () => undefined, { name: '@fastify/swagger', fastify: '5.x' });
