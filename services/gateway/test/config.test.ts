import { ConfigError } from '@hms/platform';
import { describe, expect, it } from 'vitest';
import { readGatewayConfig } from '../src/config.js';

describe('the gateway configuration', () => {
  it('defaults: 5 s per call, up to 120 s for an operation that asks, two retries', () => {
    const cfg = readGatewayConfig({});
    expect(cfg).toMatchObject({
      UPSTREAM_TIMEOUT_MS: 5000,
      UPSTREAM_TIMEOUT_MAX_MS: 120_000,
      UPSTREAM_RETRIES: 2,
    });
  });

  it('refuses a longest timeout below the default one, naming both', () => {
    const read = () => readGatewayConfig({ UPSTREAM_TIMEOUT_MS: '8000', UPSTREAM_TIMEOUT_MAX_MS: '6000' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/UPSTREAM_TIMEOUT_MAX_MS: must be at least UPSTREAM_TIMEOUT_MS \(8000\), got 6000/);
    expect(
      readGatewayConfig({ UPSTREAM_TIMEOUT_MS: '8000', UPSTREAM_TIMEOUT_MAX_MS: '8000' })
        .UPSTREAM_TIMEOUT_MAX_MS,
    ).toBe(8000);
  });

  it('refuses more than five retries', () => {
    expect(() => readGatewayConfig({ UPSTREAM_RETRIES: '6' })).toThrow(/UPSTREAM_RETRIES/);
  });
});
