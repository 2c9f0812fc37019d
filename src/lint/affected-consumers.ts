import type { ResolvedConfig } from '../config/resolved.js';
import type { ContractSet } from '../contract/model.js';
import type { AffectedService, Finding } from './findings.js';

/**
 * Builds the lookup of the workspace services a breaking change reaches: those that serve or consume a contract
 * service declared in the changed file, in a file that imports it (directly or not), or named in buf's message (a
 * deleted service, an old package). A change to a message reaches every service whose file imports the message's file.
 * Built once per lint run: the config's references and each file's importers are computed once.
 * @param moduleRoot the contract root relative to the workspace (`proto`), to map buf's paths to proto file names.
 */
export function createAffectedServicesFinder(
  contract: ContractSet,
  config: ResolvedConfig,
  moduleRoot: string,
): (finding: Finding) => AffectedService[] {
  const allReferences = references(config);
  const importers = new Map<string, Set<string>>();
  const importersOfFile = (file: string) => {
    let result = importers.get(file);
    if (!result) {
      result = importersOf(contract, file);
      importers.set(file, result);
    }
    return result;
  };
  return (finding) => {
    const protoFile = finding.file ? stripRoot(finding.file, moduleRoot) : undefined;
    if (!protoFile) return [];
    const changed = new Set<string>();
    const files = importersOfFile(protoFile);
    const named = quoted(finding.message, /service "([^"]+)"/g);
    for (const service of contract.services) {
      if (!files.has(service.file)) continue;
      if (service.file === protoFile && named.length > 0 && !named.includes(service.name)) continue;
      changed.add(service.fullName);
    }
    // A service that no longer exists (deleted, renamed, or its package changed) is named only in the message.
    const packages = [packageOf(contract, protoFile), ...quoted(finding.message, /"([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+)"/g)];
    for (const name of named) for (const pkg of packages) if (pkg) changed.add(`${pkg}.${name}`);
    if (/package/i.test(finding.message)) {
      for (const pkg of packages) {
        for (const reference of allReferences)
          if (pkg && reference.contractService.startsWith(`${pkg}.`)) changed.add(reference.contractService);
      }
    }
    return allReferences
      .filter((reference) => changed.has(reference.contractService))
      .sort(
        (a, b) =>
          a.service.localeCompare(b.service) ||
          a.role.localeCompare(b.role) ||
          a.contractService.localeCompare(b.contractService),
      );
  };
}

/** Formats affected services as `user (consumes auth.v1.AuthService), auth (serves auth.v1.AuthService)`. */
export function describeAffected(affected: readonly AffectedService[]): string {
  return affected.map((entry) => `${entry.service} (${entry.role} ${entry.contractService})`).join(', ');
}

function references(config: ResolvedConfig): AffectedService[] {
  return config.services.flatMap((service) => [
    ...service.serves.map((contractService) => ({ service: service.name, role: 'serves' as const, contractService })),
    ...service.consumes.map((consume) => ({
      service: service.name,
      role: 'consumes' as const,
      contractService: consume.service,
    })),
  ]);
}

function stripRoot(file: string, moduleRoot: string): string {
  const prefix = moduleRoot && moduleRoot !== '.' ? `${moduleRoot.replace(/\/$/, '')}/` : '';
  return prefix && file.startsWith(prefix) ? file.slice(prefix.length) : file;
}

/** The file and every file that imports it, directly or through others. */
function importersOf(contract: ContractSet, file: string): Set<string> {
  const result = new Set([file]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const candidate of contract.files) {
      if (!result.has(candidate.path) && candidate.dependencies.some((dependency) => result.has(dependency))) {
        result.add(candidate.path);
        grew = true;
      }
    }
  }
  return result;
}

/** The file's package from the contract, or, for a deleted file, from its folders (buf's PACKAGE_DIRECTORY_MATCH). */
function packageOf(contract: ContractSet, file: string): string | undefined {
  const known = contract.files.find((candidate) => candidate.path === file)?.packageName;
  if (known) return known;
  const folders = file.split('/').slice(0, -1);
  return folders.length > 0 ? folders.join('.') : undefined;
}

function quoted(message: string, pattern: RegExp): string[] {
  return [...message.matchAll(pattern)].map((match) => match[1]!);
}
