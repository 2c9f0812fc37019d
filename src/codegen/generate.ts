import type { ResolvedConfig } from '../config/resolved.js';
import { buildImage, findBufWorkspace } from '../contract/buf.js';
import type { LoadedContract } from '../contract/load-contract.js';
import { grpcforgeVersion } from '../util/version.js';
import { computeInputs, readCachedPlan, writeCache, type GenerateInputs } from './cache.js';
import type { GenerationPlan } from './plan-types.js';
import type * as TsProto from './ts-proto.js';
import { disposeEarlyImage, type EarlyImage } from './early-build.js';
import { applyPlan, type WriteReport } from './write.js';

/** Options of {@link generateWorkspace} and {@link generateFromConfig}. */
export interface GenerateOptions {
  /** Compute what would change without writing anything (`generate --check`). The cache is read, never written. */
  readonly dryRun?: boolean;
  /** Called with a line of progress (which service is being generated, whether the cache was used). */
  readonly onProgress?: (line: string) => void;
  /** Use `.grpcforge/cache/` (`generate --no-cache` sets it to false: always run buf and ts-proto). @defaultValue true */
  readonly cache?: boolean;
  /**
   * The contracts' image, started before the config was validated (`startEarlyImage`): used when it was built
   * in this config's buf workspace and buf generate runs, else disposed of. Always settled and cleaned up here.
   */
  readonly early?: EarlyImage;
  /**
   * Loading the config printed nothing (no warning): the cache written may answer a rerun before the config is
   * loaded (`readReplayablePlan`). @defaultValue false
   */
  readonly replayable?: boolean;
}

/** How the plan was obtained. */
export type CacheOutcome =
  /** The inputs matched the cache: no buf and no plugin ran. */
  | 'hit'
  /** buf and ts-proto ran (no cache, a stale one, or a damaged one). */
  | 'miss'
  /** The cache was not consulted (`--no-cache`). */
  | 'off';

/** The plan and what applying it did (or would do). */
export interface GenerateResult {
  readonly plan: GenerationPlan;
  readonly report: WriteReport;
  readonly cache: CacheOutcome;
  /** How many times `buf generate` ran: 0 on a cache hit, 1 for the whole workspace, more when splitting was impossible. */
  readonly tsProtoRuns: number;
}

/**
 * Applies a plan the cache answered with (its inputs are unchanged), saying so on `onProgress`: what a cache hit of
 * {@link generateFromConfig} does, and what `generate` does when it finds the plan before loading the config.
 */
export async function applyCachedPlan(
  workspaceDir: string,
  plan: GenerationPlan,
  options: Pick<GenerateOptions, 'dryRun' | 'onProgress'>,
): Promise<WriteReport> {
  options.onProgress?.(
    'nothing: no input changed since the last run (plan cached in .grpcforge/cache/; --no-cache runs buf and ts-proto)',
  );
  return applyPlan(workspaceDir, plan, options.dryRun ? { dryRun: true } : {});
}

/**
 * Builds the plan for the whole workspace (one ts-proto run through buf, split per service, then grpcforge's own
 * files) and applies it, or applies the cached plan when nothing it depends on changed. Nothing is written until the
 * plan is complete, so a failure leaves the disk untouched. The caller has already checked that every service named
 * in the config exists in the contract. Use {@link generateFromConfig} to skip `buf build` too on a cache hit.
 * @throws UserError `template-invalid` or `contract-invalid`.
 */
export async function generateWorkspace(
  config: ResolvedConfig,
  loaded: LoadedContract,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  return generateFromConfig(config, () => Promise.resolve(loaded), options);
}

/**
 * Loads the contract model of a workspace. `built`, when given, is the FileDescriptorSet of the buf image that
 * `generate` compiled for ts-proto: a loader that uses it (`loadContract(root, dir, built)`) compiles nothing; one
 * that ignores it builds the contracts itself.
 */
export type ContractLoader = (built?: Promise<Uint8Array>) => Promise<LoadedContract>;

/**
 * Like {@link generateWorkspace}, but the contract is loaded only when the cache cannot answer: the contracts are
 * compiled once into a buf image, ts-proto runs from it for the whole workspace (the type filter needs only the
 * config) while `loadContract` (for example the CLI's loader, which checks service names) reads the same image. On a
 * cache hit neither runs.
 * @throws UserError `template-invalid`, `contract-invalid`, or whatever `loadContract` throws.
 */
export async function generateFromConfig(
  config: ResolvedConfig,
  loadContract: ContractLoader,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const useCache = options.cache !== false;
  try {
    return await generateOrApplyCache(config, loadContract, options, useCache);
  } finally {
    await disposeEarlyImage(options.early); // a no-op once the run has used it
  }
}

async function generateOrApplyCache(
  config: ResolvedConfig,
  loadContract: ContractLoader,
  options: GenerateOptions,
  useCache: boolean,
): Promise<GenerateResult> {
  const bufDir = findBufWorkspace(config.contract.root, config.workspaceDir);
  const inputs = useCache ? await computeInputs(config, bufDir) : undefined;
  const cached = inputs ? await readCachedPlan(config.workspaceDir, inputs) : undefined;
  if (cached) {
    const report = await applyCachedPlan(config.workspaceDir, cached, options);
    return { plan: cached, report, cache: 'hit', tsProtoRuns: 0 };
  }
  const { plan, tsProtoRuns } = await planWithOneRun(config, bufDir, loadContract, options.onProgress, options.early);
  const report = await applyPlan(config.workspaceDir, plan, options.dryRun ? { dryRun: true } : {});
  if (inputs && !options.dryRun) {
    await writeCache(config.workspaceDir, inputs, plan, options.replayable ? { config, bufDir } : undefined);
  }
  return { plan, report, cache: inputs ? 'miss' : 'off', tsProtoRuns };
}

/**
 * Builds the generation plan: one ts-proto run for the whole workspace, split per service (the only impure part).
 * Never reads or writes the cache (lint's drift check and the goldens use it).
 */
export async function buildPlan(
  config: ResolvedConfig,
  loaded: LoadedContract,
  onProgress?: (line: string) => void,
): Promise<GenerationPlan> {
  return (await planWithOneRun(config, loaded.bufDir, () => Promise.resolve(loaded), onProgress)).plan;
}

/**
 * The plan, with ts-proto started before the contract is loaded (its type filter needs only the config) and
 * grpcforge's own files planned while it runs. Loaded here, not at the top: a cache hit needs neither Handlebars
 * nor protobuf.
 */
async function planWithOneRun(
  config: ResolvedConfig,
  bufDir: string,
  loadContract: ContractLoader,
  onProgress?: (line: string) => void,
  early?: EarlyImage,
): Promise<{ plan: GenerationPlan; tsProtoRuns: number }> {
  const tsProto = await import('./ts-proto.js');
  const template = await tsProto.readGenerateTemplate(config.contract.template);
  // Compiled once (buf build to an image), read by ts-proto's run and by the contract model: not twice, side by side.
  // Without a type filter nothing runs buf generate, and the loader builds (or skips an empty contract) itself.
  const runs = tsProto.unionTypesOf(config).length > 0;
  const image = !runs ? undefined : early?.bufDir === bufDir ? early.image : buildImage(bufDir, config.workspaceDir);
  const union = tsProto.runUnionTsProto(config, bufDir, image);
  // The run fails too when the contract does not compile: the loader's error (buf's file:line:col lines, or a
  // service the contract lacks) is the one to report, so the run's rejection waits. The loader may not wait for the
  // image at all (a contract root without .proto files).
  union.catch(() => undefined);
  // Loading the model and the planning modules keeps the main thread busy: they start once buf generate has been
  // spawned (its continuation was queued first), so that the run starts the moment the image is written.
  await image?.catch(() => undefined);
  const built = image?.then(async (compiled) => (await import('../contract/buf-image.js')).imageToDescriptorSet(compiled.bytes));
  built?.catch(() => undefined);
  try {
    return await planFromRun(config, tsProto, template.tsProtoOut, union, loadContract(built), onProgress);
  } finally {
    await union.catch(() => undefined);
    await (await image?.catch(() => undefined))?.dispose();
  }
}

async function planFromRun(
  config: ResolvedConfig,
  tsProto: typeof TsProto,
  tsProtoOut: string,
  union: Promise<Map<string, string>>,
  loading: Promise<LoadedContract>,
  onProgress?: (line: string) => void,
): Promise<{ plan: GenerationPlan; tsProtoRuns: number }> {
  const [loaded, { addTsProtoFiles, planOwnFiles }] = await Promise.all([loading, import('./plan.js')]);
  for (const service of config.services) {
    const roles = [
      ...service.serves.map((name) => `serves ${name}`),
      ...service.consumes.map((consume) => `consumes ${consume.service}`),
    ];
    onProgress?.(`${service.name}: ${roles.join(', ') || 'nothing to generate'}`);
  }
  const version = config.codegen.annotateVersion ? grpcforgeVersion() : '';
  const own = planOwnFiles({ config, contract: loaded.contract, tsProtoOut, version });
  const files = await union;
  let tsProtoRuns = files.size > 0 ? 1 : 0;
  let tsProtoFiles = tsProto.splitTsProtoFiles(config, loaded.contract, tsProtoOut, files);
  if (!tsProtoFiles) {
    // The template writes files that belong to no one .proto: one run per distinct type filter, as before.
    onProgress?.(
      'with one ts-proto run per distinct set of services: buf.gen.yaml writes files that cannot be split per .proto file',
    );
    tsProtoFiles = new Map();
    const byTypes = new Map<string, Promise<Map<string, string>>>();
    for (const service of config.services) {
      const key = tsProto.typesOf(service).join(' ');
      if (!byTypes.has(key)) byTypes.set(key, tsProto.generateTsProtoFiles(config, loaded.bufDir, service));
      tsProtoFiles.set(service.name, await byTypes.get(key)!);
    }
    tsProtoRuns += [...byTypes.keys()].filter(Boolean).length;
  }
  return { plan: addTsProtoFiles(own, { config, tsProtoFiles, version }), tsProtoRuns };
}

/**
 * The plan `generate` made before it ran ts-proto once for the whole workspace: one run per service, each with its
 * own type filter. The reference the split is tested against (`test/unit/generate-split.test.ts`); slow.
 */
export async function buildPlanPerService(config: ResolvedConfig, loaded: LoadedContract): Promise<GenerationPlan> {
  const [{ planGeneration }, { generateTsProtoFiles, readGenerateTemplate }] = await Promise.all([
    import('./plan.js'),
    import('./ts-proto.js'),
  ]);
  const template = await readGenerateTemplate(config.contract.template);
  const tsProtoFiles = new Map<string, Map<string, string>>();
  for (const service of config.services) {
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

export type { GenerateInputs };
