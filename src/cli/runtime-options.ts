import { logStoreSettingsOf } from '../build/service-manifest.js';
import type { ResolvedConfig } from '../config/resolved.js';
import {
  ServiceHostError,
  ValidationRulesError,
  checkValidationRules,
  describeRuleProblem,
  openServiceLogStore,
  type LogStore,
} from '@grpcforge/runtime';
import type { ContractSet } from '../contract/model.js';
import { ValidationRulesUserError, importsValidationRules } from '../contract/validation-rules.js';
import { UserError } from '../util/errors.js';

/**
 * Where `grpcforge.yaml` meets the runtime for the CLI's own use of it (the store commands, the dashboard):
 * the runtime's service host does the rest. Loaded lazily: it loads the runtime.
 */

/**
 * A {@link ServiceHostError} of the runtime as the CLI's `UserError` (same code, message and hints: exit 2), a
 * {@link ValidationRulesError} as a `ValidationRulesUserError`; anything else unchanged.
 */
export function toUserError(error: unknown): unknown {
  // A stub (`serve --stub`) starts outside the service host: its broken rules arrive as the runtime's own error.
  if (error instanceof ValidationRulesError) {
    return new ValidationRulesUserError(error.message, error.problems.map(describeRuleProblem), { cause: error });
  }
  return error instanceof ServiceHostError ? new UserError(error.code, error.message, error.hints, { cause: error }) : error;
}

/**
 * Opens the workspace's log store (creating and migrating it when needed). `writer: true` also starts the writer
 * thread and checks that the store can be written; commands that only read leave it off.
 * @throws UserError `log-store-failed` when it cannot be opened, migrated or (with the writer) written.
 */
export async function openLogStore(config: ResolvedConfig, { writer = false }: { writer?: boolean } = {}): Promise<LogStore> {
  return openServiceLogStore(logStoreSettingsOf(config.logStore, config.workspaceDir), {
    baseDir: config.workspaceDir,
    writer,
    onMigrationProgress: (message) => process.stderr.write(`log store: ${message}\n`),
  }).catch((error: unknown) => {
    throw toUserError(error);
  });
}

/**
 * Compiles the `buf.validate` rules of every message the workspace's services serve or consume (what their methods
 * take and return, and what those messages contain), as a server does when it starts: `generate` fails on a rule
 * that does not compile instead of `serve`. A contract that never imports validate.proto is not looked at.
 * @throws ValidationRulesUserError (`validation-rules-invalid`) with one `<file>: <message>.<field>: <reason>` line per
 *   rule that does not compile.
 */
export async function checkWorkspaceValidationRules(config: ResolvedConfig, contract: ContractSet): Promise<void> {
  if (!importsValidationRules(contract)) return;
  const services = [
    ...new Set(config.services.flatMap((service) => [...service.serves, ...service.consumes.map((consume) => consume.service)])),
  ].sort();
  await checkValidationRules(contract.descriptorSet, services).catch((error: unknown) => {
    throw toUserError(error);
  });
}
