import { randomBytes } from 'node:crypto';
import type { ServiceModule } from '@hms/platform';
import { createTestBus } from './bus.js';
import { createTestKeys, type TestKeys } from './keys.js';
import { startService, type RunningService } from './service.js';
import { createTestStore } from './store.js';

/** A service of an end-to-end platform: its module, and env of its own (the others' URLs are added). */
export type PlatformMember = ServiceModule | { module: ServiceModule; env?: NodeJS.ProcessEnv };

export interface GatewayPlatform {
  gateway: RunningService;
  /** Each service by its module's name. */
  services: Record<string, RunningService>;
  keys: TestKeys;
  close(): Promise<void>;
}

const urlKey = (name: string) => `${name.toUpperCase()}_URL`;

/**
 * Several services behind the gateway, as an end-to-end test runs them: one bus (RabbitMQ under
 * CI), one key-value store, one set of test keys (or `jwksUrl`, a running auth service's). They
 * start in the order given, each told the URLs (`<NAME>_URL`) of those started before it; the
 * gateway last, told every URL and a rate-limit prefix of its own. `close` stops them in reverse.
 */
export async function startBehindGateway(
  gateway: ServiceModule,
  members: readonly PlatformMember[],
  opts: { jwksUrl?: string } = {},
): Promise<GatewayPlatform> {
  const keys = await createTestKeys();
  const bus = await createTestBus();
  const store = await createTestStore();
  const common = {
    keys,
    bus: bus.bus,
    store: store.store,
    ...(opts.jwksUrl ? { jwksUrl: opts.jwksUrl } : {}),
  };
  const started: RunningService[] = [];
  const services: Record<string, RunningService> = {};
  const urls: NodeJS.ProcessEnv = {};
  const close = async () => {
    for (const s of started.reverse()) await s.close();
    await bus.close();
    await store.close();
  };
  try {
    for (const member of members) {
      const { module, env } = 'module' in member ? member : { module: member, env: undefined };
      const svc = await startService(module, { ...common, env: { ...urls, ...env } });
      started.push(svc);
      services[module.name] = svc;
      urls[urlKey(module.name)] = svc.url;
    }
    const edge = await startService(gateway, {
      ...common,
      env: { ...urls, RATE_LIMIT_PREFIX: `test:rl:${randomBytes(4).toString('hex')}` },
    });
    started.push(edge);
    return { gateway: edge, services, keys, close };
  } catch (err) {
    await close();
    throw err;
  }
}
