import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { buildPlan } from '../../src/codegen/generate.ts';
import { GENERATED_HEADER } from '../../src/codegen/header.ts';
import type { GenerationPlan } from '../../src/codegen/plan-types.ts';
import { planWorkspace } from '../../src/codegen/workspace.ts';
import { formatConfigProblem, loadConfig } from '../../src/config/load.ts';
import { checkServiceNamesExist } from '../../src/config/rules.ts';
import { loadContract } from '../../src/contract/load-contract.ts';
import { rpcNamesOf } from '../../src/contract/names.ts';
import { listFilesRecursive } from '../../src/util/fs.ts';
import { grpcforgeVersion } from '../../src/util/version.ts';
import { compareTrees, duplicatePaths, planToTree, readTree, writeTree } from '../helpers/golden.ts';
import { repoRoot, tempDir, tscPath, writeFiles } from '../helpers/workspace.ts';

// Golden codegen tests in ts-proto's layout (STYLE.md 21): each fixtures/codegen/<case>/ holds the inputs
// (grpcforge.yaml, buf.yaml, buf.gen.yaml, proto/) and expected/, the plan as files. The plan is built in memory
// (ts-proto runs through buf into a temporary folder) and compared file by file; UPDATE_GOLDENS=1 rewrites
// expected/. Then tsc type-checks every expected/ tree under the strictest options (fixtures/codegen/tsconfig.json).

const casesRoot = join(repoRoot, 'fixtures/codegen');
const isUpdate = process.env.UPDATE_GOLDENS === '1';
const UPDATE_HINT =
  'if the change is intended: UPDATE_GOLDENS=1 node scripts/run-tests.mjs golden, then review and commit expected/';
/** The inputs of a case, copied to prove the plan does not depend on where the workspace is. */
const CASE_INPUTS = ['grpcforge.yaml', 'buf.yaml', 'buf.gen.yaml', 'proto'];

/** What the example case adds to init's grpcforge.yaml. */
const EXAMPLE_CODEGEN =
  '\n# Goldens: headers without the grpcforge and ts-proto versions, so a release does not change every file.\ncodegen:\n  annotateVersion: false\n';

/** The inputs of the example case as `grpcforge init` writes them (planWorkspace), plus the codegen key. */
async function exampleInputs(): Promise<Map<string, string>> {
  const inputs = new Map<string, string>();
  for (const file of await planWorkspace('example', '^0.0.0', '^0.0.0')) {
    if (file.path === 'grpcforge.yaml') inputs.set(file.path, `${file.content}${EXAMPLE_CODEGEN}`);
    else if (file.path === 'buf.yaml' || file.path === 'buf.gen.yaml' || file.path.startsWith('proto/'))
      inputs.set(file.path, file.content);
  }
  return inputs;
}

const cases = (await listFilesRecursive(casesRoot))
  .filter((path) => /^[^/]+\/grpcforge\.yaml$/.test(path))
  .map((path) => path.split('/')[0]!);

/** Loads a case the way `generate` does (config, contract, names check) and builds its plan. */
async function planCase(name: string, workspaceDir = join(casesRoot, name)): Promise<GenerationPlan> {
  const configPath = join(workspaceDir, 'grpcforge.yaml');
  const result = await loadConfig(configPath);
  const problems = [...result.errors, ...result.warnings].map((problem) => formatConfigProblem(configPath, problem, repoRoot));
  if (!result.config || problems.length > 0) throw new Error(`grpcforge.yaml has problems:\n  ${problems.join('\n  ')}`);
  const config = result.config;
  const loaded = await loadContract(config.contract.root, config.workspaceDir);
  const unknown = checkServiceNamesExist(
    config,
    loaded.contract.services.map((service) => service.fullName),
    'proto/',
    rpcNamesOf(loaded.contract),
  );
  if (unknown.length > 0) throw new Error(unknown.map((problem) => `${problem.path}: ${problem.message}`).join('; '));
  return buildPlan(config, loaded);
}

let typeCheck: Promise<string> | undefined;
/** tsc's output over every expected/ tree, run once; it starts at once unless the goldens are being rewritten. */
function typeCheckGoldens(): Promise<string> {
  typeCheck ??= (async () => {
    assert.ok(
      existsSync(join(repoRoot, 'packages/runtime/dist/index.d.ts')),
      'packages/runtime/dist/index.d.ts is missing: build first (npm run build; npm test does it)',
    );
    return promisify(execFile)(tscPath, ['-p', 'fixtures/codegen/tsconfig.json', '--pretty', 'false'], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      ({ stdout }) => stdout,
      (error: unknown) => {
        // promisify(execFile) rejects with the child's output on the error object.
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        return `${stdout}${stderr}` || (error instanceof Error ? error.message : String(error));
      },
    );
  })();
  return typeCheck;
}
// Type-checking takes as long as planning: overlap them, except when expected/ is about to be rewritten.
if (!isUpdate) typeCheckGoldens().catch(() => undefined);

/** Plans by case: the first from the fixture, the second from a copy of its inputs in a temporary folder. */
const plans = new Map<string, Promise<GenerationPlan>>();
const secondPlans = new Map<string, Promise<GenerationPlan>>();

/** A case's plan; a case that cannot be planned fails its own tests, named, and no other case's. */
async function planOf(name: string, which = plans): Promise<GenerationPlan> {
  try {
    return await which.get(name)!;
  } catch (error) {
    throw new Error(`case ${name}: could not build the plan: ${(error as Error).message}`, { cause: error });
  }
}

describe('golden codegen (fixtures/codegen)', () => {
  before(async () => {
    assert.ok(cases.length > 0, `no cases in ${casesRoot}`);
    if (isUpdate) {
      // The example case's inputs are init's files: an update copies them again before planning.
      const exampleDir = join(casesRoot, 'example');
      await rm(join(exampleDir, 'proto'), { recursive: true, force: true });
      await writeFiles(exampleDir, Object.fromEntries(await exampleInputs()));
    }
    // Every case plans at once (buf and ts-proto are child processes); the tests then only compare.
    for (const name of cases) {
      plans.set(name, planCase(name));
      secondPlans.set(
        name,
        (async () => {
          const copy = await tempDir('grpcforge-golden-');
          for (const input of CASE_INPUTS) await cp(join(casesRoot, name, input), join(copy, input), { recursive: true });
          return planCase(name, copy);
        })(),
      );
    }
    for (const promise of [...plans.values(), ...secondPlans.values()]) promise.catch(() => undefined); // reported by the tests
  });

  for (const name of cases) {
    test(`${name}: the plan equals expected/ file by file${isUpdate ? ' (UPDATE_GOLDENS=1: rewritten)' : ''}`, async () => {
      const expectedDir = join(casesRoot, name, 'expected');
      const actual = planToTree(await planOf(name));
      if (isUpdate) await writeTree(expectedDir, actual);
      const problems = compareTrees(`fixtures/codegen/${name}/expected`, await readTree(expectedDir), actual);
      assert.ok(
        problems.length === 0,
        `${name}: ${problems.length} file(s) differ from the golden\n${problems.join('\n')}\n${UPDATE_HINT}`,
      );
    });
  }

  for (const name of cases) {
    test(`${name}: generated files carry the header, scaffold files do not; one planned file per path`, async () => {
      const plan = await planOf(name);
      const wrong = plan.files
        .filter((file) => file.content.startsWith(`${GENERATED_HEADER}\n`) !== (file.ownership === 'generated'))
        .map((file) => `${file.ownership} ${file.path}`);
      assert.deepEqual(wrong, [], `${name}: header and ownership disagree`);
      const outsideGen = plan.files.filter((file) => (file.ownership === 'generated') !== /\/src\/gen\//.test(file.path));
      assert.deepEqual(
        outsideGen.map((file) => `${file.ownership} ${file.path}`),
        [],
        `${name}: generated files live in src/gen/, and only they`,
      );
      assert.deepEqual(duplicatePaths(plan), [], `${name}: two planned files at one path (generate would keep only the first)`);
    });
  }

  for (const name of cases) {
    test(`${name}: a second plan, from a copy in another folder, is byte-identical (no absolute paths, no timestamps)`, async () => {
      const [first, second] = [await planOf(name), await planOf(name, secondPlans)];
      const problems = compareTrees(`${name} (first plan)`, planToTree(first), planToTree(second));
      assert.ok(problems.length === 0, `${name}: the second plan differs from the first\n${problems.join('\n')}`);
      assert.deepEqual(second.services, first.services);
    });
  }

  test('example is the init example: same proto/ and buf files, grpcforge.yaml apart from its codegen key', async () => {
    const exampleDir = join(casesRoot, 'example');
    const expected = await exampleInputs();
    const actual = new Map<string, string>();
    for (const path of ['grpcforge.yaml', 'buf.yaml', 'buf.gen.yaml'])
      actual.set(path, await readFile(join(exampleDir, path), 'utf8'));
    for (const [path, text] of await readTree(join(exampleDir, 'proto'))) actual.set(`proto/${path}`, text);
    const problems = compareTrees(`fixtures/codegen/example (vs what grpcforge init writes)`, expected, actual);
    assert.ok(problems.length === 0, `${problems.join('\n')}\n${UPDATE_HINT} (it copies init's files into the case)`);
    // The only addition to init's grpcforge.yaml is the codegen key.
    const config = actual.get('grpcforge.yaml')!;
    assert.deepEqual(parse(config.slice(config.length - EXAMPLE_CODEGEN.length)), { codegen: { annotateVersion: false } });
  });

  test('name-clashes: the plan notes which RPC got a numbered handler file; other cases note nothing', async () => {
    assert.deepEqual((await planOf('name-clashes')).notes, [
      'alpha.v1.Greeter: RPCs "GetURL" and "Get_Url" share the handler file name; Get_Url\'s handler is get-url-2.ts',
    ]);
    assert.deepEqual((await planOf('example')).notes, []);
  });

  test('with codegen.annotateVersion on (the default), headers carry the grpcforge and ts-proto versions, and only that differs', async () => {
    const dir = await tempDir();
    await cp(join(casesRoot, 'rpc-kinds'), dir, { recursive: true, filter: (path) => !path.includes('/expected') });
    const yamlPath = join(dir, 'grpcforge.yaml');
    await writeFiles(dir, {
      'grpcforge.yaml': (await readFile(yamlPath, 'utf8')).replace(/\ncodegen:\n {2}annotateVersion: false\n/, '\n'),
    });
    const [annotated, plain] = [await planCase('rpc-kinds', dir), await planOf('rpc-kinds')];
    const version = `// grpcforge ${grpcforgeVersion()}`;
    for (const file of annotated.files.filter((candidate) => candidate.ownership === 'generated')) {
      const header = file.content.split('\n').slice(0, 6);
      assert.ok(header.includes(version), `${file.path}: no "${version}" in its header`);
      if (file.path.includes('/gen/pb/'))
        assert.ok(
          header.some((line) => /^\/\/ via protoc-gen-ts_proto v\d/.test(line)),
          file.path,
        );
      const unannotated = file.content
        .split('\n')
        .filter((line) => line !== version)
        .map((line) => line.replace(/^(\/\/ via protoc-gen-ts_proto) v\S+/, '$1'))
        .join('\n');
      assert.equal(unannotated, plain.files.find((candidate) => candidate.path === file.path)?.content, file.path);
    }
  });

  test('pubsub holds unchanged copies of fixtures/contracts/googleapis (and its LICENSE)', async () => {
    const proto = join(casesRoot, 'pubsub/proto');
    const copied = (await listFilesRecursive(proto)).filter((path) => path !== 'README.md');
    assert.ok(copied.includes('LICENSE') && copied.includes('google/pubsub/v1/pubsub.proto'), copied.join(', '));
    for (const path of copied) {
      const upstream = await readFile(join(repoRoot, 'fixtures/contracts/googleapis', path), 'utf8');
      assert.ok(
        upstream === (await readFile(join(proto, path), 'utf8')),
        `fixtures/codegen/pubsub/proto/${path} differs from fixtures/contracts/googleapis/${path}`,
      );
    }
  });
});

describe('golden comparison messages', () => {
  test('name the golden file and show the first differing lines with their numbers', () => {
    const expected = new Map([
      ['a.ts', 'one\ntwo\nthree\nfour\nfive\n'],
      ['gone.ts', 'x\n'],
    ]);
    const actual = new Map([
      ['a.ts', 'one\ntwo\nthree\nFOUR\n4.5\nfive\n'],
      ['new.ts', 'y\n'],
    ]);
    assert.deepEqual(compareTrees('fixtures/codegen/demo/expected', expected, actual), [
      [
        'changed: fixtures/codegen/demo/expected/a.ts, first difference at line 4 (expected | actual):',
        '    2 2 | two',
        '    3 3 | three',
        '  - 4   | four',
        '  +   4 | FOUR',
        '  +   5 | 4.5',
        '    5 6 | five',
        '    6 7 | ',
      ].join('\n'),
      'extra: fixtures/codegen/demo/expected/gone.ts (in the golden, no longer planned)',
      'missing: fixtures/codegen/demo/expected/new.ts (planned, not in the golden)',
    ]);
  });
});

describe('golden codegen: expected/ type-checks (strict, noUnusedLocals, noUnusedParameters)', () => {
  // One tsc project over every case (fixtures/codegen/tsconfig.json). @grpcforge/runtime resolves to this package
  // itself, through package.json exports, so to dist/ (npm test builds it first).
  let errorsByCase: Map<string, string[]>;
  before(async () => {
    const output = await typeCheckGoldens();
    errorsByCase = new Map(cases.map((name) => [name, []]));
    const other: string[] = [];
    // tsc prints `path(line,col): error TSxxxx: message`, continuation lines indented.
    let current: string[] = other;
    for (const line of output.split('\n')) {
      if (!line.trim()) continue;
      const match = /^fixtures\/codegen\/([^/]+)\/expected\/(.*)$/.exec(line);
      if (match) {
        current = errorsByCase.get(match[1]!) ?? other;
        current.push(match[2]!);
      } else if (/^\s/.test(line)) current.push(line);
      else {
        current = other;
        other.push(line);
      }
    }
    assert.deepEqual(other, [], 'tsc reported errors outside the cases (fixtures/codegen/tsconfig.json)');
  });

  for (const name of cases) {
    test(`${name}: tsc --noEmit over expected/`, () => {
      const errors = errorsByCase.get(name) ?? [];
      assert.ok(
        errors.length === 0,
        `${name}: tsc found ${errors.filter((line) => !/^\s/.test(line)).length} error(s) in fixtures/codegen/${name}/expected:\n  ${errors.join('\n  ')}`,
      );
    });
  }
});
