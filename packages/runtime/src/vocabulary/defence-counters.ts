/**
 * What a server counts, instead of storing a row each, when it defends itself against hostile or broken clients.
 * Each counter is a running total since the server started (a Prometheus counter); `grpcforge status` shows them as of
 * each instance's last heartbeat. The order is the order they are shown in.
 */
export const DEFENCE_COUNTERS = {
  connectionsRefused: 'connections closed at once: over the server-wide or per-peer-address connection cap',
  handshakeTimeouts: 'connections closed because the HTTP/2 preface and SETTINGS exchange (or TLS) did not finish in time',
  headerTimeouts: "connections closed because no request's headers arrived in time",
  tlsHandshakeFailures: 'TLS handshakes that failed (bad or missing client certificate, wrong protocol, garbage)',
  rapidResetGoaways: 'connections sent GOAWAY ENHANCE_YOUR_CALM for resetting too many streams (rapid reset)',
  streamsReset: 'streams the client reset before its call reached a handler: counted, not stored as rows',
  authThrottled: 'calls refused RESOURCE_EXHAUSTED without verification, past the failed-authentication limit',
} as const satisfies Record<string, string>;

/** The name of one of {@link DEFENCE_COUNTERS}. */
export type DefenceCounterName = keyof typeof DEFENCE_COUNTERS;

/** Every {@link DEFENCE_COUNTERS} name with its count (`grpcforge status --json`'s `defences`). */
export type DefenceCountsJson = { readonly [Name in DefenceCounterName]: number };

/** The names of {@link DEFENCE_COUNTERS}, in their order. */
export const DEFENCE_COUNTER_NAMES = Object.keys(DEFENCE_COUNTERS) as readonly DefenceCounterName[];

/** Counts of zero for every counter. */
export function zeroDefenceCounts(): DefenceCountsJson {
  return Object.fromEntries(DEFENCE_COUNTER_NAMES.map((name) => [name, 0])) as DefenceCountsJson;
}
