import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, WEEK_MS } from '@grpcforge/runtime/vocabulary';
import { UserError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS, w: WEEK_MS };

/**
 * Parses a duration such as `500ms`, `45s`, `15m`, `1h`, `30d` or `2w` into milliseconds.
 * @param what the flag, for the error message (`--since`).
 * @throws UserError `bad-duration` naming the flag and the accepted form.
 */
export function parseDuration(value: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (!match)
    throw new UserError(
      'bad-duration',
      `${what}: "${value}" is not a duration (expected a number and ms, s, m, h, d or w, like 1h or 30d)`,
    );
  return Number(match[1]) * UNITS[match[2]!]!;
}

/** `93784000` → `1d 2h`, `3600000` → `1h`: the two largest non-zero units, for people. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const amount = Math.floor(rest / size);
    rest %= size;
    if (amount > 0) parts.push(`${amount}${unit}`);
    else if (parts.length > 0) break; // 1h 0m 5s reads better as 1h
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
