import { relative } from 'node:path';
import type { Command } from 'commander';
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
      const config = await loadWorkspaceConfig(configPath, (line) => errLabelled('yellow', line));
      const [{ generateFromConfig }, { countActions, formatGenerateReport, isDrift }] = await Promise.all([
        import('../../codegen/generate.js'),
        import('../output/generate-report.js'),
      ]);
      const progress = flags.json ? () => {} : (line: string) => err(`generating ${line}`);
      // The contracts are built only when the cache cannot answer (a no-op run starts neither buf nor ts-proto).
      const loadChecked = async () => {
        const loaded = await loadWorkspaceContract(config, configPath);
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
        cache: flags.cache !== false,
        onProgress: progress,
      });
      if (!flags.json) for (const note of plan.notes) err(`note: ${note}`);
      if (!flags.json && config.services.length === 0) {
        err(
          'note: grpcforge.yaml declares no services, so there is nothing to generate: add a contract under ' +
            `${toPosix(relative(config.workspaceDir, config.contract.root)) || '.'}/ and declare a service under services:`,
        );
      }
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
    });
}
