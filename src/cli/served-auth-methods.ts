import { readServiceDefinition } from '@grpcforge/runtime';
import { formatConfigProblem, locateConfigProblems } from '../config/load.js';
import type { ResolvedConfig, ResolvedService } from '../config/resolved.js';
import { checkAuthMethodKeys, type KnownService } from '../config/auth-methods.js';
import type { ConfigProblem } from '../config/resolved.js';
import { UserError } from '../util/errors.js';

/**
 * The services and RPC names of loaded ts-proto definitions (`fullName`, `methods[*].name`), as `serve` has them:
 * serve does not run buf, so the generated code is what it knows. Definitions without those fields are skipped.
 */
export function knownServicesOf(definitions: readonly object[]): KnownService[] {
  return definitions.flatMap((definition) => {
    const { fullName, methods } = readServiceDefinition(definition);
    return fullName === undefined ? [] : [{ fullName, methods: methods.map((method) => method.name) }];
  });
}

/**
 * The `auth.methods` keys that name a service this server serves (or a likely typo of one) but not one of its RPCs.
 * Keys of services served or consumed elsewhere in grpcforge.yaml are left to `generate` and `lint`, which check them
 * against the contracts. Pure.
 * @param definitions the definitions of the loaded server entry (`entry.services[*].definition`).
 */
export function checkServedAuthMethods(
  config: ResolvedConfig,
  service: ResolvedService,
  definitions: readonly object[],
): ConfigProblem[] {
  const known = knownServicesOf(definitions);
  const served = new Set(known.map((entry) => entry.fullName));
  const others = config.services
    .flatMap((candidate) => [...candidate.serves, ...candidate.consumes.map((consume) => consume.service)])
    .filter((name) => !served.has(name));
  return checkAuthMethodKeys(config.auth.methods, known, { source: `that "${service.name}" serves`, otherServices: others });
}

/**
 * Refuses to serve when {@link checkServedAuthMethods} finds a problem: a rule whose RPC was renamed or misspelt
 * would otherwise silently fall back to `auth.default`.
 * @throws UserError `config-invalid` with one `grpcforge.yaml:LINE:COL: auth.methods["…"]: …` line per key.
 */
export async function assertServedAuthMethods(
  config: ResolvedConfig,
  service: ResolvedService,
  registrations: readonly { readonly definition: object }[],
): Promise<void> {
  const problems = checkServedAuthMethods(
    config,
    service,
    registrations.map((registration) => registration.definition),
  );
  if (problems.length === 0) return;
  const located = await locateConfigProblems(config.configPath, problems);
  throw new UserError('config-invalid', `auth.methods in grpcforge.yaml does not match what "${service.name}" serves`, [
    ...located.map((problem) => formatConfigProblem(config.configPath, problem)),
    'if the contracts changed, run `grpcforge generate` first',
  ]);
}
