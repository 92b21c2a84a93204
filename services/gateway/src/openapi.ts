import { ownerOf } from './routes.js';

/** The parts of an OpenAPI 3.1 document the gateway reads and merges; the rest is carried as is. */
export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  tags?: { name: string }[];
  [key: string]: unknown;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * One operation as the gateway enforces it: a permission (`x-permission`), or only a valid token
 * (`x-authenticated`, or any `security` requirement), or nothing (public).
 */
export interface Operation {
  method: string;
  path: string;
  permission: string | undefined;
  authenticated: boolean;
  /** `x-timeout-ms`: the operation answers later than the gateway's default timeout allows. */
  timeoutMs?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the shape of a document a service served; throws on anything that is not one. */
export function asOpenApiDocument(value: unknown): OpenApiDocument {
  if (!isObject(value) || typeof value.openapi !== 'string' || !isObject(value.paths))
    throw new Error('not an OpenAPI document');
  for (const item of Object.values(value.paths)) if (!isObject(item)) throw new Error('malformed path item');
  return value as OpenApiDocument;
}

/**
 * The operations of a service's document that the gateway routes to it (paths under the prefixes
 * it owns; e.g. a service's `/admin/...` routes are not public). An `x-permission` that is not in
 * the role table is kept as is: no role grants it, so the operation is refused to everyone
 * rather than opened.
 */
export function operationsOf(doc: OpenApiDocument, service: string): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (ownerOf(path) !== service) continue;
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const xp = op['x-permission'];
      const permission = typeof xp === 'string' ? xp : undefined;
      const secured = Array.isArray(op.security) && op.security.length > 0;
      const authenticated = permission !== undefined || op['x-authenticated'] === true || secured;
      const xt = op['x-timeout-ms'];
      const timeoutMs = typeof xt === 'number' && Number.isInteger(xt) && xt > 0 ? xt : undefined;
      out.push({
        method: method.toUpperCase(),
        path,
        permission,
        authenticated,
        ...(timeoutMs ? { timeoutMs } : {}),
      });
    }
  }
  return out;
}

/**
 * Rewrites every `$ref` to `#/components/<kind>/<name>` into the renamed component, in place
 * on a deep copy.
 */
function renameRefs(value: unknown, rename: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameRefs(v, rename));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' ? rename(v) : renameRefs(v, rename);
  }
  return out;
}

export interface DocumentPart {
  service: string;
  doc: OpenApiDocument;
}

/** What the platform's document says of itself unless the gateway's `info` says otherwise. */
const PLATFORM_INFO = {
  title: 'HMS API',
  version: '0.1.0',
  contact: { name: 'HMS maintainers' },
};

/**
 * The operationIds that more than one operation of the merged paths carries, each with where it
 * is (`GET /api/v1/patients`): generated clients name a method after each, so two would collide.
 */
export function duplicateOperationIds(paths: OpenApiDocument['paths']): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const [path, item] of Object.entries(paths))
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!isObject(op) || typeof op.operationId !== 'string') continue;
      const at = seen.get(op.operationId) ?? [];
      at.push(`${method.toUpperCase()} ${path}`);
      seen.set(op.operationId, at);
    }
  return new Map([...seen].filter(([, at]) => at.length > 1));
}

/** A title a component can be named after (no dot: `<service>.<name>` names stay apart). */
const COMPONENT_TITLE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * The merged name of each component (`service kind name` → name): its title (`Patient`,
 * `Invoice`: what a generated client calls its type) when no other component of that kind in any
 * document has the same title; else `<service>.<name>`.
 */
function componentNames(parts: DocumentPart[]): Map<string, string> {
  const titled: { key: string; kind: string; title: string }[] = [];
  const uses = new Map<string, number>();
  for (const { service, doc } of parts)
    for (const [kind, entries] of Object.entries(doc.components ?? {})) {
      if (kind === 'securitySchemes' || !isObject(entries)) continue;
      for (const [name, value] of Object.entries(entries)) {
        const title = isObject(value) ? value.title : undefined;
        if (typeof title !== 'string' || !COMPONENT_TITLE.test(title)) continue;
        titled.push({ key: `${service} ${kind} ${name}`, kind, title });
        uses.set(`${kind} ${title}`, (uses.get(`${kind} ${title}`) ?? 0) + 1);
      }
    }
  return new Map(
    titled.filter((t) => uses.get(`${t.kind} ${t.title}`) === 1).map((t) => [t.key, t.title] as const),
  );
}

/**
 * Merges the services' documents into the platform's (`/api/v1/openapi.json`): the paths each
 * service owns (with their `x-permission`), their components and their declared tags, served by
 * the gateway (`servers: /`). Component names are local to each service (`def-0` in every one),
 * so each is renamed after its title when that is unique, else `<service>.<name>`, and its
 * references follow; security schemes keep their
 * names (every service declares the same `bearer`). Throws when two operations share an
 * operationId (a programming error CI catches): only the API document is refused, not routing.
 */
export function mergeOpenApi(parts: DocumentPart[], info: Record<string, unknown>): OpenApiDocument {
  const merged: OpenApiDocument = {
    openapi: '3.1.0',
    info: { ...PLATFORM_INFO, ...info },
    servers: [{ url: '/', description: 'the gateway that serves this document' }],
    paths: {},
    components: { securitySchemes: {} },
    tags: [],
  };
  const components = merged.components as Record<string, Record<string, unknown>>;
  const tags = new Map<string, { name: string }>();
  const names = componentNames(parts);
  for (const { service, doc } of [...parts].sort((a, b) => a.service.localeCompare(b.service))) {
    const nameOf = (kind: string, name: string) =>
      names.get(`${service} ${kind} ${name}`) ?? `${service}.${name}`;
    const rename = (ref: string) => {
      const m = /^#\/components\/([^/]+)\/(.+)$/.exec(ref);
      if (!m || m[1] === 'securitySchemes') return ref;
      return `#/components/${m[1]}/${nameOf(m[1] as string, m[2] as string)}`;
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      if (ownerOf(path) !== service) continue;
      merged.paths[path] = renameRefs(item, rename) as Record<string, unknown>;
    }
    for (const [kind, entries] of Object.entries(doc.components ?? {})) {
      if (!isObject(entries)) continue;
      const target = (components[kind] ??= {});
      for (const [name, value] of Object.entries(entries)) {
        if (kind === 'securitySchemes') target[name] ??= value;
        else target[nameOf(kind, name)] = renameRefs(value, rename);
      }
    }
    for (const tag of doc.tags ?? []) if (!tags.has(tag.name)) tags.set(tag.name, tag);
  }
  merged.tags = [...tags.values()];
  const duplicates = duplicateOperationIds(merged.paths);
  if (duplicates.size > 0)
    throw new Error(
      `operationIds used more than once: ${[...duplicates].map(([id, at]) => `${id} (${at.join(', ')})`).join('; ')}`,
    );
  return merged;
}
