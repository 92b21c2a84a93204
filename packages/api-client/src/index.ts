import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

/**
 * A typed client of the HMS API, generated from the platform's OpenAPI document
 * (docs/openapi.json, `npm run openapi`): every path, parameter, body and answer is checked by the
 * compiler. Methods are the HTTP verbs on the documented paths:
 *
 *   const hms = createHmsClient({ baseUrl: 'http://127.0.0.1:8080', token: () => session.accessToken });
 *   const { data, error } = await hms.GET('/api/v1/patients/{id}', { params: { path: { id } } });
 *
 * An answer other than 2xx arrives as `error`: the problem (application/problem+json) the service sent.
 */
export type { components, operations, paths };

/** The API's named shapes, named after their titles: `Schemas['Patient']`, `Schemas['Invoice']`, … */
export type Schemas = components['schemas'];

/** A problem answer (RFC 9457): every service and the gateway answer an error in this one shape. */
export type Problem = operations['getPatient']['responses'][404]['content']['application/json'];

export interface HmsClientOptions extends ClientOptions {
  /** The gateway's address, e.g. `http://127.0.0.1:8080` (the document's paths start with /api/v1). */
  baseUrl: string;
  /** The bearer token to send, read on every request (a refreshed token is picked up); none for public calls. */
  token?: () => string | undefined;
}

export type HmsClient = Client<paths>;

export function createHmsClient(options: HmsClientOptions): HmsClient {
  const { token, ...rest } = options;
  const client = createClient<paths>(rest);
  if (token)
    client.use({
      onRequest({ request }) {
        const value = token();
        if (value) request.headers.set('authorization', `Bearer ${value}`);
        return request;
      },
    });
  return client;
}
