import { randomFillSync } from 'node:crypto';

/**
 * Random bytes handed out from a pool refilled 4 KiB at a time: one system call for ~250 ids
 * rather than one (or two) per id, which showed up in the gateway's profile (a request id and
 * span ids on every request). The bytes are the same CSPRNG's; each is handed out once.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** `n` (≤ 64) fresh random bytes, copied into `target` at `at`. */
export function fillRandom(target: Buffer, at: number, n: number): void {
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool.copy(target, at, poolOffset, poolOffset + n);
  poolOffset += n;
}

/** `bytes` random bytes as lowercase hex (trace and span ids). */
export function randomHex(bytes: number): string {
  const b = Buffer.allocUnsafe(bytes);
  fillRandom(b, 0, bytes);
  return b.toString('hex');
}

let lastMs = 0;
let seq = 0;

/**
 * RFC 9562 UUID version 7: 48-bit Unix milliseconds, then random bits. Within one millisecond a
 * 12-bit counter in `rand_a` keeps ids from one process increasing, so keyset order by id is
 * insertion order.
 */
export function uuidv7(now = Date.now()): string {
  const b = Buffer.allocUnsafe(16);
  fillRandom(b, 0, 16);
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1; // counter wrapped: borrow the next millisecond
    now = lastMs;
  } else {
    lastMs = now;
    seq = b.readUInt16BE(6) & 0x7ff; // a random start, with headroom for the counter
  }
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
