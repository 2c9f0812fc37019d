import type { ResolvedConfig } from '../config/resolved.js';
import type { LoadedContract } from '../contract/load-contract.js';
import { grpcforgeVersion } from '../util/version.js';
import { planGeneration } from './plan.js';
import type { GenerationPlan } from './plan-types.js';
import { generateTsProtoFiles, readGenerateTemplate } from './ts-proto.js';
import { applyPlan, type WriteReport } from './write.js';

/** Options of {@link generateWorkspace}. */
export interface GenerateOptions {
  /** Compute what would change without writing anything (`generate --check`). */
  readonly dryRun?: boolean;
  /** Called with a line of progress (which service is being generated). */
  readonly onProgress?: (line: string) => void;
}

/** The plan and what applying it did (or would do). */
export interface GenerateResult {
  readonly plan: GenerationPlan;
  readonly report: WriteReport;
}

/**
 * Builds the plan for the whole workspace (ts-proto through buf for each service, then grpcforge's own files) and
 * applies it. Nothing is written until every service has been generated, so a failure leaves the disk untouched.
 * The caller has already checked that every service named in the config exists in the contract.
 * @throws UserError `template-invalid` or `contract-invalid`.
 */
export async function generateWorkspace(
  config: ResolvedConfig,
  loaded: LoadedContract,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const plan = await buildPlan(config, loaded, options.onProgress);
  const report = await applyPlan(config.workspaceDir, plan, options.dryRun ? { dryRun: true } : {});
  return { plan, report };
}

/** Builds the generation plan, running ts-proto for each service (the only impure part). */
export async function buildPlan(
  config: ResolvedConfig,
  loaded: LoadedContract,
  onProgress?: (line: string) => void,
): Promise<GenerationPlan> {
  const template = await readGenerateTemplate(config.contract.template);
  const tsProtoFiles = new Map<string, Map<string, string>>();
  for (const service of config.services) {
    const roles = [
      ...service.serves.map((name) => `serves ${name}`),
      ...service.consumes.map((consume) => `consumes ${consume.service}`),
    ];
    onProgress?.(`${service.name}: ${roles.join(', ') || 'nothing to generate'}`);
    tsProtoFiles.set(service.name, await generateTsProtoFiles(config, loaded.bufDir, service));
  }
  return planGeneration({
    config,
    contract: loaded.contract,
    tsProtoFiles,
    tsProtoOut: template.tsProtoOut,
    version: config.codegen.annotateVersion ? grpcforgeVersion() : '',
  });
}
