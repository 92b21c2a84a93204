import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Outgoing, Transport } from './transport.js';

/**
 * Embedded mode: a channel without a provider writes each message as a JSON file into `dir`
 * (`<id>.<channel>.json`) instead of sending it, for a developer or a demo to read.
 */
export function fileTransport(dir: string, channel: string): Transport {
  return {
    name: 'file',
    async send(m: Outgoing) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = `${m.id}.${channel}.json`;
      await writeFile(
        join(dir, file),
        JSON.stringify({ id: m.id, channel, to: m.to, subject: m.subject, body: m.body }, null, 2),
        {
          flag: 'wx',
          mode: 0o600,
        },
      );
      return { providerMessageId: file };
    },
  };
}
