import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { listFilesRecursive, toPosix } from '../util/fs.js';

/** Options of {@link compileService}. */
export interface CompileServiceOptions {
  /** Absolute path of the service folder; its `src/` is compiled. */
  readonly serviceDir: string;
  /** Absolute path of the workspace root: its tsconfig.json (if any) gives the strictness, and diagnostics are relative to it. */
  readonly workspaceDir: string;
  /** Absolute path of the output folder the emitted paths are computed for. @defaultValue `<serviceDir>/dist` */
  readonly outDir?: string;
  /**
   * Parsed files shared between the builds of one run (from {@link createSourceFileCache}): the services of a
   * workspace read the same declarations (`@types/node`, nice-grpc, the runtime), parsed once.
   */
  readonly cache?: SourceFileCache;
}

/** Parsed source files by path and module format, shared between {@link compileService} calls of one run. */
export type SourceFileCache = Map<string, ts.SourceFile>;

/** An empty {@link SourceFileCache}. */
export function createSourceFileCache(): SourceFileCache {
  return new Map();
}

/** One emitted file, not yet written. */
export interface CompiledFile {
  /** POSIX path relative to the output folder, for example `handlers/auth.v1.AuthService/login.js`. */
  readonly path: string;
  readonly content: string;
}

/** What {@link compileService} produced: the emitted files when there is no error, else only the errors. */
export type CompileResult =
  | { readonly ok: true; readonly files: readonly CompiledFile[] }
  | {
      readonly ok: false;
      /** One entry per error: `path:line:col: message (TSnnnn)` with a workspace-relative path, continuation lines indented. */
      readonly errors: readonly string[];
    };

/**
 * The compiler options every build uses, whatever the workspace's tsconfig.json says: ES2022 ESM for Node
 * (NodeNext), `src/` as the root, source maps beside the JavaScript, no declarations, no helpers package.
 */
const FORCED_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  sourceMap: true,
  inlineSourceMap: false,
  inlineSources: false,
  noEmit: false,
  noEmitOnError: false,
  emitDeclarationOnly: false,
  declaration: false,
  declarationMap: false,
  composite: false,
  incremental: false,
  allowImportingTsExtensions: false,
  importHelpers: false,
  removeComments: false,
  emitBOM: false,
  newLine: ts.NewLineKind.LineFeed,
};

/** Options a workspace's tsconfig.json says nothing about get these (its own values win). */
const DEFAULT_OPTIONS: ts.CompilerOptions = { strict: true, skipLibCheck: true };

/** Options of the workspace's tsconfig.json that have no meaning for one service's build. */
const DROPPED_OPTIONS = [
  'outDir',
  'outFile',
  'out',
  'rootDir',
  'rootDirs',
  'declarationDir',
  'tsBuildInfoFile',
  'mapRoot',
  'sourceRoot',
  'configFilePath',
] as const;

/**
 * Type-checks and compiles `<serviceDir>/src/**\/*.ts` (handlers, generated code, context, middleware) in memory with
 * the TypeScript compiler API: rootDir `src`, module and moduleResolution NodeNext, target ES2022, source maps. The
 * strictness comes from the workspace's tsconfig.json when there is one (`strict` by default), the output options
 * are forced. Nothing is written: the caller writes {@link CompileResult}'s files only when there is no error.
 * @throws UserError never; a tsconfig.json that cannot be read is reported as errors in the result.
 */
export async function compileService(options: CompileServiceOptions): Promise<CompileResult> {
  const srcDir = join(options.serviceDir, 'src');
  const outDir = options.outDir ?? join(options.serviceDir, 'dist');
  const base = readWorkspaceOptions(options.workspaceDir);
  if (!base.ok) return { ok: false, errors: base.errors.map((diagnostic) => formatDiagnostic(diagnostic, options.workspaceDir)) };
  const compilerOptions: ts.CompilerOptions = { ...DEFAULT_OPTIONS, ...base.options, ...FORCED_OPTIONS, rootDir: srcDir, outDir };
  const rootNames = (await listFilesRecursive(srcDir))
    .filter((path) => /\.(?:m?ts|tsx)$/.test(path))
    .sort()
    .map((path) => join(srcDir, path));
  const host = ts.createCompilerHost(compilerOptions);
  // Type roots (`@types/*`) and relative paths in diagnostics resolve from the workspace, wherever build was started.
  host.getCurrentDirectory = () => options.workspaceDir;
  const cache = options.cache;
  if (cache) {
    const read = host.getSourceFile.bind(host);
    // Declarations only (the bulk: lib, @types/node, nice-grpc, the runtime): a run reads the disk once.
    host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
      const format = typeof languageVersion === 'object' ? languageVersion.impliedNodeFormat : undefined;
      const key = `${String(format)}:${fileName}`;
      const cached = cache.get(key);
      if (cached) return cached;
      const file = read(fileName, languageVersion, onError, shouldCreate);
      if (file && fileName.endsWith('.d.ts')) cache.set(key, file);
      return file;
    };
  }
  const program = ts.createProgram({ rootNames, options: compilerOptions, host });
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
  if (diagnostics.length > 0) {
    return {
      ok: false,
      errors: ts.sortAndDeduplicateDiagnostics(diagnostics).map((d) => formatDiagnostic(d, options.workspaceDir)),
    };
  }
  const files: CompiledFile[] = [];
  const outside: string[] = [];
  const emitted = program.emit(undefined, (fileName, text) => {
    const path = relative(outDir, resolve(fileName));
    if (path.startsWith('..') || path.startsWith(sep)) outside.push(fileName);
    else files.push({ path: toPosix(path), content: text });
  });
  const emitErrors = emitted.diagnostics.filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
  if (emitErrors.length > 0) return { ok: false, errors: emitErrors.map((d) => formatDiagnostic(d, options.workspaceDir)) };
  if (outside.length > 0) {
    return {
      ok: false,
      errors: outside.map((fileName) => `${toPosix(relative(options.workspaceDir, fileName))}: emitted outside dist/`),
    };
  }
  return { ok: true, files: files.sort((a, b) => a.path.localeCompare(b.path)) };
}

/** The compiler options of the workspace's tsconfig.json (without the ones a build decides), or its errors. */
function readWorkspaceOptions(
  workspaceDir: string,
): { ok: true; options: ts.CompilerOptions } | { ok: false; errors: readonly ts.Diagnostic[] } {
  const configPath = join(workspaceDir, 'tsconfig.json');
  if (!existsSync(configPath)) return { ok: true, options: {} };
  const read = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (read.error) return { ok: false, errors: [read.error] };
  // Only compilerOptions matter: the files to compile are the service's src/, whatever `include` says.
  const parsed = ts.parseJsonConfigFileContent(
    { ...(read.config as object), include: [], files: [] },
    ts.sys,
    workspaceDir,
    undefined,
    configPath,
  );
  // TS18002/TS18003: the emptied `files`/`include` list, not a problem of the workspace's file.
  const errors = parsed.errors.filter((diagnostic) => diagnostic.code !== 18002 && diagnostic.code !== 18003);
  if (errors.length > 0) return { ok: false, errors };
  const dropped = new Set<string>(DROPPED_OPTIONS);
  const options = Object.fromEntries(Object.entries(parsed.options).filter(([name]) => !dropped.has(name)));
  return { ok: true, options };
}

/** `path:line:col: message (TSnnnn)`, the path relative to the workspace root; a message chain continues indented. */
function formatDiagnostic(diagnostic: ts.Diagnostic, workspaceDir: string): string {
  const [first = '', ...rest] = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n').split('\n');
  const message = [`${first} (TS${diagnostic.code})`, ...rest.map((line) => `  ${line.trim()}`)].join('\n');
  if (!diagnostic.file || diagnostic.start === undefined) return message;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const path = toPosix(relative(workspaceDir, diagnostic.file.fileName));
  return `${path}:${line + 1}:${character + 1}: ${message}`;
}
