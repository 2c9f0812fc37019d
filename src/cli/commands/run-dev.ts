import type { Command } from 'commander';
import type { DevLine, DevSession } from '../../dev/dev-loop.js';
import { configPathFor, loadWorkspace } from '../context.js';
import { parseWholeNumber } from '../flags.js';
import { colourOut, out, styleOut } from '../output/print.js';
import { stopWithParent } from '../stop-with-parent.js';

/** The flags of `grpcforge dev` (commander's camelCase names). */
export interface DevFlags {
  readonly debounce?: string;
  /** commander's --no-type-check. */
  readonly typeCheck: boolean;
}

/** Prefix colours, one per service in order of appearance (cyan, magenta, blue, green, yellow). */
const PREFIX_COLOURS = [36, 35, 34, 32, 33] as const;

/** `grpcforge dev`, loaded when the command runs (src/cli/commands/dev.ts registers it). Returns after Ctrl-C. */
export async function runDev(services: readonly string[], flags: DevFlags, command: Command): Promise<void> {
  const configPath = await configPathFor(command);
  const debounceMs = parseWholeNumber(flags.debounce, '--debounce', 200);
  const { startDev } = await import('../../dev/dev-loop.js');
  const colours = new Map<string, number>();
  let width = Math.max(3, ...services.map((name) => name.length));
  const print = (line: DevLine) => {
    width = Math.max(width, line.source.length);
    let prefix = `${line.source.padEnd(width)} |`;
    if (colourOut()) {
      if (line.source !== 'dev' && !colours.has(line.source)) {
        colours.set(line.source, PREFIX_COLOURS[colours.size % PREFIX_COLOURS.length]!);
      }
      prefix = line.source === 'dev' ? styleOut('dim', prefix) : `\u001b[${colours.get(line.source) ?? 39}m${prefix}\u001b[39m`;
    }
    const text =
      line.level === 'error' ? styleOut('red', line.text) : line.level === 'warn' ? styleOut('yellow', line.text) : line.text;
    out(`${prefix} ${text}`);
  };

  // Signals before the loop is up (during the first generate) stop it as soon as it is.
  const loop: { session?: DevSession } = {};
  let signalled: string | undefined;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const stop = (signal: string) => {
    if (signalled) {
      print({ source: 'dev', level: 'warn', text: `${signal} again: exiting now` });
      process.exit(1);
    }
    signalled = signal;
    print({ source: 'dev', level: 'info', text: `${signal}: stopping every server` });
    if (loop.session) void loop.session.stop().then(finish);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Under npx, a SIGTERM to npx may end npx and its shell only: dev and its servers would keep every port.
  stopWithParent(stop);

  const session = await startDev({
    loadWorkspace: () => loadWorkspace(configPath, (text) => print({ source: 'dev', level: 'warn', text })),
    services,
    debounceMs,
    typeCheck: flags.typeCheck,
    print,
    onServices: (names) => (width = Math.max(width, ...names.map((name) => name.length))),
  });
  loop.session = session;
  if (signalled) void session.stop().then(finish);
  await finished;
  print({ source: 'dev', level: 'info', text: 'stopped' });
}
