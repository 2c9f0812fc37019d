import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildPlan, buildPlanPerService } from '../../src/codegen/generate.ts';
import { splitTsProtoFiles } from '../../src/codegen/ts-proto.ts';
import { loadConfig } from '../../src/config/load.ts';
import { loadContract } from '../../src/contract/load-contract.ts';
import { listFilesRecursive } from '../../src/util/fs.ts';
import { repoRoot } from '../helpers/workspace.ts';

// generate runs ts-proto once for the whole workspace (the type filter is the union of what every service serves
// and consumes) and splits the output per service by .proto file. On every golden case that split must equal what
// one run per service, with that service's own type filter, produced before (the goldens hold the same output).

const casesRoot = join(repoRoot, 'fixtures/codegen');
const cases = (await listFilesRecursive(casesRoot))
  .filter((path) => /^[^/]+\/grpcforge\.yaml$/.test(path))
  .map((path) => path.split('/')[0]!);

async function load(name: string) {
  const result = await loadConfig(join(casesRoot, name, 'grpcforge.yaml'));
  assert.ok(result.config, `${name}: grpcforge.yaml is valid`);
  const config = result.config;
  return { config, loaded: await loadContract(config.contract.root, config.workspaceDir) };
}

describe('one ts-proto run split per service equals one run per service', () => {
  test('there are golden cases', () => assert.ok(cases.length >= 4, cases.join(', ')));
  for (const name of cases) {
    test(name, async () => {
      const { config, loaded } = await load(name);
      const [split, perService] = await Promise.all([buildPlan(config, loaded), buildPlanPerService(config, loaded)]);
      assert.deepEqual(
        split.files.map((file) => file.path),
        perService.files.map((file) => file.path),
      );
      for (const [index, file] of split.files.entries()) {
        assert.equal(file.content, perService.files[index]!.content, `${file.path} differs`);
      }
      assert.deepEqual(split, perService);
    });
  }
});

describe('splitTsProtoFiles', () => {
  test('refuses output it cannot attribute to one .proto file (another plugin, an index file)', async () => {
    const { config, loaded } = await load('rpc-kinds');
    const ok = new Map([['src/gen/pb/kinds/v1/echo.ts', '// echo\n']]);
    assert.ok(splitTsProtoFiles(config, loaded.contract, 'src/gen/pb', ok));
    const withIndex = new Map([...ok, ['src/gen/pb/index.kinds.ts', '// index\n']]);
    assert.equal(splitTsProtoFiles(config, loaded.contract, 'src/gen/pb', withIndex), undefined);
    const otherPlugin = new Map([...ok, ['src/gen/other/kinds/v1/echo.ts', '// other\n']]);
    assert.equal(splitTsProtoFiles(config, loaded.contract, 'src/gen/pb', otherPlugin), undefined);
  });

  test('gives each service the files in the import closure of what it serves and consumes', async () => {
    const { config, loaded } = await load('example');
    const union = new Map(loaded.contract.files.map((file) => [`src/gen/pb/${file.path.replace(/\.proto$/, '.ts')}`, file.path]));
    const split = splitTsProtoFiles(config, loaded.contract, 'src/gen/pb', union);
    assert.ok(split);
    const auth = [...split.get('auth')!.values()];
    const user = [...split.get('user')!.values()];
    assert.ok(auth.includes('auth/v1/auth.proto'), auth.join(', '));
    assert.ok(!auth.some((path) => path.startsWith('user/')), `auth gets nothing of user: ${auth.join(', ')}`);
    assert.ok(user.includes('auth/v1/auth.proto') && user.includes('user/v1/user.proto'), user.join(', '));
  });
});
