import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CODEGEN_RUNTIME_MODULE, CODEGEN_RUNTIME_TYPES, CODEGEN_RUNTIME_VALUES } from '../../src/codegen/runtime-symbols.ts';
import { GENERATED_HEADER } from '../../src/codegen/header.ts';
import { listFilesRecursive } from '../../src/util/fs.ts';
import { repoRoot } from '../helpers/workspace.ts';

describe('@grpcforge/runtime/codegen-v1', () => {
  test('exports exactly the values runtime-symbols.ts lists', async () => {
    const module = (await import('../../packages/runtime/src/codegen-v1.ts')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(module).sort(), [...CODEGEN_RUNTIME_VALUES].sort());
  });

  test('exports exactly the types runtime-symbols.ts lists', async () => {
    const source = await readFile(join(repoRoot, 'packages/runtime/src/codegen-v1.ts'), 'utf8');
    const types = [...source.matchAll(/export type \{([^}]+)\}/g)].flatMap((match) =>
      match[1]!.split(',').map((name) => name.trim()),
    );
    assert.deepEqual(types.filter(Boolean).sort(), [...CODEGEN_RUNTIME_TYPES].sort());
  });

  test('is an export of the runtime package, next to the user API', async () => {
    const manifest = JSON.parse(await readFile(join(repoRoot, 'packages/runtime/package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, unknown>;
    };
    assert.ok(CODEGEN_RUNTIME_MODULE.startsWith(`${manifest.name}/`));
    assert.ok(manifest.exports[CODEGEN_RUNTIME_MODULE.replace(manifest.name, '.')]);
    assert.ok(manifest.exports['.']);
  });

  test('generated golden files import grpcforge only through codegen-v1, and only listed names', async () => {
    const root = join(repoRoot, 'fixtures/codegen');
    const files = (await listFilesRecursive(root)).filter((path) => path.includes('/expected/') && path.endsWith('.ts'));
    assert.ok(files.length > 0, 'no golden files');
    const allowed = new Set<string>([...CODEGEN_RUNTIME_VALUES, ...CODEGEN_RUNTIME_TYPES]);
    let generated = 0;
    for (const path of files) {
      const text = await readFile(join(root, path), 'utf8');
      if (!text.startsWith(GENERATED_HEADER)) continue;
      generated++;
      // Every form that reaches grpcforge: import / import type / export ... from, and namespace or default imports.
      const anyForm = /(?:import|export)\s[^;]*?from\s*'((?:@grpcforge\/|grpcforge)[^']*)'/g;
      for (const match of text.matchAll(anyForm))
        assert.equal(match[1], CODEGEN_RUNTIME_MODULE, `${path} imports from ${match[1]!}`);
      for (const match of text.matchAll(
        /(?:import|export)(?:\s+type)?\s*\{([^}]*)\}\s*from\s*'((?:@grpcforge\/|grpcforge)[^']*)'/g,
      )) {
        assert.equal(match[2], CODEGEN_RUNTIME_MODULE, `${path} imports from ${match[2]!}`);
        for (const name of match[1]!.split(',').map((part) => part.trim().replace(/^type /, ''))) {
          assert.ok(allowed.has(name), `${path} imports "${name}", which runtime-symbols.ts does not list`);
        }
      }
    }
    assert.ok(generated > 0);
  });
});
