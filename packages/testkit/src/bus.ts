import { randomBytes } from 'node:crypto';
import { InProcessBus, RabbitBus, type EventBus, type EventMetrics, type RetryPolicy } from '@hms/platform';
import { testLogger } from './phi-guard.js';

/**
 * The broker tests run against: `TEST_AMQP_URL` (RabbitMQ), each bus in a namespace of its own
 * so test files never see each other's events. Unset: the in-process bus, except under CI.
 */
export function testBrokerUrl(): string | undefined {
  const url = process.env.TEST_AMQP_URL;
  if (!url && process.env.CI === 'true')
    throw new Error('TEST_AMQP_URL must be set in CI: tests run against real RabbitMQ');
  return url || undefined;
}

export interface TestBus {
  bus: EventBus;
  close(): Promise<void>;
}

export async function createTestBus(
  opts: {
    kind?: 'auto' | 'rabbitmq' | 'in-process';
    retry?: RetryPolicy;
    prefetch?: number;
    metrics?: EventMetrics;
    namespace?: string;
  } = {},
): Promise<TestBus> {
  const kind = opts.kind ?? 'auto';
  const url = kind === 'in-process' ? undefined : testBrokerUrl();
  if (kind === 'rabbitmq' && !url) throw new Error('TEST_AMQP_URL is not set');
  const retry = opts.retry ?? { maxAttempts: 3, delaysMs: [50, 100] };
  if (url) {
    const bus = await RabbitBus.connect({
      url,
      logger: testLogger('test-bus'),
      namespace: opts.namespace ?? `test_${randomBytes(4).toString('hex')}`,
      retry,
      prefetch: opts.prefetch,
      metrics: opts.metrics,
      reconnectMinMs: 50,
      reconnectMaxMs: 500,
    });
    return {
      bus,
      async close() {
        await bus.destroy();
        await bus.close();
      },
    };
  }
  const bus = new InProcessBus({ retry, prefetch: opts.prefetch, metrics: opts.metrics });
  return { bus, close: () => bus.close() };
}
