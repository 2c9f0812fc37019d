import { UserError } from '../util/errors.js';

/**
 * Parses a whole-number flag (`--port`, `--limit`, `--deadline`, ...).
 * @param fallback returned when the flag was not given.
 * @param min smallest accepted value. @defaultValue 0
 * @throws UserError `bad-flag` naming the flag, the value and what was expected.
 */
export function parseWholeNumber(value: string | undefined, flag: string, fallback: number, min?: number): number;
export function parseWholeNumber(value: string | undefined, flag: string, fallback?: undefined, min?: number): number | undefined;
export function parseWholeNumber(value: string | undefined, flag: string, fallback?: number, min = 0): number | undefined {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) {
    throw new UserError('bad-flag', `${flag}: expected a whole number ≥ ${min}, got "${value}"`);
  }
  return number;
}
