import { listFilesRecursive } from '../util/fs.js';
import { buildDescriptorSet, findBufWorkspace } from './buf.js';
import { buildContractSet } from './from-descriptors.js';
import type { ContractSet } from './model.js';

/** A built contract and where buf found it. */
export interface LoadedContract {
  readonly contract: ContractSet;
  /** Folder of the buf.yaml that covers the contracts; buf runs here. */
  readonly bufDir: string;
}

/**
 * Builds the contracts under `contractRoot` with buf and reads them into the contract model. A root without any
 * `.proto` file yet (a workspace from `grpcforge init --empty`) is an empty contract set (no files, no services)
 * rather than buf's "had no .proto files" failure; buf does not run.
 * @param built the FileDescriptorSet of these contracts when the caller already compiles them (`generate` builds one
 *   buf image for ts-proto and for the model): buf then does not run here, and its rejection is this call's.
 * @throws UserError `buf-yaml-missing` or `contract-invalid` (with buf's `file:line:col` lines).
 */
export async function loadContract(
  contractRoot: string,
  workspaceDir: string,
  built?: Promise<Uint8Array>,
): Promise<LoadedContract> {
  const bufDir = findBufWorkspace(contractRoot, workspaceDir);
  if (!(await listFilesRecursive(contractRoot)).some((path) => path.endsWith('.proto'))) {
    return { contract: buildContractSet(new Uint8Array()), bufDir };
  }
  const descriptorSet = await (built ?? buildDescriptorSet(bufDir, workspaceDir));
  return { contract: buildContractSet(descriptorSet), bufDir };
}
