import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { upperSnakeCase } from '../../src/contract/error-catalogs.ts';
import { loadContract } from '../../src/contract/load-contract.ts';
import type { ContractErrorCatalog, ContractSet } from '../../src/contract/model.ts';
import { buildErrorCatalogView, errorCatalogNames } from '../../src/codegen/render/views/errors.ts';
import { UserError } from '../../src/util/errors.ts';
import { repoRoot, tempDir, writeFiles } from '../helpers/workspace.ts';

const errorsProto = await readFile(join(repoRoot, 'templates/vendor/grpcforge/v1/errors.proto'), 'utf8');

/** Builds a contract with buf from these .proto files (and grpcforge/v1/errors.proto) and reads it. */
async function contractOf(files: Record<string, string>): Promise<ContractSet> {
  const dir = await tempDir();
  const protos = Object.fromEntries(Object.entries(files).map(([path, text]) => [`proto/${path}`, text]));
  await writeFiles(dir, {
    'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n',
    'proto/grpcforge/v1/errors.proto': errorsProto,
    ...protos,
  });
  return (await loadContract(join(dir, 'proto'), dir)).contract;
}

/** A file of package `pkg` (none when empty) importing errors.proto, with `body` after the imports. */
function protoFile(pkg: string, body: string): string {
  return `syntax = "proto3";\n${pkg ? `package ${pkg};\n` : ''}import "grpcforge/v1/errors.proto";\n${body}\n`;
}

/** Expects building the contract to fail with a UserError `contract-invalid` whose message matches. */
async function assertRefused(files: Record<string, string>, message: RegExp): Promise<void> {
  await assert.rejects(contractOf(files), (error: unknown) => {
    assert.ok(error instanceof UserError, String(error));
    assert.equal(error.code, 'contract-invalid');
    assert.match(error.message, message);
    return true;
  });
}

describe('error catalogs read from the descriptor set', () => {
  test('reasons without the prefix, code, metadata, message (default: the reason in words), comments; the domain defaults to the package', async () => {
    const contract = await contractOf({
      'shop/v1/shop.proto': protoFile(
        'shop.v1',
        `
// Why an order fails.
enum OrderErrorReason {
  ORDER_ERROR_REASON_UNSPECIFIED = 0;
  // The cart holds more items than allowed.
  ORDER_ERROR_REASON_CART_TOO_LARGE = 1 [(grpcforge.v1.error) = { code: "RESOURCE_EXHAUSTED" metadata: ["limit", "itemCount"] message: "too many items" }];
  ORDER_ERROR_REASON_OUT_OF_STOCK = 2 [(grpcforge.v1.error) = { code: "FAILED_PRECONDITION" }];
  ORDER_ERROR_REASON_NOT_AN_ERROR = 3;
}
enum Colour {
  COLOUR_UNSPECIFIED = 0;
  COLOUR_RED = 1;
}
message Payment {
  message Nested {
    enum PaymentErrorReason {
      option (grpcforge.v1.error_domain) = "payments.example.com";
      PAYMENT_ERROR_REASON_UNSPECIFIED = 0;
      // Declined by the bank.
      PAYMENT_ERROR_REASON_DECLINED = 1 [(grpcforge.v1.error) = { code: "ABORTED" }];
    }
  }
}`,
      ),
    });
    assert.deepEqual(contract.errorCatalogs, [
      {
        fullName: 'shop.v1.OrderErrorReason',
        name: 'OrderErrorReason',
        domain: 'shop.v1',
        package: 'shop.v1',
        file: 'shop/v1/shop.proto',
        comment: 'Why an order fails.',
        reasons: [
          {
            reason: 'CART_TOO_LARGE',
            enumValueName: 'ORDER_ERROR_REASON_CART_TOO_LARGE',
            code: 'RESOURCE_EXHAUSTED',
            metadataKeys: ['limit', 'itemCount'],
            message: 'too many items',
            comment: 'The cart holds more items than allowed.',
          },
          {
            reason: 'OUT_OF_STOCK',
            enumValueName: 'ORDER_ERROR_REASON_OUT_OF_STOCK',
            code: 'FAILED_PRECONDITION',
            metadataKeys: [],
            message: 'out of stock',
            comment: '',
          },
        ],
      },
      {
        fullName: 'shop.v1.Payment.Nested.PaymentErrorReason',
        name: 'PaymentErrorReason',
        domain: 'payments.example.com',
        package: 'shop.v1',
        file: 'shop/v1/shop.proto',
        comment: '',
        reasons: [
          {
            reason: 'DECLINED',
            enumValueName: 'PAYMENT_ERROR_REASON_DECLINED',
            code: 'ABORTED',
            metadataKeys: [],
            message: 'declined',
            comment: 'Declined by the bank.',
          },
        ],
      },
    ]);
  });

  test('a contract that does not import grpcforge/v1/errors.proto has no catalogs', async () => {
    const contract = await contractOf({ 'a/v1/a.proto': 'syntax = "proto3";\npackage a.v1;\nenum E { E_UNSPECIFIED = 0; }\n' });
    assert.deepEqual(contract.errorCatalogs, []);
  });

  test('a status code name that is not one (or OK, or none) is refused, naming the file and the enum value', async () => {
    for (const code of ['NOT_A_CODE', 'OK', 'not_found']) {
      await assertRefused(
        {
          'a/v1/a.proto': protoFile(
            'a.v1',
            `enum AErrorReason { A_ERROR_REASON_UNSPECIFIED = 0; A_ERROR_REASON_BROKEN = 1 [(grpcforge.v1.error) = { code: "${code}" }]; }`,
          ),
        },
        new RegExp(
          `^a/v1/a\\.proto: enum value a\\.v1\\.AErrorReason\\.A_ERROR_REASON_BROKEN: \\(grpcforge\\.v1\\.error\\)\\.code is "${code}"; expected a status code name other than OK$`,
        ),
      );
    }
    await assertRefused(
      {
        'a/v1/a.proto': protoFile(
          'a.v1',
          'enum AErrorReason { A_ERROR_REASON_UNSPECIFIED = 0; A_ERROR_REASON_BROKEN = 1 [(grpcforge.v1.error) = { message: "m" }]; }',
        ),
      },
      /A_ERROR_REASON_BROKEN: \(grpcforge\.v1\.error\)\.code is missing/,
    );
  });

  test("a reason without its enum's UPPER_SNAKE_CASE prefix (or only the prefix) is refused", async () => {
    await assertRefused(
      {
        'a/v1/a.proto': protoFile(
          'a.v1',
          'enum HTTPErrorReason { HTTP_ERROR_REASON_UNSPECIFIED = 0; QUOTA_EXCEEDED = 1 [(grpcforge.v1.error) = { code: "RESOURCE_EXHAUSTED" }]; }',
        ),
      },
      /^a\/v1\/a\.proto: enum value a\.v1\.HTTPErrorReason\.QUOTA_EXCEEDED: an error reason's name starts with its enum's prefix "HTTP_ERROR_REASON_"$/,
    );
    await assertRefused(
      {
        'a/v1/a.proto': protoFile(
          'a.v1',
          'enum Err { ERR_UNSPECIFIED = 0; ERR = 1 [(grpcforge.v1.error) = { code: "INTERNAL" }]; }',
        ),
      },
      /enum value a\.v1\.Err\.ERR: an error reason's name starts with its enum's prefix "ERR_"/,
    );
  });

  test('one reason twice in one domain is refused, naming both; the same reason in two domains is fine', async () => {
    const twice = (domainOption: string) =>
      protoFile(
        'a.v1',
        `enum OneErrorReason { ONE_ERROR_REASON_UNSPECIFIED = 0; ONE_ERROR_REASON_GONE = 1 [(grpcforge.v1.error) = { code: "NOT_FOUND" }]; }
enum TwoErrorReason { ${domainOption} TWO_ERROR_REASON_UNSPECIFIED = 0; TWO_ERROR_REASON_GONE = 1 [(grpcforge.v1.error) = { code: "NOT_FOUND" }]; }`,
      );
    await assertRefused(
      { 'a/v1/a.proto': twice('') },
      /^a\/v1\/a\.proto: enum value a\.v1\.TwoErrorReason\.TWO_ERROR_REASON_GONE: the reason GONE of domain "a\.v1" is declared twice \(also a\/v1\/a\.proto: a\.v1\.OneErrorReason\.ONE_ERROR_REASON_GONE\)$/,
    );
    const contract = await contractOf({ 'a/v1/a.proto': twice('option (grpcforge.v1.error_domain) = "two.example.com";') });
    assert.deepEqual(
      contract.errorCatalogs.map((catalog) => [catalog.fullName, catalog.domain]),
      [
        ['a.v1.OneErrorReason', 'a.v1'],
        ['a.v1.TwoErrorReason', 'two.example.com'],
      ],
    );
  });

  test('metadata keys are lowerCamelCase and declared once; a catalog without package or domain is refused', async () => {
    const withKeys = (keys: string) =>
      protoFile(
        'a.v1',
        `enum AErrorReason { A_ERROR_REASON_UNSPECIFIED = 0; A_ERROR_REASON_X = 1 [(grpcforge.v1.error) = { code: "INTERNAL" metadata: [${keys}] }]; }`,
      );
    await assertRefused(
      { 'a/v1/a.proto': withKeys('"user_id"') },
      /A_ERROR_REASON_X: the metadata key "user_id" is not lowerCamelCase/,
    );
    await assertRefused(
      { 'a/v1/a.proto': withKeys('"userId", "userId"') },
      /A_ERROR_REASON_X: the metadata key "userId" is declared twice/,
    );
    await assertRefused(
      {
        'a.proto': protoFile(
          '',
          'enum AErrorReason { A_ERROR_REASON_UNSPECIFIED = 0; A_ERROR_REASON_X = 1 [(grpcforge.v1.error) = { code: "INTERNAL" }]; }',
        ),
      },
      /^a\.proto: enum AErrorReason: an error catalog needs a domain$/,
    );
  });
});

/** A catalog with these reason names, for the naming rules. */
function catalog(name: string, reasons: readonly string[]): ContractErrorCatalog {
  return {
    fullName: `demo.v1.${name}`,
    name,
    domain: 'demo.v1',
    package: 'demo.v1',
    file: 'demo.proto',
    comment: '',
    reasons: reasons.map((reason) => ({
      reason,
      enumValueName: `${upperSnakeCase(name)}_${reason}`,
      code: 'INTERNAL',
      metadataKeys: [],
      message: reason.toLowerCase(),
      comment: '',
    })),
  };
}

describe('error catalog names in generated code', () => {
  test('the stem drops a trailing Reason(s), then Error(s); its leading capitals are lower-cased', () => {
    assert.deepEqual(errorCatalogNames({ name: 'AuthErrorReason' }), {
      constructors: 'authErrors',
      domain: 'authErrorDomain',
      reasons: 'authErrorReasons',
    });
    assert.equal(errorCatalogNames({ name: 'QuotaErrors' }).constructors, 'quotaErrors');
    assert.equal(errorCatalogNames({ name: 'BillingReason' }).constructors, 'billingErrors');
    assert.equal(errorCatalogNames({ name: 'HTTPCode' }).constructors, 'httpCodeErrors');
    assert.equal(errorCatalogNames({ name: 'HTTPErrorReason' }).constructors, 'httpErrors');
    assert.deepEqual(errorCatalogNames({ name: 'ErrorReason' }), {
      constructors: 'errors',
      domain: 'errorDomain',
      reasons: 'errorReasons',
    });
  });

  test('enum prefixes are UPPER_SNAKE_CASE as buf lint expects', () => {
    assert.equal(upperSnakeCase('AuthErrorReason'), 'AUTH_ERROR_REASON');
    assert.equal(upperSnakeCase('HTTPErrorReason'), 'HTTP_ERROR_REASON');
    assert.equal(upperSnakeCase('V2Reason'), 'V2_REASON');
  });

  test('two reasons with one generated name, or a guard named as the runtime helper, are a name clash', () => {
    const header = { sources: [], via: '', version: '' };
    assert.throws(
      () => buildErrorCatalogView(catalog('DemoErrorReason', ['A_1B', 'A1B']), { serves: true, consumes: true }, header),
      (error: unknown) => error instanceof UserError && error.code === 'name-clash' && /A_1B.*A1B.*"a1b"/.test(error.message),
    );
    assert.throws(
      () => buildErrorCatalogView(catalog('DemoErrorReason', ['CATALOG_ERROR']), { serves: false, consumes: true }, header),
      (error: unknown) => error instanceof UserError && error.code === 'name-clash' && /"isCatalogError"/.test(error.message),
    );
  });
});
