import { SERVICES } from '@hms/contracts';

/** A service the gateway routes to, with the path prefixes it owns. */
export interface ServiceRoute {
  service: string;
  prefixes: readonly string[];
}

/**
 * Every service that owns a path prefix, read from the contracts (DESIGN.md §3): a service added
 * there is routed without editing the gateway.
 */
export const ROUTED: readonly ServiceRoute[] = Object.entries(SERVICES)
  .filter(([, s]) => s.prefixes.length > 0)
  .map(([service, s]) => ({ service, prefixes: s.prefixes }));

export function ownsPath(prefix: string, path: string): boolean {
  return path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

/** The service owning a path (the longest matching prefix wins), if any. */
export function ownerOf(path: string, routes: readonly ServiceRoute[] = ROUTED): string | undefined {
  let best: { service: string; length: number } | undefined;
  for (const r of routes) {
    for (const p of r.prefixes) {
      if (ownsPath(p, path) && (!best || p.length > best.length))
        best = { service: r.service, length: p.length };
    }
  }
  return best?.service;
}
