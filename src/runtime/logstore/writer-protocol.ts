import type { Insertable } from 'kysely';
import type { ServerInstanceTable } from './database.js';
import type { RowBatch } from './row-batch.js';

/** Why rows were not written. */
export type DropReason = 'queueFull' | 'writeError' | 'storeGone';

/** Rows dropped, by reason. */
export type DroppedBy = Readonly<Record<DropReason, number>>;

/** Rows dropped for any reason. */
export function totalDropped(droppedBy: DroppedBy): number {
  return droppedBy.queueFull + droppedBy.writeError + droppedBy.storeGone;
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
