// Pharmacy in a process of its own, for the kill test (sigkill.test.ts): the built service
// (`services/pharmacy/dist`) on real PostgreSQL (DATABASE_URL), RabbitMQ (AMQP_URL, in the test
// bus's namespace BUS_NAMESPACE) and Redis (REDIS_URL), trusting the test keys' JWKS (JWKS_URL)
// and calling Inventory with a service token the test minted (SERVICE_TOKEN). Prints
// `READY <url>` once it listens; the test ends it with SIGKILL.
import { RabbitBus, createLogger, startModule } from '@hms/platform';
import { pharmacyService } from '@hms/pharmacy';

const env = process.env;
const logger = createLogger('pharmacy', env.LOG_LEVEL ?? 'silent');
const bus = await RabbitBus.connect({
  url: env.AMQP_URL,
  logger,
  namespace: env.BUS_NAMESPACE,
  retry: { maxAttempts: 3, delaysMs: [50, 100] },
  reconnectMinMs: 50,
  reconnectMaxMs: 500,
});
const running = await startModule(pharmacyService, {
  env,
  bus,
  logger,
  jwksUrl: env.JWKS_URL,
  registryTiming: { ttlMs: 2000, cacheMs: 100 },
  timing: { relayIntervalMs: 100 },
  listen: { host: '127.0.0.1', port: 0, register: false },
  serviceToken: { token: async () => env.SERVICE_TOKEN },
});
process.stdout.write(`READY ${running.url}\n`);
