// @ts-check
// ESLint, flat config: typescript-eslint's type-checked rules over src/, test/, scripts/ and bench/. Layout is
// Prettier's job (`npm run format`), so no rule here is about whitespace or line breaks.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores([
    '**/dist/',
    'node_modules/',
    '.demo/',
    'coverage/',
    // Upstream contracts (third-party, byte for byte) and golden generated output.
    'fixtures/',
    // Generated code (DO NOT EDIT): workspaces' src/gen and the builtin descriptor set (`npm run descriptors`).
    '**/src/gen/',
    'packages/runtime/src/server/builtin-descriptors.ts',
    // Files `init` copies into a user's workspace: they import @grpcforge/runtime and src/gen, which exist only there;
    // the e2e tests type-check them in a generated workspace.
    'templates/',
  ]),
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs what test() and describe() return; awaiting them is not needed.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      // With verbatimModuleSyntax, `import { type A }` keeps a side-effect import: write `import type { A }`.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Numbers in messages (`${count} calls`) are the norm; undefined, null and objects are still refused.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowAny: false, allowBoolean: false, allowNullish: false, allowRegExp: false, allowNever: false },
      ],
      // Off: noUncheckedIndexedAccess makes `list[i]!` after a bounds check the idiom, not a smell.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Off: shorthand callbacks that return a void call, `(line) => out(line)`, are the house style and harmless.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Off: handlers and stream sources implement async interfaces (nice-grpc, AsyncIterable) without awaiting.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Off in tests: they match the CLI's aligned columns, where `created   services/...` reads as the output does.
      'no-regex-spaces': 'off',
    },
  },
  {
    // The dashboard's browser modules (their own tsconfig: DOM, no Node).
    files: ['src/dashboard/browser/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
);
