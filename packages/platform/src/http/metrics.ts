import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A Prometheus registry per service (several services share a process when embedded). */
export function createMetrics(service: string, opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route (RED: rate and errors come from the count by status)',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const httpInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'requests being served',
    registers: [registry],
  });
  const upstreamRequests = new Counter({
    name: 'http_client_requests_total',
    help: 'outbound calls by upstream and outcome',
    labelNames: ['upstream', 'outcome'] as const,
    registers: [registry],
  });
  const upstreamRetries = new Counter({
    name: 'http_client_retries_total',
    help: 'outbound requests sent again, by upstream and reason (a connection error code or a status)',
    labelNames: ['upstream', 'reason'] as const,
    registers: [registry],
  });
  const breakerState = new Gauge({
    name: 'circuit_breaker_state',
    help: 'circuit breaker per upstream: 0 closed, 1 half-open, 2 open',
    labelNames: ['upstream'] as const,
    registers: [registry],
  });
  return { registry, httpDuration, httpInFlight, upstreamRequests, upstreamRetries, breakerState };
}

export type Metrics = ReturnType<typeof createMetrics>;
