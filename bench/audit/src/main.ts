/**
 * Audit benchmark (issue #14), against the local PostgreSQL with production settings (PostgresDb
 * at the default pool of 10, synchronous commit as the server has it), the service's own code:
 *
 *   (1) Appends per second with the chain against plain inserts of the same rows, in the same
 *       run: for each shape W×B (W writers, each committing transactions of B records), D
 *       seconds of plain inserts into an identical table without the chain (same statement, seqs
 *       from a counter, no lock, no hash), then D seconds of chained appends (`appendDrafts`: the
 *       chain's advisory lock, the head, SHA-256 over the canonical form), twice each,
 *       interleaved. 2×32 is the consumer's own shape (the inbox's two transactions of up to 32
 *       deliveries); 8×1 is the worst case (every record its own transaction). Target: chain ≥
 *       50 % of plain.
 *   (2) Verification of N records (default 1,000,000): seeded in bulk with a correct chain (made
 *       in Node, inserted 5,000 per statement), then walked by `walkChain` (what GET /audit/verify
 *       runs) in a child process of its own: the time (target ≤ 60 s) and its peak RSS above its
 *       idle RSS (target ≤ 100 MB).
 *
 *   npm run bench:audit -- [--seconds 10] [--shapes 2x32,8x1] [--records 1000000]
 *
 * Infrastructure: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); the
 * database is made for the run and dropped after it. Writes bench/results/audit-<time>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { appendDrafts, EMPTY_HEAD, insertRecords, link, type RecordDraft } from '@hms/audit/chain';
import { auditService } from '@hms/audit';
import { PostgresDb, prepareDatabase, type Db } from '@hms/platform';
import { createThrowawayDatabase, intArg } from '@hms/testkit';
import { draft } from './drafts.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    shapes: { type: 'string', default: '2x32,8x1' },
    records: { type: 'string', default: '1000000' },
  },
});
const seconds = intArg('seconds', args.seconds, 1, 600);
const records = intArg('records', args.records, 1, 50_000_000);
const shapes = args.shapes.split(',').map((s) => {
  const [w, b] = s.split('x').map(Number);
  if (!Number.isInteger(w) || !Number.isInteger(b) || !w || !b) throw new Error(`--shapes: ${s} is not WxB`);
  return { writers: w, batch: b };
});

const ZERO = '0'.repeat(64);
let plainSeq = 0;

/** Records per second that `writers` loops committing `batch` records per transaction reach in `seconds`. */
async function rate(writers: number, batch: number, commit: (drafts: RecordDraft[]) => Promise<void>) {
  const until = performance.now() + seconds * 1000;
  let n = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < until) {
        const drafts = Array.from({ length: batch }, () => draft((n += 1)));
        await commit(drafts);
      }
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

const plain = (db: Db) => (drafts: RecordDraft[]) =>
  db.transaction((tx) =>
    insertRecords(
      tx,
      drafts.map((d) => ({ ...d, seq: (plainSeq += 1), prevHash: ZERO, hash: ZERO })),
    ),
  );
const chained = (db: Db) => async (drafts: RecordDraft[]) => {
  await db.transaction((tx) => appendDrafts(tx, drafts));
};

async function seed(db: Db, n: number): Promise<number> {
  const started = performance.now();
  let head = EMPTY_HEAD;
  for (let done = 0; done < n;) {
    const size = Math.min(5000, n - done);
    const chunk = link(
      head,
      Array.from({ length: size }, (_, i) => draft(done + i)),
    );
    await db.transaction((tx) => insertRecords(tx, chunk));
    const last = chunk[chunk.length - 1];
    if (last) head = { seq: last.seq, hash: last.hash };
    done += size;
    if (done % 100_000 === 0) process.stdout.write(`  seeded ${done}\n`);
  }
  await db.query('ANALYZE audit_records');
  return (performance.now() - started) / 1000;
}

const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const startLoad = loadavg()[0] ?? 0;
console.log(
  `audit bench: ${cpus().length} CPUs, load ${startLoad.toFixed(2)}, ${seconds}s per run, ${records} records to verify`,
);

const appendsDb = await createThrowawayDatabase(server, 'hms_bench_audit_appends');
const appendRuns: { shape: string; plain: number[]; chain: number[]; ratio: number }[] = [];
try {
  const chainDb = new PostgresDb({ url: appendsDb.url, schema: 'audit' });
  const plainDb = new PostgresDb({ url: appendsDb.url, schema: 'audit_plain' });
  await prepareDatabase(auditService, chainDb);
  await prepareDatabase(auditService, plainDb);
  for (const { writers, batch } of shapes) {
    const run = { shape: `${writers}x${batch}`, plain: [] as number[], chain: [] as number[], ratio: 0 };
    for (let round = 0; round < 2; round += 1) {
      run.plain.push(await rate(writers, batch, plain(plainDb)));
      run.chain.push(await rate(writers, batch, chained(chainDb)));
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    run.ratio = sum(run.chain) / sum(run.plain);
    appendRuns.push(run);
    console.log(
      `appends ${run.shape}: plain ${run.plain.map((r) => r.toFixed(0)).join(', ')}/s, chain ${run.chain
        .map((r) => r.toFixed(0))
        .join(', ')}/s: chain/plain ${(run.ratio * 100).toFixed(0)} % (target ≥ 50 %)`,
    );
  }
  await chainDb.close();
  await plainDb.close();
} finally {
  await appendsDb.drop();
}

const verifyDb = await createThrowawayDatabase(server, 'hms_bench_audit_verify');
let verification: Record<string, unknown>;
try {
  const db = new PostgresDb({ url: verifyDb.url, schema: 'audit' });
  await prepareDatabase(auditService, db);
  const seedSeconds = await seed(db, records);
  await db.close();
  console.log(`seeded ${records} chained records in ${seedSeconds.toFixed(1)} s`);
  const child = fileURLToPath(new URL('./verify-child.js', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', child, verifyDb.url], { encoding: 'utf8' });
  verification = {
    ...(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>),
    seedSeconds,
  };
  console.log(
    `verify ${String(verification.checked)} records: ${Number(verification.seconds).toFixed(1)} s (target ≤ 60 s), ` +
      `peak RSS ${Number(verification.peakAboveIdleMiB).toFixed(1)} MiB above idle ${Number(verification.idleMiB).toFixed(0)} MiB ` +
      `(target ≤ 100 MB), breaks ${String(verification.breakCount)}`,
  );
} finally {
  await verifyDb.drop();
}

const endLoad = loadavg()[0] ?? 0;
console.log(`load ${startLoad.toFixed(2)} at start, ${endLoad.toFixed(2)} at end`);
const dir = fileURLToPath(new URL('../../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}audit-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(
  file,
  JSON.stringify({ seconds, shapes: appendRuns, verification, load: [startLoad, endLoad] }, null, 2),
);
console.log(`wrote ${file}`);
