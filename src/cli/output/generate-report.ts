import type { WriteAction, WriteEntry } from '../../codegen/write.js';

const ORDER: readonly WriteAction[] = ['created', 'written', 'unchanged', 'kept', 'removed', 'orphaned', 'foreign'];

const NOTES: Partial<Record<WriteAction, string>> = {
  orphaned: 'its RPC is no longer in the contract; kept, delete it when you no longer need it',
  foreign: 'in a generated folder but without the grpcforge header; left alone',
};

/** Counts of each action, in a fixed order, for summaries and `--json`. */
export function countActions(entries: readonly WriteEntry[]): Record<WriteAction, number> {
  const counts = Object.fromEntries(ORDER.map((action) => [action, 0])) as Record<WriteAction, number>;
  for (const entry of entries) counts[entry.action]++;
  return counts;
}

/**
 * Text lines of a generate report: one line per file that was created, written, removed or needs attention
 * (unchanged and kept files only with `verbose`), then a summary line.
 */
export function formatGenerateReport(entries: readonly WriteEntry[], options: { verbose: boolean; dryRun: boolean }): string[] {
  const lines: string[] = [];
  for (const entry of entries) {
    if (!options.verbose && (entry.action === 'unchanged' || entry.action === 'kept')) continue;
    const verb = options.dryRun ? dryRunVerb(entry.action) : entry.action;
    const note = NOTES[entry.action];
    lines.push(`  ${verb.padEnd(10)}${entry.path}${note ? `  (${note})` : ''}`);
  }
  const counts = countActions(entries);
  const summary = ORDER.filter((action) => counts[action] > 0 || action === 'created' || action === 'written')
    .map((action) => `${counts[action]} ${options.dryRun ? dryRunVerb(action) : action}`)
    .join(', ');
  lines.push(`${options.dryRun ? 'check' : 'generate'}: ${summary}`);
  return lines;
}

function dryRunVerb(action: WriteAction): string {
  switch (action) {
    case 'created':
      return 'missing';
    case 'written':
      return 'changed';
    case 'removed':
      return 'extra';
    case 'foreign':
      return 'untracked';
    default:
      return action;
  }
}

/** Whether a dry-run entry means the generated code is not what `generate` would write now. */
export function isDrift(entry: WriteEntry): boolean {
  return entry.action === 'created' || entry.action === 'written' || entry.action === 'removed' || entry.action === 'foreign';
}
