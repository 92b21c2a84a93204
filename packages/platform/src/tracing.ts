import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { currentContext } from './context.js';
import { randomHex } from './ids.js';

const currentTraceparent = () => currentContext()?.traceparent;

/**
 * Tracing (DESIGN.md §6): OpenTelemetry spans for HTTP in and out, database transactions and
 * event consumption, exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (Jaeger, Tempo
 * and others accept OTLP). The W3C `traceparent` travels in HTTP headers and in event envelopes
 * whether or not an exporter is configured, so logs of one flow share a trace id.
 */
const propagator = new W3CTraceContextPropagator();
const tracer = () => trace.getTracer('hms');
let provider: NodeTracerProvider | undefined;

export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (provider || !env.OTEL_EXPORTER_OTLP_ENDPOINT) return false;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return true;
}

export function isTracingEnabled(): boolean {
  return provider !== undefined;
}

export async function stopTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}

export { SpanKind };

function parentContext(traceparent: string | undefined) {
  if (!traceparent) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent };
  return propagator.extract(ROOT_CONTEXT, carrier, {
    get: (_c: unknown, key: string) => carrier[key],
    keys: () => Object.keys(carrier),
  });
}

export function formatTraceparent(sc: Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'>): string {
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags.toString(16).padStart(2, '0')}`;
}

export interface StartedSpan {
  span: Span;
  /** The traceparent naming this span, for logs, outgoing calls and events. */
  traceparent: string;
}

/** The span every call gets while no exporter is configured: it records nothing. */
const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Starts a span as a child of `traceparent` (or a new trace). Without an SDK the span records
 * nothing and the OpenTelemetry API is not called at all (this runs several times per request);
 * the ids are made here so propagation, and trace ids in logs, still work.
 */
export function startSpan(
  name: string,
  kind: SpanKind,
  traceparent?: string,
  attributes?: Attributes,
): StartedSpan {
  if (provider) {
    const span = tracer().startSpan(name, { kind, attributes }, parentContext(traceparent));
    if (span.isRecording()) return { span, traceparent: formatTraceparent(span.spanContext()) };
  }
  // a W3C traceparent is `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`
  const parentTrace = traceparent?.length === 55 ? traceparent.slice(3, 35) : undefined;
  return {
    span: NOT_RECORDING,
    traceparent: formatTraceparent({
      traceId: parentTrace ?? randomHex(16),
      spanId: randomHex(8),
      traceFlags: TraceFlags.SAMPLED,
    }),
  };
}

export function endSpan(span: Span, error?: unknown, attributes?: Attributes): void {
  if (span === NOT_RECORDING) return;
  if (attributes) span.setAttributes(attributes);
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
  }
  span.end();
}

/** Runs `fn` inside a child span of the given traceparent. */
export async function withSpan<T>(
  name: string,
  kind: SpanKind,
  traceparent: string | undefined,
  attributes: Attributes,
  fn: (traceparent: string) => Promise<T>,
): Promise<T> {
  const { span, traceparent: tp } = startSpan(name, kind, traceparent, attributes);
  try {
    const value = await fn(tp);
    endSpan(span);
    return value;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

/**
 * A view of `db` whose queries and transactions are spans (only when tracing is on: a span per
 * statement costs nothing otherwise). The statement text is not recorded: it is ours, but its
 * parameters could be patient data, and the operation name is enough to read a trace.
 */
export function tracedDb<
  D extends {
    schema: string;
    query: (...a: never[]) => Promise<unknown>;
    transaction: (...a: never[]) => Promise<unknown>;
  },
>(db: D): D {
  if (!isTracingEnabled()) return db;
  const attrs = { 'db.system': 'postgresql', 'db.namespace': db.schema };
  return new Proxy(db, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if ((prop !== 'query' && prop !== 'transaction') || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        withSpan(`db ${prop}`, SpanKind.CLIENT, currentTraceparent(), attrs, () =>
          (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
        );
    },
  });
}
