import { DEFENCE_COUNTER_NAMES, type DefenceCounterName, type DefenceCountsJson } from './defence-counters.js';

/**
 * A counter's name in words, for text output: `connectionsRefused` → `connections refused`, `tlsHandshakeFailures`
 * → `TLS handshake failures`. Derived from the name (the dashboard's browser page, which imports only types, splits
 * it the same way), so a new counter needs no second list.
 */
export function defenceCounterWords(name: DefenceCounterName): string {
  return name.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`).replace(/^tls\b/, 'TLS');
}

/**
 * `3 connections refused, 120 streams reset`: the non-zero counters, in {@link DEFENCE_COUNTER_NAMES}' order; an empty
 * string when every one is zero.
 */
export function describeDefenceCounts(counts: DefenceCountsJson): string {
  return DEFENCE_COUNTER_NAMES.filter((name) => counts[name] > 0)
    .map((name) => `${counts[name]} ${defenceCounterWords(name)}`)
    .join(', ');
}
