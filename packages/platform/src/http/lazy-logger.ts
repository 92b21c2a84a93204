import type { FastifyBaseLogger } from 'fastify';

/**
 * A request's logger (`request.log`, with its `reqId`), made the first time something logs
 * through it. Fastify makes one per request, and pino's `child()` serialises its bindings at
 * once, a visible share of a simple request's CPU; most requests log nothing but the access line,
 * which the kit writes itself.
 */
export class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly opts: object,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }
  set level(value: string) {
    this.real.level = value;
  }
  fatal(...args: unknown[]): void {
    this.real.fatal(...(args as [unknown]));
  }
  error(...args: unknown[]): void {
    this.real.error(...(args as [unknown]));
  }
  warn(...args: unknown[]): void {
    this.real.warn(...(args as [unknown]));
  }
  info(...args: unknown[]): void {
    this.real.info(...(args as [unknown]));
  }
  debug(...args: unknown[]): void {
    this.real.debug(...(args as [unknown]));
  }
  trace(...args: unknown[]): void {
    this.real.trace(...(args as [unknown]));
  }
  silent(): void {}
  child(bindings: Record<string, unknown>, opts?: object): FastifyBaseLogger {
    return this.real.child(bindings, opts);
  }
}
