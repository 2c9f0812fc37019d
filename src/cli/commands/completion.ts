import { Argument, type Command } from 'commander';
import type { Shell } from './run-completion.js';

/** `grpcforge completion bash|zsh|fish`: prints a completion script for the shell. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh', 'fish']))
    .description('print a shell completion script: commands, subcommands and flags (bash, zsh or fish)')
    .addHelpText(
      'after',
      `
The script completes grpcforge's commands, subcommands and flags, and file names for flags that take a value. It is
made from this grpcforge's own commands: after an upgrade, load it again.

Install:
  bash  add to ~/.bashrc:   source <(grpcforge completion bash)
  zsh   add to ~/.zshrc:    source <(grpcforge completion zsh)     (after compinit)
        or, as a file:      grpcforge completion zsh > "\${fpath[1]}/_grpcforge"
  fish                      grpcforge completion fish > ~/.config/fish/completions/grpcforge.fish

Example:
  $ grpcforge completion bash > /etc/bash_completion.d/grpcforge`,
    )
    .action(async (shell: Shell, _flags: object, command: Command) => {
      const { completionScript } = await import('./run-completion.js');
      process.stdout.write(completionScript(shell, command.parent ?? command));
    });
}
