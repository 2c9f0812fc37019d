import { createFileRegistry, fromBinary, fromJson, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { ServerError, Status, type CallContext, type TsProtoServiceDefinition } from 'nice-grpc';
import { RE2JS } from 're2js';
import { RichServerError } from '../error-details/rich-errors.js';
import { parseStatusCode } from '../errors.js';
import type { ErrorDetails } from '../vocabulary/error-details.js';
import { scenarioErrorDetails, type ScenarioError } from './scenario-error.js';

/** A value matcher on a request field (the field path is dotted, in proto JSON names: `user.id`). */
export type FieldMatcher =
  | string
  | number
  | boolean
  /** YAML `~` or `null`: the field is unset (proto JSON leaves it out) or null. */
  | null
  /**
   * `regex` is RE2 syntax (re2js), matched in time linear in the input: no backreferences or lookaround, which are
   * refused when the scenario loads.
   */
  | { readonly equals?: unknown; readonly contains?: string; readonly regex?: string };

/** What a rule answers. */
export interface ScenarioOutcome {
  /** A response message in proto JSON form (Timestamps as RFC 3339 strings, enums by name). */
  readonly respond?: Readonly<Record<string, unknown>>;
  /** For server-streaming and bidi RPCs: the messages to send, in order. */
  readonly stream?: readonly Readonly<Record<string, unknown>>[];
  /**
   * A gRPC error: code name (`NOT_FOUND`) or number, its message, and the details sent in `grpc-status-details-bin`
   * (`details`, the `ErrorDetails` shape; `reason`, `domain` and `metadata` are a shortcut for `details.errorInfo`).
   */
  readonly error?: ScenarioError;
  /** Wait this long before answering (ms); with `stream`, between messages too. */
  readonly delayMs?: number;
}

/** A rule: when the request matches, answer with the outcome (or the sequence's entry for this call number). */
export interface ScenarioRule extends ScenarioOutcome {
  /** Request fields and their matchers; a rule without `match` matches every request. */
  readonly match?: Readonly<Record<string, FieldMatcher>>;
  /** Outcomes by call number of this rule: the first call gets the first, and the last one repeats. */
  readonly sequence?: readonly ScenarioOutcome[];
}

/** A scenario file: rules per RPC name (as in the contract), first match wins; unmatched calls are UNIMPLEMENTED. */
export interface Scenario {
  /** Fully-qualified service the scenario is for (checked against the definition when given). */
  readonly service?: string;
  readonly methods: Readonly<Record<string, readonly ScenarioRule[]>>;
}

interface Codec {
  fromJSON?(value: unknown): unknown;
  toJSON?(message: unknown): unknown;
}

/** Options of {@link createScenarioHandlers}. */
export interface ScenarioOptions {
  /**
   * FileDescriptorSet (protobuf binary) with the service: every `respond` and `stream` body is then checked against
   * the RPC's response type when the scenario loads (an unknown field or a value of the wrong type is an error).
   * Without it, bodies go through ts-proto's `fromJSON`, which drops unknown fields.
   */
  readonly descriptorSet?: Uint8Array;
}

/**
 * Turns a scenario into handlers for {@link startStub}: each call is matched against the RPC's rules in order. An
 * `error` with details answers with a `RichServerError`, so the stub sends them in `grpc-status-details-bin`.
 * @throws Error naming the rule (`scenario: Login[1].respond: ...`) when the scenario names an RPC the definition
 * lacks, an unknown status code, error details of the wrong shape (`scenario: Login[1].error.details.badRequest:
 * ...`), a regex that is not RE2 syntax, or (with `descriptorSet`) a body that does not fit the response type.
 */
export function createScenarioHandlers(
  definition: TsProtoServiceDefinition,
  scenario: Scenario,
  options: ScenarioOptions = {},
): Record<string, unknown> {
  if (scenario.service && scenario.service !== definition.fullName) {
    throw new Error(`scenario is for ${scenario.service}, not ${definition.fullName}`);
  }
  const checkBodies = options.descriptorSet ? bodyChecker(options.descriptorSet, definition.fullName) : undefined;
  // ErrorInfo's domain when a rule names none: the service's proto package, as a contract's error catalog has it.
  const domain = definition.fullName.slice(0, Math.max(0, definition.fullName.lastIndexOf('.')));
  const errorDetails = new Map<ScenarioOutcome, ErrorDetails>();
  const handlers: Record<string, unknown> = {};
  for (const [rpc, rules] of Object.entries(scenario.methods)) {
    const entry = Object.entries(definition.methods).find(([, method]) => method.name === rpc);
    if (!entry) {
      const known = Object.values(definition.methods)
        .map((method) => method.name)
        .join(', ');
      throw new Error(`scenario: ${definition.fullName} has no RPC "${rpc}" (known: ${known})`);
    }
    const [key, method] = entry;
    if (!isList(rules)) throw new Error(`scenario: methods.${rpc}: expected a list of rules`);
    rules.forEach((rule, index) => {
      const outcomes: [string, ScenarioOutcome][] = [
        [`${rpc}[${index}]`, rule],
        ...(rule.sequence ?? []).map((outcome, step): [string, ScenarioOutcome] => [
          `${rpc}[${index}].sequence[${step}]`,
          outcome,
        ]),
      ];
      for (const [where, outcome] of outcomes) {
        if (outcome.error !== undefined) {
          const details = scenarioErrorDetails(outcome.error, where, domain);
          statusOf(outcome.error.code, where);
          if (details) errorDetails.set(outcome, details);
        }
        checkBodies?.(method.name, where, outcome);
      }
    });
    const requestCodec = method.requestType as Codec;
    const responseCodec = method.responseType as Codec;
    const counts = rules.map(() => 0);
    const matchers = rules.map((rule, index) => compileMatch(rule.match, `${rpc}[${index}]`));
    const choose = (request: unknown): ScenarioOutcome => {
      const json = (requestCodec.toJSON ? requestCodec.toJSON(request) : request) as Record<string, unknown>;
      const index = matchers.findIndex((matches) => matches(json));
      if (index < 0) throw new ServerError(Status.UNIMPLEMENTED, `no scenario rule of ${method.name} matches this request`);
      const rule = rules[index]!;
      const call = counts[index]!++;
      return rule.sequence?.length ? rule.sequence[Math.min(call, rule.sequence.length - 1)]! : rule;
    };
    const message = (value: Readonly<Record<string, unknown>> | undefined) =>
      responseCodec.fromJSON ? responseCodec.fromJSON(value ?? {}) : (value ?? {});
    const fail = (outcome: ScenarioOutcome) => {
      if (!outcome.error) return;
      const status = statusOf(outcome.error.code);
      const details = errorDetails.get(outcome);
      if (details) throw new RichServerError(status, outcome.error.message ?? '', details);
      throw new ServerError(status, outcome.error.message ?? '');
    };
    const firstOf = async (requests: AsyncIterable<unknown>) => {
      const all: unknown[] = [];
      for await (const request of requests) all.push(request);
      return all[0] ?? {};
    };
    if (!method.responseStream) {
      handlers[key] = async (input: unknown, context: CallContext) => {
        // A client-streaming call is matched on its first message.
        const outcome = choose(method.requestStream ? await firstOf(input as AsyncIterable<unknown>) : input);
        await sleep(outcome.delayMs, context.signal);
        fail(outcome);
        return message(outcome.respond);
      };
    } else if (!method.requestStream) {
      handlers[key] = async function* (request: unknown, context: CallContext) {
        const outcome = choose(request);
        await sleep(outcome.delayMs, context.signal);
        for (const item of outcome.stream ?? (outcome.respond ? [outcome.respond] : [])) {
          yield message(item);
          await sleep(outcome.delayMs, context.signal);
        }
        fail(outcome);
      };
    } else {
      // Bidi: every incoming message is matched on its own and answered in order.
      handlers[key] = async function* (requests: AsyncIterable<unknown>, context: CallContext) {
        for await (const request of requests) {
          const outcome = choose(request);
          await sleep(outcome.delayMs, context.signal);
          fail(outcome);
          for (const item of outcome.stream ?? (outcome.respond ? [outcome.respond] : [])) yield message(item);
        }
      };
    }
  }
  return handlers;
}

/**
 * A check of an outcome's `respond` and `stream` bodies against the response type of an RPC, from descriptors.
 * @throws Error naming the body (`scenario: Login[1].respond: ...`) with protobuf-es's reason.
 */
function bodyChecker(descriptorSet: Uint8Array, service: string) {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const descriptor = registry.getService(service);
  if (!descriptor) throw new Error(`scenario: the descriptors have no service ${service}`);
  const check = (type: DescMessage, where: string, body: unknown) => {
    try {
      fromJson(type, body as JsonValue, { registry });
    } catch (error) {
      const reason = (error as Error).message.replace(/^cannot decode message \S+ from JSON: /, '');
      throw new Error(`scenario: ${where}: does not fit ${type.typeName}: ${reason}`);
    }
  };
  return (rpc: string, where: string, outcome: ScenarioOutcome) => {
    const output = descriptor.methods.find((method) => method.name === rpc)?.output;
    if (!output) return;
    if (outcome.respond !== undefined) check(output, `${where}.respond`, outcome.respond);
    (outcome.stream ?? []).forEach((body, index) => check(output, `${where}.stream[${index}]`, body));
  };
}

/** `Array.isArray` without narrowing (YAML may give anything where the types say a list). */
const isList = (value: unknown): boolean => Array.isArray(value);

/** A status by its number or its name (`NOT_FOUND`, case-insensitive), as scenario files write it. */
function statusOf(code: string | number, where?: string): Status {
  const status = parseStatusCode(code);
  if (status === undefined) {
    throw new Error(`scenario: ${where === undefined ? '' : `${where}.error.code: `}"${code}" is not a gRPC status code`);
  }
  return status;
}

/**
 * Compiles a rule's `match` into a predicate over the request in proto JSON form (regexes compiled once, with re2js:
 * matching takes time linear in the input, so a scenario cannot stall the stub with `^(a+)+$`).
 * @throws Error naming the rule when a regex is not valid RE2 syntax (backreferences and lookaround are not).
 */
function compileMatch(match: ScenarioRule['match'], where: string): (request: Record<string, unknown>) => boolean {
  const checks = Object.entries(match ?? {}).map(([path, matcher]) => {
    const keys = path.split('.');
    const valueOf = (request: Record<string, unknown>) =>
      keys.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], request);
    if (matcher === null || typeof matcher !== 'object') {
      return (request: Record<string, unknown>) => {
        const value = valueOf(request);
        return value === matcher || String(value) === String(matcher);
      };
    }
    let regex: RE2JS | undefined;
    try {
      regex = matcher.regex === undefined ? undefined : RE2JS.compile(matcher.regex);
    } catch (error) {
      throw new Error(
        `scenario: ${where}.match.${path}.regex: expected an RE2 regular expression (linear time: no backreferences ` +
          `or lookaround): ${(error as Error).message}`,
      );
    }
    const equals = 'equals' in matcher ? JSON.stringify(matcher.equals) : undefined;
    return (request: Record<string, unknown>) => {
      const value = valueOf(request);
      if (equals !== undefined && JSON.stringify(value) !== equals) return false;
      if (matcher.contains !== undefined && !textOf(value).includes(matcher.contains)) return false;
      return regex === undefined || regex.matcher(textOf(value)).find();
    };
  });
  return (request) => checks.every((check) => check(request));
}

/** A request field as text for `contains` and `regex`: strings as they are, anything else as JSON. */
function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function sleep(ms: number | undefined, signal: AbortSignal): Promise<void> {
  if (!ms) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      },
      { once: true },
    );
  });
}
