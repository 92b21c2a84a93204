import type { Db, Queryable } from '../db/types.js';
import { CommonErrors } from '../errors.js';
import type { UpstreamClient } from '../http/client.js';

/** What a local copy keeps of one entry: its version at the owner and the fields the copier needs. */
export interface CopiedEntry<T> {
  version: number;
  data: T;
}

export interface LocalCopyOptions<T> {
  /** What is copied, unique within the service ('staff', 'patient-allergies'). */
  kind: string;
  /** The owning service, read through when the copy lacks an entry. */
  owner: string;
  /** The owner's path of one entry (`/api/v1/staff/${id}`). */
  path: (id: string) => string;
  /**
   * What the owner answered (200), as the entry to keep: the version and the fields needed, or
   * undefined when the answer is not what was expected (then the owner counts as unable to answer).
   */
  fromOwner: (body: unknown) => CopiedEntry<T> | undefined;
}

/**
 * A copy of another service's data, fed by its events, that is never silently empty (DESIGN.md
 * §5): an entry the copy lacks (this service started after the events, or the owner's outbox was
 * pruned) is read through to the owner with the resilient client and this service's own
 * client-credentials token, kept, and answered; when the owner cannot answer, the caller gets 503
 * with `Retry-After`, never a check that passes because the copy was empty. Entries keep the
 * newest version seen, so events applied out of order never move one back.
 */
export class LocalCopy<T> {
  constructor(
    private readonly opts: LocalCopyOptions<T>,
    private readonly db: Db,
    private readonly owner: UpstreamClient,
  ) {}

  /**
   * Keeps `data` at `version` unless a newer version is kept (in an event handler's transaction).
   * Answers whether the entry changed.
   */
  async apply(tx: Queryable, id: string, entry: CopiedEntry<T>): Promise<boolean> {
    const { rowCount } = await tx.query(
      `INSERT INTO local_copies (kind, id, version, data) VALUES ($1, $2, $3, $4)
       ON CONFLICT (kind, id) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data, updated_at = now()
        WHERE local_copies.version < EXCLUDED.version`,
      [this.opts.kind, id, entry.version, JSON.stringify(entry.data)],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The entry as copied, without asking the owner; undefined when the copy lacks it. */
  async cached(id: string, db: Queryable = this.db): Promise<CopiedEntry<T> | undefined> {
    const { rows } = await db.query<{ version: number; data: T }>(
      'SELECT version, data FROM local_copies WHERE kind = $1 AND id = $2',
      [this.opts.kind, id],
    );
    return rows[0] ? { version: rows[0].version, data: rows[0].data } : undefined;
  }

  /**
   * The entry: from the copy, else read through to the owner and kept. Undefined when the owner
   * has no such entry (404); 503 with `Retry-After` when it cannot answer. Call it outside any
   * transaction of this service's (a read-through is a network call).
   */
  async get(id: string): Promise<T | undefined> {
    const kept = await this.cached(id);
    if (kept) return kept.data;
    const res = await this.owner.request('GET', this.opts.path(id), { asService: true });
    if (res.status === 404) return undefined;
    const entry = res.status === 200 ? this.opts.fromOwner(res.body) : undefined;
    if (!entry)
      throw CommonErrors.unavailable(`${this.opts.owner} could not say what ${this.opts.kind} ${id} is`, {
        headers: { 'retry-after': '5' },
        extensions: { upstream: this.opts.owner },
      });
    await this.apply(this.db, id, entry);
    return (await this.cached(id))?.data ?? entry.data;
  }
}
