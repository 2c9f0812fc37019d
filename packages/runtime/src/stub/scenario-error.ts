import { ERROR_DETAIL_KINDS, type ErrorDetails, type ErrorInfoDetail } from '../vocabulary/error-details.js';

/**
 * The error details a scenario writes (YAML or JSON): the {@link ErrorDetails} shape, with `retryInfo.retryDelayMs` in
 * ms. Entries of unknown types (`unknown`) cannot be written in a scenario. A `debugInfo` is checked like the rest,
 * but error mapping drops it unless the stub allows DebugInfo (`StubOptions.errors.debugInfo`, which `serve --stub`
 * takes from `server.errors.debugInfo`).
 */
export type ScenarioErrorDetails = Omit<ErrorDetails, 'unknown'>;

/** An outcome's `error` as a scenario writes it. */
export interface ScenarioError {
  /** The status code: its name (`INVALID_ARGUMENT`, case-insensitive) or number. */
  readonly code: string | number;
  /** The status message. @defaultValue `''` */
  readonly message?: string;
  /** Shortcut for `details.errorInfo.reason` (UPPER_SNAKE_CASE, e.g. `INVALID_CREDENTIALS`). */
  readonly reason?: string;
  /** Shortcut for `details.errorInfo.domain`. @defaultValue the proto package of the service (`auth.v1`) */
  readonly domain?: string;
  /** Shortcut for `details.errorInfo.metadata` (strings; numbers and booleans are written as text). */
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
  /** What `grpc-status-details-bin` carries (google.rpc.Status details). */
  readonly details?: ScenarioErrorDetails;
}

const ERROR_KEYS = ['code', 'message', 'reason', 'domain', 'metadata', 'details'];

type Fields = Record<string, unknown>;

/** Thrown with the path of the value at fault; the caller prefixes `scenario: `. */
class ShapeError extends Error {}

const fail = (where: string, expected: string, value: unknown): never => {
  throw new ShapeError(
    `${where}: expected ${expected}, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`,
  );
};

function object(value: unknown, where: string, keys: readonly string[], required: readonly string[] = []): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, `an object (${keys.join(', ')})`, value);
  const fields = value as Fields;
  for (const key of Object.keys(fields)) {
    if (!keys.includes(key)) throw new ShapeError(`${where}: unknown key "${key}" (expected ${keys.join(', ')})`);
  }
  for (const key of required) if (fields[key] === undefined) throw new ShapeError(`${where}.${key}: missing`);
  return fields;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(where, 'a string', value);
  return value as string;
}

const optionalText = (value: unknown, where: string) => (value === undefined ? undefined : text(value, where));

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) fail(where, 'a list', value);
  return value as unknown[];
}

/** Strings by key; YAML scalars that are not strings (`limit: 10`, `beta: true`) become text. */
function stringMap(value: unknown, where: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'an object of strings', value);
  const map: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value as Fields)) {
    if (typeof entry !== 'string' && typeof entry !== 'number' && typeof entry !== 'boolean') {
      fail(`${where}.${key}`, 'a string', entry);
    }
    map[key] = String(entry);
  }
  return map;
}

/** Builds one entry of a list of objects with the given string fields, some optional. */
function entries<Entry>(value: unknown, where: string, required: readonly string[], optional: readonly string[] = []): Entry[] {
  return list(value, where).map((item, index) => {
    const at = `${where}[${index}]`;
    const fields = object(item, at, [...required, ...optional], required);
    const entry: Record<string, string> = {};
    for (const key of [...required, ...optional]) {
      const field = optionalText(fields[key], `${at}.${key}`);
      if (field !== undefined) entry[key] = field;
    }
    return entry as Entry;
  });
}

function errorInfo(value: unknown, where: string, defaultDomain: string): ErrorInfoDetail {
  const fields = object(value, where, ['reason', 'domain', 'metadata'], ['reason']);
  return {
    reason: text(fields.reason, `${where}.reason`),
    domain: optionalText(fields.domain, `${where}.domain`) ?? defaultDomain,
    ...(fields.metadata !== undefined ? { metadata: stringMap(fields.metadata, `${where}.metadata`) } : {}),
  };
}

/** Every kind of detail a scenario may write: those the runtime encodes (not `unknown`, which is bytes). */
const DETAIL_KEYS = ERROR_DETAIL_KINDS satisfies readonly (keyof ScenarioErrorDetails)[];

/** Checks every kind of detail a scenario may write, and builds it. */
function errorDetails(value: unknown, where: string, defaultDomain: string): ErrorDetails {
  const fields = object(value, where, DETAIL_KEYS);
  const details: Record<string, unknown> = {};
  const at = (key: string) => `${where}.${key}`;
  if (fields.badRequest !== undefined) {
    const badRequest = object(fields.badRequest, at('badRequest'), ['fieldViolations'], ['fieldViolations']);
    details.badRequest = {
      fieldViolations: entries(
        badRequest.fieldViolations,
        `${at('badRequest')}.fieldViolations`,
        ['field', 'description'],
        ['reason'],
      ),
    };
  }
  if (fields.errorInfo !== undefined) details.errorInfo = errorInfo(fields.errorInfo, at('errorInfo'), defaultDomain);
  if (fields.retryInfo !== undefined) {
    const retry = object(fields.retryInfo, at('retryInfo'), ['retryDelayMs'], ['retryDelayMs']);
    const ms = retry.retryDelayMs;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      fail(`${at('retryInfo')}.retryDelayMs`, 'a number of ms, 0 or more', ms);
    details.retryInfo = { retryDelayMs: ms };
  }
  if (fields.quotaFailure !== undefined) {
    const quota = object(fields.quotaFailure, at('quotaFailure'), ['violations'], ['violations']);
    details.quotaFailure = {
      violations: entries(quota.violations, `${at('quotaFailure')}.violations`, ['subject', 'description']),
    };
  }
  if (fields.preconditionFailure !== undefined) {
    const precondition = object(fields.preconditionFailure, at('preconditionFailure'), ['violations'], ['violations']);
    details.preconditionFailure = {
      violations: entries(precondition.violations, `${at('preconditionFailure')}.violations`, ['type', 'subject', 'description']),
    };
  }
  if (fields.resourceInfo !== undefined) {
    [details.resourceInfo] = entries(
      [fields.resourceInfo],
      at('resourceInfo'),
      ['resourceType', 'resourceName'],
      ['owner', 'description'],
    );
  }
  if (fields.requestInfo !== undefined) {
    [details.requestInfo] = entries([fields.requestInfo], at('requestInfo'), ['requestId'], ['servingData']);
  }
  if (fields.help !== undefined) {
    const help = object(fields.help, at('help'), ['links'], ['links']);
    details.help = { links: entries(help.links, `${at('help')}.links`, ['description', 'url']) };
  }
  if (fields.localizedMessage !== undefined) {
    [details.localizedMessage] = entries([fields.localizedMessage], at('localizedMessage'), ['locale', 'message']);
  }
  if (fields.debugInfo !== undefined) {
    const debug = object(fields.debugInfo, at('debugInfo'), ['stackEntries', 'detail']);
    details.debugInfo = {
      stackEntries: list(debug.stackEntries ?? [], `${at('debugInfo')}.stackEntries`).map((entry, index) =>
        text(entry, `${at('debugInfo')}.stackEntries[${index}]`),
      ),
      detail: optionalText(debug.detail, `${at('debugInfo')}.detail`) ?? '',
    };
  }
  return details;
}

/**
 * Checks an outcome's `error` and returns the details it answers with: `details` as written, with `reason`,
 * `domain` and `metadata` as its `errorInfo` (the domain defaults to `defaultDomain`).
 * @param where the rule's path for messages, e.g. `Login[1]`
 * @param defaultDomain the proto package of the stubbed service, e.g. `auth.v1`
 * @returns `undefined` for an error without details
 * @throws Error naming the value at fault (`scenario: Login[1].error.details.badRequest.fieldViolations[0].field:
 * expected a string, got number`): an unknown key, a value of the wrong type, a missing required field, or both
 * `reason` and `details.errorInfo`
 */
export function scenarioErrorDetails(error: unknown, where: string, defaultDomain: string): ErrorDetails | undefined {
  const at = `${where}.error`;
  try {
    const fields = object(error, at, ERROR_KEYS, ['code']);
    optionalText(fields.message, `${at}.message`);
    const details = fields.details === undefined ? {} : errorDetails(fields.details, `${at}.details`, defaultDomain);
    const shortcut = ['reason', 'domain', 'metadata'].filter((key) => fields[key] !== undefined);
    if (shortcut.length > 0) {
      if (details.errorInfo) {
        throw new ShapeError(`${at}: ${shortcut.join(', ')} and details.errorInfo both give the ErrorInfo: write one`);
      }
      if (fields.reason === undefined)
        throw new ShapeError(`${at}.reason: missing (an ErrorInfo with ${shortcut.join(' and ')} needs a reason)`);
      return {
        ...details,
        errorInfo: errorInfo({ reason: fields.reason, domain: fields.domain, metadata: fields.metadata }, at, defaultDomain),
      };
    }
    return Object.keys(details).length > 0 ? details : undefined;
  } catch (problem) {
    if (problem instanceof ShapeError) throw new Error(`scenario: ${problem.message}`);
    throw problem;
  }
}
