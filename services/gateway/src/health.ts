import type { App, InstanceSource, ReadinessCheck } from '@hms/platform';
import { CommonErrors, instancesOf, sendProblem } from '@hms/platform';
import type { RouteCatalog } from './catalog.js';
import { ROUTED } from './routes.js';
import type { Upstreams } from './upstream.js';

interface ServiceHealth {
  status: 'ready' | 'not ready';
  instances: number;
  ready: number;
}

const PROBE_TIMEOUT_MS = 2000;

/**
 * `GET /health`: the platform's readiness as one answer. Every known service (one that has had an
 * instance, in the registry or `<SERVICE>_URL`, since the gateway started) is asked
 * `/health/ready` on each instance; a service is ready when one instance is. 200 when every
 * service is, else a 503 problem naming those that are not. Instance addresses are not shown.
 */
export function healthRoute(
  app: App,
  deps: { source: InstanceSource; upstreams: Upstreams; catalog: RouteCatalog; readiness: ReadinessCheck[] },
): void {
  const known = new Set<string>();

  const serviceHealth = async (service: string): Promise<ServiceHealth> => {
    const instances = await instancesOf(deps.source, service);
    const probes = await Promise.all(
      instances.map(async (i) => {
        if (!i.healthy) return false;
        const status = await deps.upstreams
          .get(service)
          .probe(i.url, '/health/ready', PROBE_TIMEOUT_MS)
          .catch(() => 0);
        return status === 200;
      }),
    );
    const ready = probes.filter(Boolean).length;
    return { status: ready > 0 ? 'ready' : 'not ready', instances: instances.length, ready };
  };

  const gatewayHealth = async (): Promise<ServiceHealth> => {
    const ok = await Promise.all(
      deps.readiness.map((c) => {
        const timeout = new Promise<never>((_, reject) => {
          setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS).unref();
        });
        return Promise.race([c.check(), timeout]).then(
          () => true,
          () => false,
        );
      }),
    );
    const ready = ok.every(Boolean);
    return { status: ready ? 'ready' : 'not ready', instances: 1, ready: ready ? 1 : 0 };
  };

  app.get('/health', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    for (const s of deps.catalog.services()) known.add(s);
    await Promise.all(
      ROUTED.map(async ({ service }) => {
        if ((await instancesOf(deps.source, service)).length > 0) known.add(service);
      }),
    );
    const names = [...known].sort();
    const results = await Promise.all(names.map(serviceHealth));
    const services: Record<string, ServiceHealth> = { gateway: await gatewayHealth() };
    names.forEach((name, i) => (services[name] = results[i] as ServiceHealth));
    const notReady = Object.keys(services).filter((s) => services[s]?.status !== 'ready');
    if (notReady.length > 0)
      return sendProblem(
        request,
        reply,
        CommonErrors.unavailable(`not ready: ${notReady.join(', ')}`, {
          headers: { 'retry-after': '5' },
          extensions: { notReady, services },
        }),
      );
    return { status: 'ready', services };
  });
}
