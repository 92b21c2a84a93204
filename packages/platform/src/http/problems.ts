import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDependencyUnavailable } from '../dependency.js';
import { AppError, CommonErrors, toProblem, type ProblemField } from '../errors.js';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Turns Ajv's errors into one `{path, message}` per bad field, as JSON pointers into the request
 * part. A field that breaks several rules (too short and off-pattern, or every branch of a
 * nullable union) is named once, with the first rule it broke.
 */
export function validationFields(context: string | undefined, errors: AjvError[]): ProblemField[] {
  const out: ProblemField[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let path = `/${context ?? 'body'}${e.instancePath ?? ''}`;
    let message = e.message ?? 'is not valid';
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') {
      path = `${path}/${e.params.missingProperty}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof e.params?.additionalProperty === 'string') {
      path = `${path}/${e.params.additionalProperty}`;
      message = 'is not an allowed field';
    } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      continue; // the branches' own errors say more
    }
    if (!seen.has(path)) {
      seen.add(path);
      out.push({ path, message });
    }
  }
  return out.length > 0 ? out : [{ path: `/${context ?? 'body'}`, message: 'is not valid' }];
}

const malformedJson = () =>
  CommonErrors.malformed_json(undefined, { errors: [{ path: '/body', message: 'is not valid JSON' }] });

/** Maps Fastify's own errors (parsing, limits) to catalogue errors with fixed, data-free text. */
function fromFastifyError(err: FastifyError): AppError {
  if (err.validation) {
    return CommonErrors.validation_failed('one or more fields are not valid', {
      errors: validationFields(err.validationContext, err.validation),
    });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return CommonErrors.payload_too_large();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? CommonErrors.unsupported_media_type('send application/json')
        : CommonErrors.bad_request('Content-Length does not match the body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return CommonErrors.bad_request('the body is empty but Content-Type says JSON', {
        errors: [{ path: '/body', message: 'is empty' }],
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return malformedJson();
    default:
      break;
  }
  if (err instanceof SyntaxError || err.name === 'SyntaxError') return malformedJson();
  const status = err.statusCode ?? 500;
  if (status === 404) return CommonErrors.not_found();
  if (status === 405) return CommonErrors.method_not_allowed();
  if (status === 413) return CommonErrors.payload_too_large();
  if (status === 415) return CommonErrors.unsupported_media_type();
  if (status >= 400 && status < 500) return CommonErrors.bad_request();
  return CommonErrors.internal();
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply
    .code(err.status)
    .type('application/problem+json')
    .send(JSON.stringify(toProblem(err, request.url.split('?')[0])));
}

/** A dependency could not be reached: the request may be tried again in a moment. */
const DEPENDENCY_DOWN = () =>
  CommonErrors.unavailable('a service this one depends on cannot be reached; try again shortly', {
    headers: { 'retry-after': '2' },
  });

/** One error handler for every route: problem+json, no stack, no SQL, no input echoed. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (
      !(error instanceof AppError) &&
      ((error as FastifyError).statusCode ?? 500) >= 500 &&
      isDependencyUnavailable(error)
    ) {
      request.log.error({ err: error }, 'request failed: a dependency is unavailable');
      return sendProblem(request, reply, DEPENDENCY_DOWN());
    }
    const appError = error instanceof AppError ? error : fromFastifyError(error as FastifyError);
    if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else if (!(error instanceof AppError)) {
      request.log.info(
        { code: appError.code, fastifyCode: (error as FastifyError).code },
        'request rejected',
      );
    }
    return sendProblem(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      CommonErrors.not_found(`no route for ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
