import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { EmbeddedPostgres, allMigrations, prepareDatabase, type ServiceModule } from '@hms/platform';

/**
 * The database of a first start, migrated at build time (issue #15: ready in ≤ 8 s with eleven
 * services). `npm run build` applies every service's migrations to an in-memory PGlite and keeps
 * the cluster as a tarball beside the launcher (`apps/embedded/dist/pg-template.tar.gz`); a first start loads it instead of creating an
 * empty cluster and migrating a schema at a time on the one PGlite connection. The start still
 * runs every migration check, so a template is only ever a head start: it is used when its stamp
 * (a hash of every migration it holds) matches the modules being started, and ignored otherwise.
 */
const TEMPLATE = new URL('./pg-template.tar.gz', import.meta.url);
const STAMP = new URL('./pg-template.stamp', import.meta.url);

export function templateStamp(modules: readonly ServiceModule[]): string {
  const hash = createHash('sha256');
  for (const mod of [...modules].sort((a, b) => a.name.localeCompare(b.name)))
    for (const m of allMigrations(mod)) hash.update(`${mod.name}\0${m.name}\0${m.sql}\0`);
  return hash.digest('hex');
}

/** The template for these modules, or undefined when there is none or it is stale. */
export function readTemplate(modules: readonly ServiceModule[]): Blob | undefined {
  if (!existsSync(TEMPLATE) || !existsSync(STAMP)) return undefined;
  if (readFileSync(STAMP, 'utf8') !== templateStamp(modules)) return undefined;
  return new Blob([readFileSync(TEMPLATE)]);
}

/** Builds the template unless the one beside the launcher is current; says which. */
export async function buildTemplate(modules: readonly ServiceModule[]): Promise<'current' | 'built'> {
  if (readTemplate(modules)) return 'current';
  const pg = await EmbeddedPostgres.open();
  try {
    for (const mod of modules) await prepareDatabase(mod, pg.forService(mod.name));
    const tarball = Buffer.from(await (await pg.dump()).arrayBuffer());
    // written aside and renamed, so a start never reads half a template
    const tmp = new URL(`${TEMPLATE.href}.${process.pid}`);
    writeFileSync(tmp, tarball);
    renameSync(tmp, TEMPLATE);
    writeFileSync(STAMP, templateStamp(modules));
  } finally {
    await pg.close();
  }
  return 'built';
}
