import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { listFilesRecursive } from '../../src/util/fs.ts';
import { repoRoot } from '../helpers/workspace.ts';

// STYLE.md's dependency rule: which layer of src/ may import which. runtime imports nothing of its siblings, so
// generated code that imports grpcforge/runtime never loads the generator.
const ALLOWED: Record<string, readonly string[]> = {
  cli: ['build', 'config', 'contract', 'codegen', 'lint', 'dashboard', 'certs', 'call', 'dev', 'runtime', 'util'],
  call: ['runtime', 'util'],
  certs: ['config', 'util'],
  // `grpcforge build`: the service manifest from the resolved config (runtime for its types), main.js from codegen's
  // header and runtime module name.
  build: ['codegen', 'config', 'runtime', 'util'],
  codegen: ['contract', 'config', 'util'],
  lint: ['contract', 'config', 'codegen', 'util'],
  // the `grpcforge dev` loop: regenerates through codegen, lints through lint, runs servers as child `serve`
  // processes (never the runtime in process), and gets the workspace loader from the CLI as a function.
  dev: ['config', 'contract', 'codegen', 'lint', 'util'],
  dashboard: ['runtime', 'util'],
  contract: ['util'],
  config: ['util'],
  runtime: [],
  util: [],
};
// codegen and certs may use config only for its types; build uses the runtime only for its types.
const TYPES_ONLY: Record<string, readonly string[]> = { codegen: ['config'], certs: ['config'], build: ['runtime'] };

test('imports between src/ layers follow the dependency rule', async () => {
  const src = join(repoRoot, 'src');
  const violations: string[] = [];
  for (const file of (await listFilesRecursive(src)).filter((path) => path.endsWith('.ts'))) {
    const layer = file.includes('/') ? file.split('/')[0]! : '(root)';
    if (layer === '(root)') continue; // src/index.ts is the library's public face
    const text = await readFile(join(src, file), 'utf8');
    for (const match of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/gm)) {
      const specifier = match[3] ?? match[4]!;
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      const targetLayer = target.split('/')[0]!;
      if (targetLayer === layer) continue;
      const isTypeOnly = match[2] !== undefined;
      const allowed = ALLOWED[layer]?.includes(targetLayer) && (isTypeOnly || !TYPES_ONLY[layer]?.includes(targetLayer));
      if (!allowed) violations.push(`src/${file} imports ${specifier} (${layer} -> ${targetLayer}${isTypeOnly ? ', type' : ''})`);
    }
  }
  assert.deepEqual(violations, []);
});
