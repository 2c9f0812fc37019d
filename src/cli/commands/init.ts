import type { Command } from 'commander';
import type { GrpcforgeDependencySource } from '../../codegen/workspace.js';
import { err, out } from '../output/print.js';

/** Why the workspace's package.json depends on grpcforge the way it does, said after `init`. */
const SPEC_REASONS: Record<GrpcforgeDependencySource, string> = {
  flag: 'from --grpcforge-spec',
  checkout: 'this grpcforge runs from a clone, not from the registry: npm install links that folder',
  'installed-from-file': 'the file this grpcforge was installed from',
  registry: 'from the npm registry; if this version is not published there, run init again with --grpcforge-spec',
};

/** The flags of `grpcforge init` (commander's camelCase names). */
interface InitFlags {
  readonly force?: boolean;
  readonly empty?: boolean;
  readonly name?: string;
  readonly grpcforgeSpec?: string;
  readonly runtimeSpec?: string;
}

/** `grpcforge init <dir>`: writes the example workspace. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .argument('<dir>', 'folder of the new workspace (created when missing)')
    .description('create a workspace: grpcforge.yaml, buf.yaml, buf.gen.yaml, example contracts and services')
    .option('-f, --force', 'write into a folder that is not empty (files with the same names are replaced)')
    .option('--empty', 'no example: grpcforge.yaml without services, an empty proto/, a README.md of next steps')
    .option('--name <name>', 'package name in the workspace package.json (default: the folder name)')
    .option(
      '--grpcforge-spec <spec>',
      'npm spec of the grpcforge dependency in the workspace package.json: a version range, or file:<folder or .tgz> ' +
        '(made absolute) (default: the grpcforge running init, see below)',
    )
    .option(
      '--runtime-spec <spec>',
      'npm spec of the @grpcforge/runtime dependency: a version range, or file:<folder or .tgz> (default: the runtime ' +
        'released with that grpcforge, see below)',
    )
    .addHelpText(
      'after',
      `
The example is a small platform: auth serves auth.v1.AuthService, user serves user.v1.UserService and calls
auth through its generated client. Between them the contracts use all four RPC kinds and pass buf lint STANDARD.
They declare validation rules (buf.validate) and auth's error reasons: the files they import for that are vendored
into proto/ (buf/validate/ with its licence, grpcforge/v1/), so buf needs no registry, and are neither linted nor
generated.
With --empty, the workspace has the same buf.yaml, buf.gen.yaml, package.json, tsconfig.json and .gitignore, but no
contract and no service yet: bring your own (README.md in it lists the steps).

The workspace package.json depends on @grpcforge/runtime (what its services run on, alone in a production install)
and has the grpcforge CLI as a dev dependency, both the ones that ran init (init prints what it wrote):
  - run from a clone (also through \`npm install -g <clone>\` or \`npm link\`): "file:<absolute path of the clone>"
    and "file:<clone>/packages/runtime"
  - installed from a file: spec next to its node_modules (npx of a .tgz): that file, and the runtime's .tgz beside
    it (grpcforge-0.1.0.tgz -> grpcforge-runtime-0.1.0.tgz)
  - otherwise (an installed package): "^<its version>", from the npm registry
A package installed globally from a .tgz cannot tell where it came from: pass --grpcforge-spec file:<the .tgz>.

Examples:
  $ grpcforge init platform
  $ grpcforge init collector --empty                    # start from your own contracts
  $ cd platform && npm install && npx grpcforge generate && npx grpcforge serve auth
  $ grpcforge init platform --grpcforge-spec file:./grpcforge-0.1.0.tgz     # the tarballs \`npm pack\` wrote
                                                       # (and grpcforge-runtime-0.1.0.tgz beside it)`,
    )
    .action(async (dir: string, options: InitFlags) => {
      const { initWorkspace } = await import('../../codegen/workspace.js');
      const empty = options.empty === true;
      const { files, dependency, runtimeDependency } = await initWorkspace(dir, {
        force: options.force === true,
        empty,
        ...(options.grpcforgeSpec !== undefined ? { grpcforgeSpec: options.grpcforgeSpec } : {}),
        ...(options.runtimeSpec !== undefined ? { runtimeSpec: options.runtimeSpec } : {}),
        ...(options.name ? { packageName: options.name } : {}),
      });
      for (const file of files) err(`  created  ${file.path}`);
      out(`created workspace ${dir} (${files.length} files)`);
      out(`package.json: "grpcforge": ${JSON.stringify(dependency.spec)} (${SPEC_REASONS[dependency.source]})`);
      out(`package.json: "@grpcforge/runtime": ${JSON.stringify(runtimeDependency.spec)} (released with that grpcforge)`);
      out('next:');
      out(`  cd ${dir}`);
      out('  npm install');
      if (empty) {
        out('  # add a contract under proto/ and declare a service in grpcforge.yaml (README.md shows both), then:');
        out('  npx grpcforge generate');
        out('  npx grpcforge serve <service>');
        return;
      }
      out('  npx grpcforge generate');
      out('  npx grpcforge serve auth     # and in another terminal: npx grpcforge serve user');
    });
}
