// Durations in milliseconds, the unit of every time setting and timestamp in grpcforge (`…Ms`).

/** One second, in ms. */
export const SECOND_MS = 1000;
/** One minute, in ms: the finest rollup bucket of the log store. */
export const MINUTE_MS = 60 * SECOND_MS;
/** One hour, in ms. */
export const HOUR_MS = 60 * MINUTE_MS;
/** One day of 24 hours, in ms (no calendar: daylight saving time is not taken into account). */
export const DAY_MS = 24 * HOUR_MS;
/** One week of 7 days, in ms. */
export const WEEK_MS = 7 * DAY_MS;
