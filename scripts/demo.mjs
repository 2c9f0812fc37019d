// `npm run demo`: the main job on the embedded example, end to end, with real processes and sockets:
// grpcforge init -> generate -> serve auth and user -> calls through server reflection, one of which crosses
// from user to auth through user's generated client; errors the contract declares (a rule violation, a reason).
import { spawn, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { shellCommand } from '../dist/util/shell.js';
import { linkWorkspace, repoRoot } from './link-workspace.mjs';

const cli = join(repoRoot, 'bin/grpcforge');
const buf = join(repoRoot, 'node_modules/.bin/buf');
const workspace = join(repoRoot, '.demo/platform');
const started = Date.now();

function step(title) {
  console.log(`\n== ${title}`);
}

/**
 * Prints a command the way it can be pasted into a shell at the repository's root (where `npm run demo` runs): every
 * argument quoted, `node` for this Node, a `cd` into its folder, the environment it adds, and paths inside the
 * repository relative to the folder the command runs in.
 */
function echo(command, args, cwd, env = {}) {
  const from = cwd ?? repoRoot;
  const shown = (word) => (word.startsWith(repoRoot) ? relative(from, word) || '.' : word);
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${shellCommand([value])} `);
  const line = assignments.join('') + shellCommand([command === process.execPath ? 'node' : shown(command), ...args.map(shown)]);
  console.log(`$ ${cwd ? `(cd ${shellCommand([relative(repoRoot, cwd) || '.'])} && ${line})` : line}`);
}

function run(command, args, options = {}) {
  echo(command, args, options.cwd);
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
  return result.stdout;
}

/** Starts `grpcforge serve <service> --port 0` and resolves with the process and its address once it listens. */
function serve(service, env = {}) {
  echo(process.execPath, [cli, 'serve', service, '--port', '0'], workspace, env);
  const child = spawn(process.execPath, [cli, 'serve', service, '--port', '0'], {
    cwd: workspace,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${service} did not start within 30 s`)), 30_000);
    child.on('exit', (code) => reject(new Error(`${service} exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(`[${service}] ${line}`);
      const match = /^listening on (.+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ child, address: match[1] });
      }
    });
  });
}

function curl(address, method, body, headers = []) {
  const args = [
    'curl',
    '--protocol',
    'grpc',
    '--http2-prior-knowledge',
    ...headers.flatMap((h) => ['-H', h]),
    '-d',
    JSON.stringify(body),
    `http://${address}/${method}`,
  ];
  return run(buf, args);
}

const servers = [];
try {
  step('grpcforge init');
  await rm(workspace, { recursive: true, force: true });
  run(process.execPath, [cli, 'init', workspace]);
  await linkWorkspace(workspace); // what `npm install` in the workspace would do, offline

  step('grpcforge generate (contracts -> per-service code, through buf + ts-proto)');
  run(process.execPath, [cli, 'generate'], { cwd: workspace });

  step('grpcforge serve auth, then user (user calls auth through its generated client)');
  const auth = await serve('auth');
  servers.push(auth.child);
  const user = await serve('user', { AUTH_ADDR: auth.address });
  servers.push(user.child);

  step('calls through server reflection (buf curl, no .proto at hand)');
  run(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--list-services', `http://${user.address}`]);
  const login = JSON.parse(curl(auth.address, 'auth.v1.AuthService/Login', { username: 'ada', password: 'demo' }));
  const bearer = [`authorization: Bearer ${login.token}`];
  const response = JSON.parse(curl(user.address, 'user.v1.UserService/GetUser', { id: 'u2' }, bearer));
  curl(user.address, 'user.v1.UserService/ListUsers', {}, bearer);

  step("errors declared in the contract: a request breaking LoginRequest's rules, then a declared reason");
  for (const body of [
    { username: 'x', password: 'demo' },
    { username: 'ada', password: 'wrong' },
  ]) {
    const args = [cli, 'call', auth.address, 'auth.v1.AuthService/Login', '-d', JSON.stringify(body)];
    echo(process.execPath, args, workspace);
    // Both calls fail (INVALID_ARGUMENT with BadRequest details, UNAUTHENTICATED): their output is what matters.
    const answer = spawnSync(process.execPath, args, { cwd: workspace, encoding: 'utf8' });
    process.stdout.write(answer.stdout + answer.stderr);
  }

  step('the pipeline: ListSessions needs the admin role (grpcforge.yaml auth.methods)');
  const refused = spawnSync(
    buf,
    [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '-d',
      '{}',
      `http://${auth.address}/auth.v1.AuthService/ListSessions`,
    ],
    { encoding: 'utf8' },
  );
  console.log(`without a key: ${(refused.stdout + refused.stderr).replace(/\s+/g, ' ').trim()}`);
  const key = JSON.parse(
    run(process.execPath, [cli, 'keys', 'create', '--name', 'ops', '--roles', 'admin', '--json'], { cwd: workspace }),
  ).key;
  curl(auth.address, 'auth.v1.AuthService/ListSessions', {}, [`x-api-key: ${key}`]);

  step('stop both (SIGTERM drains and flushes the log store), then read what was recorded');
  await Promise.all(
    servers.splice(0).map(
      (child) =>
        new Promise((resolve) => {
          child.removeAllListeners('exit');
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
  run(process.execPath, [cli, 'stats', '--since', '1h'], { cwd: workspace });
  run(process.execPath, [cli, 'status', '--all'], { cwd: workspace });

  step('result');
  console.log(
    `user.v1.UserService/GetUser -> ${response.user.displayName}, requested by "${response.requestedBy}" ` +
      '(resolved by user calling auth.v1.AuthService/ValidateToken)',
  );
  console.log(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s; the workspace is in .demo/platform`);
} finally {
  await Promise.all(
    servers.map(
      (child) =>
        new Promise((resolve) => {
          child.removeAllListeners('exit');
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
}
