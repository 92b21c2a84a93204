/**
 * Application errors and RFC 9457 problem details. A service declares its catalogue once
 * (`defineErrors`) and throws `AppError`s from it; one handler maps them to
 * `application/problem+json` (STYLE.md §7).
 */
export interface ProblemField {
  path: string;
  message: string;
}

export interface ErrorSpec {
  status: number;
  title: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;
  readonly errors: ProblemField[] | undefined;

  constructor(
    readonly code: string,
    spec: ErrorSpec,
    opts: {
      detail?: string;
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
      errors?: ProblemField[];
    } = {},
  ) {
    super(opts.detail ?? spec.title);
    this.name = 'AppError';
    this.status = spec.status;
    this.title = spec.title;
    this.detail = opts.detail;
    this.extensions = opts.extensions ?? {};
    this.headers = opts.headers ?? {};
    this.errors = opts.errors;
  }
}

export type ErrorFactory = (
  detail?: string,
  opts?: { extensions?: Record<string, unknown>; headers?: Record<string, string>; errors?: ProblemField[] },
) => AppError;

export type Catalogue<T extends Record<string, ErrorSpec>> = { [K in keyof T]: ErrorFactory } & {
  readonly specs: T;
};

/** Builds throwable factories from a catalogue of `code → {status, title}`. */
export function defineErrors<T extends Record<string, ErrorSpec>>(specs: T): Catalogue<T> {
  const out: Record<string, unknown> = { specs };
  for (const [code, spec] of Object.entries(specs)) {
    const factory: ErrorFactory = (detail, opts) =>
      new AppError(code, spec, { ...opts, ...(detail ? { detail } : {}) });
    out[code] = factory;
  }
  return out as Catalogue<T>;
}

export function problemType(code: string): string {
  return `urn:hms:problem:${code.replace(/_/g, '-')}`;
}

/** Errors every service can answer, whatever its domain. */
export const CommonErrors = defineErrors({
  validation_failed: { status: 400, title: 'The request is not valid' },
  bad_request: { status: 400, title: 'Bad request' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Permission denied' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  idempotency_in_progress: { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  precondition_failed: { status: 412, title: 'The resource has changed since it was read' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  uri_too_long: { status: 414, title: 'The request URI is too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  idempotency_key_reused: { status: 422, title: 'Idempotency-Key was used with a different request' },
  precondition_required: { status: 428, title: 'If-Match is required to update this resource' },
  rate_limited: { status: 429, title: 'Too many requests' },
  header_too_large: { status: 431, title: 'Request header fields too large' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
});

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  errors?: ProblemField[];
  [extension: string]: unknown;
}

export function toProblem(err: AppError, instance?: string): Problem {
  return {
    ...err.extensions,
    type: problemType(err.code),
    title: err.title,
    status: err.status,
    code: err.code,
    ...(err.detail ? { detail: err.detail } : {}),
    ...(instance ? { instance } : {}),
    ...(err.errors ? { errors: err.errors } : {}),
  };
}
