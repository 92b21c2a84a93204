/**
 * The chain's append and walk, for tools that run them outside the service (bench/audit): the
 * same code the consumer and GET /audit/verify run. Imported as `@hms/audit/chain`.
 */
export { appendDrafts } from './append.js';
export { walkChain } from './verify.js';
export { link, EMPTY_HEAD, type ChainHead, type RecordDraft } from './domain/chain.js';
export { insertRecords } from './store.js';
