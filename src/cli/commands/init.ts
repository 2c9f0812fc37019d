import type { Command } from 'commander';
import { err, out } from '../output/print.js';

/** `grpcforge init <dir>`: writes the example workspace. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .argument('<dir>', 'folder of the new workspace (created when missing)')
    .description('create a workspace: grpcforge.yaml, buf.yaml, buf.gen.yaml, example contracts and services')
    .option('-f, --force', 'write into a folder that is not empty (files with the same names are replaced)')
    .option('--name <name>', 'package name in the workspace package.json (default: the folder name)')
    .addHelpText(
      'after',
      `
The example is a small platform: auth serves auth.v1.AuthService, user serves user.v1.UserService and calls
auth through its generated client. Between them the contracts use all four RPC kinds and pass buf lint STANDARD.

Examples:
  $ grpcforge init platform
  $ cd platform && npm install && npx grpcforge generate && npx grpcforge serve auth`,
    )
    .action(async (dir: string, options: { force?: boolean; name?: string }) => {
      const { initWorkspace } = await import('../../codegen/workspace.js');
      const files = await initWorkspace(dir, { force: options.force === true, ...(options.name ? { packageName: options.name } : {}) });
      for (const file of files) err(`  created  ${file.path}`);
      out(`created workspace ${dir} (${files.length} files)`);
      out('next:');
      out(`  cd ${dir}`);
      out('  npm install');
      out('  npx grpcforge generate');
      out('  npx grpcforge serve auth     # and in another terminal: npx grpcforge serve user');
    });
}
