import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { listFilesRecursive } from '../../src/util/fs.ts';
import { repoRoot } from '../helpers/workspace.ts';

// STYLE.md's dependency rule: which layer of src/ may import which. The runtime is its own package
// (packages/runtime, `@grpcforge/runtime`): the CLI's layers reach it only through the subpaths its package.json
// exports, and it imports nothing of the CLI, so a service that installs the runtime alone never loads the generator.
const ALLOWED: Record<string, readonly string[]> = {
  cli: ['build', 'config', 'contract', 'codegen', 'lint', 'dashboard', 'certs', 'call', 'dev', 'deploy', 'util'],
  call: ['util'],
  certs: ['config', 'util'],
  // `grpcforge build`: compiles a service; its manifest (the runtime's type) from the resolved config, main.js from
  // codegen's header and runtime module name.
  build: ['config', 'codegen', 'util'],
  codegen: ['contract', 'config', 'util'],
  lint: ['contract', 'config', 'codegen', 'deploy', 'util'],
  // `grpcforge deploy`: pure planners over the resolved config, written through codegen's writer and header.
  deploy: ['config', 'codegen', 'util'],
  // the `grpcforge dev` loop: regenerates through codegen, lints through lint, runs servers as child `serve`
  // processes (never the runtime in process), and gets the workspace loader from the CLI as a function.
  dev: ['config', 'contract', 'codegen', 'lint', 'util'],
  dashboard: ['util'],
  contract: ['util'],
  config: ['util'],
  // grpcforge/runtime and grpcforge/runtime/codegen-v1 of workspaces written before the runtime package
  compat: [],
  util: [],
};
// codegen, certs and deploy may use config only for its types.
const TYPES_ONLY: Record<string, readonly string[]> = { codegen: ['config'], certs: ['config'], deploy: ['config'] };
/** Layers of src/ that may import `@grpcforge/runtime`'s values (through its exports); any layer may import its types. */
const USES_RUNTIME = new Set(['cli', 'call', 'dashboard', 'compat']);
/** The shared vocabulary: a leaf every layer may import values from (it loads nothing, see the last test). */
const SHARED_LEAF = '@grpcforge/runtime/vocabulary';

const IMPORT = /^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'|import\('([^']+)'\)/gm;

interface PackageManifest {
  readonly name: string;
  readonly exports: Record<string, unknown>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

const readManifest = async (path: string) => JSON.parse(await readFile(join(repoRoot, path), 'utf8')) as PackageManifest;

/** `@scope/name` or `name` of a bare specifier. */
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

test('imports between src/ layers follow the dependency rule, and reach the runtime only through its exports', async () => {
  const runtime = await readManifest('packages/runtime/package.json');
  const exported = new Set(Object.keys(runtime.exports).map((key) => posix.join(runtime.name, key)));
  const src = join(repoRoot, 'src');
  const violations: string[] = [];
  for (const file of (await listFilesRecursive(src)).filter((path) => path.endsWith('.ts'))) {
    const layer = file.includes('/') ? file.split('/')[0]! : '(root)';
    const text = await readFile(join(src, file), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[3] ?? match[4]!;
      const isTypeOnly = match[2] !== undefined;
      if (packageOf(specifier) === runtime.name) {
        if (!exported.has(specifier)) violations.push(`src/${file} imports ${specifier} (not an export of ${runtime.name})`);
        else if (layer !== '(root)' && !USES_RUNTIME.has(layer) && !isTypeOnly && specifier !== SHARED_LEAF) {
          violations.push(`src/${file} imports ${specifier} (${layer} -> runtime)`);
        }
        continue;
      }
      if (!specifier.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      if (target.startsWith('../')) {
        violations.push(`src/${file} imports ${specifier} (outside src/)`);
        continue;
      }
      if (layer === '(root)') continue; // src/index.ts is the library's public face
      const targetLayer = target.split('/')[0]!;
      if (targetLayer === layer) continue;
      const allowed = ALLOWED[layer]?.includes(targetLayer) && (isTypeOnly || !TYPES_ONLY[layer]?.includes(targetLayer));
      if (!allowed) violations.push(`src/${file} imports ${specifier} (${layer} -> ${targetLayer}${isTypeOnly ? ', type' : ''})`);
    }
  }
  assert.deepEqual(violations, []);
});

/** The writer thread's bootstrap, as text: it registers tsx only when the runtime runs from its .ts sources (tests). */
const SOURCE_ONLY: Record<string, readonly string[]> = { 'logstore/log-writer.ts': ['tsx/esm/api'] };

test('the runtime package imports only its own files, Node built-ins and the packages its package.json declares', async () => {
  const runtime = await readManifest('packages/runtime/package.json');
  const declared = new Set([...Object.keys(runtime.dependencies ?? {}), ...Object.keys(runtime.peerDependencies ?? {})]);
  const builtins = new Set(builtinModules);
  const src = join(repoRoot, 'packages/runtime/src');
  const violations: string[] = [];
  for (const file of (await listFilesRecursive(src)).filter((path) => path.endsWith('.ts'))) {
    const text = await readFile(join(src, file), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[3] ?? match[4]!;
      if (specifier.startsWith('.')) {
        if (posix.normalize(posix.join(posix.dirname(file), specifier)).startsWith('../')) {
          violations.push(`${file} imports ${specifier} (outside the runtime package)`);
        }
      } else if (
        !specifier.startsWith('node:') &&
        !builtins.has(specifier) &&
        !declared.has(packageOf(specifier)) &&
        !SOURCE_ONLY[file]?.includes(specifier)
      ) {
        violations.push(`${file} imports ${specifier} (not a dependency of ${runtime.name})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the shared vocabulary is a leaf: its modules import only each other', async () => {
  const root = join(repoRoot, 'packages/runtime/src');
  const files = ['vocabulary.ts', ...(await listFilesRecursive(join(root, 'vocabulary'))).map((file) => `vocabulary/${file}`)];
  const violations: string[] = [];
  for (const file of files.filter((path) => path.endsWith('.ts'))) {
    const text = await readFile(join(root, file), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[3] ?? match[4]!;
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      if (!specifier.startsWith('.') || !(target === 'vocabulary' || target.startsWith('vocabulary/'))) {
        violations.push(`${file} imports ${specifier}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
