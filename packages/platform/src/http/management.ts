import { Type } from '@sinclair/typebox';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { CommonErrors } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { deadLetterRoutes } from '../events/admin.js';
import type { TokenVerifier } from './auth.js';
import type { Metrics } from './metrics.js';
import { createKitServer, type App } from './server.js';

/** What the management listener serves of one service. */
export interface ManagedService {
  name: string;
  /** Its Prometheus registry (labelled `service=<name>`). */
  registry: Registry;
  /** Its bus, when it consumes events: its dead letters are listed and replayed here. */
  deadLetters?: EventBus | undefined;
}

export interface ManagementOptions {
  logger: Logger;
  /** Verifies the tokens of the event-administration routes (`events:manage`). */
  verifier: TokenVerifier;
  /** Where this listener's own requests are counted; its registry is scraped with the services'. */
  metrics: Metrics;
}

/**
 * The management listener (DESIGN.md §3 and §6, ADR 0019): operations endpoints off the public port.
 * One per process (a standalone service's own, or one for every module of the embedded
 * platform), bound to loopback or the pod address (`MANAGEMENT_HOST`:`MANAGEMENT_PORT`), never
 * published by an ingress or the gateway:
 *
 * - `GET /metrics`: Prometheus text of every service of the process (and of the process itself),
 *   without a token, for the scraper that reaches the address;
 * - `GET /admin/events/{service}/dead-letters` and `POST …/replay`: a consuming service's dead
 *   letters, with a token holding `events:manage` (replaying is a write);
 * - `GET /health/live`.
 *
 * Services are added as they start (and removed as they stop); the routes look them up by name.
 */
export class ManagementServer {
  readonly app: App;
  private readonly services = new Map<string, ManagedService>();
  private url = '';

  constructor(private readonly opts: ManagementOptions) {
    this.app = createKitServer({ service: 'management', ...opts });
    const app = this.app;
    app.get('/health/live', { config: { public: true } }, async () => ({ status: 'ok' }));
    app.get('/metrics', { config: { public: true } }, async (_request, reply) => {
      reply.type(this.opts.metrics.registry.contentType);
      return this.scrape();
    });
    deadLetterRoutes(app, (name) => {
      const bus = this.services.get(name)?.deadLetters;
      if (!bus) throw CommonErrors.not_found(`no service consuming events is named ${name}`);
      return bus;
    });
    app.get(
      '/admin/services',
      {
        config: { permission: 'events:manage' },
        schema: {
          response: {
            200: Type.Object({
              items: Type.Array(Type.Object({ name: Type.String(), consumesEvents: Type.Boolean() })),
            }),
          },
        },
      },
      async () => ({
        items: [...this.services.values()].map((s) => ({
          name: s.name,
          consumesEvents: s.deadLetters !== undefined,
        })),
      }),
    );
  }

  add(service: ManagedService): void {
    this.services.set(service.name, service);
  }

  remove(name: string): void {
    this.services.delete(name);
  }

  /** `http://host:port` once listening ('' before). */
  get address(): string {
    return this.url;
  }

  async listen(host: string, port: number): Promise<string> {
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    this.url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${bound}`;
    this.opts.logger.info({ url: this.url }, 'management listener (metrics, event administration)');
    return this.url;
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  /**
   * One exposition for every registry of the process. Several services share metric names (each
   * labelled with its `service`), which one text may hold only as one family: the registries are
   * merged family by family, their samples kept apart by their labels.
   */
  private async scrape(): Promise<string> {
    const registries = [this.opts.metrics.registry, ...[...this.services.values()].map((s) => s.registry)];
    const unique = [...new Set(registries)];
    if (unique.length === 1) return (unique[0] as Registry).metrics();
    const merged = AggregatorRegistry.aggregate(await Promise.all(unique.map((r) => r.getMetricsAsJSON())));
    return merged.metrics();
  }
}
