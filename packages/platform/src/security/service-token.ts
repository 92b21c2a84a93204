import { request } from 'undici';

/** Where a service's own access token comes from (the grant below; tests mint one). */
export interface ServiceTokenSource {
  token(): Promise<string>;
}

/**
 * A service's own access token from the auth service's client-credentials grant (DESIGN.md §4),
 * for calls it makes on its own (event handlers, jobs). Cached until shortly before expiry.
 */
export class ServiceTokenProvider implements ServiceTokenSource {
  private cached?: { token: string; refreshAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly opts: {
      /** Base URL of the auth service, resolved per fetch (registry or static). */
      authUrl: () => Promise<string> | string;
      clientId: string;
      clientSecret: string;
      timeoutMs?: number;
    },
  ) {}

  async token(): Promise<string> {
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.token;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetch(): Promise<string> {
    const base = await this.opts.authUrl();
    const res = await request(new URL('/api/v1/auth/token', base), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: this.opts.clientId,
        client_secret: this.opts.clientSecret,
      }).toString(),
      headersTimeout: this.opts.timeoutMs ?? 3000,
      bodyTimeout: this.opts.timeoutMs ?? 3000,
    });
    const body = (await res.body.json()) as { access_token?: string; expires_in?: number };
    if (res.statusCode !== 200 || !body.access_token)
      throw new Error(`client-credentials grant failed (${res.statusCode})`);
    const lifetimeMs = (body.expires_in ?? 300) * 1000;
    this.cached = { token: body.access_token, refreshAt: Date.now() + lifetimeMs * 0.8 };
    return body.access_token;
  }
}
