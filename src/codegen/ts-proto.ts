import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { parse } from 'yaml';
import type { ResolvedConfig, ResolvedService } from '../config/resolved.js';
import { runBufGenerate } from '../contract/buf.js';
import { UserError } from '../util/errors.js';

/** What grpcforge needs to know of buf.gen.yaml. */
export interface GenerateTemplateInfo {
  /** `out` of the ts-proto plugin, relative to a service folder, for example `src/gen/pb`. */
  readonly tsProtoOut: string;
}

/**
 * Reads the buf generate template and checks what grpcforge relies on: `version: v2`, a ts-proto plugin, and every
 * plugin's `out` inside `src/gen/` (generate runs the template once per service with `--output <service folder>`,
 * and everything in `src/gen/` is regenerated).
 * @throws UserError `template-invalid` naming the key and what was expected.
 */
export async function readGenerateTemplate(templatePath: string): Promise<GenerateTemplateInfo> {
  const file = basename(templatePath);
  let text: string;
  try {
    text = await readFile(templatePath, 'utf8');
  } catch {
    throw new UserError('template-invalid', `${file}: cannot read ${templatePath}`, [
      'grpcforge init writes one; contract.template in grpcforge.yaml points elsewhere',
    ]);
  }
  const template = parse(text) as { version?: unknown; plugins?: unknown } | null;
  const fail = (key: string, message: string) => new UserError('template-invalid', `${file}: ${key}: ${message}`);
  if (template?.version !== 'v2') throw fail('version', `expected "v2", got ${JSON.stringify(template?.version)}`);
  if (!Array.isArray(template.plugins) || template.plugins.length === 0)
    throw fail('plugins', 'expected a list with the ts-proto plugin');
  let tsProtoOut: string | undefined;
  template.plugins.forEach((plugin: Record<string, unknown>, index) => {
    const out = plugin.out;
    if (typeof out !== 'string' || !/^src\/gen\/[^.]/.test(out.replace(/^\.\//, ''))) {
      throw fail(
        `plugins[${index}].out`,
        `${JSON.stringify(out)} must be a folder inside src/gen/ (grpcforge runs the template with --output <service folder> and owns src/gen/)`,
      );
    }
    const local = [plugin.local].flat().join(' ');
    if (/ts[-_]proto/.test(local)) tsProtoOut = out.replace(/^\.\//, '').replace(/\/$/, '');
  });
  if (!tsProtoOut) throw fail('plugins', 'no ts-proto plugin (expected `local: protoc-gen-ts_proto`)');
  return { tsProtoOut };
}

const require = createRequire(import.meta.url);

/**
 * Folders where buf looks for `protoc-gen-ts_proto`: the workspace's own `node_modules/.bin` first (a team may pin
 * its ts-proto), then the ts-proto that ships with grpcforge.
 */
export function tsProtoPluginPath(workspaceDir: string): string[] {
  const paths: string[] = [];
  const workspaceBin = join(workspaceDir, 'node_modules', '.bin');
  if (existsSync(join(workspaceBin, 'protoc-gen-ts_proto'))) paths.push(workspaceBin);
  paths.push(dirname(require.resolve('ts-proto/package.json')));
  return paths;
}

/**
 * Runs ts-proto through `buf generate` for one service, restricted with buf's type filter to what it serves and
 * consumes (and what those need).
 * @returns the files, keyed by path relative to the service folder; empty when the service has no services.
 * @throws UserError `contract-invalid` when buf or the plugin fails.
 */
export async function generateTsProtoFiles(
  config: ResolvedConfig,
  bufDir: string,
  service: ResolvedService,
): Promise<Map<string, string>> {
  const types = [...new Set([...service.serves, ...service.consumes.map((consume) => consume.service)])].sort();
  if (types.length === 0) return new Map();
  return runBufGenerate({
    bufDir,
    workspaceDir: config.workspaceDir,
    template: config.contract.template,
    types,
    pluginPath: tsProtoPluginPath(config.workspaceDir),
  });
}
