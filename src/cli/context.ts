import { relative } from 'node:path';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/resolved.js';
import type { LoadedContract } from '../contract/load-contract.js';
import { UserError } from '../util/errors.js';
import { toPosix } from '../util/fs.js';

// Every command module imports this one while the program is built, so the config loader (yaml, zod) and the
// contract loader (buf, protobuf) are imported only when a command runs: `--help` and `--version` stay fast.

/** Options every command accepts. */
export interface GlobalOptions {
  /** Explicit path of grpcforge.yaml. */
  readonly config?: string;
}

/**
 * The grpcforge.yaml a command works on: `--config`, or the one found in the current folder or its parents.
 * @throws UserError `config-not-found` when there is none.
 */
export async function configPathFor(command: Command): Promise<string> {
  const explicit = command.optsWithGlobals<GlobalOptions>().config;
  if (explicit !== undefined) return explicit;
  const { findConfigFile } = await import('../config/find.js');
  return findConfigFile(process.cwd());
}

/**
 * The valid config of the workspace a command works on.
 * @throws UserError `config-not-found` or `config-invalid` (one line per problem).
 */
export async function loadConfigFor(command: Command): Promise<ResolvedConfig> {
  const configPath = await configPathFor(command);
  const { loadConfigOrThrow } = await import('../config/load.js');
  return loadConfigOrThrow(configPath);
}

/** A loaded workspace: valid config and a contract that has every service the config names. */
export interface Workspace {
  readonly config: ResolvedConfig;
  readonly contract: LoadedContract;
}

/**
 * Loads grpcforge.yaml (found upwards from the current folder unless `--config`), prints its warnings, builds the
 * contracts with buf and checks that every service the config names exists.
 * @throws UserError `config-invalid` (one line per problem), `contract-invalid` (buf's file:line:col lines).
 */
export async function loadWorkspace(configPath: string, warn: (line: string) => void): Promise<Workspace> {
  const config = await loadWorkspaceConfig(configPath, warn);
  return { config, contract: await loadWorkspaceContract(config, configPath) };
}

/**
 * The first half of {@link loadWorkspace}: loads grpcforge.yaml and prints its warnings (`generate` looks at its
 * cache before it builds the contracts).
 * @throws UserError `config-invalid` (one line per problem).
 */
export async function loadWorkspaceConfig(configPath: string, warn: (line: string) => void): Promise<ResolvedConfig> {
  const { formatConfigProblem, loadConfig } = await import('../config/load.js');
  const result = await loadConfig(configPath);
  for (const warning of result.warnings) warn(`warning: ${formatConfigProblem(configPath, warning)}`);
  if (!result.config) {
    throw new UserError(
      'config-invalid',
      `${toPosix(relative(process.cwd(), configPath)) || 'grpcforge.yaml'} is not valid`,
      result.errors.map((problem) => formatConfigProblem(configPath, problem)),
    );
  }
  return result.config;
}

/**
 * The second half of {@link loadWorkspace}: builds the contracts with buf and checks that every service the config
 * names exists.
 * @param built the contracts' FileDescriptorSet when the caller compiles them itself (see `loadContract`).
 * @throws UserError `contract-invalid` (buf's file:line:col lines), `config-invalid` for a name the contracts lack.
 */
export async function loadWorkspaceContract(
  config: ResolvedConfig,
  configPath = config.configPath,
  built?: Promise<Uint8Array>,
): Promise<LoadedContract> {
  const [{ formatConfigProblem, locateConfigProblems }, { checkServiceNamesExist }, { loadContract }, { rpcNamesOf }] =
    await Promise.all([
      import('../config/load.js'),
      import('../config/rules.js'),
      import('../contract/load-contract.js'),
      import('../contract/names.js'),
    ]);
  const contract = await loadContract(config.contract.root, config.workspaceDir, built);
  const rootLabel = `${toPosix(relative(config.workspaceDir, config.contract.root)) || '.'}/`;
  const problems = checkServiceNamesExist(
    config,
    contract.contract.services.map((service) => service.fullName),
    rootLabel,
    rpcNamesOf(contract.contract),
  );
  if (problems.length > 0) {
    const located = await locateConfigProblems(configPath, problems);
    throw new UserError(
      'config-invalid',
      'grpcforge.yaml names services or RPCs the contracts do not declare',
      located.map((problem) => formatConfigProblem(configPath, problem)),
    );
  }
  return contract;
}

/** Finds a service of the workspace by name. @throws UserError `unknown-service` listing the known ones. */
export function requireService(config: ResolvedConfig, name: string) {
  const service = config.services.find((candidate) => candidate.name === name);
  if (!service) {
    throw new UserError('unknown-service', `no service "${name}" in grpcforge.yaml`, [
      `known: ${config.services.map((candidate) => candidate.name).join(', ') || '(none)'}`,
    ]);
  }
  return service;
}
