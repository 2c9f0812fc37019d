/**
 * grpcforge as a library: what the CLI is a thin layer over. Generated code and handlers use `@grpcforge/runtime`
 * instead, which loads none of this.
 */
export { findConfigFile, formatConfigProblem, loadConfig, loadConfigOrThrow } from './config/load.js';
export type { ConfigLoadResult, ConfigProblem, ResolvedConfig, ResolvedConsume, ResolvedService } from './config/resolved.js';
export { buildConfigJsonSchema } from './config/schema.js';
export { buildContractSet } from './contract/from-descriptors.js';
export { loadContract } from './contract/load-contract.js';
export type { ContractMethod, ContractService, ContractSet, MethodKind } from './contract/model.js';
export { buildPlan, generateFromConfig, generateWorkspace } from './codegen/generate.js';
export { planGeneration } from './codegen/plan.js';
export type { GenerationPlan, PlannedFile } from './codegen/plan-types.js';
export { applyPlan, diffPlan } from './codegen/write.js';
export type { WriteAction, WriteEntry, WriteReport } from './codegen/write.js';
export { initWorkspace, planWorkspace, resolveGrpcforgeDependency } from './codegen/workspace.js';
export type { GrpcforgeDependency, GrpcforgeDependencySource, InitOptions } from './codegen/workspace.js';
export { GRPCFORGE_ERROR_CODES, GrpcforgeError, InternalError, UserError } from './util/errors.js';
export type { GrpcforgeErrorCode, UserErrorCode } from './util/errors.js';
