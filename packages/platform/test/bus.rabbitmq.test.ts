import { createTestBus, testBrokerUrl } from '@hms/testkit';
import { describe, test } from 'vitest';
import { describeBusContract } from './bus.contract.js';

// Unset TEST_AMQP_URL skips this file locally; under CI=true testBrokerUrl() throws instead.
const broker = testBrokerUrl();

if (broker) {
  describeBusContract('RabbitBus (real RabbitMQ, a namespace per bus)', (opts) =>
    createTestBus({ kind: 'rabbitmq', ...opts }),
  );
} else {
  const reason = 'TEST_AMQP_URL is not set, so there is no RabbitMQ to run against';
  console.warn(`bus.rabbitmq.test.ts skipped: ${reason}`);
  describe('EventBus contract: RabbitBus', () => {
    test.skip(`skipped: ${reason}`, () => undefined);
  });
}
