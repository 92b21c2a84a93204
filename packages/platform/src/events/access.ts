import { EventSchemaError, type AccessAction, type AccessRecord } from '@hms/contracts';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { EventBus } from './bus.js';
import { buildEnvelope } from './outbox.js';

/** What a route declares it touches (`config.access`): the resource type, and the action when it is not the method's. */
export interface RouteAccessDeclaration {
  resource: string;
  action?: AccessAction;
}

/** What a handler or its use case reports it touched, when the `:id` parameter does not say. */
export interface AccessReport {
  ids?: readonly string[];
  patientIds?: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads or changes this resource: every answer to it is an access record. */
    access?: RouteAccessDeclaration;
  }
  interface FastifyRequest {
    accessReport?: AccessReport;
  }
}

/**
 * Reports which resources and patients a request touched (a search: the ids it returned; a
 * creation: the new id). Without a report, the route's `:id` is the resource, and a `patient`
 * resource is the patient.
 */
export function reportAccess(request: FastifyRequest, report: AccessReport): void {
  const before = request.accessReport;
  const merged: AccessReport = {};
  // reported in parts (the patient before the use case runs, the ids after): each named once
  if (before?.ids || report.ids) merged.ids = [...new Set([...(before?.ids ?? []), ...(report.ids ?? [])])];
  if (before?.patientIds || report.patientIds)
    merged.patientIds = [...new Set([...(before?.patientIds ?? []), ...(report.patientIds ?? [])])];
  request.accessReport = merged;
}

const ACTION_OF_METHOD: Record<string, AccessAction> = {
  GET: 'read',
  HEAD: 'read',
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
};
export const actionOfMethod = (method: string): AccessAction => ACTION_OF_METHOD[method] ?? 'read';

export interface AccessRecorderOptions {
  /** Records are held at most this long before they are emitted. */
  flushMs?: number;
  /** A batch is emitted as soon as it holds this many. */
  maxBatch?: number;
  /** Records held while the bus cannot take them, at most (the oldest are dropped past it). */
  maxHeld?: number;
  logger?: Logger;
}

/**
 * Emits access records off the request path (DESIGN.md §5): `record` only appends to a batch; a
 * batch goes out as one `access.recorded.v1` event every `flushMs` (1 s) or at `maxBatch` (200)
 * records, straight to the bus (not through the outbox: no transaction waits for it). A crash
 * loses at most what was held: the last second's records, at most `maxHeld`. When the bus
 * fails, the batch is kept and sent again with the next one, up to `maxHeld` records.
 */
export class AccessRecorder {
  private held: AccessRecord[] = [];
  private sending: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly maxHeld: number;

  constructor(
    private readonly bus: EventBus,
    private readonly service: string,
    private readonly opts: AccessRecorderOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 1000;
    this.maxBatch = opts.maxBatch ?? 200;
    this.maxHeld = opts.maxHeld ?? 10_000;
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  record(r: AccessRecord): void {
    this.held.push(r);
    if (this.held.length > this.maxHeld) this.held.splice(0, this.held.length - this.maxHeld);
    if (this.held.length >= this.maxBatch) void this.flush();
  }

  /** Emits what is held (one event per `maxBatch` records); resolves once the bus confirmed it. */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    if (this.held.length === 0) return;
    const batch = this.held.splice(0, this.held.length);
    this.sending = this.send(batch).finally(() => (this.sending = undefined));
    await this.sending;
  }

  private async send(batch: AccessRecord[]): Promise<void> {
    try {
      const envelopes = [];
      for (let i = 0; i < batch.length; i += this.maxBatch)
        envelopes.push(
          buildEnvelope(this.service, {
            type: 'access.recorded.v1',
            subject: this.service,
            data: { records: batch.slice(i, i + this.maxBatch) },
          }),
        );
      await this.bus.publish(envelopes);
    } catch (err) {
      if (err instanceof EventSchemaError) {
        // a record the kit built wrong: sending it again would fail again
        this.opts.logger?.error({ err }, 'access records dropped: they do not match their schema');
        return;
      }
      this.held.unshift(...batch.slice(0, Math.max(0, this.maxHeld - this.held.length)));
      this.opts.logger?.warn(
        { err, held: this.held.length },
        'access records not emitted; kept for the next batch',
      );
    }
  }

  /** Emits what is held and stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** What an HTTP server records: its recorder, and how it tells a refusal's resource and client. */
export interface HttpAccessRecording {
  recorder: AccessRecorder;
  /** Also record every 401, 403 and 429 answered, on any route (the gateway's refusals). */
  refusals?: (request: FastifyRequest) => { resource: string; patientIds: string[] };
  /** The client's address (default: the right-most `X-Forwarded-For` entry of a trusted caller, else the peer). */
  clientIp?: (request: FastifyRequest) => string;
}

const REFUSED = new Set([401, 403, 429]);
const clip = (value: string, max: number) => (value.length > max ? value.slice(0, max) : value);
const ids = (values: readonly string[] | undefined) => (values ?? []).slice(0, 500).map((v) => clip(v, 128));

/**
 * The access record of an answered request, or undefined when the route declares no access and
 * the answer is not a refusal to record. Every field is an id, a route or a status: the query
 * string, the body and every name stay out.
 */
export function accessRecordOf(
  request: FastifyRequest,
  status: number,
  service: string,
  recording: HttpAccessRecording,
  trustedCaller: boolean,
): AccessRecord | undefined {
  const declared = request.routeOptions.config.access;
  const refusal =
    !declared && recording.refusals && REFUSED.has(status) ? recording.refusals(request) : undefined;
  if (!declared && !refusal) return undefined;
  const report = request.accessReport;
  const paramId = (request.params as { id?: unknown } | undefined)?.id;
  const resourceIds = report?.ids ?? (typeof paramId === 'string' ? [paramId] : []);
  const type = declared?.resource ?? refusal?.resource ?? 'unknown';
  const principal = request.principal;
  return {
    at: new Date().toISOString(),
    service,
    requestId: clip(request.id, 128),
    actor: principal
      ? { kind: principal.isService ? 'service' : 'user', id: clip(principal.sub, 128) }
      : { kind: 'anonymous' },
    action: declared?.action ?? actionOfMethod(request.method),
    method: clip(request.method, 16),
    route: clip(declared ? (request.routeOptions.url ?? '') : (request.url.split('?')[0] ?? ''), 512),
    resource: { type: clip(type, 64), ids: ids(resourceIds) },
    patientIds: ids(report?.patientIds ?? refusal?.patientIds ?? (type === 'patient' ? resourceIds : [])),
    status,
    clientIp: clip(recording.clientIp?.(request) ?? forwardedClient(request, trustedCaller), 64),
  };
}

function forwardedClient(request: FastifyRequest, trustedCaller: boolean): string {
  const xff = request.headers['x-forwarded-for'];
  const last = (Array.isArray(xff) ? xff.join(',') : xff)?.split(',').pop()?.trim();
  return (trustedCaller && last) || request.raw.socket.remoteAddress || 'unknown';
}
