// Start-up (issue 12, item 3) and shell habits (item 4), through the built CLI as a process: `--help` and `--version`
// load no library a command needs only when it runs; completion scripts offer the commands and their flags; colour
// only on a terminal or with FORCE_COLOR, never with NO_COLOR. How fast start-up is, is bench/cli-startup.ts's job.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot, runCli, runProgram, tempDir } from '../helpers/workspace.ts';

const cliPath = join(repoRoot, 'bin/grpcforge');
/** Packages that only a running command needs: none of them may load for --help or --version. */
const HEAVY = [
  'zod',
  'yaml',
  '@bufbuild/protobuf',
  'nice-grpc',
  'nice-grpc-common',
  '@grpc/grpc-js',
  'kysely',
  'better-sqlite3',
  'hono',
];
const ESC = '\u001b[';

/** An environment without the colour variables of the test run (node --test sets FORCE_COLOR=1 on a terminal). */
const plainEnv = (env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ FORCE_COLOR: undefined, NO_COLOR: undefined, ...env });

/**
 * Runs the CLI with a module hook that records every module loaded: ESM through the resolve hook, CommonJS (which
 * `require`s past the ESM hooks) from the require cache at exit. Returns the result and the packages loaded.
 */
async function runRecordingLoads(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; packages: Set<string> }> {
  const dir = await tempDir('grpcforge-startup-');
  const log = join(dir, 'loaded.txt');
  const hooks = join(dir, 'hooks.mjs');
  const register = join(dir, 'register.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}
`,
  );
  await writeFile(
    register,
    `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(require.cache).join('\\n') + '\\n'));
`,
  );
  await writeFile(log, '');
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, cliPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...plainEnv(), NODE_TEST_CONTEXT: undefined },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const packages = new Set<string>();
  for (const line of (await readFile(log, 'utf8')).split('\n')) {
    const match = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(line);
    if (match) packages.add(match[1]!.replace('\\', '/'));
  }
  return { code: result.status, stdout: result.stdout, packages };
}

describe('start-up', () => {
  for (const args of [['--help'], ['--version'], ['generate', '--help'], ['serve', '--help'], ['keys', 'create', '--help']]) {
    test(`grpcforge ${args.join(' ')} works and loads none of ${HEAVY.join(', ')}`, async () => {
      const { code, stdout, packages } = await runRecordingLoads(args);
      assert.equal(code, 0);
      assert.ok(packages.has('commander'), 'the hook saw commander load (so it records at all)');
      const loaded = HEAVY.filter((name) => packages.has(name));
      assert.deepEqual(loaded, [], `loaded: ${[...packages].join(', ')}`);
      if (args[0] === '--version') assert.match(stdout, /^\d+\.\d+\.\d+/);
      else assert.match(stdout, /^Usage: grpcforge /);
    });
  }

  test('every command still has its help, examples included', () => {
    for (const command of ['init', 'generate', 'serve', 'lint', 'certs init', 'call', 'keys create', 'logs', 'stats', 'status']) {
      const result = runCli([...command.split(' '), '--help'], repoRoot, plainEnv());
      assert.equal(result.code, 0, command);
      assert.match(result.stdout, new RegExp(`^Usage: grpcforge ${command} `), command);
      assert.match(result.stdout, /\n {2}\$ grpcforge /, `${command} --help has examples`);
    }
  });

  test('errors keep their exit codes: usage 2, a user error 2, help and version 0', async () => {
    const empty = await tempDir();
    assert.equal(runCli(['no-such-command'], empty, plainEnv()).code, 2);
    assert.equal(runCli(['serve'], empty, plainEnv()).code, 2);
    const missing = runCli(['serve', 'auth'], empty, plainEnv());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^grpcforge: no grpcforge\.yaml in /);
    assert.equal(runCli(['--version'], empty, plainEnv()).code, 0);
  });
});

describe('completion', () => {
  /** What the bash completion offers for the words typed so far (the last one being completed). */
  async function bashComplete(words: readonly string[]): Promise<string[]> {
    const dir = await tempDir();
    const script = join(dir, 'grpcforge.bash');
    const generated = runCli(['completion', 'bash'], repoRoot, plainEnv());
    assert.equal(generated.code, 0, generated.stderr);
    await writeFile(script, generated.stdout);
    const quoted = words.map((word) => `'${word}'`).join(' ');
    const result = runProgram(
      'bash',
      [
        '-c',
        `source '${script}' && complete -p grpcforge >/dev/null && COMP_WORDS=(grpcforge ${quoted}) && COMP_CWORD=${words.length} && _grpcforge_completion && printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      dir,
    );
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.split('\n').filter(Boolean);
  }

  test('bash offers the commands, a command’s flags, subcommands and flag choices', async () => {
    const commands = await bashComplete(['']);
    for (const name of [
      'init',
      'generate',
      'serve',
      'lint',
      'keys',
      'logs',
      'stats',
      'status',
      'dashboard',
      'completion',
      '--config',
    ])
      assert.ok(commands.includes(name), `${name} in ${commands.join(' ')}`);
    assert.deepEqual(await bashComplete(['ge']), ['generate']);
    const serveFlags = await bashComplete(['serve', '--']);
    for (const flag of ['--port', '--host', '--stub', '--scenario', '--no-log-store', '--help', '--config'])
      assert.ok(serveFlags.includes(flag), `${flag} in ${serveFlags.join(' ')}`);
    assert.ok(!serveFlags.includes('--check'), 'generate’s flags are not serve’s');
    assert.deepEqual((await bashComplete(['keys', ''])).slice(0, 3), ['create', 'list', 'revoke']);
    assert.ok((await bashComplete(['keys', 'create', '--'])).includes('--expires-in'));
    assert.ok((await bashComplete(['--config', 'x.yaml', 'generate', '--c'])).includes('--check'));
    assert.deepEqual(await bashComplete(['lint', '--format', '']), ['text', 'json', 'github-actions']);
    // A flag that takes a file: nothing from the script, so bash's `-o default` completes file names.
    assert.deepEqual(await bashComplete(['serve', 'auth', '--scenario', '']), []);
  });

  test('zsh: the script is produced, defines its function for compdef, and parses', async () => {
    const result = runCli(['completion', 'zsh'], repoRoot, plainEnv());
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^#compdef grpcforge\n/);
    assert.match(result.stdout, /compdef _grpcforge grpcforge/);
    assert.match(result.stdout, /'serve'\) items=\(.*'--port:port to bind; 0 takes a free one/);
    assert.match(result.stdout, /'keys'\) items=\('create:create an API key/);
    const dir = await tempDir();
    await writeFile(join(dir, '_grpcforge'), result.stdout);
    const hasZsh = runProgram('sh', ['-c', 'command -v zsh'], dir).code === 0;
    // Without zsh, bash's parser still checks the quoting and the case/esac structure (the script uses no
    // syntax bash cannot parse; zsh-only expansions are only checked when zsh runs it).
    const parsed = runProgram(hasZsh ? 'zsh' : 'bash', ['-n', join(dir, '_grpcforge')], dir);
    assert.equal(parsed.code, 0, parsed.stderr);
  });

  test('fish: the script is produced with a completion per command and flag, and parses when fish is installed', async () => {
    const result = runCli(['completion', 'fish'], repoRoot, plainEnv());
    assert.equal(result.code, 0);
    const lines = result.stdout.split('\n').filter(Boolean);
    assert.ok(
      lines.slice(1).every((line) => line.startsWith('complete -c grpcforge ')),
      'every line is a complete command',
    );
    for (const name of ['init', 'generate', 'serve', 'lint', 'keys', 'dashboard', 'completion'])
      assert.ok(
        lines.some((line) => line.includes(` -a ${name} -d `)),
        name,
      );
    assert.ok(lines.some((line) => line.includes('__fish_seen_subcommand_from serve') && line.includes('-l port -s p -r -F')));
    assert.ok(lines.some((line) => line.includes("-l format -x -a 'text json github-actions'")));
    const dir = await tempDir();
    await writeFile(join(dir, 'grpcforge.fish'), result.stdout);
    if (runProgram('sh', ['-c', 'command -v fish'], dir).code === 0) {
      const parsed = runProgram('fish', ['--no-execute', join(dir, 'grpcforge.fish')], dir);
      assert.equal(parsed.code, 0, parsed.stderr);
    }
  });

  test('an unknown shell is a usage error that lists the shells', () => {
    const result = runCli(['completion', 'tcsh'], repoRoot, plainEnv());
    assert.equal(result.code, 2);
    assert.match(result.stderr, /bash, zsh, fish/);
  });
});

describe('colour', () => {
  const failing = async (env: NodeJS.ProcessEnv) => runCli(['serve', 'auth'], await tempDir(), plainEnv(env));

  test('piped, without FORCE_COLOR: plain text', async () => {
    const result = await failing({});
    assert.equal(result.code, 2);
    assert.ok(!result.stderr.includes(ESC), JSON.stringify(result.stderr));
  });

  test('FORCE_COLOR=1: the error prefix is red, even piped', async () => {
    const result = await failing({ FORCE_COLOR: '1' });
    assert.equal(result.code, 2);
    assert.ok(result.stderr.startsWith(`${ESC}31mgrpcforge:${ESC}39m no grpcforge.yaml in `), JSON.stringify(result.stderr));
    const usage = runCli(['--no-such-flag'], repoRoot, plainEnv({ FORCE_COLOR: '1' }));
    assert.equal(usage.code, 2);
    assert.ok(usage.stderr.includes(`${ESC}31m`), 'commander’s usage error is red too');
  });

  test('NO_COLOR wins over FORCE_COLOR; FORCE_COLOR=0 and TERM=dumb mean no colour', async () => {
    for (const env of [{ NO_COLOR: '1', FORCE_COLOR: '1' }, { NO_COLOR: '1' }, { FORCE_COLOR: '0' }, { TERM: 'dumb' }]) {
      const result = await failing(env);
      assert.equal(result.code, 2);
      assert.ok(!result.stderr.includes(ESC), `${JSON.stringify(env)}: ${JSON.stringify(result.stderr)}`);
    }
  });

  test('help and completion scripts never carry colour', () => {
    for (const args of [['--help'], ['completion', 'bash']]) {
      const result = runCli(args, repoRoot, plainEnv({ FORCE_COLOR: '1' }));
      assert.equal(result.code, 0);
      assert.ok(!result.stdout.includes(ESC), args.join(' '));
    }
  });
});
