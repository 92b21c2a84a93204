// Writes a generated file, or with `--check` (CI) fails when the committed one differs from what
// its generator makes now: what the event catalogue and the configuration reference share.
import { readFileSync, writeFileSync } from 'node:fs';

/** `name`: the file as the repository names it; `command`: what regenerates it; `wrote`: a summary. */
export function writeOrCheck(out, text, { name, command, wrote }) {
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${name} is stale: run \`${command}\` and commit the result`);
      process.exit(1);
    }
    console.log(`${name} is up to date`);
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${name} (${wrote})`);
  }
}
