import {
  DEFENCE_COUNTER_NAMES,
  zeroDefenceCounts,
  type DefenceCounterName,
  type DefenceCountsJson,
} from '../vocabulary/defence-counters.js';

/**
 * A server's running totals of what its defences refused, closed or did not store (see the vocabulary's
 * `DEFENCE_COUNTERS` for each name's meaning). One per server; the connection guard, the call accounting and auth
 * count into it; the service host writes a snapshot with each heartbeat; the Prometheus exporter reads it.
 */
export interface DefenceCounters {
  /** Adds `by` (default 1) to the counter `name`. */
  count(name: DefenceCounterName, by?: number): void;
  /** The totals now, a fresh object. */
  snapshot(): DefenceCountsJson;
}

/** A {@link DefenceCounters} starting at zero. */
export function createDefenceCounters(): DefenceCounters {
  const counts: Record<DefenceCounterName, number> = { ...zeroDefenceCounts() };
  return {
    count(name, by = 1) {
      counts[name] += by;
    },
    snapshot() {
      return Object.fromEntries(DEFENCE_COUNTER_NAMES.map((name) => [name, counts[name]])) as DefenceCountsJson;
    },
  };
}
