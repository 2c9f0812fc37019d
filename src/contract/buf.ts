import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, endianness, tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { listFilesRecursive, toPosix } from '../util/fs.js';
import { runProcess } from '../util/spawn.js';

/**
 * The one place that runs buf. buf ships inside the `@bufbuild/buf` npm package (its postinstall picks the binary of
 * the platform's optional dependency); nothing is downloaded.
 */

const require = createRequire(import.meta.url);

/** Absolute path of the `buf` launcher script shipped by `@bufbuild/buf`. */
export function bufLauncherPath(): string {
  return require.resolve('@bufbuild/buf/bin/buf');
}

/** The platform packages of `@bufbuild/buf` (its launcher's table), keyed by `platform arch endianness`. */
const NATIVE_PACKAGES: Readonly<Record<string, string>> = {
  'darwin arm64 LE': '@bufbuild/buf-darwin-arm64',
  'darwin x64 LE': '@bufbuild/buf-darwin-x64',
  'linux arm64 LE': '@bufbuild/buf-linux-aarch64',
  'linux armv7 LE': '@bufbuild/buf-linux-armv7',
  'linux x64 LE': '@bufbuild/buf-linux-x64',
  'win32 arm64 LE': '@bufbuild/buf-win32-arm64',
  'win32 x64 LE': '@bufbuild/buf-win32-x64',
};

let native: string | null | undefined;
/**
 * Absolute path of buf's own executable, from the platform package `@bufbuild/buf` installed as its optional
 * dependency, or `undefined` when there is none (an unknown platform, or a binary the launcher downloaded): then
 * {@link spawnBuf} runs the launcher. Spawning the binary directly saves a Node start (~80 ms) per buf process.
 */
export function bufNativePath(): string | undefined {
  if (native === undefined) {
    const pkg = NATIVE_PACKAGES[`${process.platform} ${arch()} ${endianness()}`];
    const binary = process.platform === 'win32' ? 'bin/buf.exe' : 'bin/buf';
    try {
      // Resolved from the launcher's package, as the launcher itself does.
      native = pkg ? createRequire(bufLauncherPath()).resolve(`${pkg}/${binary}`) : null;
    } catch {
      native = null;
    }
  }
  return native ?? undefined;
}

/** One error buf reported, with its location when it has one. */
export interface BufDiagnostic {
  /** Path relative to the workspace, POSIX form. */
  readonly path: string;
  readonly line: number;
  readonly column: number;
  /** buf's error type, for example `COMPILE`, or a lint rule id. */
  readonly type: string;
  readonly message: string;
}

/** Formats a diagnostic the way compilers do: `proto/a/v1/a.proto:4:3: message`. */
export function formatBufDiagnostic(diagnostic: BufDiagnostic): string {
  const where = diagnostic.path ? `${diagnostic.path}:${diagnostic.line}:${diagnostic.column}: ` : '';
  return `${where}${diagnostic.message}`;
}

/**
 * Finds the folder whose `buf.yaml` covers `contractRoot`: the root itself or its nearest parent, but not above
 * `workspaceDir`.
 * @throws UserError `buf-yaml-missing` when there is none.
 */
export function findBufWorkspace(contractRoot: string, workspaceDir: string): string {
  let dir = resolve(contractRoot);
  const stop = resolve(workspaceDir);
  for (;;) {
    if (existsSync(join(dir, 'buf.yaml'))) return dir;
    if (dir === stop || dirname(dir) === dir) break;
    dir = dirname(dir);
  }
  throw new UserError('buf-yaml-missing', `no buf.yaml in ${toPosix(relative(stop, contractRoot)) || '.'} or above it`, [
    'create one with `version: v2` and `modules: [{ path: proto }]` next to grpcforge.yaml',
  ]);
}

/** Options of {@link runBuf}. */
interface RunBufOptions {
  /** buf runs here; it is also the buf input `.`. */
  readonly bufDir: string;
  /** Paths in diagnostics are made relative to this folder. */
  readonly workspaceDir: string;
  /** Extra folders put first on PATH, where buf looks for local plugins. */
  readonly pathPrepend?: readonly string[];
  /** What failed, for the error message: `buf could not ${action}`. */
  readonly action: string;
}

async function runBuf(args: readonly string[], options: RunBufOptions): Promise<Buffer> {
  const result = await spawnBuf(args, options);
  if (result.exitCode !== 0) {
    const diagnostics = parseDiagnostics(result.stderr, options);
    const details =
      diagnostics.length > 0
        ? diagnostics.map(formatBufDiagnostic)
        : [result.stderr.trim() || `buf exited with ${String(result.exitCode)}`];
    throw new UserError('contract-invalid', `buf could not ${options.action}`, details);
  }
  return result.stdout;
}

function spawnBuf(args: readonly string[], options: RunBufOptions) {
  const env = { ...process.env };
  if (options.pathPrepend?.length) env.PATH = [...options.pathPrepend, env.PATH ?? ''].join(delimiter);
  const command = bufNativePath();
  const argv = [...args, '--error-format', 'json'];
  return command
    ? runProcess(command, argv, { cwd: options.bufDir, env })
    : runProcess(process.execPath, [bufLauncherPath(), ...argv], { cwd: options.bufDir, env });
}

/** buf's exit code when a check found something (as opposed to failing to run). */
const BUF_FINDINGS_EXIT = 100;

/**
 * Runs `buf lint` or `buf breaking` and returns its findings (buf exits 100 for those), with workspace-relative paths.
 * @param args the command and its arguments, for example `['breaking', '.', '--against', …]`.
 * @throws UserError `buf-failed` when buf could not run the check (bad buf.yaml, unreadable input, missing ref).
 */
export async function runBufCheck(args: readonly string[], bufDir: string, workspaceDir: string): Promise<BufDiagnostic[]> {
  const command = args[0] ?? '';
  const options = { bufDir, workspaceDir, action: `run buf ${command}` };
  const result = await spawnBuf(args, options);
  if (result.exitCode === 0) return [];
  if (result.exitCode === BUF_FINDINGS_EXIT) return parseDiagnostics(result.stdout.toString('utf8'), options);
  const details = parseDiagnostics(result.stderr, options).map(formatBufDiagnostic);
  throw new UserError('buf-failed', `buf ${command} failed (exit ${String(result.exitCode)})`, details);
}

function parseDiagnostics(stderr: string, options: RunBufOptions): BufDiagnostic[] {
  const diagnostics: BufDiagnostic[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const path = typeof entry.path === 'string' ? entry.path : '';
      diagnostics.push({
        path: path ? toPosix(relative(options.workspaceDir, resolve(options.bufDir, path))) : '',
        line: Number(entry.start_line ?? 0),
        column: Number(entry.start_column ?? 0),
        type: typeof entry.type === 'string' ? entry.type : '',
        message: typeof entry.message === 'string' ? entry.message : line,
      });
    } catch {
      // Not one of buf's JSON lines: keep scanning.
    }
  }
  // Plain-text errors (for example a bad buf.yaml) come without JSON.
  if (diagnostics.length === 0 && stderr.trim()) {
    for (const line of stderr.trim().split('\n')) {
      diagnostics.push({ path: '', line: 0, column: 0, type: 'ERROR', message: line.replace(/^Failure: /, '') });
    }
  }
  return diagnostics;
}

/**
 * Runs `buf build` and returns the FileDescriptorSet (imports and source info included), protobuf binary.
 * @throws UserError `contract-invalid` with buf's `file:line:col: message` lines when the contracts do not compile.
 */
export async function buildDescriptorSet(bufDir: string, workspaceDir: string): Promise<Uint8Array> {
  const bytes = await runBuf(['build', '.', '--as-file-descriptor-set', '-o', '-#format=binpb'], {
    bufDir,
    workspaceDir,
    action: 'build the contracts',
  });
  return new Uint8Array(bytes);
}

/** A buf image on disk (`buf build -o image.binpb`), in a temporary folder {@link BufImage.dispose} removes. */
export interface BufImage {
  /** Absolute path of the image file: an input `buf generate` reads without compiling again. */
  readonly path: string;
  /** The image file's bytes: `imageToDescriptorSet` (contract/buf-image.ts) makes them a FileDescriptorSet. */
  readonly bytes: Uint8Array;
  /** Removes the temporary folder. */
  readonly dispose: () => Promise<void>;
}

/**
 * Compiles the contracts once into a buf image (imports and source info included, each file marked import or not),
 * for `buf generate` to read and for the contract model ({@link BufImage.descriptorSet}).
 * @throws UserError `contract-invalid` with buf's `file:line:col: message` lines when the contracts do not compile.
 */
export async function buildImage(bufDir: string, workspaceDir: string): Promise<BufImage> {
  const dir = await mkdtemp(join(tmpdir(), 'grpcforge-image-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const path = join(dir, 'image.binpb');
    await runBuf(['build', '.', '-o', path], { bufDir, workspaceDir, action: 'build the contracts' });
    return { path, bytes: await readFile(path), dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Options of {@link runBufGenerate}. */
export interface BufGenerateOptions {
  readonly bufDir: string;
  readonly workspaceDir: string;
  /** Absolute path of the buf.gen.yaml template. */
  readonly template: string;
  /** Fully-qualified names for buf's type filter (`--type`): only these and what they need are generated. */
  readonly types: readonly string[];
  /** Folders put first on PATH so buf finds local plugins such as `protoc-gen-ts_proto`. */
  readonly pluginPath: readonly string[];
  /**
   * A buf image of the contracts ({@link buildImage}) to generate from instead of compiling them again. buf starts
   * as soon as it settles (the output folder is made before), ahead of whatever else waits for it.
   */
  readonly image?: PromiseLike<BufImage>;
}

/**
 * Runs `buf generate` into a fresh temporary folder and returns every file it wrote, keyed by POSIX path relative
 * to that folder (so relative to the service folder, since `out` in the template is relative to `--output`).
 * @throws UserError `contract-invalid` when buf or a plugin fails.
 */
export async function runBufGenerate(options: BufGenerateOptions): Promise<Map<string, string>> {
  const outDir = await mkdtemp(join(tmpdir(), 'grpcforge-gen-'));
  try {
    const input = options.image ? (await options.image).path : '.';
    const typeArgs = options.types.flatMap((type) => ['--type', type]);
    await runBuf(['generate', input, '--template', options.template, '--output', outDir, ...typeArgs], {
      bufDir: options.bufDir,
      workspaceDir: options.workspaceDir,
      pathPrepend: options.pluginPath,
      action: `generate code for ${options.types.join(', ')}`,
    });
    const files = new Map<string, string>();
    for (const path of await listFilesRecursive(outDir)) files.set(path, await readFile(join(outDir, path), 'utf8'));
    return files;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
