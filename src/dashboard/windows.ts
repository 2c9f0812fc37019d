/**
 * The windows the dashboard offers. A module that imports nothing: `grpcforge dashboard --help` and the CLI's flag
 * checks read it without loading the runtime.
 */

import { DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS } from '@grpcforge/runtime/vocabulary';

/** The windows the dashboard offers, and the timeline bucket that fits each (ms). */
export const DASHBOARD_WINDOWS = {
  '15m': { windowMs: 15 * MINUTE_MS, bucketMs: MINUTE_MS },
  '1h': { windowMs: HOUR_MS, bucketMs: MINUTE_MS },
  '6h': { windowMs: 6 * HOUR_MS, bucketMs: 5 * MINUTE_MS },
  '24h': { windowMs: DAY_MS, bucketMs: HOUR_MS },
  '7d': { windowMs: WEEK_MS, bucketMs: 6 * HOUR_MS },
} as const;

/** `15m`, `1h`, `6h`, `24h` or `7d`. */
export type DashboardWindow = keyof typeof DASHBOARD_WINDOWS;

/** Whether `value` is one of {@link DASHBOARD_WINDOWS}. */
export const isDashboardWindow = (value: string): value is DashboardWindow => Object.hasOwn(DASHBOARD_WINDOWS, value);
