import type { Tx } from '@hms/platform';
import { EMPTY_HEAD, link, type ChainHead, type RecordDraft } from './domain/chain.js';
import { insertRecords, lockChainHead } from './store.js';

/**
 * The head each appending transaction holds. The kit's inbox applies the deliveries waiting
 * together in one transaction (group commit); the first append takes the chain's lock and reads
 * the head, the others of the batch link on from what the transaction appended, so a batch pays
 * for one serialisation point. Keyed by the transaction object: gone with it.
 */
const heads = new WeakMap<Tx, ChainHead>();

/** Links the drafts after the chain's head and appends them in `tx`; answers the new head. */
export async function appendDrafts(tx: Tx, drafts: readonly RecordDraft[]): Promise<ChainHead> {
  let head = heads.get(tx) ?? (await lockChainHead(tx)) ?? EMPTY_HEAD;
  const records = link(head, drafts);
  await insertRecords(tx, records);
  const last = records[records.length - 1];
  if (last) head = { seq: last.seq, hash: last.hash };
  heads.set(tx, head);
  return head;
}
