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
 * Builds the contracts under `contractRoot` with buf and reads them into the contract model.
 * @throws UserError `buf-yaml-missing` or `contract-invalid` (with buf's `file:line:col` lines).
 */
export async function loadContract(contractRoot: string, workspaceDir: string): Promise<LoadedContract> {
  const bufDir = findBufWorkspace(contractRoot, workspaceDir);
  const descriptorSet = await buildDescriptorSet(bufDir, workspaceDir);
  return { contract: buildContractSet(descriptorSet), bufDir };
}
