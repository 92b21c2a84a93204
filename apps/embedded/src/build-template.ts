import { loadModules } from './platform.js';
import { buildTemplate } from './template.js';

/** `npm run build`'s last step: the first start's database, migrated now (src/template.ts). */
const started = performance.now();
const outcome = await buildTemplate(await loadModules());
if (outcome === 'built')
  process.stdout.write(`embedded database template built in ${Math.round(performance.now() - started)} ms\n`);
