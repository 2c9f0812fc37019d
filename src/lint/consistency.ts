import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { locateConfigProblems } from '../config/load.js';
import type { ConfigProblem, ResolvedConfig } from '../config/resolved.js';
import { checkServiceNamesExist } from '../config/rules.js';
import type { ContractSet } from '../contract/model.js';
import { handlerFilePath, rpcNamesOf } from '../contract/names.js';
import type { WriteEntry } from '../codegen/write.js';
import { formatKeyPath } from '../config/key-path.js';
import { toPosix } from '../util/fs.js';
import { closestMatch } from '../util/suggest.js';
import type { Finding } from './findings.js';

/**
 * Rule `unknown-service`: every service grpcforge.yaml names exists in the contracts (with the file position and a
 * did-you-mean hint).
 */
export async function checkNames(config: ResolvedConfig, contract: ContractSet): Promise<Finding[]> {
  const root = `${toPosix(relative(config.workspaceDir, config.contract.root)) || '.'}/`;
  const problems = checkServiceNamesExist(
    config,
    contract.services.map((service) => service.fullName),
    root,
    rpcNamesOf(contract),
  );
  const located = await locateConfigProblems(config.configPath, problems);
  return configRuleFindings(
    config,
    located.map((problem) => ({ ...problem, rule: 'unknown-service' })),
  );
}

/** grpcforge.yaml's cross-field rule problems (`consumed-has-provider`, `one-provider`) as consistency findings. */
export function configRuleFindings(config: ResolvedConfig, problems: readonly ConfigProblem[]): Finding[] {
  const file = toPosix(relative(config.workspaceDir, config.configPath));
  return problems.map((problem) => ({
    check: 'consistency' as const,
    rule: problem.rule ?? 'config',
    message: `${problem.path}: ${problem.message}`,
    file,
    ...(problem.line !== undefined ? { line: problem.line, column: problem.column ?? 1 } : {}),
  }));
}

/**
 * Rules `missing-handler` (a served RPC without its handler file: `grpcforge generate` creates it) and
 * `orphaned-handler` (a handler file whose RPC left the contract), from the files on disk and the writer's dry run.
 */
export function checkHandlers(config: ResolvedConfig, contract: ContractSet, dryRun: readonly WriteEntry[]): Finding[] {
  const findings: Finding[] = [];
  for (const service of config.services) {
    for (const fullName of service.serves) {
      const contractService = contract.services.find((candidate) => candidate.fullName === fullName);
      for (const method of contractService?.methods ?? []) {
        const path = handlerFilePath(contractService!, method);
        if (!existsSync(join(service.dir, path))) {
          findings.push({
            check: 'consistency',
            rule: 'missing-handler',
            message: `${service.name} serves ${method.path} but has no handler (run grpcforge generate)`,
            file: toPosix(join(service.dirRelative, path)),
          });
        }
      }
    }
  }
  for (const entry of dryRun) {
    if (entry.action === 'orphaned') {
      findings.push({
        check: 'consistency',
        rule: 'orphaned-handler',
        message: `handler of an RPC that is no longer in the contract (service ${entry.service}); delete it when you no longer need it`,
        file: entry.path,
      });
    }
  }
  return findings;
}

/**
 * Rule `unknown-identity`: every `auth.mtls.roles` key is the certificate identity of a service of the workspace, so
 * an entry left over from the example (`spiffe://platform/user` after `user` was removed) or a typo does not go
 * unnoticed. A service's identities are those of its certificate when the file exists (the tls section's `cert`, with
 * `${SERVICE}`): its URI SAN, and its subject CN with `allowCommonName`; and, certificate or not, the identity
 * `grpcforge certs init` gives it: `spiffe://<any trust domain>/<service>` (the CN `<service>` with `allowCommonName`).
 * A key that is not a SPIFFE ID while `allowCommonName` is off identifies no certificate at all.
 */
export async function checkMtlsIdentities(config: ResolvedConfig): Promise<Finding[]> {
  const mtls = config.auth.mtls;
  const keys = Object.keys(mtls?.roles ?? {});
  if (!mtls || keys.length === 0) return [];
  const names = config.services.map((service) => service.name);
  const fromCertificates = new Set<string>();
  for (const service of config.services) {
    if (!service.tlsFiles) continue;
    const text = await readFile(service.tlsFiles.cert, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      const certificate = new X509Certificate(text);
      for (const entry of certificate.subjectAltName?.split(', ') ?? []) {
        if (entry.startsWith('URI:')) fromCertificates.add(entry.slice('URI:'.length));
      }
      const cn = /^CN=(.*)$/m.exec(certificate.subject)?.[1];
      if (cn !== undefined && mtls.allowCommonName) fromCertificates.add(cn);
    } catch {
      // Not a certificate: serve reports it; the convention below still applies.
    }
  }
  const conventional = (name: string) => `spiffe://<trust-domain>/${name}`;
  const serviceList = names.length === 0 ? 'the workspace has no services' : `services: ${names.join(', ')}`;
  const problems: ConfigProblem[] = [];
  for (const key of keys) {
    if (fromCertificates.has(key)) continue;
    const spiffe = /^spiffe:\/\/([^/]+)\/(.+)$/.exec(key);
    let message: string;
    if (spiffe) {
      const [, trustDomain = '', path = ''] = spiffe;
      if (names.includes(path)) continue;
      const close = closestMatch(path, names);
      message =
        `no service of the workspace has the identity "${key}"` +
        (close ? ` (did you mean "spiffe://${trustDomain}/${close}"?)` : '') +
        ` (${serviceList}; \`grpcforge certs init\` gives each service the identity ${conventional('<service>')}): ` +
        'remove the entry, or rename it after the service it is meant for';
    } else if (!mtls.allowCommonName) {
      message =
        `"${key}" is not a SPIFFE ID (spiffe://<trust-domain>/<path>) and auth.mtls.allowCommonName is off, so no ` +
        'certificate is identified by it: write the SPIFFE ID of the service it is meant for';
    } else {
      if (names.includes(key)) continue;
      const close = closestMatch(key, names);
      message =
        `no service of the workspace has the certificate CN "${key}"` +
        (close ? ` (did you mean "${close}"?)` : '') +
        ` (${serviceList}): remove the entry, or rename it after the service it is meant for`;
    }
    const segments = ['auth', 'mtls', 'roles', key];
    problems.push({ path: formatKeyPath(segments), segments, message, rule: 'unknown-identity' });
  }
  return configRuleFindings(config, await locateConfigProblems(config.configPath, problems));
}
