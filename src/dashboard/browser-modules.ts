import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { basename, join } from 'node:path';

/**
 * The dashboard's browser modules (`src/dashboard/browser/*.ts`), as the JavaScript the server sends for
 * `/assets/NAME.js`. Built (`npm run build`, `src/dashboard/browser/tsconfig.build.json`), they sit beside this file
 * in `dist/dashboard/browser/*.js` and are read as they are. Run from the sources (tests and benches through tsx),
 * the folder beside this file holds only the `.ts` files: each is transpiled once, at start-up, with the TypeScript
 * the CLI depends on (types are checked by `npm run typecheck`, not here), so the sources never need a build first.
 * Read once per process: every dashboard app (tests and benches start many) shares the result.
 * @returns the JavaScript of each module by name (`overview`, `common`, …).
 */
export function loadBrowserModules(): Promise<ReadonlyMap<string, string>> {
  loaded ??= readBrowserModules().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

let loaded: Promise<ReadonlyMap<string, string>> | undefined;

async function readBrowserModules(): Promise<ReadonlyMap<string, string>> {
  const folder = fileURLToPath(new URL('./browser/', import.meta.url));
  const files = await readdir(folder);
  const built = files.filter((file) => file.endsWith('.js'));
  if (built.length > 0) {
    return new Map(
      await Promise.all(built.map(async (file) => [basename(file, '.js'), await readFile(join(folder, file), 'utf8')] as const)),
    );
  }
  const { default: ts } = await import('typescript');
  const sources = files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
  return new Map(
    await Promise.all(
      sources.map(async (file) => {
        const { outputText } = ts.transpileModule(await readFile(join(folder, file), 'utf8'), {
          fileName: file,
          compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        });
        return [basename(file, '.ts'), outputText] as const;
      }),
    ),
  );
}
