import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { GenerationPlan } from '../../codegen/plan-types.js';
import type { WriteReport } from '../../codegen/write.js';
import { toPosix } from '../../util/fs.js';
import { configPathFor, loadWorkspaceConfig, loadWorkspaceContract } from '../context.js';
import { err, errLabelled, out, printJson } from '../output/print.js';

interface GenerateFlags {
  readonly check?: boolean;
  readonly json?: boolean;
  readonly verbose?: boolean;
  /** `--no-cache` sets it to false. */
  readonly cache?: boolean;
}

/** `grpcforge generate`: per-service code from the contracts, through buf. */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(
      "write each service's code from the contracts: ts-proto types, server wiring, handler skeletons, clients and stubs",
    )
    .option('--check', 'write nothing; exit 1 when generated code differs from what generate would write (CI)')
    .option('--json', 'print the report as JSON on stdout')
    .option('-v, --verbose', 'also list unchanged generated files and kept handler files')
    .option('--no-cache', 'run buf and ts-proto even when no input changed since the last run (.grpcforge/cache/)')
    .addHelpText(
      'after',
      `
Each service gets, in its own folder:
  src/gen/**                       regenerated every run (header: DO NOT EDIT); safe to delete
  src/handlers/<service>/<rpc>.ts  yours: created once per RPC (throws UNIMPLEMENTED), never overwritten

ts-proto runs once for the whole workspace and its output is split per service by .proto file. When no input
changed (contracts, buf.yaml/buf.lock, buf.gen.yaml, grpcforge.yaml, grpcforge, buf or ts-proto), the plan of the
last run, cached in .grpcforge/cache/, is compared with the disk and nothing else runs; --no-cache runs everything.
A handler whose RPC left the contract is reported as orphaned, never deleted. Nothing is written when the contracts
do not compile (buf's file:line:col errors are printed) or grpcforge.yaml is invalid.

Exit codes: 0 done (or up to date with --check), 1 --check found drift, 2 error.

Examples:
  $ grpcforge generate
  $ grpcforge generate --check          # in CI: fails when someone forgot to regenerate`,
    )
    .action(async (flags: GenerateFlags, command: Command) => {
      const configPath = await configPathFor(command);
      const useCache = flags.cache !== false;
      const progress = flags.json ? () => {} : (line: string) => err(`generating ${line}`);
      // A rerun with nothing changed is answered from the cache before grpcforge.yaml is validated (the schema is
      // most of the start-up), when its bytes are the ones the cache was written with.
      const replayed = useCache ? await replayFromCache(configPath, flags, progress) : false;
      if (replayed) return;
      // A run the cache cannot answer starts compiling the contracts now, while grpcforge.yaml is validated and the
      // code generator loads (generate uses the image only if the valid config points at the same contracts).
      const { startEarlyImage, disposeEarlyImage } = await import('../../codegen/early-build.js');
      const early = await startEarlyImage(configPath, useCache);
      let config;
      let warnings = 0;
      try {
        config = await loadWorkspaceConfig(configPath, (line) => {
          warnings++;
          errLabelled('yellow', line);
        });
      } catch (error) {
        await disposeEarlyImage(early);
        throw error;
      }
      const { generateFromConfig } = await import('../../codegen/generate.js');
      // The contracts are built only when the cache cannot answer (a no-op run starts neither buf nor ts-proto).
      const loadChecked = async (built?: Promise<Uint8Array>) => {
        const loaded = await loadWorkspaceContract(config, configPath, built);
        // A buf.validate rule that does not compile fails generate, not the server's start. The check loads the
        // runtime (protovalidate): only for contracts that import validate.proto.
        const { importsValidationRules } = await import('../../contract/validation-rules.js');
        if (importsValidationRules(loaded.contract)) {
          await (await import('../runtime-options.js')).checkWorkspaceValidationRules(config, loaded.contract);
        }
        return loaded;
      };
      const { plan, report } = await generateFromConfig(config, loadChecked, {
        dryRun: flags.check === true,
        cache: useCache,
        onProgress: progress,
        // A rerun may skip loading the config only when loading it printed nothing and the services note below is
        // not due: the replay prints the report alone.
        replayable: warnings === 0 && config.services.length > 0,
        ...(early ? { early } : {}),
      });
      const noServices =
        config.services.length > 0
          ? undefined
          : 'grpcforge.yaml declares no services, so there is nothing to generate: add a contract under ' +
            `${toPosix(relative(config.workspaceDir, config.contract.root)) || '.'}/ and declare a service under services:`;
      await printReport(plan, report, flags, noServices);
    });
}

/**
 * Applies the cached plan when the cache can answer before grpcforge.yaml is loaded (`readReplayablePlan`), and
 * prints what a full load would have printed. `false` when it cannot: nothing was printed or written.
 */
async function replayFromCache(configPath: string, flags: GenerateFlags, progress: (line: string) => void): Promise<boolean> {
  const [{ readReplayablePlan }, { applyCachedPlan }] = await Promise.all([
    import('../../codegen/cache.js'),
    import('../../codegen/generate.js'),
  ]);
  const plan = await readReplayablePlan(configPath);
  if (!plan) return false;
  const report = await applyCachedPlan(dirname(resolve(configPath)), plan, {
    dryRun: flags.check === true,
    onProgress: progress,
  });
  await printReport(plan, report, flags);
  return true;
}

/** The notes (the plan's, then `extraNote`), the report (text or `--json`) and `--check`'s verdict and exit code. */
async function printReport(plan: GenerationPlan, report: WriteReport, flags: GenerateFlags, extraNote?: string): Promise<void> {
  const { countActions, formatGenerateReport, isDrift } = await import('../output/generate-report.js');
  if (!flags.json) for (const note of [...plan.notes, ...(extraNote ? [extraNote] : [])]) err(`note: ${note}`);
  const drift = report.entries.filter(isDrift);
  if (flags.json) {
    printJson({
      version: 1,
      check: flags.check === true,
      files: report.entries,
      summary: countActions(report.entries),
      notes: plan.notes,
      ...(flags.check ? { drift: drift.length } : {}),
    });
  } else {
    for (const line of formatGenerateReport(report.entries, {
      verbose: flags.verbose === true,
      dryRun: flags.check === true,
    }))
      out(line);
    if (flags.check && drift.length > 0) out('generated code is out of date: run `grpcforge generate` and commit the result');
  }
  if (flags.check && drift.length > 0) process.exitCode = 1;
}
