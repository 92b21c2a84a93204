import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineErrors, type ServiceModule } from '@hms/platform';
import { startService, type RunningService } from '@hms/testkit';
import { expectErrorCatalogue, useService } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';

const ToyErrors = defineErrors({ thing_missing: { status: 404, title: 'No such thing' } });

const toy: ServiceModule = {
  name: 'toy',
  description: 'a module with an error catalogue',
  migrations: () => [],
  errors: ToyErrors,
  setup(app) {
    app.get('/api/v1/things/:id', { config: { permission: 'patients:read' } }, async () => {
      throw ToyErrors.thing_missing();
    });
  },
};

/** A source folder with the given files (nested folders allowed). */
function sources(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hms-catalogue-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('expectErrorCatalogue', () => {
  const started = useService(toy);
  let svc: RunningService;
  beforeAll(() => {
    svc = started();
  });

  it("passes when every code the source uses is documented, the kit's and the module's", async () => {
    const dir = sources({
      'routes/things.ts': 'throw ToyErrors.thing_missing("gone");\nthrow CommonErrors.not_found();\n',
    });
    const { documented, used } = await expectErrorCatalogue(svc, dir);
    expect(used).toEqual(['not_found', 'thing_missing']);
    expect(documented).toContainEqual({
      code: 'thing_missing',
      type: 'urn:hms:problem:thing-missing',
      status: 404,
      title: 'No such thing',
    });
  });

  it('fails naming a code the source uses that the service does not document', async () => {
    const dir = sources({ 'a.ts': 'ok', 'deep/b.ts': '\n\nthrow ToyErrors.thing_gone();\n' });
    await expect(expectErrorCatalogue(svc, dir)).rejects.toThrow(/deep\/b\.ts:3 ToyErrors\.thing_gone/);
  });

  it('fails on an error built outside a catalogue', async () => {
    const dir = sources({ 'c.ts': "throw new AppError('made_up', { status: 418, title: 'x' });\n" });
    await expect(expectErrorCatalogue(svc, dir)).rejects.toThrow(/new AppError[\s\S]*c\.ts:1/);
  });

  it('fails when the module does not publish its catalogue', async () => {
    const bare = await startService({ ...toy, name: 'bare', errors: undefined });
    try {
      const dir = sources({ 'd.ts': 'throw ToyErrors.thing_missing();\n' });
      await expect(expectErrorCatalogue(bare, dir)).rejects.toThrow(/thing_missing/);
    } finally {
      await bare.close();
    }
  });
});
