import type { RequestLog, RequestLogs } from '@grpcforge/runtime';

/**
 * The live tail's reads: the calls committed after a row id. The store lists the last to finish first and knows no
 * "after", so this pages back (with `beforeId`) until it reaches the id already sent.
 */

/** The calls sent first when a tail starts: the last this many. */
export const TAIL_FIRST = 20;
/** At most this many calls per tick; more than that (a burst over 1,000 calls per second) are skipped, oldest first. */
export const TAIL_MAX_PER_TICK = 1000;
const PAGE = 200;

/**
 * The calls with an id above `afterId`, oldest first (the order to send them in), at most {@link TAIL_MAX_PER_TICK}
 * (the newest ones). `afterId` undefined: the last {@link TAIL_FIRST}.
 */
export async function callsAfter(logs: Pick<RequestLogs, 'list'>, afterId: number | undefined): Promise<RequestLog[]> {
  if (afterId === undefined) return (await logs.list({ limit: TAIL_FIRST })).reverse();
  const found: RequestLog[] = [];
  let beforeId: number | undefined;
  while (found.length < TAIL_MAX_PER_TICK) {
    const page = await logs.list({ limit: PAGE, ...(beforeId !== undefined ? { beforeId } : {}) });
    const newer = page.filter((log) => log.id > afterId);
    found.push(...newer);
    if (newer.length < page.length || page.length < PAGE) break;
    beforeId = page.at(-1)?.id;
  }
  return found.slice(0, TAIL_MAX_PER_TICK).reverse();
}
