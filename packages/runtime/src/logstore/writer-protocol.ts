import type { Insertable } from 'kysely';
import type { ServerInstanceTable } from './database.js';
import type { RowBatch } from './row-batch.js';
import type { DefenceCountsJson } from '../vocabulary/defence-counters.js';

/** Why rows were not written. */
export type DropReason = 'queueFull' | 'writeError' | 'storeGone';

/** Rows dropped, by reason. */
export type DroppedBy = Readonly<Record<DropReason, number>>;

/** Rows dropped for any reason. */
export function totalDropped(droppedBy: DroppedBy): number {
  return droppedBy.queueFull + droppedBy.writeError + droppedBy.storeGone;
}

const DROP_REASON_WORDS: Record<DropReason, string> = {
  queueFull: 'queue full',
  writeError: 'write error',
  storeGone: 'store gone',
};

/** `queue full 3, store gone 1`: the reasons rows were dropped for, those with rows only (for text output). */
export function describeDropped(droppedBy: DroppedBy): string {
  return (Object.entries(droppedBy) as [DropReason, number][])
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${DROP_REASON_WORDS[reason]} ${count}`)
    .join(', ');
}

/** Row counters of one instance, as its heartbeat stores them. */
export interface InstanceCounters {
  readonly recorded: number;
  readonly written: number;
  readonly droppedBy: DroppedBy;
}

/** What the store asks of its writer (in the worker thread, or inline for `:memory:`). */
export type WriterRequest =
  | { readonly type: 'rows'; readonly seq: number; readonly batch: RowBatch }
  | {
      readonly type: 'keyUsage';
      readonly seq: number;
      readonly uses: readonly (readonly [id: string, count: number, lastUsedAt: number])[];
    }
  | { readonly type: 'registerInstance'; readonly seq: number; readonly instance: Insertable<ServerInstanceTable> }
  | {
      readonly type: 'heartbeat';
      readonly seq: number;
      readonly id: string;
      readonly now: number;
      readonly status?: string;
      readonly counters?: InstanceCounters;
      /** The server's defence counters, when it has any (a stub has none). */
      readonly defences?: DefenceCountsJson;
    }
  | { readonly type: 'prune'; readonly seq: number; readonly before: number }
  | { readonly type: 'probe'; readonly seq: number }
  | { readonly type: 'close'; readonly seq: number };

/** The writer's answer to one request, in order. `rows` is how many rows of a `rows` request were committed. */
export type WriterReply =
  | { readonly type: 'done'; readonly seq: number; readonly rows?: number; readonly deleted?: number }
  | {
      readonly type: 'failed';
      readonly seq: number;
      readonly reason: Exclude<DropReason, 'queueFull'>;
      readonly message: string;
    };

/** A request to write rows. */
export type RowsRequest = Extract<WriterRequest, { type: 'rows' }>;

/** Rows committed in one transaction at most, when batches queued up while the writer was busy. */
const MAX_COALESCED_ROWS = 50_000;

/**
 * The requests in the order a writer runs them: each request other than rows alone, consecutive row requests as one
 * run (one transaction) of up to 50,000 rows.
 */
export function* writerRuns(
  requests: readonly WriterRequest[],
): Generator<{ readonly rows: readonly RowsRequest[] } | { readonly request: Exclude<WriterRequest, RowsRequest> }> {
  for (let index = 0; index < requests.length;) {
    const request = requests[index];
    if (!request) break;
    if (request.type !== 'rows') {
      yield { request };
      index++;
      continue;
    }
    const rows: RowsRequest[] = [];
    let count = 0;
    for (let next = requests[index]; next?.type === 'rows' && count < MAX_COALESCED_ROWS; next = requests[++index]) {
      rows.push(next);
      count += next.batch.count;
    }
    yield { rows };
  }
}
